package api

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humagin"
	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.temporal.io/sdk/client"

	"switchboard/activities/catalog"
	"switchboard/domain"
	"switchboard/dsl"
	"switchboard/store/seal"
)

// Options configure the API. Store and Temporal are required; the zero
// value of every other field is the default.
type Options struct {
	Store    domain.Store
	Temporal client.Client
	// Namespace is the Temporal namespace; default "default".
	Namespace string
	// TaskQueue the worker polls; default "switchboard".
	TaskQueue string
	// Keyring seals secrets; nil refuses to store secrets (503).
	Keyring *seal.Keyring
	// Registry declares the actions definitions may call; default the catalog.
	Registry *dsl.Registry
	// Logger; default slog.Default().
	Logger *slog.Logger
	// MaxBodyBytes bounds request bodies; default 1 MiB.
	MaxBodyBytes int64
	// Timeout bounds each call to Temporal; default 10s.
	Timeout time.Duration
	// Metrics is where the API registers its metrics; default a new registry.
	Metrics *prometheus.Registry
	// Dev allows webhooks without verification (`scheme: none`).
	Dev bool
	// MaxWebhookBytes bounds webhook bodies; default 1 MiB.
	MaxWebhookBytes int64
	// PublicURL is the base of public links (quotes, contracts), such as
	// https://sb.example.com; default the scheme and host of the request
	// that issues the link.
	PublicURL string
	// SlackURL is Slack's Web API base (the bot token resolves who clicked
	// a button); default https://slack.com/api/.
	SlackURL string
}

// Server is the HTTP API.
type Server struct {
	opts     Options
	store    domain.Store
	temporal client.Client
	engine   *gin.Engine
	huma     huma.API
	plans    *planCache
	auth     *authCache
	metrics  *metrics
}

// New builds the API.
func New(o Options) *Server {
	if o.Namespace == "" {
		o.Namespace = "default"
	}
	if o.TaskQueue == "" {
		o.TaskQueue = "switchboard"
	}
	if o.Registry == nil {
		o.Registry = catalog.Registry()
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 1 << 20
	}
	if o.MaxWebhookBytes <= 0 {
		o.MaxWebhookBytes = 1 << 20
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Metrics == nil {
		o.Metrics = prometheus.NewRegistry()
	}
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.UseRawPath = true // run ids may hold an encoded "/"
	e.UnescapePathValues = true
	e.HandleMethodNotAllowed = true
	s := &Server{opts: o, store: o.Store, temporal: o.Temporal, engine: e,
		plans: newPlanCache(256), metrics: newMetrics(o.Metrics), auth: newAuthCache()}
	e.Use(gin.CustomRecoveryWithWriter(nil, func(c *gin.Context, v any) {
		o.Logger.Error("api: panic", "panic", v, "path", c.Request.URL.Path)
		writeJSONProblem(c, problem(http.StatusInternalServerError, ProbInternal, "an internal error occurred"))
	}))
	e.Use(s.observe)
	if o.PublicURL == "" {
		e.Use(withBase) // public links take the request's host (not needed when configured)
	}
	e.NoRoute(func(c *gin.Context) {
		writeJSONProblem(c, problem(http.StatusNotFound, ProbNotFound, "no such endpoint: %s %s", c.Request.Method, c.Request.URL.Path))
	})
	e.NoMethod(func(c *gin.Context) {
		writeJSONProblem(c, problem(http.StatusMethodNotAllowed, ProbBadRequest, "%s is not allowed on %s", c.Request.Method, c.Request.URL.Path))
	})

	cfg := huma.DefaultConfig("Switchboard API", "1.0.0")
	cfg.Info.Description = "Workflow definitions, runs, human tasks, secrets and the outbox of a Switchboard organisation. " +
		"Authenticate with `Authorization: Bearer <api key>`. Errors are RFC 9457 problem+json."
	cfg.CreateHooks = nil // no $schema links in bodies
	cfg.OpenAPIPath = "/openapi"
	cfg.DocsPath = "/docs"
	cfg.SchemasPath = "/schemas"
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"bearer": {Type: "http", Scheme: "bearer", Description: "an API key (sb_...)"},
	}
	s.huma = humagin.New(e, cfg)
	s.huma.UseMiddleware(s.authenticate)

	e.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	e.GET("/readyz", s.ready)
	e.GET("/metrics", gin.WrapH(promhttp.HandlerFor(o.Metrics, promhttp.HandlerOpts{})))

	s.definitionRoutes()
	s.runRoutes()
	s.taskRoutes()
	s.adminRoutes()
	s.customerRoutes()
	s.customerTimelineRoutes()
	s.importRoutes()
	s.recordSchemaRoutes()
	s.calendarRoutes()
	s.articleRoutes()
	s.paymentRoutes()
	s.mailTemplateRoutes()
	s.opportunityRoutes()
	s.quoteRoutes()
	s.contractRoutes()
	s.ticketRoutes()
	s.campaignRoutes()
	s.publicRoutes()
	s.triggerRoutesAPI()
	e.POST("/hooks/:org/*path", s.webhook)
	e.POST("/providers/:org/:provider", s.provider)
	return s
}

