package docs_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/require"
)

// The production topology: docker-compose.yml, the Dockerfile it builds and
// the Postgres init script. The checks are functions of the parsed files so
// that TestTopologyChecksCatchMistakes can run each against a broken copy
// and see it fail.

// composeEnv stands in for the operator's .env. The values are distinct so
// that a check can tell which variable ended up where.
var composeEnv = map[string]string{
	"SWITCHBOARD_MASTER_KEY":  "bWFzdGVyLWtleS1mb3ItdGhlLWNvbXBvc2UtdGVzdCE=",
	"POSTGRES_PASSWORD":       "pw-superuser-0001",
	"SWITCHBOARD_DB_PASSWORD": "pw-switchboard-0002",
	"TEMPORAL_DB_PASSWORD":    "pw-temporal-0003",
}

// requiredSecrets must have no default: compose refuses to start without them.
var requiredSecrets = []string{"SWITCHBOARD_MASTER_KEY", "POSTGRES_PASSWORD", "SWITCHBOARD_DB_PASSWORD", "TEMPORAL_DB_PASSWORD"}

// appEnv is what switchboard-api and switchboard-worker need.
var appEnv = []string{"DATABASE_URL", "TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "SWITCHBOARD_MASTER_KEY", "SWITCHBOARD_TASK_QUEUE"}

// binaries: installed name → the main package it is built from.
var binaries = map[string]string{
	"switchboard":        "./cmd/switchboard",
	"switchboard-api":    "./cmd/api",
	"switchboard-worker": "./cmd/worker",
}

const binDir = "/usr/local/bin"

type topology struct {
	root       string // repository root
	composeRaw []byte
	compose    *composeDoc // interpolated with composeEnv
	docker     *dockerfile
	initScript string // deploy/postgres-init/*, concatenated
	goVersion  string // go.mod's go directive
}

type topologyCheck struct {
	name string
	fn   func(*topology) []string
}

var topologyChecks = []topologyCheck{
	{"services", checkServices},
	{"depends_on", checkDependsOn},
	{"ports", checkPorts},
	{"app env", checkAppEnv},
	{"temporal address", checkTemporalAddress},
	{"database credentials", checkDatabaseCredentials},
	{"build", checkBuild},
	{"volumes and configs", checkVolumes},
	{"required secrets", checkRequiredSecrets},
	{"escaped dollars", checkEscapedDollars},
	{"commands in image", checkCommandsInImage},
	{"pinned images", checkPinnedImages},
	{"dockerfile stages", checkDockerStages},
	{"dockerfile user", checkDockerUser},
	{"dockerfile binaries", checkDockerBinaries},
	{"dockerfile go build", checkDockerGoBuild},
	{"dockerfile module layer", checkDockerModuleLayer},
	{"dockerfile go version", checkDockerGoVersion},
	{"dockerfile runtime", checkDockerRuntime},
}

func TestTopology(t *testing.T) {
	t.Parallel()
	topo := loadTopology(t, nil, nil)
	for _, c := range topologyChecks {
		require.Empty(t, c.fn(topo), "check %q", c.name)
	}
}

// TestTopologyChecksCatchMistakes breaks the files one way at a time and
// expects the named check to notice.
func TestTopologyChecksCatchMistakes(t *testing.T) {
	t.Parallel()
	type mutation struct {
		check    string
		file     string // "compose" or "docker"
		old, new string
	}
	mutations := []mutation{
		{"services", "compose", "\n  temporal-ui:\n", "\n  temporal-web:\n"},
		{"depends_on", "compose", "      temporal-schema:\n        condition: service_completed_successfully", "      temporal-schemas:\n        condition: service_completed_successfully"},
		{"depends_on", "compose", "    healthcheck:\n      # Over TCP", "    healthcheck:\n      disable: true\n      # Over TCP"},
		{"depends_on", "compose", "  temporal-namespace:\n    image: temporalio/admin-tools:1.32.0\n", "  temporal-namespace:\n    image: temporalio/admin-tools:1.32.0\n    restart: unless-stopped\n"},
		{"ports", "compose", `"127.0.0.1:8233:8080"`, `"8080:8080"`},
		{"ports", "compose", `"127.0.0.1:7233:7233"`, `"127.0.0.1:8080:7233"`},
		{"app env", "compose", "  SWITCHBOARD_TASK_QUEUE: ${SWITCHBOARD_TASK_QUEUE:-switchboard}\n", ""},
		{"app env", "compose", "  TEMPORAL_NAMESPACE: ${TEMPORAL_NAMESPACE:-default}\n  SWITCHBOARD_TASK_QUEUE", "  TEMPORAL_NAMESPACE: ${TEMPORAL_NAMESPACE}\n  SWITCHBOARD_TASK_QUEUE"},
		{"temporal address", "compose", "  TEMPORAL_ADDRESS: temporal:7233\n  TEMPORAL_NAMESPACE", "  TEMPORAL_ADDRESS: temporal:7234\n  TEMPORAL_NAMESPACE"},
		{"temporal address", "compose", "  TEMPORAL_ADDRESS: temporal:7233\n  TEMPORAL_NAMESPACE", "  TEMPORAL_ADDRESS: localhost:7233\n  TEMPORAL_NAMESPACE"},
		{"temporal address", "compose", "      TEMPORAL_ADDRESS: temporal:7233\n    ports:", "      TEMPORAL_ADDRESS: temporal-ui:7233\n    ports:"},
		{"temporal address", "compose", `"127.0.0.1:7233:7233"`, `"127.0.0.1:7233:7234"`},
		{"database credentials", "compose", "@postgres:5432/switchboard", "@localhost:5432/switchboard"},
		{"database credentials", "compose", "@postgres:5432/switchboard", "@postgres:5433/switchboard"},
		{"database credentials", "compose", "@postgres:5432/switchboard?", "@postgres:5432/app?"},
		{"database credentials", "compose", `"postgres://switchboard:`, `"postgres://app:`},
		{"database credentials", "compose", `"postgres://switchboard:${SWITCHBOARD_DB_PASSWORD`, `"postgres://switchboard:${TEMPORAL_DB_PASSWORD`},
		{"database credentials", "compose", `      POSTGRES_PWD: "${TEMPORAL_DB_PASSWORD`, `      POSTGRES_PWD: "${SWITCHBOARD_DB_PASSWORD`},
		{"database credentials", "compose", "      SQL_USER: temporal\n", "      SQL_USER: postgres\n"},
		{"database credentials", "compose", "      POSTGRES_SEEDS: postgres\n", "      POSTGRES_SEEDS: db\n"},
		{"build", "compose", "  dockerfile: Dockerfile\n", "  dockerfile: Dockerfile.prod\n"},
		{"build", "compose", "    build: *switchboard-build\n    command: [\"switchboard-worker\"]", "    image: switchboard:latest\n    command: [\"switchboard-worker\"]"},
		{"volumes and configs", "compose", "volumes:\n  postgres-data:\n", "volumes:\n  pgdata:\n"},
		{"volumes and configs", "compose", "./deploy/postgres-init:", "./deploy/postgres-initdb:"},
		{"volumes and configs", "compose", "      - source: temporal-dynamic-config\n", "      - source: temporal-dynamicconfig\n"},
		{"required secrets", "compose", "${SWITCHBOARD_MASTER_KEY:?", "${SWITCHBOARD_MASTER_KEY:-"},
		{"required secrets", "compose", `POSTGRES_PASSWORD: "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD (openssl rand -hex 24)}"`, `POSTGRES_PASSWORD: "${POSTGRES_PASSWORD-postgres}"`},
		{"escaped dollars", "compose", `--address "$$TEMPORAL_ADDRESS" 2>/dev/null`, `--address "$TEMPORAL_ADDRESS" 2>/dev/null`},
		{"commands in image", "compose", `command: ["switchboard-worker"]`, `command: ["switchboard-wrkr"]`},
		{"commands in image", "compose", `test: ["CMD", "switchboard-api", "healthcheck"]`, `test: ["CMD-SHELL", "curl -f http://127.0.0.1:8080/healthz"]`},
		{"pinned images", "compose", "image: temporalio/ui:2.54.1", "image: temporalio/ui"},
		{"pinned images", "compose", "image: temporalio/server:1.32.0", "image: temporalio/server:latest"},

		{"dockerfile stages", "docker", "FROM gcr.io/distroless/static-debian12:nonroot\n", ""},
		{"dockerfile user", "docker", "USER nonroot:nonroot\n", "USER root\n"},
		{"dockerfile user", "docker", "FROM gcr.io/distroless/static-debian12:nonroot\nCOPY --from=build /out/switchboard /out/switchboard-api /out/switchboard-worker /usr/local/bin/\nUSER nonroot:nonroot\n", "FROM gcr.io/distroless/static-debian12\nCOPY --from=build /out/switchboard /out/switchboard-api /out/switchboard-worker /usr/local/bin/\n"},
		{"dockerfile binaries", "docker", " /out/switchboard-worker /usr/local/bin/", " /usr/local/bin/"},
		{"dockerfile binaries", "docker", "/out/switchboard-api /out/switchboard-worker /usr/local/bin/", "/out/switchboard-api /out/switchboard-worker /opt/"},
		{"dockerfile binaries", "docker", "-o /out/switchboard-api ./cmd/api", "-o /out/switchboard-api ./cmd/worker"},
		{"dockerfile go build", "docker", "./cmd/worker\n", "./cmd/workers\n"},
		{"dockerfile go build", "docker", "ENV CGO_ENABLED=0\n", ""},
		{"dockerfile go build", "docker", "ENV CGO_ENABLED=0\n", "ENV CGO_ENABLED=1\n"},
		{"dockerfile go build", "docker", `GOARCH=$TARGETARCH go build -trimpath -ldflags="-s -w" -o /out/switchboard-api`, `GOARCH=$TARGETARCH CGO_ENABLED=1 go build -trimpath -ldflags="-s -w" -o /out/switchboard-api`},
		{"dockerfile go build", "docker", `go build -trimpath -ldflags="-s -w" -o /out/switchboard-worker`, `go build -ldflags="-s -w" -o /out/switchboard-worker`},
		{"dockerfile module layer", "docker", "COPY go.mod go.sum ./\n", "COPY . .\n"},
		{"dockerfile module layer", "docker", "RUN go mod download && go mod verify\n", ""},
		{"dockerfile go version", "docker", "ARG GO_VERSION=1.26.8", "ARG GO_VERSION=1.25.3"},
		{"dockerfile runtime", "docker", "EXPOSE 8080", "EXPOSE 9090"},
		{"dockerfile runtime", "docker", `CMD ["switchboard-api"]`, `CMD switchboard-api`},
	}
	base := loadTopology(t, nil, nil)
	checks := map[string]func(*topology) []string{}
	for _, c := range topologyChecks {
		checks[c.name] = c.fn
	}
	covered := map[string]bool{}
	for _, m := range mutations {
		fn := checks[m.check]
		require.NotNil(t, fn, "no check %q", m.check)
		covered[m.check] = true
		var composeRaw, dockerRaw []byte
		switch m.file {
		case "compose":
			composeRaw = mutate(t, base.composeRaw, m.old, m.new)
		case "docker":
			dockerRaw = mutate(t, []byte(base.docker.raw), m.old, m.new)
		default:
			t.Fatalf("file %q", m.file)
		}
		broken := loadTopology(t, composeRaw, dockerRaw)
		problems := fn(broken)
		require.NotEmpty(t, problems, "check %q misses %q → %q", m.check, m.old, m.new)
		t.Logf("%s: %q → %q: %s", m.check, m.old, m.new, strings.Join(problems, "; "))
	}
	for _, c := range topologyChecks {
		require.True(t, covered[c.name], "no mutation exercises check %q", c.name)
	}
}

func mutate(t *testing.T, b []byte, old, new string) []byte {
	t.Helper()
	require.Equal(t, 1, strings.Count(string(b), old), "mutation: %q must occur exactly once", old)
	return []byte(strings.Replace(string(b), old, new, 1))
}

// loadTopology reads the files from the repository, with composeRaw or
// dockerRaw, when not nil, in place of docker-compose.yml or the Dockerfile.
func loadTopology(t *testing.T, composeRaw, dockerRaw []byte) *topology {
	t.Helper()
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(root, name))
		require.NoError(t, err)
		return b
	}
	if composeRaw == nil {
		composeRaw = read("docker-compose.yml")
	}
	if dockerRaw == nil {
		dockerRaw = read("Dockerfile")
	}
	topo := &topology{root: root, composeRaw: composeRaw}
	topo.compose, err = parseCompose(composeRaw, composeEnv)
	require.NoError(t, err)
	topo.docker, err = parseDockerfile(string(dockerRaw))
	require.NoError(t, err)

	scripts, err := filepath.Glob(filepath.Join(root, "deploy", "postgres-init", "*"))
	require.NoError(t, err)
	for _, s := range scripts {
		topo.initScript += string(read(filepath.Join("deploy", "postgres-init", filepath.Base(s)))) + "\n"
	}
	m := regexp.MustCompile(`(?m)^go (\S+)`).FindSubmatch(read("go.mod"))
	require.NotNil(t, m, "go.mod has no go directive")
	topo.goVersion = string(m[1])
	return topo
}

