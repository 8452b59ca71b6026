package platform

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

func TestSendWithTimeoutReturnsTheSendResult(t *testing.T) {
	errSend := errors.New("send failed")
	cases := []struct {
		name string
		d    time.Duration
		err  error
	}{
		{"bounded, ok", time.Second, nil},
		{"bounded, error", time.Second, errSend},
		{"unbounded, ok", 0, nil},
		{"unbounded, error", -1, errSend},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			got := SendWithTimeout(context.Background(), tc.d, func() error { calls++; return tc.err })
			if !errors.Is(got, tc.err) || (tc.err == nil && got != nil) {
				t.Errorf("got %v, want %v", got, tc.err)
			}
			if calls != 1 {
				t.Errorf("send called %d times, want 1", calls)
			}
		})
	}
}

func TestSendWithTimeoutEndsABlockedSend(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	start := time.Now()
	err := SendWithTimeout(context.Background(), 50*time.Millisecond, func() error { <-release; return nil })
	if status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("got %v, want DEADLINE_EXCEEDED", err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("returned after %s, want about the timeout", elapsed)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = SendWithTimeout(ctx, time.Hour, func() error { <-release; return nil })
	if status.Code(err) != codes.Canceled {
		t.Errorf("with the stream's context ended: got %v, want CANCELED", err)
	}
}

// stallServer is a server-streaming method that sends messages of 32 KiB, each through
// SendWithTimeout, until one fails. It records when the last send really returned.
type stallServer struct {
	timeout time.Duration

	mu       sync.Mutex
	sent     int
	lastDone chan struct{} // closed when the last Send call returned
	result   chan error    // the handler's error, once it returned
}

func (s *stallServer) watch(_ any, stream grpc.ServerStream) error {
	in := new(wrapperspb.BytesValue)
	if err := stream.RecvMsg(in); err != nil {
		return err
	}
	payload := make([]byte, 32<<10)
	for {
		done := make(chan struct{})
		s.mu.Lock()
		s.lastDone = done
		s.mu.Unlock()
		err := SendWithTimeout(stream.Context(), s.timeout, func() error {
			defer close(done)
			return stream.SendMsg(wrapperspb.Bytes(payload))
		})
		if err != nil {
			s.result <- err
			return err
		}
		s.mu.Lock()
		s.sent++
		s.mu.Unlock()
		if s.sent > 1000 {
			s.result <- nil
			return nil // flow control never stopped the sender: the test fails below
		}
	}
}

// TestSendWithTimeoutOverGRPCFreesTheStalledStream opens a real stream over loopback with a
// client that keeps 64 KiB flow-control windows (the least grpc-go allows) and never reads:
// the server's Send blocks for quota, SendWithTimeout gives up after the timeout, the handler
// returns DEADLINE_EXCEEDED, and the blocked Send returns too (no goroutine left behind).
func TestSendWithTimeoutOverGRPCFreesTheStalledStream(t *testing.T) {
	srv := &stallServer{timeout: 200 * time.Millisecond, result: make(chan error, 1)}
	gs := grpc.NewServer()
	gs.RegisterService(&grpc.ServiceDesc{
		ServiceName: "lienthong.test.Stall",
		HandlerType: (*any)(nil),
		Streams: []grpc.StreamDesc{{
			StreamName:    "Watch",
			Handler:       srv.watch,
			ServerStreams: true,
			ClientStreams: false,
		}},
	}, srv)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = gs.Serve(lis) }()
	defer gs.Stop()

	cc, err := grpc.NewClient(lis.Addr().String(),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithInitialWindowSize(64<<10), grpc.WithInitialConnWindowSize(64<<10))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cs, err := cc.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, "/lienthong.test.Stall/Watch")
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.SendMsg(wrapperspb.Bytes(nil)); err != nil {
		t.Fatal(err)
	}
	if err := cs.CloseSend(); err != nil {
		t.Fatal(err)
	}

	// The client does not read: the handler must end by itself, with the timeout's error.
	var handlerErr error
	select {
	case handlerErr = <-srv.result:
	case <-ctx.Done():
		t.Fatal("the handler did not return while its client was not reading")
	}
	if status.Code(handlerErr) != codes.DeadlineExceeded {
		t.Fatalf("handler returned %v, want DEADLINE_EXCEEDED", handlerErr)
	}
	srv.mu.Lock()
	sent, lastDone := srv.sent, srv.lastDone
	srv.mu.Unlock()
	if sent > 100 {
		t.Fatalf("%d messages of 32 KiB were sent to a client that never read: flow control did not block", sent)
	}
	// The Send that was still blocked when the handler returned must return too.
	select {
	case <-lastDone:
	case <-ctx.Done():
		t.Fatal("the blocked Send did not return after the handler ended the stream")
	}

	// The client, once it reads, gets what was sent before the stall and then the status.
	got := 0
	for {
		m := new(wrapperspb.BytesValue)
		if err := cs.RecvMsg(m); err != nil {
			if status.Code(err) != codes.DeadlineExceeded {
				t.Errorf("client got %v, want DEADLINE_EXCEEDED", err)
			}
			break
		}
		got++
	}
	if got != sent {
		t.Errorf("client read %d messages, want the %d sent before the stall", got, sent)
	}
}
