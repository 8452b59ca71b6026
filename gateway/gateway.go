// Package gateway is lienthong's single public edge: REST (grpc-gateway) and gRPC on one
// port. REST calls are translated and sent to the part that owns the path; gRPC calls are
// proxied as opaque frames to the part that owns the service, so one address serves every
// service, with reflection and health answered by the gateway itself.
package gateway

import (
	"context"
	"crypto/tls"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	lienthongproto "github.com/lienthong/lienthong/proto"
	"github.com/lienthong/lienthong/services/platform"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/reflection"
	reflectionv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
	reflectionv1alpha "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

//go:embed docs
var docsFS embed.FS

// DefaultMaxBodyBytes is the largest REST body accepted unless configured.
const DefaultMaxBodyBytes = 8 << 20

// DefaultMaxDocumentBytes is the largest body of a document sent over REST (POST
// /v1/documents and /v1/documents:importEdxml) unless configured.
const DefaultMaxDocumentBytes = 20 << 20

// Config configures the gateway.
type Config struct {
	Parts        []Part
	Logger       *zap.Logger
	Metrics      *platform.Metrics
	MaxBodyBytes int64
	// MaxDocumentBytes limits the bodies of the document paths only (documentPaths); every
	// other path keeps MaxBodyBytes.
	MaxDocumentBytes int64
	// PartTLS is how the gateway reaches the parts: plain gRPC, or mutual TLS.
	PartTLS platform.PartTLS
	// TLS, when set, makes the port speak TLS only: REST over HTTP/1.1 or HTTP/2 and gRPC
	// over HTTP/2, negotiated by ALPN. Without it the port speaks plain HTTP/1.1 and h2c.
	TLS *tls.Config
	// Verifier, when set, checks bearer tokens at the gateway, before a request's body is
	// read (REST) or a call is passed to a part (gRPC): a caller without a valid token
	// costs no body read, no decoding and no call to a part. The parts check again.
	Verifier *platform.TokenVerifier
	// MaxConnsPerIP caps the connections one client address holds open (0:
	// platform.DefaultMaxConnsPerIP; less than 0: no cap).
	MaxConnsPerIP int
	// MaxReadsPerCaller caps the reads one caller (a province or central body, or an
	// anonymous client address) has in flight through the gateway (0:
	// DefaultMaxReadsPerCaller; less than 0: no gate; readgate.go).
	MaxReadsPerCaller int
	// BodyReadTimeout is how long a REST request's body may take to arrive in full once
	// its headers are read (0: DefaultBodyReadTimeout). A body still arriving then is
	// refused 400 and its call to the part cancelled (guard.go, edxml_stream.go).
	BodyReadTimeout time.Duration
}

// The gateway's connection bounds: a request's headers within readHeaderTimeout, an idle
// keep-alive connection closed after idleTimeout, at most maxStreamsPerConn concurrent
// HTTP/2 streams on one connection (REST and gRPC). Per-request bounds are in guard.go.
const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 2 * time.Minute
	maxStreamsPerConn = 250
)

// documentPaths carry documents with their attachments: they have their own body limit.
var documentPaths = map[string]bool{"/v1/documents": true, "/v1/documents:importEdxml": true}

// bodyLimit is the body limit of a request.
func (g *Gateway) bodyLimit(r *http.Request) int64 {
	if r.Method == http.MethodPost && documentPaths[r.URL.Path] {
		return g.cfg.MaxDocumentBytes
	}
	return g.cfg.MaxBodyBytes
}

// Gateway is the edge.
type Gateway struct {
	cfg      Config
	lg       *zap.Logger
	backends []*backend
	routes   map[string]*backend
	// restRoutes are the parts' REST bindings, for the checks made before a body is read.
	restRoutes map[string]route
	grpc       *grpc.Server
	handler    http.Handler
	openapi    []byte
	requests   *prometheus.CounterVec
	// reads bounds the reads each caller has in flight (readgate.go).
	reads *readGate
	proxy *proxy
	// mux and edxmlConn (the document part's connection) stream edXML bodies to the part
	// (edxml_stream.go); edxmlConn is nil when no part serves documents.
	mux       *restMux
	edxmlConn grpc.ClientConnInterface
}