// ---- docker-compose.yml ----

type composeDoc struct {
	services map[string]*composeService
	volumes  map[string]bool // declared at the top level
	configs  map[string]bool
}

type composeService struct {
	name        string
	image       string
	build       *composeBuild
	command     []string
	commandRaw  []string // before interpolation
	env         map[string]string
	dependsOn   map[string]string // service → condition
	healthcheck []string          // the test; nil when there is none
	ports       []composePort
	volumes     []composeVolume
	configs     []string
	restart     string
}

type composeBuild struct{ context, dockerfile string }

type composePort struct{ hostIP, published, target, protocol string }

type composeVolume struct{ typ, source, target string }

func parseCompose(raw []byte, env map[string]string) (*composeDoc, error) {
	var rawDoc map[string]any
	if err := yaml.Unmarshal(raw, &rawDoc); err != nil {
		return nil, err
	}
	interpolated, err := interpolateTree(rawDoc, env)
	if err != nil {
		return nil, err
	}
	doc := interpolated.(map[string]any)
	c := &composeDoc{services: map[string]*composeService{}, volumes: map[string]bool{}, configs: map[string]bool{}}
	for name := range asMap(doc["volumes"]) {
		c.volumes[name] = true
	}
	for name := range asMap(doc["configs"]) {
		c.configs[name] = true
	}
	rawServices := asMap(rawDoc["services"])
	for name, v := range asMap(doc["services"]) {
		s, err := parseService(name, asMap(v), asMap(rawServices[name]))
		if err != nil {
			return nil, fmt.Errorf("service %s: %w", name, err)
		}
		c.services[name] = s
	}
	if len(c.services) == 0 {
		return nil, fmt.Errorf("no services")
	}
	return c, nil
}

