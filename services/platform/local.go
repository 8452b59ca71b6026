package platform

import (
	"context"
	"fmt"
	"net"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// When every part runs in one process (`lienthong up`), the gateway's REST calls need not
// cross a loopback gRPC connection: Local calls a part's unary methods in process, through
// the same interceptors (request id, auth, rate limit, logging, metrics, error mapping) a
// network call goes through, with the request and the answer copied instead of encoded,
// framed and decoded. Streams still go over the network connection.

// localMethod is a unary method of a registered service.
type localMethod struct {
	impl    any
	handler func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error)
}

// RegisterService registers a service on the part's gRPC server and remembers its unary
// methods for Local; a Server is a grpc.ServiceRegistrar, so generated Register functions
// take it.
func (s *Server) RegisterService(desc *grpc.ServiceDesc, impl any) {
	s.GRPC.RegisterService(desc, impl)
	s.localMu.Lock()
	defer s.localMu.Unlock()
	if s.local == nil {
		s.local = map[string]localMethod{}
	}
	for _, m := range desc.Methods {
		s.local["/"+desc.ServiceName+"/"+m.MethodName] = localMethod{impl: impl, handler: m.Handler}
	}
}

// Local is a connection to the part's unary methods in this process; other calls (streams,
// methods not registered through RegisterService) go to fallback.
func (s *Server) Local(fallback grpc.ClientConnInterface) grpc.ClientConnInterface {
	return &localConn{s: s, fallback: fallback}
}

type localConn struct {
	s        *Server
	fallback grpc.ClientConnInterface
}

// localAddr is the peer address calls in process carry.
var localAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}

func (c *localConn) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	c.s.localMu.RLock()
	m, ok := c.s.local[method]
	c.s.localMu.RUnlock()
	if !ok {
		return c.fallback.Invoke(ctx, method, args, reply, opts...)
	}
	in, ok1 := args.(proto.Message)
	out, ok2 := reply.(proto.Message)
	if !ok1 || !ok2 {
		return status.Errorf(codes.Internal, "in-process call %s: not protobuf messages", method)
	}
	// What a server would see: the caller's metadata as incoming, a peer, a stream for
	// the headers the handler sets.
	md, _ := metadata.FromOutgoingContext(ctx) // a copy, keys in lower case
	sctx := metadata.NewIncomingContext(ctx, md)
	// The handler's own calls to other parts start with no metadata, as on a server.
	sctx = metadata.NewOutgoingContext(sctx, metadata.MD{})
	sctx = peer.NewContext(sctx, &peer.Peer{Addr: localAddr})
	ts := &localStream{method: method}
	sctx = grpc.NewContextWithServerTransportStream(sctx, ts)
	dec := func(v any) error {
		dst, ok := v.(proto.Message)
		if !ok {
			return fmt.Errorf("in-process call %s: request is not protobuf", method)
		}
		proto.Merge(dst, in)
		return nil
	}
	resp, err := m.handler(m.impl, sctx, dec, c.s.edge.unary)
	for _, o := range opts {
		switch o := o.(type) {
		case grpc.HeaderCallOption:
			*o.HeaderAddr = ts.headers()
		case grpc.TrailerCallOption:
			*o.TrailerAddr = ts.trailers()
		}
	}
	if err != nil {
		return status.Convert(err).Err()
	}
	r, ok := resp.(proto.Message)
	if !ok {
		return status.Errorf(codes.Internal, "in-process call %s: answer is not protobuf", method)
	}
	proto.Reset(out)
	proto.Merge(out, r)
	return nil
}

func (c *localConn) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	return c.fallback.NewStream(ctx, desc, method, opts...)
}

// localStream keeps what the handler sets as headers and trailers.
type localStream struct {
	method string
	mu     sync.Mutex
	header metadata.MD
	trail  metadata.MD
}

func (s *localStream) Method() string { return s.method }

func (s *localStream) SetHeader(md metadata.MD) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.header = metadata.Join(s.header, md)
	return nil
}

func (s *localStream) SendHeader(md metadata.MD) error { return s.SetHeader(md) }

func (s *localStream) SetTrailer(md metadata.MD) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.trail = metadata.Join(s.trail, md)
	return nil
}

func (s *localStream) headers() metadata.MD {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.header.Copy()
}

func (s *localStream) trailers() metadata.MD {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.trail.Copy()
}
