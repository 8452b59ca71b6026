package platform

import (
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	testgrpc "google.golang.org/grpc/interop/grpc_testing"
)

// Each system has its own bucket; past the burst a call is refused with RATE_LIMITED and a
// retry delay, and never reaches the handler; the admin token is not limited.
func TestRateLimitPerSystem(t *testing.T) {
	s := startTestServer(t, func(o *ServerOptions) { o.RateLimit = RateLimit{PerSecond: 0.5, Burst: 2} })
	ha := s.bearer(t, Caller{System: "000.00.00.H29/motcua", Role: RoleProvince, Unit: "01"})
	hb := s.bearer(t, Caller{System: "000.00.00.H41/motcua", Role: RoleProvince, Unit: "36"})
	admin := s.bearer(t, Caller{System: "lienthong/admin", Role: RoleAdmin})
	call := func(auth string) error {
		_, err := s.client.UnaryCall(callCtx(t, "authorization", auth), &testgrpc.SimpleRequest{})
		return err
	}
	for i := range 2 {
		if err := call(ha); err != nil {
			t.Fatalf("call %d within the burst: %v", i+1, err)
		}
		s.lastCall()
	}
	err := call(ha)
	if status.Code(err) != codes.ResourceExhausted || errorInfo(err).GetReason() != "RATE_LIMITED" {
		t.Fatalf("third call: %v, want RESOURCE_EXHAUSTED RATE_LIMITED", err)
	}
	if c := s.lastCall(); c != nil {
		t.Errorf("the refused call reached the handler")
	}
	var retry *errdetails.RetryInfo
	for _, d := range status.Convert(err).Details() {
		if r, ok := d.(*errdetails.RetryInfo); ok {
			retry = r
		}
	}
	if d := retry.GetRetryDelay().AsDuration(); d <= 0 || d > 2*time.Second {
		t.Errorf("retry delay %v, want within (0, 2s] at 0.5 calls/s", d)
	}
	if err := call(hb); err != nil {
		t.Errorf("another system: %v, want its own bucket", err)
	}
	for i := range 5 {
		if err := call(admin); err != nil {
			t.Fatalf("admin call %d: %v, want no limit", i+1, err)
		}
	}
}

// Calls without a token are counted per client address.
func TestRateLimitAnonymous(t *testing.T) {
	s := startTestServer(t, func(o *ServerOptions) { o.RateLimit = RateLimit{PerSecond: 0.5, Burst: 1} })
	if _, err := s.client.EmptyCall(callCtx(t), &testgrpc.Empty{}); err != nil {
		t.Fatalf("first public call: %v", err)
	}
	_, err := s.client.EmptyCall(callCtx(t, "x-forwarded-for", "203.0.113.9"), &testgrpc.Empty{})
	if err != nil {
		t.Fatalf("another client address: %v", err)
	}
	_, err = s.client.EmptyCall(callCtx(t), &testgrpc.Empty{})
	if status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("second public call from the same address: %v, want RESOURCE_EXHAUSTED", err)
	}
}

// A full table drops its idlest entries instead of growing.
func TestRateLimiterTableBounded(t *testing.T) {
	r := NewRateLimiter(RateLimit{PerSecond: 1, Burst: 1})
	now := time.Unix(0, 0)
	r.now = func() time.Time { return now }
	for i := range maxLimiters + 10 {
		now = now.Add(time.Millisecond)
		r.take(string(rune(i)), 0)
	}
	if n := len(r.buckets); n > maxLimiters {
		t.Errorf("%d buckets, want at most %d", n, maxLimiters)
	}
	if NewRateLimiter(RateLimit{}) != nil {
		t.Error("a zero limit should mean no limiter")
	}
}