func parseService(name string, m, raw map[string]any) (*composeService, error) {
	s := &composeService{name: name, env: map[string]string{}, dependsOn: map[string]string{}}
	s.image = str(m["image"])
	s.restart = str(m["restart"])
	switch b := m["build"].(type) {
	case nil:
	case string:
		s.build = &composeBuild{context: b, dockerfile: "Dockerfile"}
	case map[string]any:
		s.build = &composeBuild{context: str(b["context"]), dockerfile: str(b["dockerfile"])}
		if s.build.context == "" {
			s.build.context = "."
		}
		if s.build.dockerfile == "" {
			s.build.dockerfile = "Dockerfile"
		}
	default:
		return nil, fmt.Errorf("build: unexpected %T", b)
	}
	s.command = words(m["command"])
	s.commandRaw = words(raw["command"])
	switch e := m["environment"].(type) {
	case nil:
	case map[string]any:
		for k, v := range e {
			if v != nil {
				s.env[k] = str(v)
			}
		}
	case []any:
		for _, kv := range e {
			if k, v, ok := strings.Cut(str(kv), "="); ok {
				s.env[k] = v
			}
		}
	default:
		return nil, fmt.Errorf("environment: unexpected %T", e)
	}
	switch d := m["depends_on"].(type) {
	case nil:
	case []any:
		for _, dep := range d {
			s.dependsOn[str(dep)] = "service_started"
		}
	case map[string]any:
		for dep, v := range d {
			cond := str(asMap(v)["condition"])
			if cond == "" {
				cond = "service_started"
			}
			s.dependsOn[dep] = cond
		}
	default:
		return nil, fmt.Errorf("depends_on: unexpected %T", d)
	}
	if hc := asMap(m["healthcheck"]); hc != nil && hc["disable"] != true {
		switch test := hc["test"].(type) {
		case string:
			s.healthcheck = []string{"CMD-SHELL", test}
		case []any:
			s.healthcheck = words(test)
		}
		if len(s.healthcheck) == 0 || s.healthcheck[0] == "NONE" {
			s.healthcheck = nil
		}
	}
	for _, p := range asSlice(m["ports"]) {
		port, err := parsePort(p)
		if err != nil {
			return nil, err
		}
		s.ports = append(s.ports, port)
	}
	for _, v := range asSlice(m["volumes"]) {
		s.volumes = append(s.volumes, parseVolume(v))
	}
	for _, cfg := range asSlice(m["configs"]) {
		if cm := asMap(cfg); cm != nil {
			s.configs = append(s.configs, str(cm["source"]))
		} else {
			s.configs = append(s.configs, str(cfg))
		}
	}
	return s, nil
}

func parsePort(p any) (composePort, error) {
	if m := asMap(p); m != nil {
		port := composePort{hostIP: str(m["host_ip"]), published: str(m["published"]), target: str(m["target"]), protocol: str(m["protocol"])}
		if port.protocol == "" {
			port.protocol = "tcp"
		}
		return port, nil
	}
	s := str(p)
	port := composePort{protocol: "tcp"}
	if spec, proto, ok := strings.Cut(s, "/"); ok {
		s, port.protocol = spec, proto
	}
	if strings.HasPrefix(s, "[") { // [::1]:8080:80
		i := strings.Index(s, "]:")
		if i < 0 {
			return port, fmt.Errorf("port %q", p)
		}
		port.hostIP, s = s[1:i], s[i+2:]
	}
	parts := strings.Split(s, ":")
	switch len(parts) {
	case 1:
		port.target = parts[0]
	case 2:
		port.published, port.target = parts[0], parts[1]
	case 3:
		port.hostIP, port.published, port.target = parts[0], parts[1], parts[2]
	default:
		return port, fmt.Errorf("port %q", p)
	}
	return port, nil
}

func parseVolume(v any) composeVolume {
	if m := asMap(v); m != nil {
		return composeVolume{typ: str(m["type"]), source: str(m["source"]), target: str(m["target"])}
	}
	parts := strings.Split(str(v), ":")
	if len(parts) == 1 {
		return composeVolume{typ: "volume", target: parts[0]} // anonymous
	}
	vol := composeVolume{source: parts[0], target: parts[1], typ: "volume"}
	if strings.HasPrefix(vol.source, ".") || strings.HasPrefix(vol.source, "/") || strings.HasPrefix(vol.source, "~") {
		vol.typ = "bind"
	}
	return vol
}

func asMap(v any) map[string]any { m, _ := v.(map[string]any); return m }
func asSlice(v any) []any        { s, _ := v.([]any); return s }