// Handler is the HTTP handler of the API.
func (s *Server) Handler() http.Handler { return s.engine }

// OpenAPI is the API's OpenAPI document.
func (s *Server) OpenAPI() *huma.OpenAPI { return s.huma.OpenAPI() }

// op registers an operation that needs role (or none: public).
func op[I, O any](s *Server, role domain.Role, o huma.Operation, h func(context.Context, *I) (*O, error)) {
	if o.Metadata == nil {
		o.Metadata = map[string]any{}
	}
	if role != "" {
		o.Metadata[roleMeta] = role
		o.Security = []map[string][]string{{"bearer": {}}}
		o.Description += "\n\nNeeds the `" + string(role) + "` role or higher."
		o.Errors = append(o.Errors, http.StatusUnauthorized, http.StatusForbidden)
	}
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = s.opts.MaxBodyBytes
	}
	huma.Register(s.huma, o, h)
}

func (s *Server) ready(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 3*time.Second)
	defer cancel()
	checks := gin.H{}
	ok := true
	if _, err := s.store.GetOrg(ctx, "readyz-probe"); err != nil && !isNotFound(err) {
		checks["store"], ok = err.Error(), false
	} else {
		checks["store"] = "ok"
	}
	if _, err := s.temporal.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		checks["temporal"], ok = err.Error(), false
	} else {
		checks["temporal"] = "ok"
	}
	if !ok {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "checks": checks})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ok", "checks": checks})
}

func writeJSONProblem(c *gin.Context, p *Problem) {
	p.Instance = c.Request.URL.Path
	c.Header("Content-Type", "application/problem+json")
	c.AbortWithStatusJSON(p.Status, p)
}

type metrics struct {
	latency *prometheus.HistogramVec
	started *prometheus.CounterVec
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "switchboard_http_request_duration_seconds", Help: "HTTP request latency by route and status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route", "status"}),
		started: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_runs_started_total", Help: "Runs started through the API.",
		}, []string{"definition"}),
	}
	for _, c := range []prometheus.Collector{m.latency, m.started} {
		if err := reg.Register(c); err != nil {
			if are, ok := err.(prometheus.AlreadyRegisteredError); ok {
				switch c.(type) {
				case *prometheus.HistogramVec:
					m.latency = are.ExistingCollector.(*prometheus.HistogramVec)
				case *prometheus.CounterVec:
					m.started = are.ExistingCollector.(*prometheus.CounterVec)
				}
				continue
			}
			panic(err)
		}
	}
	return m
}

// observe bounds each request (so nothing waits forever on a stuck
// dependency) and records its latency.
func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(c.Request.Context(), 3*s.opts.Timeout)
	defer cancel()
	c.Request = c.Request.WithContext(ctx)
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	s.metrics.latency.WithLabelValues(c.Request.Method, route, strconv.Itoa(c.Writer.Status())).Observe(time.Since(start).Seconds())
}
