package platform

import (
	"context"
	"net"
	"testing"
	"time"

	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
)

// TestSlowSystemCheckHoldsUpNoOtherCall: the first call of a new token waits for its
// system to be checked (a catalog lookup under `serve`), but only that call waits. The tap
// runs in the connection's reader, so a check made there would hold up every call on the
// connection, the gateway's shared one included (docs/security.md).
func TestSlowSystemCheckHoldsUpNoOtherCall(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 8)
	s := startTestServer(t, func(o *ServerOptions) {
		o.Verifier.SetSystemCheck(func(ctx context.Context, c *Caller) error {
			if c.System != "000.00.00.H41/slow" {
				return nil
			}
			entered <- struct{}{}
			select {
			case <-release:
			case <-ctx.Done():
				return ctx.Err()
			}
			return nil
		})
	})
	defer close(release)
	slow := s.bearer(t, Caller{System: "000.00.00.H41/slow", Role: RoleProvince, Unit: "40"})
	fast := s.bearer(t, Caller{System: "000.00.00.H31/fast", Role: RoleProvince, Unit: "33"})

	slowDone := make(chan error, 1)
	go func() {
		_, err := s.client.UnaryCall(callCtx(t, "authorization", slow), &testgrpc.SimpleRequest{})
		slowDone <- err
	}()
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the slow token's system check never started")
	}
	// The slow check is under way on this connection; another caller's call must not wait on it.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", fast)
	if _, err := s.client.UnaryCall(ctx, &testgrpc.SimpleRequest{}); err != nil {
		t.Fatalf("a call of another token while a system check is slow: %v", err)
	}
	select {
	case err := <-slowDone:
		t.Fatalf("the slow call ended before its check was released: %v", err)
	default:
	}
}

// TestClientAddrCannotBeForged: the address anonymous callers are counted by is the one the
// gateway saw (the last X-Forwarded-For entry), not one the client wrote into the header.
func TestClientAddrCannotBeForged(t *testing.T) {
	base := peer.NewContext(context.Background(), &peer.Peer{Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5000}})
	cases := []struct {
		name string
		md   metadata.MD
		want string
	}{
		{"no header", nil, "127.0.0.1"},
		{"gateway set", metadata.Pairs("x-forwarded-for", "10.0.0.7"), "10.0.0.7"},
		{"client prefix appended to", metadata.Pairs("x-forwarded-for", "1.2.3.4, 10.0.0.7"), "10.0.0.7"},
		{"two values", metadata.MD{"x-forwarded-for": {"1.2.3.4", "10.0.0.8"}}, "10.0.0.8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := base
			if c.md != nil {
				ctx = metadata.NewIncomingContext(ctx, c.md)
			}
			if got := clientAddr(ctx); got != c.want {
				t.Errorf("clientAddr = %q, want %q", got, c.want)
			}
		})
	}
}