func str(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

func words(v any) []string {
	switch w := v.(type) {
	case string:
		return strings.Fields(w)
	case []any:
		out := make([]string, len(w))
		for i, x := range w {
			out[i] = str(x)
		}
		return out
	}
	return nil
}

// interpolateTree applies compose variable interpolation to every string
// value (not to keys, as compose does).
func interpolateTree(v any, env map[string]string) (any, error) {
	switch x := v.(type) {
	case string:
		return interpolate(x, env)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			var err error
			if out[k], err = interpolateTree(e, env); err != nil {
				return nil, err
			}
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			var err error
			if out[i], err = interpolateTree(e, env); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return v, nil
}

// interpolate implements compose's $VAR, ${VAR}, ${VAR:-default},
// ${VAR-default}, ${VAR:?error}, ${VAR?error}, ${VAR:+alt}, ${VAR+alt}
// and $$.
func interpolate(s string, env map[string]string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '$' {
			b.WriteByte(s[i])
			i++
			continue
		}
		switch {
		case i+1 < len(s) && s[i+1] == '$':
			b.WriteByte('$')
			i += 2
		case i+1 < len(s) && s[i+1] == '{':
			depth, end := 0, -1
			for j := i + 1; j < len(s) && end < 0; j++ {
				switch s[j] {
				case '{':
					depth++
				case '}':
					if depth--; depth == 0 {
						end = j
					}
				}
			}
			if end < 0 {
				return "", fmt.Errorf("unterminated ${ in %q", s)
			}
			v, err := expandVar(s[i+2:end], env)
			if err != nil {
				return "", err
			}
			b.WriteString(v)
			i = end + 1
		default:
			j := i + 1
			for j < len(s) && isNameByte(s[j]) {
				j++
			}
			if j == i+1 {
				b.WriteByte('$')
				i++
				continue
			}
			b.WriteString(env[s[i+1:j]])
			i = j
		}
	}
	return b.String(), nil
}

func isNameByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func expandVar(expr string, env map[string]string) (string, error) {
	n := 0
	for n < len(expr) && isNameByte(expr[n]) {
		n++
	}
	name, rest := expr[:n], expr[n:]
	if name == "" {
		return "", fmt.Errorf("bad variable ${%s}", expr)
	}
	v, set := env[name]
	nonEmpty := set && v != ""
	for _, op := range []string{":-", ":?", ":+", "-", "?", "+"} {
		arg, ok := strings.CutPrefix(rest, op)
		if !ok {
			continue
		}
		present := nonEmpty
		if !strings.HasPrefix(op, ":") {
			present = set
		}
		switch op[len(op)-1] {
		case '-':
			if present {
				return v, nil
			}
			return interpolate(arg, env)
		case '?':
			if present {
				return v, nil
			}
			return "", fmt.Errorf("required variable %s is missing a value: %s", name, arg)
		case '+':
			if present {
				return interpolate(arg, env)
			}
			return "", nil
		}
	}
	if rest != "" {
		return "", fmt.Errorf("bad variable ${%s}", expr)
	}
	return v, nil
}

// ---- compose checks ----

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func checkServices(topo *topology) (problems []string) {
	for _, name := range []string{"postgres", "temporal", "temporal-ui", "api", "worker"} {
		if topo.compose.services[name] == nil {
			problems = append(problems, "missing service "+name)
		}
	}
	return problems
}

func checkDependsOn(topo *topology) (problems []string) {
	svcs := topo.compose.services
	for _, name := range sortedKeys(svcs) {
		for _, dep := range sortedKeys(svcs[name].dependsOn) {
			cond := svcs[name].dependsOn[dep]
			target := svcs[dep]
			switch {
			case target == nil:
				problems = append(problems, fmt.Sprintf("%s depends on undefined service %s", name, dep))
			case cond == "service_healthy" && target.healthcheck == nil:
				problems = append(problems, fmt.Sprintf("%s waits for %s to be healthy, which has no healthcheck", name, dep))
			case cond == "service_completed_successfully" && (target.restart == "always" || target.restart == "unless-stopped"):
				problems = append(problems, fmt.Sprintf("%s waits for %s to complete, which restarts %s", name, dep, target.restart))
			case cond != "service_started" && cond != "service_healthy" && cond != "service_completed_successfully":
				problems = append(problems, fmt.Sprintf("%s depends on %s with unknown condition %q", name, dep, cond))
			}
		}
	}
	return problems
}

func checkPorts(topo *topology) (problems []string) {
	type published struct {
		service string
		port    composePort
	}
	var all []published
	wildcard := func(ip string) bool { return ip == "" || ip == "0.0.0.0" || ip == "::" }
	for _, name := range sortedKeys(topo.compose.services) {
		for _, p := range topo.compose.services[name].ports {
			if p.published == "" {
				continue
			}
			if _, err := strconv.Atoi(p.published); err != nil {
				problems = append(problems, fmt.Sprintf("%s: published port %q", name, p.published))
			}
			for _, q := range all {
				if q.port.published == p.published && q.port.protocol == p.protocol &&
					(q.port.hostIP == p.hostIP || wildcard(q.port.hostIP) || wildcard(p.hostIP)) {
					problems = append(problems, fmt.Sprintf("%s and %s both publish %s/%s", q.service, name, p.published, p.protocol))
				}
			}
			all = append(all, published{name, p})
		}
	}
	return problems
}

func checkAppEnv(topo *topology) (problems []string) {
	for _, name := range []string{"api", "worker"} {
		s := topo.compose.services[name]
		if s == nil {
			problems = append(problems, "missing service "+name)
			continue
		}
		for _, v := range appEnv {
			if strings.TrimSpace(s.env[v]) == "" {
				problems = append(problems, fmt.Sprintf("%s: %s is not set", name, v))
			}
		}
	}
	return problems
}

// checkTemporalAddress: every TEMPORAL_ADDRESS is the temporal service at
// the port its frontend listens on, which is also the port published for
// the CLI.
func checkTemporalAddress(topo *topology) (problems []string) {
	temporal := topo.compose.services["temporal"]
	if temporal == nil {
		return []string{"missing service temporal"}
	}
	port := temporal.env["FRONTEND_GRPC_PORT"]
	if port == "" {
		port = "7233" // the server's default
	}
	if !slices.ContainsFunc(temporal.ports, func(p composePort) bool { return p.target == port && p.published != "" }) {
		problems = append(problems, "temporal does not publish its gRPC port "+port)
	}
	n := 0
	for _, name := range sortedKeys(topo.compose.services) {
		addr, ok := topo.compose.services[name].env["TEMPORAL_ADDRESS"]
		if !ok || name == "temporal" {
			continue
		}
		n++
		host, p, err := net.SplitHostPort(addr)
		if err != nil || host != "temporal" || p != port {
			problems = append(problems, fmt.Sprintf("%s: TEMPORAL_ADDRESS is %q, want temporal:%s", name, addr, port))
		}
	}
	if n < 3 { // api, worker, temporal-ui at least
		problems = append(problems, fmt.Sprintf("only %d services set TEMPORAL_ADDRESS", n))
	}
	return problems
}

// checkDatabaseCredentials: DATABASE_URL points at the postgres service as a
// role and database the init script creates, with the password the init
// script gives that role; Temporal's connections likewise.
func checkDatabaseCredentials(topo *topology) (problems []string) {
	pg := topo.compose.services["postgres"]
	if pg == nil || !strings.HasPrefix(pg.image, "postgres:") {
		return []string{"no postgres service running a postgres image"}
	}
	rolePassword, dbOwner, scriptProblems := parseInitScript(topo.initScript, pg.env)
	problems = append(problems, scriptProblems...)
	checkLogin := func(who, role, password string) {
		want, ok := rolePassword[role]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%s logs in as role %q, which the init script does not create", who, role))
		case password != want:
			problems = append(problems, fmt.Sprintf("%s: the password for role %q is not the one the init script sets", who, role))
		}
	}
	for _, name := range []string{"api", "worker"} {
		s := topo.compose.services[name]
		if s == nil {
			continue
		}
		u, err := url.Parse(s.env["DATABASE_URL"])
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: DATABASE_URL does not parse: %v", name, err))
			continue
		}
		if u.Scheme != "postgres" && u.Scheme != "postgresql" {
			problems = append(problems, fmt.Sprintf("%s: DATABASE_URL scheme %q", name, u.Scheme))
		}
		if u.Hostname() != "postgres" || (u.Port() != "" && u.Port() != "5432") {
			problems = append(problems, fmt.Sprintf("%s: DATABASE_URL host %q, want postgres:5432", name, u.Host))
		}
		db := strings.TrimPrefix(u.Path, "/")
		password, _ := u.User.Password()
		checkLogin(name+" DATABASE_URL", u.User.Username(), password)
		if dbOwner[db] != u.User.Username() {
			problems = append(problems, fmt.Sprintf("%s: DATABASE_URL database %q is not created for role %q by the init script", name, db, u.User.Username()))
		}
	}
	if t := topo.compose.services["temporal"]; t != nil {
		if t.env["POSTGRES_SEEDS"] != "postgres" || t.env["DB_PORT"] != "5432" {
			problems = append(problems, "temporal: POSTGRES_SEEDS/DB_PORT are not postgres/5432")
		}
		checkLogin("temporal", t.env["POSTGRES_USER"], t.env["POSTGRES_PWD"])
	}
	if s := topo.compose.services["temporal-schema"]; s != nil {
		if s.env["SQL_HOST"] != "postgres" || s.env["SQL_PORT"] != "5432" {
			problems = append(problems, "temporal-schema: SQL_HOST/SQL_PORT are not postgres/5432")
		}
		checkLogin("temporal-schema", s.env["SQL_USER"], s.env["SQL_PASSWORD"])
		if t := topo.compose.services["temporal"]; t != nil && s.env["SQL_USER"] != t.env["POSTGRES_USER"] {
			problems = append(problems, "temporal-schema and temporal use different roles")
		}
	}
	return problems
}

