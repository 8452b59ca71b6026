package gateway_test

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lienthong/lienthong/gateway"
	"github.com/lienthong/lienthong/services/platform"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"
)

// floodService answers StreamingOutputCall with 16 KiB messages for as long as they are
// taken, counting the bytes its sends got through.
type floodService struct {
	testgrpc.UnimplementedTestServiceServer
	sent atomic.Int64
}

func (f *floodService) StreamingOutputCall(_ *testgrpc.StreamingOutputCallRequest, stream grpc.ServerStreamingServer[testgrpc.StreamingOutputCallResponse]) error {
	msg := &testgrpc.StreamingOutputCallResponse{Payload: &testgrpc.Payload{Body: make([]byte, 16<<10)}}
	for {
		if err := stream.Send(msg); err != nil {
			return err
		}
		f.sent.Add(16 << 10)
	}
}

// TestStalledStreamHoldsLittleInTheGateway: a client that stops reading a stream through the
// gateway makes the part's sends block after a bounded amount, instead of the gateway taking
// the part's messages into its own memory (docs/security.md, "Resources"). With grpc-go's
// growing windows the gateway took megabytes a stream (docs/benchmarks.md "Under attack").
func TestStalledStreamHoldsLittleInTheGateway(t *testing.T) {
	svc := &floodService{}
	srv := platform.NewServer(platform.ServerOptions{Part: "test", Logger: zap.NewNop(),
		Policy: platform.Policy{testgrpc.TestService_StreamingOutputCall_FullMethodName: platform.Public}})
	testgrpc.RegisterTestServiceServer(srv.GRPC, svc)
	plis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = srv.Serve(ctx, plis, time.Second) }()
	g, err := gateway.New(ctx, gateway.Config{Logger: zap.NewNop(), Parts: []gateway.Part{{
		Name: "test", Addr: plis.Addr().String(), Services: []string{testgrpc.TestService_ServiceDesc.ServiceName},
		Policy: platform.Policy{testgrpc.TestService_StreamingOutputCall_FullMethodName: platform.Public},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	glis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = g.Serve(ctx, glis, time.Second) }()

	// The client's own windows are fixed and small, so what piles up beyond them is the
	// gateway's.
	conn, err := grpc.NewClient(glis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithInitialWindowSize(64<<10), grpc.WithInitialConnWindowSize(64<<10))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	sctx, scancel := context.WithCancel(ctx)
	defer scancel()
	// Several streams at once: grpc-go sizes a connection's windows by the rate at which data
	// arrives on it, so many streams filling up together is what made them grow.
	const streams = 16
	for range streams {
		if _, err := testgrpc.NewTestServiceClient(conn).StreamingOutputCall(sctx, &testgrpc.StreamingOutputCallRequest{}); err != nil {
			t.Fatal(err)
		}
	}
	// Never read. Wait until the part's sends stop moving.
	var last int64 = -1
	deadline := time.Now().Add(10 * time.Second)
	for {
		time.Sleep(200 * time.Millisecond) // sampling the counter, not waiting for a condition
		n := svc.sent.Load()
		if n == last && n > 0 {
			break
		}
		last = n
		if time.Now().After(deadline) {
			t.Fatalf("the part kept sending to a stalled client: %d bytes after 10 s", n)
		}
	}
	// The client's 64 KiB, the gateway's 64 KiB window towards the part, the part's own write
	// quota and the HTTP/2 server's buffers: well under a megabyte.
	if per := last / streams; per > 1<<20 {
		t.Errorf("the part got %d bytes a stream through to a client that reads nothing; want at most 1 MiB", per)
	}
	t.Logf("%d stalled streams took %d KiB of the part's messages", streams, last>>10)
}

// idleService answers StreamingOutputCall with nothing until the call ends, as a watch of
// a quiet feed does.
type idleService struct {
	testgrpc.UnimplementedTestServiceServer
	entered chan struct{}
}

func (s idleService) StreamingOutputCall(_ *testgrpc.StreamingOutputCallRequest, stream grpc.ServerStreamingServer[testgrpc.StreamingOutputCallResponse]) error {
	s.entered <- struct{}{}
	<-stream.Context().Done()
	return stream.Context().Err()
}

// TestStopEndsStreamsWithUnavailable: a stream still open through the gateway when its grace
// period is over ends with UNAVAILABLE, a status its client can act on (call again), and
// the gateway stops within the grace and a moment (docs/security.md, "Resources").
func TestStopEndsStreamsWithUnavailable(t *testing.T) {
	policy := platform.Policy{testgrpc.TestService_StreamingOutputCall_FullMethodName: platform.Public}
	srv := platform.NewServer(platform.ServerOptions{Part: "test", Logger: zap.NewNop(), Policy: policy})
	idle := idleService{entered: make(chan struct{}, 1)}
	testgrpc.RegisterTestServiceServer(srv.GRPC, idle)
	plis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pctx, pcancel := context.WithCancel(context.Background())
	defer pcancel()
	go func() { _ = srv.Serve(pctx, plis, time.Second) }()
	gctx, gcancel := context.WithCancel(context.Background())
	defer gcancel()
	g, err := gateway.New(gctx, gateway.Config{Logger: zap.NewNop(), Parts: []gateway.Part{{
		Name: "test", Addr: plis.Addr().String(), Services: []string{testgrpc.TestService_ServiceDesc.ServiceName}, Policy: policy,
	}}})
	if err != nil {
		t.Fatal(err)
	}
	glis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	const grace = 500 * time.Millisecond
	served := make(chan error, 1)
	go func() { served <- g.Serve(gctx, glis, grace) }()
	conn, err := grpc.NewClient(glis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	stream, err := testgrpc.NewTestServiceClient(conn).StreamingOutputCall(context.Background(), &testgrpc.StreamingOutputCallRequest{})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		_, err := stream.Recv()
		got <- err
	}()
	// The call reaches the part before the stop.
	select {
	case <-idle.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the stream did not reach the part")
	}
	start := time.Now()
	gcancel()
	select {
	case err := <-got:
		if status.Code(err) != codes.Unavailable {
			t.Errorf("a stream open at the stop ended with %v, want UNAVAILABLE", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the stream did not end within 10 s of the stop")
	}
	select {
	case <-served:
		if d := time.Since(start); d > grace+3*time.Second {
			t.Errorf("the gateway stopped %v after its context ended, with a grace of %v", d, grace)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the gateway did not stop within 10 s")
	}
}
