package devserver

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/membership/static"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
)

// Options configure the server. The zero value is an in-memory server on a
// free loopback port with the `default` namespace.
type Options struct {
	// IP to bind; default 127.0.0.1.
	IP string
	// Port of the frontend gRPC API; 0 picks a free port.
	Port int
	// DatabaseFile persists state in a SQLite file (WAL); empty keeps it in memory.
	DatabaseFile string
	// Postgres, a postgres:// URL, keeps state in PostgreSQL instead of
	// SQLite: databases NAME and NAME_visibility (NAME from the URL's path,
	// default "temporal"), created with Temporal's schema when missing.
	Postgres string
	// Namespaces to create; default ["default"].
	Namespaces []string
	// Logger for the server; nil discards its logs.
	Logger log.Logger
	// DynamicConfig overrides dynamic config keys.
	DynamicConfig map[string]any
}

// Server is a running embedded Temporal server.
type Server struct {
	srv       temporal.Server
	Address   string
	Namespace string
}

// Start starts the server and waits until its frontend answers.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.IP == "" {
		opts.IP = "127.0.0.1"
	}
	if len(opts.Namespaces) == 0 {
		opts.Namespaces = []string{"default"}
	}
	if opts.Logger == nil {
		opts.Logger = log.NewNoopLogger()
	}
	var err error
	if opts.Port == 0 {
		if opts.Port, err = freePort(opts.IP); err != nil {
			return nil, err
		}
	}
	ports := make([]int, 4)
	for i := range ports {
		if ports[i], err = freePort(opts.IP); err != nil {
			return nil, err
		}
	}
	const clusterName = "active"
	frontend := net.JoinHostPort(opts.IP, strconv.Itoa(opts.Port))
	sqlConf, visConf, shards, err := stores(opts, clusterName)
	if err != nil {
		return nil, err
	}
	conf := &config.Config{}
	conf.Global.Membership.MaxJoinDuration = 30 * time.Second
	conf.Global.Membership.BroadcastAddress = opts.IP
	conf.Persistence.DefaultStore = "default"
	conf.Persistence.VisibilityStore = "visibility"
	conf.Persistence.NumHistoryShards = shards
	conf.Persistence.DataStores = map[string]config.DataStore{"default": {SQL: sqlConf}, "visibility": {SQL: visConf}}
	conf.ClusterMetadata = &cluster.Config{
		EnableGlobalNamespace:    false,
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{clusterName: {
			Enabled:                true,
			InitialFailoverVersion: 1,
			RPCAddress:             frontend,
			HTTPAddress:            net.JoinHostPort(opts.IP, strconv.Itoa(ports[3])),
			ClusterID:              "switchboard-dev",
		}},
	}
	conf.DCRedirectionPolicy.Policy = "noop"
	svc := func(port int, httpPort int) config.Service {
		var s config.Service
		s.RPC.GRPCPort = port
		s.RPC.BindOnIP = opts.IP
		s.RPC.HTTPPort = httpPort
		return s
	}
	conf.Services = map[string]config.Service{
		"frontend": svc(opts.Port, ports[3]),
		"history":  svc(ports[0], 0),
		"matching": svc(ports[1], 0),
		"worker":   svc(ports[2], 0),
	}
	conf.Archival.History.State = "disabled"
	conf.Archival.Visibility.State = "disabled"
	conf.NamespaceDefaults.Archival.History.State = "disabled"
	conf.NamespaceDefaults.Archival.Visibility.State = "disabled"
	conf.PublicClient.HostPort = frontend

	authorizer, err := authorization.GetAuthorizerFromConfig(&conf.Global.Authorization)
	if err != nil {
		return nil, err
	}
	claimMapper, err := authorization.GetClaimMapperFromConfig(&conf.Global.Authorization, opts.Logger)
	if err != nil {
		return nil, err
	}
	dyn := dynamicconfig.StaticClient{
		dynamicconfig.HistoryCacheHostLevelMaxSize.Key():                 8096,
		dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Key(): 100,
		// One node: a single task-queue partition lets every poll match every task at once.
		dynamicconfig.MatchingNumTaskqueueReadPartitions.Key():  1,
		dynamicconfig.MatchingNumTaskqueueWritePartitions.Key(): 1,
		// The history queues poll at most 20 times a second by default, which
		// caps a single busy run at ~20 tasks/s once the burst is spent.
		// One process serving one developer can afford far more.
		dynamicconfig.TransferProcessorMaxPollRPS.Key():   10000,
		dynamicconfig.TimerProcessorMaxPollRPS.Key():      10000,
		dynamicconfig.VisibilityProcessorMaxPollRPS.Key(): 10000,
		// Timers may fire up to a second late by default; a developer
		// watching a short wait expects it to be on time.
		dynamicconfig.TimerProcessorMaxTimeShift.Key(): 10 * time.Millisecond,
		// search attributes added at start are usable at once (as the Temporal CLI's dev server does)
		dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key(): true,
	}
	for k, v := range opts.DynamicConfig {
		dyn[dynamicconfig.MakeKey(k)] = v
	}
	host := func(port int) static.Hosts {
		return static.SingleLocalHost(net.JoinHostPort(opts.IP, strconv.Itoa(port)))
	}
	srv, err := temporal.NewServer(
		temporal.WithConfig(conf),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(map[primitives.ServiceName]static.Hosts{
			primitives.FrontendService: host(opts.Port),
			primitives.HistoryService:  host(ports[0]),
			primitives.MatchingService: host(ports[1]),
			primitives.WorkerService:   host(ports[2]),
		}),
		temporal.WithLogger(opts.Logger),
		temporal.WithAuthorizer(authorizer),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return claimMapper }),
		temporal.WithDynamicConfigClient(dyn),
	)
	if err != nil {
		return nil, fmt.Errorf("building the Temporal server: %w", err)
	}
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("starting the Temporal server: %w", err)
	}
	s := &Server{srv: srv, Address: frontend, Namespace: opts.Namespaces[0]}
	if err := s.waitReady(ctx); err != nil {
		_ = srv.Stop()
		return nil, err
	}
	return s, nil
}