// parseInitScript finds the roles the init script creates with the password
// each gets (followed from CREATE ROLE … PASSWORD :'var' through \getenv to
// the postgres container's environment) and the databases it creates, with
// their owners.
func parseInitScript(script string, pgEnv map[string]string) (rolePassword, dbOwner map[string]string, problems []string) {
	rolePassword, dbOwner = map[string]string{}, map[string]string{}
	getenv := map[string]string{} // psql variable → environment variable
	for _, m := range regexp.MustCompile(`\\getenv\s+(\w+)\s+(\w+)`).FindAllStringSubmatch(script, -1) {
		getenv[m[1]] = m[2]
	}
	alias := map[string]string{} // VAR="$OTHER" prefix assignments
	for _, m := range regexp.MustCompile(`(?m)^\s*(\w+)="\$\{?(\w+)\}?"`).FindAllStringSubmatch(script, -1) {
		alias[m[1]] = m[2]
	}
	for _, m := range regexp.MustCompile(`(?i)CREATE ROLE\s+(\w+)\s[^;]*PASSWORD\s+:'(\w+)'`).FindAllStringSubmatch(script, -1) {
		envVar, ok := getenv[m[2]]
		if !ok {
			problems = append(problems, fmt.Sprintf("init script: role %s: no \\getenv for :'%s'", m[1], m[2]))
			continue
		}
		if a, ok := alias[envVar]; ok {
			envVar = a
		}
		password, ok := pgEnv[envVar]
		if !ok || password == "" {
			problems = append(problems, fmt.Sprintf("init script: role %s: the postgres service does not set %s", m[1], envVar))
			continue
		}
		rolePassword[m[1]] = password
	}
	for _, m := range regexp.MustCompile(`(?i)CREATE DATABASE\s+(\w+)\s+OWNER\s+(\w+)`).FindAllStringSubmatch(script, -1) {
		dbOwner[m[1]] = m[2]
	}
	if len(rolePassword) == 0 {
		problems = append(problems, "init script creates no roles")
	}
	return rolePassword, dbOwner, problems
}

func checkBuild(topo *topology) (problems []string) {
	for _, name := range []string{"api", "worker"} {
		s := topo.compose.services[name]
		if s == nil {
			continue
		}
		if s.build == nil {
			problems = append(problems, name+" does not build the image")
			continue
		}
		ctx := filepath.Clean(filepath.Join(topo.root, s.build.context))
		if ctx != topo.root {
			problems = append(problems, fmt.Sprintf("%s: build context %q is not the repository root", name, s.build.context))
		}
		if filepath.Clean(filepath.Join(ctx, s.build.dockerfile)) != filepath.Join(topo.root, "Dockerfile") {
			problems = append(problems, fmt.Sprintf("%s: builds %q, not the repository's Dockerfile", name, s.build.dockerfile))
		}
	}
	return problems
}

func checkVolumes(topo *topology) (problems []string) {
	for _, name := range sortedKeys(topo.compose.services) {
		s := topo.compose.services[name]
		for _, v := range s.volumes {
			switch v.typ {
			case "volume":
				if v.source != "" && !topo.compose.volumes[v.source] {
					problems = append(problems, fmt.Sprintf("%s: volume %q is not declared", name, v.source))
				}
			case "bind":
				if strings.HasPrefix(v.source, ".") {
					if _, err := os.Stat(filepath.Join(topo.root, v.source)); err != nil {
						problems = append(problems, fmt.Sprintf("%s: bind mount source %q does not exist", name, v.source))
					}
				}
			}
		}
		for _, c := range s.configs {
			if !topo.compose.configs[c] {
				problems = append(problems, fmt.Sprintf("%s: config %q is not declared", name, c))
			}
		}
	}
	return problems
}

