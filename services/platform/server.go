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
}

// Server is a part's gRPC server with its health service.
type Server struct {
	GRPC   *grpc.Server
	Health *health.Server
	part   string
	lg     *zap.Logger
	edge   *edge

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
	e := &edge{part: o.Part, lg: o.Logger, verifier: o.Verifier, policy: o.Policy, metrics: o.Metrics, limiter: NewRateLimiter(o.RateLimit)}
	opts := append([]grpc.ServerOption{
		grpc.ChainUnaryInterceptor(e.unary),
		grpc.ChainStreamInterceptor(e.stream),
		grpc.MaxRecvMsgSize(o.MaxMessageBytes),
		grpc.MaxSendMsgSize(o.MaxMessageBytes),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
	}, append(o.GRPCOptions, o.TLS.ServerOption()...)...)
	g := grpc.NewServer(opts...)
	h := health.NewServer()
	healthpb.RegisterHealthServer(g, h)
	reflection.Register(g)
	return &Server{GRPC: g, Health: h, part: o.Part, lg: o.Logger, edge: e}
}

// SetServing marks every registered service (and the server as a whole) SERVING.
func (s *Server) SetServing() {
	for name := range s.GRPC.GetServiceInfo() {
		s.Health.SetServingStatus(name, healthpb.HealthCheckResponse_SERVING)
	}
	s.Health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
}

// Serve answers on lis until ctx ends, then drains calls for up to grace before stopping.
func (s *Server) Serve(ctx context.Context, lis net.Listener, grace time.Duration) error {
	s.SetServing()
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
		s.GRPC.Stop()
	}
	if err := <-errc; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return fmt.Errorf("%s: %w", s.part, err)
	}
	s.lg.Info("part stopped", zap.String("part", s.part))
	return nil
}