// New connects to the parts (lazily: a part that is down does not stop the gateway) and
// builds the handlers.
func New(ctx context.Context, cfg Config) (*Gateway, error) {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxDocumentBytes <= 0 {
		cfg.MaxDocumentBytes = DefaultMaxDocumentBytes
	}
	if cfg.BodyReadTimeout <= 0 {
		cfg.BodyReadTimeout = DefaultBodyReadTimeout
	}
	// The parts enforce their own message limits; the gateway passes the largest it allows.
	maxMsg := max(cfg.MaxBodyBytes, cfg.MaxDocumentBytes)
	g := &Gateway{cfg: cfg, lg: cfg.Logger, routes: map[string]*backend{}, reads: newReadGate(cfg.MaxReadsPerCaller)}
	encoders := map[protoreflect.FullName]JSONEncoder{}
	for _, p := range cfg.Parts {
		maps.Copy(encoders, p.JSON)
	}
	g.restRoutes = restRoutes(cfg.Parts)
	mux := newRESTMux(encoders, g.guard)
	g.mux = mux
	for _, p := range cfg.Parts {
		b, err := dial(p, int(maxMsg)+1<<20, cfg.PartTLS)
		if err != nil {
			return nil, err
		}
		g.backends = append(g.backends, b)
		for _, s := range p.Services {
			g.routes[s] = b
		}
		if p.RegisterREST != nil {
			var cc grpc.ClientConnInterface = b.conn
			if p.Local != nil {
				cc = p.Local(b.conn)
			}
			if servesDocuments(p) {
				g.edxmlConn = cc
			}
			if err := p.RegisterREST(ctx, mux, cc); err != nil {
				return nil, fmt.Errorf("register REST of %s: %w", p.Name, err)
			}
		}
	}
	doc, err := mergedOpenAPI()
	if err != nil {
		return nil, err
	}
	g.openapi = doc

	g.proxy = &proxy{routes: g.routes, stopping: make(chan struct{})}
	px := g.proxy
	px.check = func(ctx context.Context, auth, method string) (func(), error) {
		b := g.routes[serviceOf(method)]
		c, err := g.authenticate(ctx, auth, b != nil && b.Policy[method] == platform.Public)
		if err != nil || !isReadMethod(method) {
			return func() {}, err
		}
		key := ""
		if pr, ok := peer.FromContext(ctx); ok && pr.Addr != nil {
			key = readKey(c, pr.Addr.String())
		} else if c != nil {
			key = readKey(c, "")
		}
		if key == "" {
			return func() {}, nil
		}
		return g.reads.acquire(ctx, key)
	}
	g.grpc = grpc.NewServer(
		grpc.ChainStreamInterceptor(g.countGRPC),
		grpc.UnknownServiceHandler(px.handler),
		grpc.ForceServerCodec(passthroughCodec{}),
		grpc.MaxRecvMsgSize(int(maxMsg)+1<<20),
	)
	healthpb.RegisterHealthServer(g.grpc, &healthServer{g: g})
	ropts := reflection.ServerOptions{
		Services:           serviceList{g},
		DescriptorResolver: protoregistry.GlobalFiles,
		ExtensionResolver:  protoregistry.GlobalTypes,
	}
	reflectionv1.RegisterServerReflectionServer(g.grpc, reflection.NewServerV1(ropts))
	reflectionv1alpha.RegisterServerReflectionServer(g.grpc, reflection.NewServer(ropts))

	if cfg.Metrics != nil {
		g.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lienthong_gateway_requests_total",
			Help: "Requests the gateway answered: kind rest or other with the HTTP status, kind grpc with the gRPC status code.",
		}, []string{"kind", "code"})
		if err := cfg.Metrics.Registry.Register(g.requests); err != nil {
			return nil, err
		}
	}

	docs, err := fs.Sub(docsFS, "docs")
	if err != nil {
		return nil, err
	}
	edge := http.NewServeMux()
	edge.HandleFunc("GET /healthz", g.serveHealthz)
	if cfg.Metrics != nil {
		edge.Handle("GET /metrics", promhttp.HandlerFor(cfg.Metrics.Registry, promhttp.HandlerOpts{}))
	}
	edge.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(g.openapi)
	})
	edge.HandleFunc("GET /docs", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/docs/", http.StatusMovedPermanently)
	})
	edge.Handle("GET /docs/", http.StripPrefix("/docs/", http.FileServerFS(docs)))
	edge.Handle("/", g.rest(mux))
	g.handler = g.observe(cors(edge))
	return g, nil
}