// checkRequiredSecrets: leaving out any secret makes the file fail to load,
// naming the variable: nobody runs with a default master key or password.
func checkRequiredSecrets(topo *topology) (problems []string) {
	for _, v := range requiredSecrets {
		env := map[string]string{}
		for k, val := range composeEnv {
			if k != v {
				env[k] = val
			}
		}
		for _, how := range []string{"unset", "empty"} {
			if how == "empty" {
				env[v] = ""
			}
			_, err := parseCompose(topo.composeRaw, env)
			if err == nil || !strings.Contains(err.Error(), v) {
				problems = append(problems, fmt.Sprintf("compose loads with %s %s", v, how))
			}
		}
	}
	return problems
}

// checkEscapedDollars: a shell variable in a command must be written $$VAR,
// or compose substitutes the (unset) host variable into the script.
func checkEscapedDollars(topo *topology) (problems []string) {
	re := regexp.MustCompile(`\$(\$|\{?[A-Za-z_]\w*)`)
	for _, name := range sortedKeys(topo.compose.services) {
		for _, w := range topo.compose.services[name].commandRaw {
			for _, m := range re.FindAllStringSubmatch(w, -1) {
				if m[1] != "$" {
					problems = append(problems, fmt.Sprintf("%s: command has an unescaped $%s (write $$ for the shell)", name, m[1]))
				}
			}
		}
	}
	return problems
}

// checkCommandsInImage: services running the built image run, and health
// check, with binaries the image has (no shell: it is distroless).
func checkCommandsInImage(topo *topology) (problems []string) {
	installed := topo.docker.installed()
	for _, name := range sortedKeys(topo.compose.services) {
		s := topo.compose.services[name]
		if s.build == nil {
			continue
		}
		runs := [][]string{s.command}
		if s.command == nil {
			runs[0] = topo.docker.final().cmd
		}
		if s.healthcheck != nil {
			if s.healthcheck[0] != "CMD" {
				problems = append(problems, fmt.Sprintf("%s: healthcheck %q needs a shell", name, s.healthcheck[0]))
			} else {
				runs = append(runs, s.healthcheck[1:])
			}
		} else if name == "api" || name == "worker" {
			problems = append(problems, name+" has no healthcheck")
		}
		for _, run := range runs {
			if len(run) == 0 {
				problems = append(problems, name+": empty command")
				continue
			}
			bin := run[0]
			if !path.IsAbs(bin) {
				bin = path.Join(binDir, bin)
			}
			if !installed[bin] {
				problems = append(problems, fmt.Sprintf("%s runs %s, which the image does not have", name, run[0]))
			}
		}
	}
	for _, want := range [][2]string{{"api", "switchboard-api"}, {"worker", "switchboard-worker"}} {
		if s := topo.compose.services[want[0]]; s != nil && (len(s.command) == 0 || path.Base(s.command[0]) != want[1]) {
			problems = append(problems, fmt.Sprintf("%s does not run %s", want[0], want[1]))
		}
	}
	return problems
}

func checkPinnedImages(topo *topology) (problems []string) {
	for _, name := range sortedKeys(topo.compose.services) {
		img := topo.compose.services[name].image
		if img == "" {
			continue
		}
		_, tag, _ := strings.Cut(img[strings.LastIndex(img, "/")+1:], ":")
		if tag == "" || strings.HasPrefix(tag, "latest") {
			problems = append(problems, fmt.Sprintf("%s: image %q is not pinned to a version", name, img))
		}
	}
	return problems
}

// ---- Dockerfile ----

type dockerfile struct {
	raw    string
	args   map[string]string // ARGs before the first FROM, with defaults
	stages []*dockerStage
}

type dockerStage struct {
	image, name string
	instrs      []dockerInstr
	cmd         []string // exec-form CMD
	cmdShell    bool     // CMD in shell form
}

type dockerInstr struct {
	op, args string
}

func (d *dockerfile) final() *dockerStage { return d.stages[len(d.stages)-1] }

// parseDockerfile is a line parser: comments and blank lines dropped, `\`
// continuations joined, one instruction per logical line. No heredocs.
func parseDockerfile(raw string) (*dockerfile, error) {
	d := &dockerfile{raw: raw, args: map[string]string{}}
	var logical []string
	cur := ""
	for _, line := range strings.Split(raw, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") || (trimmed == "" && cur == "") {
			continue
		}
		if body, ok := strings.CutSuffix(strings.TrimRight(line, " \t"), "\\"); ok {
			cur += body // Docker joins continued lines as they are
			continue
		}
		logical = append(logical, cur+line)
		cur = ""
	}
	if cur != "" {
		return nil, fmt.Errorf("dangling continuation")
	}
	for _, l := range logical {
		op, args, _ := strings.Cut(strings.TrimSpace(l), " ")
		op, args = strings.ToUpper(op), strings.TrimSpace(args)
		if op == "FROM" {
			f := strings.Fields(args)
			for len(f) > 0 && strings.HasPrefix(f[0], "--") {
				f = f[1:]
			}
			if len(f) == 0 {
				return nil, fmt.Errorf("FROM without an image")
			}
			st := &dockerStage{image: os.Expand(f[0], func(k string) string { return d.args[k] })}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				st.name = f[2]
			}
			d.stages = append(d.stages, st)
			continue
		}
		if len(d.stages) == 0 {
			if op == "ARG" {
				k, v, _ := strings.Cut(args, "=")
				d.args[k] = v
			}
			continue
		}
		st := d.stages[len(d.stages)-1]
		st.instrs = append(st.instrs, dockerInstr{op: op, args: args})
		if op == "CMD" {
			st.cmd, st.cmdShell = nil, true
			if err := json.Unmarshal([]byte(args), &st.cmd); err == nil {
				st.cmdShell = false
			}
		}
	}
	if len(d.stages) == 0 {
		return nil, fmt.Errorf("no FROM")
	}
	return d, nil
}

type copyPair struct{ src, dst string }

