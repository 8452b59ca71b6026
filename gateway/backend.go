package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/lienthong/lienthong/services/platform"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Part describes one part behind the gateway.
type Part struct {
	// Name of the part (catalog, dossier, ...).
	Name string
	// Addr is the part's gRPC address, host:port.
	Addr string
	// Services are the full gRPC service names the part serves.
	Services []string
	// RegisterREST registers the part's grpc-gateway handlers on the mux, calling the part
	// through cc.
	RegisterREST func(ctx context.Context, mux *runtime.ServeMux, cc grpc.ClientConnInterface) error
	// Local, when the part runs in the gateway's process, gives a connection that calls its
	// unary methods in process (streams go to fallback); REST then skips the loopback hop.
	Local func(fallback grpc.ClientConnInterface) grpc.ClientConnInterface
	// JSON are encoders the part offers for some of its large responses, by message name;
	// each must write exactly what the generic JSON encoding would (its part tests that).
	JSON map[protoreflect.FullName]JSONEncoder
	// Policy is the part's access policy (the methods callable without a token): with
	// Config.Verifier, the gateway refuses a call without a token to any other method
	// before reading its body.
	Policy platform.Policy
}

// JSONEncoder appends the JSON of a message to b.
type JSONEncoder func(b []byte, m proto.Message) ([]byte, error)

// backend is a part with its connection.
type backend struct {
	Part
	conn *grpc.ClientConn // REST calls and health checks
	// proxyConn carries the gRPC calls passed through (streams of thousands of events): on
	// a connection of their own they never queue a REST call, a statistics read say, behind
	// their frames.
	proxyConn *grpc.ClientConn
	health    healthpb.HealthClient
}

func (b *backend) close() {
	_ = b.conn.Close()
	_ = b.proxyConn.Close()
}

func dial(p Part, maxMsg int, partTLS platform.PartTLS) (*backend, error) {
	b := &backend{Part: p}
	conn, err := b.newConn(maxMsg, partTLS)
	if err != nil {
		return nil, err
	}
	proxyConn, err := b.newConn(maxMsg, partTLS)
	if err != nil {
		conn.Close()
		return nil, err
	}
	b.conn, b.proxyConn, b.health = conn, proxyConn, healthpb.NewHealthClient(conn)
	return b, nil
}

// The gateway's flow-control windows towards the parts (see newConn).
const (
	proxyStreamWindow = 64 << 10
	proxyConnWindow   = 4 << 20
)

func (b *backend) newConn(maxMsg int, partTLS platform.PartTLS) (*grpc.ClientConn, error) {
	p := b.Part
	conn, err := grpc.NewClient(p.Addr,
		grpc.WithUnaryInterceptor(b.unaryMapErr),
		partTLS.DialOption(),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMsg), grpc.MaxCallSendMsgSize(maxMsg)),
		// Fixed flow-control windows: with grpc-go's default, growing ones, every stream whose
		// client stopped reading would have the gateway take in up to megabytes of the part's
		// messages into its own memory (measured: 300 MB for 128 stalled streams,
		// docs/benchmarks.md "Under attack"). With 64 KiB a stream, a stalled one holds at
		// most that here; the part's send then blocks and ends after its send timeout. The
		// connection's window is refilled as data arrives, not as streams read it, so stalled
		// streams never hold back the others on the connection.
		grpc.WithInitialWindowSize(proxyStreamWindow),
		grpc.WithInitialConnWindowSize(proxyConnWindow),
		// Parts restart; reconnect fast so a part that comes back is used at once.
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: backoff.Config{
			BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 2 * time.Second,
		}, MinConnectTimeout: 2 * time.Second}),
	)
	if err != nil {
		return nil, fmt.Errorf("part %s at %s: %w", p.Name, p.Addr, err)
	}
	return conn, nil
}

// mapErr hides transport details of a part that cannot be reached: the client learns which
// part is down, not its address. An UNAVAILABLE that the part itself answered (it carries
// lienthong's ErrorInfo, e.g. scoring's CATALOG_UNAVAILABLE when a part it calls is down)
// passes through unchanged.
func (b *backend) mapErr(ctx context.Context, err error) error {
	if status.Code(err) != codes.Unavailable {
		return err
	}
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetDomain() == platform.ErrorDomain {
			return err
		}
	}
	e := &platform.Error{
		Code: codes.Unavailable, Reason: "PART_UNAVAILABLE",
		Message:   fmt.Sprintf("part %s is unavailable; try again shortly", b.Name),
		MessageVI: fmt.Sprintf("Dịch vụ %s tạm thời không sẵn sàng; vui lòng thử lại sau.", b.Name),
		Metadata:  map[string]string{"part": b.Name},
	}
	if md, ok := metadata.FromOutgoingContext(ctx); ok {
		if id := md.Get(platform.RequestIDHeader); len(id) > 0 {
			e.Metadata["request_id"] = id[0]
		}
	}
	return e
}

// unaryMapErr is the client interceptor of the REST side's calls to the part.
func (b *backend) unaryMapErr(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	return b.mapErr(ctx, invoker(ctx, method, req, reply, cc, opts...))
}

// check asks the part's health service.
func (b *backend) check(ctx context.Context, service string) healthpb.HealthCheckResponse_ServingStatus {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	resp, err := b.health.Check(ctx, &healthpb.HealthCheckRequest{Service: service})
	if err != nil {
		if status.Code(err) == codes.NotFound {
			return healthpb.HealthCheckResponse_SERVICE_UNKNOWN
		}
		return healthpb.HealthCheckResponse_NOT_SERVING
	}
	return resp.GetStatus()
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