// rest is grpc-gateway's mux: the token, the body limit and the body adapters are applied
// by its middleware (guard.go), once the route is known and before the body is read.
func (g *Gateway) rest(mux http.Handler) http.Handler { return mux }

// countGRPC counts the gRPC calls that go through the gateway, by status code.
func (g *Gateway) countGRPC(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	err := handler(srv, ss)
	if g.requests != nil {
		g.requests.WithLabelValues("grpc", status.Code(err).String()).Inc()
	}
	return err
}

// Handler answers everything on the gateway's port: gRPC (HTTP/2, content-type
// application/grpc) goes to the proxy, the rest to REST and the edge endpoints.
func (g *Gateway) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 2 && strings.HasPrefix(r.Header.Get("Content-Type"), "application/grpc") {
			// Proxied calls take their body through a gate (flowgate.go); the gateway's own
			// services (health, reflection) read theirs as usual.
			if g.routes[serviceOf(r.URL.Path)] != nil {
				ctx, body, gate := withFlowGate(r.Context(), r.Body)
				defer gate.close()
				defer gateContext(ctx, gate)()
				r = r.WithContext(ctx)
				r.Body = body
			}
			g.grpc.ServeHTTP(w, r)
			return
		}
		g.handler.ServeHTTP(w, r)
	})
}

// statusRecorder keeps the status code a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// observe gives each request an id, then logs and counts it. The Authorization header and
// bodies are never logged.
func (g *Gateway) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get(canonicalRequestID)
		if id == "" || len(id) > 64 {
			id = newRequestID()
			r.Header.Set(canonicalRequestID, id)
		}
		w.Header().Set("X-Request-Id", id)
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		kind := "other"
		if strings.HasPrefix(r.URL.Path, "/v1/") {
			kind = "rest"
		}
		if g.requests != nil {
			g.requests.WithLabelValues(kind, strconv.Itoa(rec.code)).Inc()
		}
		g.lg.Debug("http request", zap.String("request_id", id), zap.String("method", r.Method),
			zap.String("path", r.URL.Path), zap.Int("status", rec.code), zap.Duration("duration", time.Since(start)))
	})
}

// Serve answers on lis (HTTP/1.1 and cleartext HTTP/2) until ctx ends, then shuts down,
// giving open calls up to grace to finish.
func (g *Gateway) Serve(ctx context.Context, lis net.Listener, grace time.Duration) error {
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	if g.cfg.TLS != nil {
		protocols.SetHTTP2(true)
	} else {
		protocols.SetUnencryptedHTTP2(true)
	}
	// No ReadTimeout or WriteTimeout: they would cut long streams (watches, uploads,
	// gRPC streams). Bodies and answers get per-request deadlines instead (guard.go).
	srv := &http.Server{
		Handler:           g.Handler(),
		Protocols:         &protocols,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    1 << 20,
		HTTP2:             &http.HTTP2Config{MaxConcurrentStreams: maxStreamsPerConn},
		ErrorLog:          zap.NewStdLog(g.lg),
		TLSConfig:         g.cfg.TLS,
	}
	maxConns := g.cfg.MaxConnsPerIP
	if maxConns == 0 {
		maxConns = platform.DefaultMaxConnsPerIP
	}
	lis = platform.LimitConnsPerIP(lis, maxConns, g.lg)
	errc := make(chan error, 1)
	go func() {
		if g.cfg.TLS != nil {
			errc <- srv.ServeTLS(lis, "", "")
			return
		}
		errc <- srv.Serve(lis)
	}()
	g.lg.Info("gateway serving", zap.String("addr", lis.Addr().String()))
	select {
	case err := <-errc:
		return fmt.Errorf("gateway: %w", err)
	case <-ctx.Done():
	}
	err := g.shutdown(srv, grace)
	for _, b := range g.backends {
		b.close()
	}
	g.lg.Info("gateway stopped")
	return err
}