// copies lists what the final stage's COPY --from instructions copy where.
func (d *dockerfile) copies() []copyPair {
	var out []copyPair
	for _, in := range d.final().instrs {
		if in.op != "COPY" && in.op != "ADD" {
			continue
		}
		f := strings.Fields(in.args)
		from := ""
		for len(f) > 0 && strings.HasPrefix(f[0], "--") {
			if v, ok := strings.CutPrefix(f[0], "--from="); ok {
				from = v
			}
			f = f[1:]
		}
		if from == "" || len(f) < 2 {
			continue
		}
		dst := f[len(f)-1]
		for _, src := range f[:len(f)-1] {
			if strings.HasSuffix(dst, "/") || len(f) > 2 {
				out = append(out, copyPair{src, path.Join(dst, path.Base(src))})
			} else {
				out = append(out, copyPair{src, dst})
			}
		}
	}
	return out
}

// installed is the set of paths the final stage copies in.
func (d *dockerfile) installed() map[string]bool {
	out := map[string]bool{}
	for _, c := range d.copies() {
		out[c.dst] = true
	}
	return out
}

type goBuild struct {
	env      map[string]string // assignments before `go build` in its command
	flags    []string
	output   string
	packages []string
	cgoOff   bool // CGO_ENABLED=0 in effect
}

// goBuilds finds the `go build` commands in the RUN instructions of all
// stages, with the CGO_ENABLED setting in effect for each.
func (d *dockerfile) goBuilds() []goBuild {
	var out []goBuild
	withValue := map[string]bool{"-o": true, "-ldflags": true, "-gcflags": true, "-asmflags": true, "-tags": true,
		"-mod": true, "-modfile": true, "-p": true, "-overlay": true, "-pgo": true, "-toolexec": true,
		"-buildmode": true, "-installsuffix": true, "-pkgdir": true, "-C": true}
	for _, st := range d.stages {
		stageEnv := map[string]string{}
		for _, in := range st.instrs {
			switch in.op {
			case "ENV":
				for _, kv := range shellWords(in.args) {
					if k, v, ok := strings.Cut(kv, "="); ok {
						stageEnv[k] = v
					}
				}
				continue
			case "RUN":
			default:
				continue
			}
			toks := shellWords(in.args)
			for len(toks) > 0 && strings.HasPrefix(toks[0], "--") {
				toks = toks[1:]
			}
			for _, cmd := range splitCommands(toks) {
				b := goBuild{env: map[string]string{}}
				i := 0
				for i < len(cmd) && strings.Contains(cmd[i], "=") && !strings.HasPrefix(cmd[i], "-") {
					k, v, _ := strings.Cut(cmd[i], "=")
					b.env[k] = v
					i++
				}
				if len(cmd) < i+2 || cmd[i] != "go" || cmd[i+1] != "build" {
					continue
				}
				for j := i + 2; j < len(cmd); j++ {
					tok := cmd[j]
					if !strings.HasPrefix(tok, "-") {
						b.packages = append(b.packages, tok)
						continue
					}
					if strings.HasPrefix(tok, "--") {
						tok = tok[1:]
					}
					name, val, hasVal := strings.Cut(tok, "=")
					b.flags = append(b.flags, name)
					if !hasVal && withValue[name] && j+1 < len(cmd) {
						j++
						val = cmd[j]
					}
					if name == "-o" {
						b.output = val
					}
				}
				cgo, ok := b.env["CGO_ENABLED"]
				if !ok {
					cgo = stageEnv["CGO_ENABLED"]
				}
				b.cgoOff = cgo == "0"
				out = append(out, b)
			}
		}
	}
	return out
}

// shellWords splits a shell command into words, honouring quotes and
// backslashes, with the operators && || ; | & and newlines as words of
// their own. Variables are not expanded.
func shellWords(s string) []string {
	var out []string
	var cur strings.Builder
	inWord := false
	flush := func() {
		if inWord {
			out = append(out, cur.String())
			cur.Reset()
			inWord = false
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'':
			inWord = true
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				j = len(s) - i - 1
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
		case c == '"':
			inWord = true
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				cur.WriteByte(s[i])
			}
		case c == '\\' && i+1 < len(s):
			inWord = true
			i++
			if s[i] != '\n' {
				cur.WriteByte(s[i])
			}
		case c == '\n' || c == ';':
			flush()
			out = append(out, ";")
		case c == '&' || c == '|':
			flush()
			if i+1 < len(s) && s[i+1] == c {
				i++
			}
			out = append(out, string(c))
		case c == ' ' || c == '\t':
			flush()
		default:
			inWord = true
			cur.WriteByte(c)
		}
	}
	flush()
	return out
}

