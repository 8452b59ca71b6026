package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/lienthong/lienthong/services/platform"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// frame is a gRPC message passed through the proxy without being decoded.
type frame struct{ payload []byte }

// passthroughCodec hands frames through as bytes and encodes anything else (the gateway's
// own health and reflection services) as protobuf. It is registered under the name "proto"
// so clients see an ordinary gRPC server.
type passthroughCodec struct{}

func (passthroughCodec) Marshal(v any) ([]byte, error) {
	if f, ok := v.(*frame); ok {
		return f.payload, nil
	}
	m, ok := v.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("codec: cannot marshal %T", v)
	}
	return proto.Marshal(m)
}

func (passthroughCodec) Unmarshal(data []byte, v any) error {
	if f, ok := v.(*frame); ok {
		f.payload = append(f.payload[:0], data...)
		return nil
	}
	m, ok := v.(proto.Message)
	if !ok {
		return fmt.Errorf("codec: cannot unmarshal into %T", v)
	}
	return proto.Unmarshal(data, m)
}

func (passthroughCodec) Name() string { return "proto" }

// hopHeaders are metadata keys that belong to one connection and are not forwarded.
var hopHeaders = map[string]bool{
	"content-type": true, "user-agent": true, "te": true, "grpc-timeout": true,
	"grpc-accept-encoding": true, "grpc-encoding": true, "connection": true,
}

// proxy forwards every call of a service it does not serve itself to the part that owns the
// service, streaming messages both ways as opaque frames.
type proxy struct {
	// stopping is closed when the gateway's grace period is over: calls still open end with
	// UNAVAILABLE (a status the client can act on: call again) before the connections close.
	stopping chan struct{}
	// active counts the calls under way, so a stop can wait for them within the grace.
	active atomic.Int64
	routes map[string]*backend // full service name -> backend
	// check refuses a call whose token is missing where the method needs one, or not
	// valid, before the part is called (nil: the parts check alone).
	// It also takes the call's read slot (readgate.go); release gives it back.
	check func(ctx context.Context, authorization, method string) (release func(), err error)
}

func (p *proxy) handler(_ any, ss grpc.ServerStream) error {
	method, ok := grpc.MethodFromServerStream(ss)
	if !ok {
		return status.Error(codes.Internal, "no method in stream")
	}
	svc := serviceOf(method)
	b := p.routes[svc]
	if b == nil {
		return status.Errorf(codes.Unimplemented, "unknown service %s", svc)
	}
	ctx := ss.Context()
	md, _ := metadata.FromIncomingContext(ctx)
	if p.check != nil {
		auth := ""
		if v := md.Get("authorization"); len(v) > 0 {
			auth = v[0]
		}
		release, err := p.check(ctx, auth, method)
		if err != nil {
			return err
		}
		defer release()
	}
	out := metadata.MD{}
	for k, v := range md {
		if strings.HasPrefix(k, ":") || hopHeaders[k] {
			continue
		}
		out[k] = v
	}
	// The client's address as the gateway accepted it, never as the client claims it: the
	// parts count anonymous callers by it (services/platform/ratelimit.go clientAddr).
	delete(out, "x-forwarded-for")
	if pr, ok := peer.FromContext(ctx); ok && pr.Addr != nil {
		host, _, err := net.SplitHostPort(pr.Addr.String())
		if err != nil {
			host = pr.Addr.String()
		}
		out.Set("x-forwarded-for", host)
	}
	if len(out.Get(platform.RequestIDHeader)) == 0 {
		out.Set(platform.RequestIDHeader, newRequestID())
	}
	p.active.Add(1)
	defer p.active.Add(-1)
	ctx, cancel := context.WithCancel(metadata.NewOutgoingContext(ctx, out))
	defer cancel()
	var stopped atomic.Bool
	go func() {
		select {
		case <-p.stopping:
			stopped.Store(true)
			cancel()
		case <-ctx.Done():
		}
	}()
	// stopErr is what a call cut short by the stop answers.
	stopErr := func(err error) error {
		if stopped.Load() {
			return status.Error(codes.Unavailable, "the gateway is stopping; call again")
		}
		return err
	}
	// The two connections to a part reconnect on their own schedules: when the part is back
	// for REST and health but the streams' connection still waits out its backoff, try now.
	// Then wait a moment for it to connect, rather than answer UNAVAILABLE for a part that is up.
	if st := b.proxyConn.GetState(); st != connectivity.Ready && b.conn.GetState() == connectivity.Ready {
		if st == connectivity.TransientFailure {
			b.proxyConn.ResetConnectBackoff()
		}
		wctx, wcancel := context.WithTimeout(ctx, 2*time.Second)
		b.proxyConn.Connect()
		for st := b.proxyConn.GetState(); st != connectivity.Ready && b.proxyConn.WaitForStateChange(wctx, st); st = b.proxyConn.GetState() {
			if st == connectivity.TransientFailure {
				b.proxyConn.ResetConnectBackoff()
			}
		}
		wcancel()
	}
	cs, err := b.proxyConn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}, method, grpc.ForceCodec(passthroughCodec{}))
	if err != nil {
		return stopErr(b.mapErr(ctx, err))
	}
	// Client to part. When the client half-closes, so does the proxy; when the client goes
	// away, the call to the part is canceled. A send error means the part ended the call:
	// its status comes from RecvMsg below.
	gate := gateFrom(ctx)
	go func() {
		for {
			f := &frame{}
			err := ss.RecvMsg(f)
			if gate != nil && err == nil {
				gate.taken() // the next message may be read once this one is with the part
			}
			if err != nil {
				if errors.Is(err, io.EOF) {
					_ = cs.CloseSend()
				} else {
					cancel()
				}
				return
			}
			if err := cs.SendMsg(f); err != nil {
				return
			}
		}
	}()
	// Part to client.
	headerSent := false
	for {
		f := &frame{}
		if err := cs.RecvMsg(f); err != nil {
			if !headerSent {
				if h, herr := cs.Header(); herr == nil {
					_ = ss.SetHeader(h)
				}
			}
			ss.SetTrailer(cs.Trailer())
			if errors.Is(err, io.EOF) {
				return nil
			}
			return stopErr(b.mapErr(ctx, err))
		}
		if !headerSent {
			h, err := cs.Header()
			if err == nil {
				if err := ss.SendHeader(h); err != nil {
					return err
				}
			}
			headerSent = true
		}
		if err := ss.SendMsg(f); err != nil {
			return err
		}
	}
}

// serviceOf returns the service of a full method name /pkg.Service/Method.
func serviceOf(method string) string {
	method = strings.TrimPrefix(method, "/")
	svc, _, _ := strings.Cut(method, "/")
	return svc
}