// serviceList tells reflection which services the gateway answers for.
type serviceList struct{ g *Gateway }

func (s serviceList) GetServiceInfo() map[string]grpc.ServiceInfo {
	out := map[string]grpc.ServiceInfo{}
	for name := range s.g.routes {
		out[name] = grpc.ServiceInfo{}
	}
	for name, info := range s.g.grpc.GetServiceInfo() {
		out[name] = info
	}
	return out
}

// mergedOpenAPI is the generated document with a title, the bearer scheme and the edge
// endpoints' description.
func mergedOpenAPI() ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(lienthongproto.OpenAPI, &doc); err != nil {
		return nil, fmt.Errorf("openapi document: %w", err)
	}
	doc["info"] = map[string]any{
		"title":   "lienthong API",
		"version": "v1",
		"description": "REST and gRPC on one port for provincial e-government data interchange. " +
			"JSON uses proto field names; int64 travels as a string; errors are google.rpc.Status " +
			"with ErrorInfo, BadRequest and a vi-VN LocalizedMessage. Write calls need " +
			"`Authorization: Bearer <token>`. Health: GET /healthz; metrics: GET /metrics.",
	}
	doc["securityDefinitions"] = map[string]any{
		"bearer": map[string]any{"type": "apiKey", "name": "Authorization", "in": "header",
			"description": "Bearer token: `Authorization: Bearer <token>` (lienthong token issue)."},
	}
	return json.MarshalIndent(doc, "", "  ")
}

// shutdown stops srv: new connections are refused at once, open calls get up to grace to
// finish, then every connection still open is closed and every call still running is
// ended, whatever it waits on (a client that never reads, a body that stopped halfway, a
// flow gate). It returns within grace and a moment.
func (g *Gateway) shutdown(srv *http.Server, grace time.Duration) error {
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	// REST: no new connections; the calls under way finish within the grace.
	shutErr := make(chan error, 1)
	go func() { shutErr <- srv.Shutdown(sctx) }()
	// gRPC through the proxy: the calls under way may finish within the grace too (the
	// gRPC server's own GracefulStop does not wait for calls reached through ServeHTTP: it
	// would cut them without a status). Those still open then, streams mostly, end with
	// UNAVAILABLE, so their clients know to call again.
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for g.proxy.active.Load() > 0 && sctx.Err() == nil {
		select {
		case <-tick.C:
		case <-sctx.Done():
		}
	}
	if g.proxy.active.Load() > 0 {
		g.lg.Warn("gRPC calls still open after the grace period: ended", zap.Duration("grace", grace), zap.Int64("calls", g.proxy.active.Load()))
	}
	close(g.proxy.stopping)
	ended := time.Now().Add(time.Second) // their statuses reach the clients
	for g.proxy.active.Load() > 0 && time.Now().Before(ended) {
		<-tick.C
	}
	// Close closes every connection left (hijacked and HTTP/2 ones included), which ends what
	// is left: calls stuck sending to a client that does not read, bodies half sent, health
	// watches. It comes before the gRPC server's Stop, which waits for its ServeHTTP calls
	// to return, and those wait for their body's reader, which a connection's close ends.
	err := <-shutErr
	if errors.Is(err, context.DeadlineExceeded) {
		g.lg.Warn("calls still open after the grace period: closed", zap.Duration("grace", grace))
		err = srv.Close()
	}
	stopped := make(chan struct{})
	go func() { g.grpc.Stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(2 * time.Second):
		g.lg.Warn("gRPC calls through the gateway still running after their connections closed")
	}
	return err
}
