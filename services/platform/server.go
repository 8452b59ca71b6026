package platform

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"
)

// DefaultMaxMessageBytes is the largest gRPC message a part accepts unless configured.
const DefaultMaxMessageBytes = 8 << 20

// ServerOptions configure a part's gRPC server.
type ServerOptions struct {
	Part            string
	Logger          *zap.Logger
	Verifier        *TokenVerifier
	Policy          Policy
	Metrics         *Metrics
	MaxMessageBytes int
	// RateLimit per sending system; the zero value means no limit.
	RateLimit RateLimit
	// GRPCOptions are added to the server's options (e.g. flow-control windows).
	GRPCOptions []grpc.ServerOption
	// TLS, when enabled, makes the part accept only peers with a certificate of the
	// deployment's CA.
	TLS PartTLS
	// MaxStreamsPerSystem caps the streams one calling system holds open at once (0:
	// DefaultMaxStreamsPerSystem; less than 0: no cap).
	MaxStreamsPerSystem int
	// MaxConnsPerIP caps the connections one client address holds open to the part (0:
	// DefaultMaxConnsPerIP; less than 0: no cap).
	MaxConnsPerIP int
}

// The part's connection bounds. A connection must finish its handshake within
// connectionTimeout; one without calls for maxConnectionIdle is closed (the gateway and
// the other parts reconnect on their next call); a silent peer is pinged after
// keepaliveTime and dropped if it does not answer within keepaliveTimeout. Streams are
// long-lived (feed watches, inbox subscriptions, uploads): no deadline cuts a stream that
// is working; the parts bound each send instead.
const (
	connectionTimeout = 10 * time.Second
	maxConnectionIdle = 15 * time.Minute
	keepaliveTime     = 2 * time.Minute
	keepaliveTimeout  = 20 * time.Second
	// maxStreamsPerConn bounds the streams of one connection. The gateway carries every
	// client's streams to a part on one connection, so it is far above what one system may
	// hold (MaxStreamsPerSystem): that cap, not this one, is what keeps callers apart.
	maxStreamsPerConn = 10000
)

// Server is a part's gRPC server with its health service.
type Server struct {
	GRPC   *grpc.Server
	Health *health.Server
	part   string
	lg     *zap.Logger
	edge   *edge
	// maxConnsPerIP caps each client address's connections (Serve).
	maxConnsPerIP int

	localMu sync.RWMutex
	local   map[string]localMethod // see local.go
}

// NewServer builds a gRPC server with lienthong's interceptors (request id, auth, logging,
// metrics, recovery, error mapping), message limits, health and reflection. The caller
// registers its services and then calls Serve.
func NewServer(o ServerOptions) *Server {
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if o.Logger == nil {
		// Every call logs; a nil *zap.Logger would panic outside the recovery and kill the process.
		o.Logger = zap.NewNop()
	}
	if o.MaxStreamsPerSystem == 0 {
		o.MaxStreamsPerSystem = DefaultMaxStreamsPerSystem
	}
	if o.MaxConnsPerIP == 0 {
		o.MaxConnsPerIP = DefaultMaxConnsPerIP
	}
	e := &edge{part: o.Part, lg: o.Logger, verifier: o.Verifier, policy: o.Policy, metrics: o.Metrics, limiter: NewRateLimiter(o.RateLimit),
		streams: newStreamLimiter(o.MaxStreamsPerSystem)}
	opts := append([]grpc.ServerOption{
		grpc.InTapHandle(e.tap),
		grpc.ChainUnaryInterceptor(e.unary),
		grpc.ChainStreamInterceptor(e.stream),
		grpc.MaxRecvMsgSize(o.MaxMessageBytes),
		grpc.MaxSendMsgSize(o.MaxMessageBytes),
		grpc.ConnectionTimeout(connectionTimeout),
		grpc.MaxConcurrentStreams(maxStreamsPerConn),
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionIdle: maxConnectionIdle, Time: keepaliveTime, Timeout: keepaliveTimeout}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
	}, append(o.GRPCOptions, o.TLS.ServerOption()...)...)
	g := grpc.NewServer(opts...)
	h := health.NewServer()
	healthpb.RegisterHealthServer(g, h)
	reflection.Register(g)
	return &Server{GRPC: g, Health: h, part: o.Part, lg: o.Logger, edge: e, maxConnsPerIP: o.MaxConnsPerIP}
}

// SetServing marks every registered service (and the server as a whole) SERVING.
func (s *Server) SetServing() {
	for name := range s.GRPC.GetServiceInfo() {
		s.Health.SetServingStatus(name, healthpb.HealthCheckResponse_SERVING)
	}
	s.Health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
}

// Serve answers on lis until ctx ends, then drains calls for up to grace before stopping:
// streams still open then are cut, so stopping never waits on a stuck client.
func (s *Server) Serve(ctx context.Context, lis net.Listener, grace time.Duration) error {
	s.SetServing()
	lis = LimitConnsPerIP(lis, s.maxConnsPerIP, s.lg)
	errc := make(chan error, 1)
	go func() { errc <- s.GRPC.Serve(lis) }()
	s.lg.Info("part serving", zap.String("part", s.part), zap.String("addr", lis.Addr().String()))
	select {
	case err := <-errc:
		return fmt.Errorf("%s: %w", s.part, err)
	case <-ctx.Done():
	}
	s.Health.Shutdown()
	done := make(chan struct{})
	go func() { s.GRPC.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-time.After(grace):
		s.lg.Warn("calls still open after the grace period: stopped", zap.String("part", s.part), zap.Duration("grace", grace))
		s.GRPC.Stop()
	}
	if err := <-errc; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return fmt.Errorf("%s: %w", s.part, err)
	}
	s.lg.Info("part stopped", zap.String("part", s.part))
	return nil
}
