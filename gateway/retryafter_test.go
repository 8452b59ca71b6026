package gateway

import (
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

func TestRetryAfterFromRetryInfo(t *testing.T) {
	with := func(d time.Duration) *status.Status {
		st, err := status.New(codes.ResourceExhausted, "slow down").WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(d)})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	cases := []struct {
		name string
		st   *status.Status
		want string
	}{
		{"no retry info", status.New(codes.ResourceExhausted, "too big"), "1"},
		{"under a second", with(300 * time.Millisecond), "1"},
		{"rounded up", with(2300 * time.Millisecond), "3"},
		{"whole seconds", with(4 * time.Second), "4"},
	}
	for _, tc := range cases {
		if got := retryAfter(tc.st); got != tc.want {
			t.Errorf("%s: Retry-After %q, want %q", tc.name, got, tc.want)
		}
	}
}