// fileAttributes are the SQLite settings of file databases. The plugin
// passes unknown attributes on as pragmas, by their exact names: WAL, and
// fsync only at checkpoints (a killed process loses nothing committed;
// only a power cut may lose the last commits).
func fileAttributes() map[string]string {
	return map[string]string{"mode": "rwc", "journal_mode": "wal", "synchronous": "normal", "busy_timeout": "10000"}
}

// visibilityConfig is the visibility database next to DatabaseFile
// (`<name>-visibility.db`), created with its schema on first use.
func visibilityConfig(opts Options) (*config.SQL, error) {
	ext := filepath.Ext(opts.DatabaseFile)
	conf := &config.SQL{PluginName: sqliteplugin.PluginName, ConnectAttributes: fileAttributes(),
		DatabaseName: strings.TrimSuffix(opts.DatabaseFile, ext) + "-visibility" + ext}
	if _, err := os.Stat(conf.DatabaseName); os.IsNotExist(err) {
		if err := sqliteschema.SetupSchema(conf); err != nil {
			return nil, fmt.Errorf("creating the Temporal visibility schema: %w", err)
		}
	}
	return conf, nil
}

// stores are the execution and visibility stores with their namespaces, and
// the history shard count.
func stores(opts Options, clusterName string) (exec, vis *config.SQL, shards int32, err error) {
	switch {
	case opts.Postgres != "" && opts.DatabaseFile != "":
		return nil, nil, 0, fmt.Errorf("devserver: set DatabaseFile or Postgres, not both")
	case opts.Postgres != "":
		// A shard's writes are serialised; Postgres can run several shards'
		// writes at once. The count is fixed for the database's life.
		shards = 4
		if exec, vis, err = postgresConfigs(opts.Postgres, opts.Logger); err != nil {
			return nil, nil, 0, err
		}
	default:
		shards = 1
		if exec, err = sqliteConfig(opts); err != nil {
			return nil, nil, 0, err
		}
		vis = exec
		if opts.DatabaseFile != "" {
			// Visibility in a file of its own: the SQLite plugin serialises all
			// work on a database through one connection, and visibility writes
			// then no longer queue behind execution writes.
			if vis, err = visibilityConfig(opts); err != nil {
				return nil, nil, 0, err
			}
		}
	}
	var nss []*sqliteschema.NamespaceConfig
	for _, ns := range opts.Namespaces {
		nc, err := sqliteschema.NewNamespaceConfig(clusterName, ns, false, nil)
		if err != nil {
			return nil, nil, 0, err
		}
		nss = append(nss, nc)
	}
	// CreateNamespaces writes through the generic SQL persistence layer, so
	// it serves any plugin, not only SQLite.
	if err := sqliteschema.CreateNamespaces(exec, nss...); err != nil {
		return nil, nil, 0, fmt.Errorf("creating namespaces: %w", err)
	}
	return exec, vis, shards, nil
}

func sqliteConfig(opts Options) (*config.SQL, error) {
	conf := &config.SQL{PluginName: sqliteplugin.PluginName}
	if opts.DatabaseFile == "" {
		conf.ConnectAttributes = map[string]string{"mode": "memory", "cache": "shared"}
		conf.DatabaseName = strconv.Itoa(rand.IntN(1 << 30))
	} else {
		conf.ConnectAttributes = fileAttributes()
		conf.DatabaseName = opts.DatabaseFile
		if _, err := os.Stat(opts.DatabaseFile); os.IsNotExist(err) {
			if err := os.MkdirAll(filepath.Dir(opts.DatabaseFile), 0o700); err != nil {
				return nil, err
			}
			if err := sqliteschema.SetupSchema(conf); err != nil {
				return nil, fmt.Errorf("creating the Temporal schema: %w", err)
			}
		}
	}
	return conf, nil
}

// waitReady dials the frontend until it answers a health check.
func (s *Server) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, err := client.Dial(client.Options{HostPort: s.Address, Namespace: s.Namespace, Logger: quiet{}})
		if err == nil {
			_, err = c.CheckHealth(ctx, &client.CheckHealthRequest{})
			if err == nil {
				_, err = c.WorkflowService().DescribeNamespace(ctx, describeNS(s.Namespace))
			}
			c.Close()
			if err == nil {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the Temporal server did not become ready: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Client dials the server.
func (s *Server) Client(opts client.Options) (client.Client, error) {
	opts.HostPort = s.Address
	if opts.Namespace == "" {
		opts.Namespace = s.Namespace
	}
	if opts.Logger == nil {
		opts.Logger = quiet{}
	}
	return client.Dial(opts)
}

// Stop stops the server.
func (s *Server) Stop() error { return s.srv.Stop() }

func freePort(ip string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