func splitCommands(toks []string) [][]string {
	var out [][]string
	var cur []string
	for _, t := range toks {
		if t == ";" || t == "&" || t == "|" {
			if len(cur) > 0 {
				out = append(out, cur)
			}
			cur = nil
			continue
		}
		cur = append(cur, t)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// ---- Dockerfile checks ----

func checkDockerStages(topo *topology) []string {
	if len(topo.docker.stages) < 2 {
		return []string{"the Dockerfile is not multi-stage"}
	}
	return nil
}

func checkDockerUser(topo *topology) []string {
	final := topo.docker.final()
	user := ""
	for _, in := range final.instrs {
		if in.op == "USER" {
			user = in.args
		}
	}
	name, _, _ := strings.Cut(user, ":")
	switch {
	case name == "root" || name == "0":
		return []string{"the final stage runs as root"}
	case user == "" && !strings.Contains(final.image, "nonroot"):
		return []string{fmt.Sprintf("the final stage (%s) sets no USER and is not a nonroot image", final.image)}
	}
	return nil
}

// checkDockerBinaries: the final stage installs the three binaries in
// /usr/local/bin, each built by a `go build -o` from its own main package.
func checkDockerBinaries(topo *topology) (problems []string) {
	builtFrom := map[string][]string{} // -o path → packages
	for _, b := range topo.docker.goBuilds() {
		builtFrom[b.output] = b.packages
	}
	copies := topo.docker.copies()
	for _, bin := range sortedKeys(binaries) {
		dst := path.Join(binDir, bin)
		src := ""
		for _, c := range copies {
			if c.dst == dst {
				src = c.src
			}
		}
		switch {
		case src == "":
			problems = append(problems, "the final stage does not install "+dst)
		case !slices.Equal(builtFrom[src], []string{binaries[bin]}):
			problems = append(problems, fmt.Sprintf("%s is copied from %s, which is not built from %s (built from %v)", dst, src, binaries[bin], builtFrom[src]))
		}
	}
	return problems
}

// checkDockerGoBuild: every go build is static (CGO_ENABLED=0), trims paths
// and builds a main package that exists in the repository.
func checkDockerGoBuild(topo *topology) (problems []string) {
	builds := topo.docker.goBuilds()
	if len(builds) == 0 {
		return []string{"no go build"}
	}
	for _, b := range builds {
		if !b.cgoOff {
			problems = append(problems, fmt.Sprintf("go build -o %s: CGO_ENABLED=0 is not set", b.output))
		}
		if !slices.Contains(b.flags, "-trimpath") {
			problems = append(problems, fmt.Sprintf("go build -o %s: no -trimpath", b.output))
		}
		if len(b.packages) != 1 || !strings.HasPrefix(b.packages[0], "./cmd/") {
			problems = append(problems, fmt.Sprintf("go build -o %s: builds %v, want one ./cmd/... package", b.output, b.packages))
			continue
		}
		if !isMainPackage(filepath.Join(topo.root, b.packages[0])) {
			problems = append(problems, fmt.Sprintf("go build -o %s: %s is not a main package in the repository", b.output, b.packages[0]))
		}
	}
	return problems
}

func isMainPackage(dir string) bool {
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err == nil && regexp.MustCompile(`(?m)^package main\b`).Match(b) {
			return true
		}
	}
	return false
}

// checkDockerModuleLayer: go.mod and go.sum are copied and the modules
// downloaded before the source is copied, so that the download is a layer
// of its own that source edits do not invalidate.
func checkDockerModuleLayer(topo *topology) []string {
	for _, st := range topo.docker.stages {
		modCopied, downloaded := false, false
		for _, in := range st.instrs {
			switch {
			case in.op == "COPY" && strings.Contains(in.args, "go.mod") && strings.Contains(in.args, "go.sum") && !modCopied:
				modCopied = true
			case in.op == "RUN" && strings.Contains(in.args, "go mod download"):
				if !modCopied {
					return []string{"go mod download runs before go.mod and go.sum are copied"}
				}
				downloaded = true
			case in.op == "COPY" && strings.HasPrefix(strings.Join(strings.Fields(in.args), " "), ". "):
				if !downloaded {
					return []string{"the source is copied before the modules are downloaded"}
				}
			}
		}
		if downloaded {
			return nil
		}
	}
	return []string{"no stage downloads the modules"}
}

// checkDockerGoVersion: the builder's Go is go.mod's.
func checkDockerGoVersion(topo *topology) []string {
	for _, st := range topo.docker.stages {
		repo, tag, _ := strings.Cut(st.image, ":")
		if repo != "golang" && repo != "docker.io/library/golang" {
			continue
		}
		version, _, _ := strings.Cut(tag, "-")
		want := strings.Split(topo.goVersion, ".")
		got := strings.Split(version, ".")
		if len(got) < 2 || got[0] != want[0] || got[1] != want[1] {
			return []string{fmt.Sprintf("builder image %s, but go.mod says go %s", st.image, topo.goVersion)}
		}
		if len(got) >= 3 && len(want) >= 3 {
			g, _ := strconv.Atoi(got[2])
			w, _ := strconv.Atoi(want[2])
			if g < w {
				return []string{fmt.Sprintf("builder image %s is older than go.mod's go %s", st.image, topo.goVersion)}
			}
		}
		return nil
	}
	return []string{"no golang builder stage"}
}

// checkDockerRuntime: the image runs the API by default, in exec form (no
// shell in distroless), and exposes the port the API listens on in compose.
func checkDockerRuntime(topo *topology) (problems []string) {
	final := topo.docker.final()
	if final.cmdShell || len(final.cmd) == 0 || path.Base(final.cmd[0]) != "switchboard-api" {
		problems = append(problems, "the default command is not [\"switchboard-api\"] in exec form")
	}
	port := "8080"
	if api := topo.compose.services["api"]; api != nil {
		if _, p, err := net.SplitHostPort(api.env["SWITCHBOARD_LISTEN"]); err == nil {
			port = p
		}
		if !slices.ContainsFunc(api.ports, func(p composePort) bool { return p.target == port }) {
			problems = append(problems, "compose does not publish the api's port "+port)
		}
	}
	exposed := false
	for _, in := range final.instrs {
		if in.op == "EXPOSE" && slices.Contains(strings.Fields(strings.ReplaceAll(in.args, "/tcp", "")), port) {
			exposed = true
		}
	}
	if !exposed {
		problems = append(problems, "the image does not EXPOSE "+port)
	}
	return problems
}

// ---- the checker's own pieces ----

func TestComposeInterpolation(t *testing.T) {
	t.Parallel()
	env := map[string]string{"A": "a", "E": ""}
	for in, want := range map[string]string{
		"$A ${A} $$A $$$A":              "a a $A $a",
		"${B:-d} ${E:-d} ${E-d} ${B-d}": "d d  d",
		"${A:+x} ${E:+x} ${E+x}":        "x  x",
		"x${A}y $ $1 ${B:-${A}}":        "xay $  a",
		"100%":                          "100%",
	} {
		got, err := interpolate(in, env)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"${B:?need B}", "${E:?need E}", "${B?need B}", "${A", "${:-x}"} {
		_, err := interpolate(in, env)
		require.Error(t, err, in)
	}
	_, err := interpolate("${E?x}", env)
	require.NoError(t, err)
}

func TestDockerfileParser(t *testing.T) {
	t.Parallel()
	d, err := parseDockerfile(`ARG V=1.2
# comment
FROM --platform=$BUILDPLATFORM golang:${V}-bookworm AS b
ENV CGO_ENABLED=0
RUN --mount=type=cache,target=/x \
    # a comment inside a continuation
    GOOS=linux go build -trimpath -ldflags="-s -w" -o /o/a ./cmd/a && \
    CGO_ENABLED=1 go build -o=/o/b ./cmd/b; echo 'go build ./x'
FROM scratch
COPY --from=b /o/a /o/b /bin/
COPY --from=b /o/a /c
CMD ["a", "serve"]
`)
	require.NoError(t, err)
	require.Len(t, d.stages, 2)
	require.Equal(t, "golang:1.2-bookworm", d.stages[0].image)
	require.Equal(t, "b", d.stages[0].name)
	builds := d.goBuilds()
	require.Len(t, builds, 2)
	require.Equal(t, "/o/a", builds[0].output)
	require.Equal(t, []string{"./cmd/a"}, builds[0].packages)
	require.Equal(t, []string{"-trimpath", "-ldflags", "-o"}, builds[0].flags)
	require.True(t, builds[0].cgoOff)
	require.Equal(t, "/o/b", builds[1].output)
	require.False(t, builds[1].cgoOff)
	require.Equal(t, []copyPair{{"/o/a", "/bin/a"}, {"/o/b", "/bin/b"}, {"/o/a", "/c"}}, d.copies())
	require.Equal(t, []string{"a", "serve"}, d.final().cmd)
	require.False(t, d.final().cmdShell)
}
