package platform

import (
	"time"

	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// A call in process goes through the same interceptors as one over the network: the
// caller from the token, the request id, error mapping, rate limits; streams go over the
// network connection.
func TestLocalCalls(t *testing.T) {
	o, priv, _ := testOptions(t)
	o.RateLimit = RateLimit{PerSecond: 0.5, Burst: 2}
	srv := NewServer(o)
	svc := &testService{calls: make(chan handlerCall, 16)}
	testgrpc.RegisterTestServiceServer(srv, svc) // through RegisterService: known in process
	conn := serve(t, srv)
	client := testgrpc.NewTestServiceClient(srv.Local(conn))
	province := Caller{System: "000.00.00.H29/motcua", Role: RoleProvince, Unit: "01"}
	auth := "Bearer " + issue(t, priv, province, time.Hour, time.Now())

	var hdr metadata.MD
	resp, err := client.UnaryCall(callCtx(t, "authorization", auth, RequestIDHeader, "req-local-1"), &testgrpc.SimpleRequest{ResponseSize: 3}, grpc.Header(&hdr))
	if err != nil {
		t.Fatalf("in-process call: %v", err)
	}
	if len(resp.GetPayload().GetBody()) != 3 {
		t.Errorf("answer %v, want a payload of 3", resp)
	}
	call := <-svc.calls
	if call.caller == nil || call.caller.System != province.System || call.reqID != "req-local-1" {
		t.Errorf("handler saw caller %v and request id %q; want the token's caller and req-local-1", call.caller, call.reqID)
	}
	if got := hdr.Get(RequestIDHeader); len(got) != 1 || got[0] != "req-local-1" {
		t.Errorf("x-request-id header %v, want req-local-1", got)
	}
	// No token: refused by the interceptor, the handler never runs.
	if _, err := client.UnaryCall(callCtx(t), &testgrpc.SimpleRequest{}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("without a token: %v, want UNAUTHENTICATED", err)
	}
	// An error from the handler keeps its code and details.
	_, err = client.UnaryCall(callCtx(t, "authorization", auth), &testgrpc.SimpleRequest{Payload: &testgrpc.Payload{Body: []byte("notfound")}})
	if status.Code(err) != codes.NotFound || errorInfo(err) == nil {
		t.Errorf("handler error: %v, want NOT_FOUND with ErrorInfo", err)
	}
	<-svc.calls
	// The rate limit applies (burst 2 used by the two calls that reached it).
	if _, err := client.UnaryCall(callCtx(t, "authorization", auth), &testgrpc.SimpleRequest{}); status.Code(err) != codes.ResourceExhausted {
		t.Errorf("past the burst: %v, want RESOURCE_EXHAUSTED", err)
	}
	// Streams go over the network connection.
	stream, err := client.StreamingOutputCall(callCtx(t, "authorization", "Bearer "+issue(t, priv, Caller{System: "lienthong/admin", Role: RoleAdmin}, time.Hour, time.Now())),
		&testgrpc.StreamingOutputCallRequest{ResponseParameters: []*testgrpc.ResponseParameters{{Size: 1}, {Size: 2}}})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		if _, err := stream.Recv(); err != nil {
			break
		}
		n++
	}
	if n != 2 {
		t.Errorf("stream through the fallback: %d messages, want 2", n)
	}
}
