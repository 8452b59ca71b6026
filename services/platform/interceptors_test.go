package platform

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
)

const (
	methodEmpty       = "/grpc.testing.TestService/EmptyCall"
	methodUnary       = "/grpc.testing.TestService/UnaryCall"
	methodStreamOut   = "/grpc.testing.TestService/StreamingOutputCall"
	panicText         = "secret panic text at /srv/lienthong/bolt.go:42"
	internalErrorText = "bolt: disk path /secret"
)

// handlerCall is what a test handler saw of its context.
type handlerCall struct {
	method string
	caller *Caller
	reqID  string
}

// testService answers the grpc.testing service; the request payload body picks the behaviour.
type testService struct {
	testgrpc.UnimplementedTestServiceServer
	calls chan handlerCall
}

func (s *testService) record(ctx context.Context, method string) {
	select {
	case s.calls <- handlerCall{method: method, caller: CallerFrom(ctx), reqID: RequestID(ctx)}:
	default:
	}
}

func (s *testService) EmptyCall(ctx context.Context, _ *testgrpc.Empty) (*testgrpc.Empty, error) {
	s.record(ctx, methodEmpty)
	return &testgrpc.Empty{}, nil
}

func (s *testService) UnaryCall(ctx context.Context, req *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
	s.record(ctx, methodUnary)
	if err := behave(string(req.GetPayload().GetBody())); err != nil {
		return nil, err
	}
	return &testgrpc.SimpleResponse{Payload: &testgrpc.Payload{Body: make([]byte, req.GetResponseSize())}}, nil
}

func (s *testService) StreamingOutputCall(req *testgrpc.StreamingOutputCallRequest, stream grpc.ServerStreamingServer[testgrpc.StreamingOutputCallResponse]) error {
	s.record(stream.Context(), methodStreamOut)
	if err := behave(string(req.GetPayload().GetBody())); err != nil {
		return err
	}
	for _, p := range req.GetResponseParameters() {
		if err := stream.Send(&testgrpc.StreamingOutputCallResponse{Payload: &testgrpc.Payload{Body: make([]byte, p.GetSize())}}); err != nil {
			return err
		}
	}
	return nil
}

// behave turns a request body into the handler's behaviour.
func behave(body string) error {
	switch body {
	case "panic":
		panic(panicText)
	case "internal":
		return fmt.Errorf("%s", internalErrorText)
	case "notfound":
		return NotFound("unit", "01")
	case "wrapped-notfound":
		return fmt.Errorf("load unit: %w", NotFound("unit", "01"))
	case "deadline":
		return fmt.Errorf("query: %w", context.DeadlineExceeded)
	case "status-internal":
		return status.Error(codes.Internal, "bolt: page 7 already freed at /var/lib/lienthong/catalog.db")
	case "unavailable":
		return status.Error(codes.Unavailable, "catalog is down")
	}
	return nil
}

// testServer is a running server with a client and what it logged.
type testServer struct {
	client  testgrpc.TestServiceClient
	conn    *grpc.ClientConn
	svc     *testService
	logs    *observer.ObservedLogs
	priv    ed25519.PrivateKey
	metrics *Metrics
	srv     *Server
}

// testOptions are ServerOptions with an observed logger, a verifier for a fresh key, metrics,
// and EmptyCall public.
func testOptions(t *testing.T) (ServerOptions, ed25519.PrivateKey, *observer.ObservedLogs) {
	t.Helper()
	priv, pub := newKeyPair(t)
	core, logs := observer.New(zapcore.DebugLevel)
	return ServerOptions{
		Part:     "test",
		Logger:   zap.New(core),
		Verifier: NewTokenVerifier(pub),
		Policy:   Policy{methodEmpty: Public},
		Metrics:  NewMetrics(),
	}, priv, logs
}

// serve starts srv on a free 127.0.0.1 port and returns a client connection; both end with
// the test.
func serve(t *testing.T, srv *Server) *grpc.ClientConn {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, lis, 5*time.Second) }()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		cancel()
		t.Fatalf("NewClient: %v", err)
	}
	t.Cleanup(func() {
		conn.Close()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve returned %v after shutdown, want nil", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Serve did not return within 10s of its context ending")
		}
	})
	return conn
}

func startTestServer(t *testing.T, mod func(*ServerOptions)) *testServer {
	t.Helper()
	o, priv, logs := testOptions(t)
	if mod != nil {
		mod(&o)
	}
	srv := NewServer(o)
	svc := &testService{calls: make(chan handlerCall, 16)}
	testgrpc.RegisterTestServiceServer(srv.GRPC, svc)
	conn := serve(t, srv)
	return &testServer{client: testgrpc.NewTestServiceClient(conn), conn: conn, svc: svc, logs: logs, priv: priv, metrics: o.Metrics, srv: srv}
}

// bearer returns an authorization value with a fresh token for c.
func (s *testServer) bearer(t *testing.T, c Caller) string {
	t.Helper()
	return "Bearer " + issue(t, s.priv, c, time.Hour, time.Now())
}

// lastCall returns the handler call recorded for this RPC, or nil when the handler did not run.
func (s *testServer) lastCall() *handlerCall {
	select {
	case c := <-s.svc.calls:
		return &c
	default:
		return nil
	}
}

func callCtx(t *testing.T, md ...string) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	if len(md) > 0 {
		ctx = metadata.AppendToOutgoingContext(ctx, md...)
	}
	return ctx
}

// errorInfo returns the ErrorInfo detail of err, or nil.
func errorInfo(err error) *errdetails.ErrorInfo {
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info
		}
	}
	return nil
}

var hexID = regexp.MustCompile(`^[0-9a-f]{16}$`)

func TestAuthentication(t *testing.T) {
	s := startTestServer(t, nil)
	otherPriv, _ := newKeyPair(t)
	province := Caller{System: "000.00.00.H29/motcua", Role: RoleProvince, Unit: "01"}
	good := s.bearer(t, province)
	rawToken := strings.TrimPrefix(good, "Bearer ")
	expired := "Bearer " + issue(t, s.priv, province, time.Minute, time.Now().Add(-time.Hour))
	foreign := "Bearer " + issue(t, otherPriv, province, time.Hour, time.Now())

	tests := []struct {
		name       string
		method     string // methodEmpty (public) or methodUnary (authenticated)
		auth       string // authorization header; "" sends none
		wantCode   codes.Code
		wantCaller *Caller
	}{
		{name: "public without token", method: methodEmpty, wantCode: codes.OK},
		{name: "public with valid token sees caller", method: methodEmpty, auth: good, wantCode: codes.OK, wantCaller: &province},
		{name: "public with bad token", method: methodEmpty, auth: "Bearer nonsense", wantCode: codes.Unauthenticated},
		{name: "unlisted method without token", method: methodUnary, wantCode: codes.Unauthenticated},
		{name: "valid bearer token", method: methodUnary, auth: good, wantCode: codes.OK, wantCaller: &province},
		{name: "lower-case scheme", method: methodUnary, auth: "bearer " + rawToken, wantCode: codes.OK, wantCaller: &province},
		{name: "token with trailing space", method: methodUnary, auth: good + " ", wantCode: codes.OK, wantCaller: &province},
		{name: "token without scheme", method: methodUnary, auth: rawToken, wantCode: codes.Unauthenticated},
		{name: "basic scheme", method: methodUnary, auth: "Basic dXNlcjpwYXNz", wantCode: codes.Unauthenticated},
		{name: "scheme only", method: methodUnary, auth: "Bearer", wantCode: codes.Unauthenticated},
		{name: "scheme and space", method: methodUnary, auth: "Bearer ", wantCode: codes.Unauthenticated},
		{name: "scheme and spaces", method: methodUnary, auth: "Bearer    ", wantCode: codes.Unauthenticated},
		{name: "garbage token", method: methodUnary, auth: "Bearer a.b.c", wantCode: codes.Unauthenticated},
		{name: "expired token", method: methodUnary, auth: expired, wantCode: codes.Unauthenticated},
		{name: "token of another key", method: methodUnary, auth: foreign, wantCode: codes.Unauthenticated},
		{name: "tampered token", method: methodUnary, auth: "Bearer " + flipMiddleSegment(rawToken), wantCode: codes.Unauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var md []string
			if tt.auth != "" {
				md = []string{"authorization", tt.auth}
			}
			ctx := callCtx(t, md...)
			var header metadata.MD
			var err error
			switch tt.method {
			case methodEmpty:
				_, err = s.client.EmptyCall(ctx, &testgrpc.Empty{}, grpc.Header(&header))
			case methodUnary:
				_, err = s.client.UnaryCall(ctx, &testgrpc.SimpleRequest{}, grpc.Header(&header))
			}
			if code := status.Code(err); code != tt.wantCode {
				t.Fatalf("%s code = %v (%v), want %v", tt.method, code, err, tt.wantCode)
			}
			call := s.lastCall()
			if tt.wantCode != codes.OK {
				if call != nil {
					t.Errorf("handler ran for a refused call (caller %+v)", call.caller)
				}
				info := errorInfo(err)
				if info == nil {
					t.Fatalf("refusal has no ErrorInfo: %v", err)
				}
				if info.GetReason() != "UNAUTHENTICATED" || info.GetDomain() != ErrorDomain {
					t.Errorf("ErrorInfo = %v, want reason UNAUTHENTICATED in %s", info, ErrorDomain)
				}
				// Refused as the call's headers arrive (before its message is read): no
				// response headers, the request id is in ErrorInfo.
				if !hexID.MatchString(info.GetMetadata()["request_id"]) {
					t.Errorf("ErrorInfo request_id = %q, want a generated id", info.GetMetadata()["request_id"])
				}
				return
			}
			if call == nil {
				t.Fatalf("handler did not run")
			}
			if tt.wantCaller == nil {
				if call.caller != nil {
					t.Errorf("handler saw caller %+v, want none", call.caller)
				}
				return
			}
			if call.caller == nil {
				t.Fatalf("handler saw no caller, want %+v", tt.wantCaller)
			}
			got := *call.caller
			got.ExpiresAt, got.IssuedAt, got.TokenID = time.Time{}, time.Time{}, ""
			if got != *tt.wantCaller {
				t.Errorf("handler saw caller %+v, want %+v", got, *tt.wantCaller)
			}
			if call.caller.ExpiresAt.IsZero() {
				t.Errorf("caller has no expiry")
			}
		})
	}
}

func TestNoVerifierRefusesTokens(t *testing.T) {
	s := startTestServer(t, func(o *ServerOptions) { o.Verifier = nil })
	priv, _ := newKeyPair(t)
	auth := "Bearer " + issue(t, priv, Caller{System: "sys/a", Role: RoleAdmin}, time.Hour, time.Now())
	if _, err := s.client.EmptyCall(callCtx(t), &testgrpc.Empty{}); err != nil {
		t.Errorf("public call without token on a part without key: %v", err)
	}
	_, err := s.client.UnaryCall(callCtx(t, "authorization", auth), &testgrpc.SimpleRequest{})
	if code := status.Code(err); code != codes.Unauthenticated {
		t.Errorf("token on a part without key: code %v (%v), want Unauthenticated", code, err)
	}
}

func TestHealthAndReflectionArePublic(t *testing.T) {
	s := startTestServer(t, nil)
	hc := healthpb.NewHealthClient(s.conn)
	tests := []struct {
		service string
	}{
		{""},
		{"grpc.testing.TestService"},
	}
	for _, tt := range tests {
		t.Run("service "+tt.service, func(t *testing.T) {
			resp, err := hc.Check(callCtx(t), &healthpb.HealthCheckRequest{Service: tt.service})
			if err != nil {
				t.Fatalf("Health.Check(%q) without token: %v", tt.service, err)
			}
			if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
				t.Errorf("Health.Check(%q) = %v, want SERVING", tt.service, resp.GetStatus())
			}
		})
	}
	if _, ok := s.srv.GRPC.GetServiceInfo()["grpc.reflection.v1.ServerReflection"]; !ok {
		t.Errorf("reflection service not registered; services: %v", s.srv.GRPC.GetServiceInfo())
	}
}

func TestErrorMapping(t *testing.T) {
	s := startTestServer(t, nil)
	auth := s.bearer(t, Caller{System: "sys/a", Role: RoleAdmin})
	tests := []struct {
		name        string
		body        string
		wantCode    codes.Code
		wantMessage string // exact; "{id}" stands for the request id
		wantDetails []proto.Message
		wantLogged  string // a log entry message that must carry the request id and the hidden text
	}{
		{
			name: "panic", body: "panic", wantCode: codes.Internal,
			wantMessage: "internal error; quote request id {id}",
			wantDetails: []proto.Message{
				&errdetails.ErrorInfo{Reason: "INTERNAL", Domain: ErrorDomain, Metadata: map[string]string{"request_id": "{id}"}},
				&errdetails.LocalizedMessage{Locale: "vi-VN", Message: "Lỗi hệ thống; vui lòng báo mã yêu cầu {id}."},
			},
			wantLogged: "panic",
		},
		{
			name: "plain error", body: "internal", wantCode: codes.Internal,
			wantMessage: "internal error; quote request id {id}",
			wantDetails: []proto.Message{
				&errdetails.ErrorInfo{Reason: "INTERNAL", Domain: ErrorDomain, Metadata: map[string]string{"request_id": "{id}"}},
				&errdetails.LocalizedMessage{Locale: "vi-VN", Message: "Lỗi hệ thống; vui lòng báo mã yêu cầu {id}."},
			},
			wantLogged: "internal error",
		},
		{
			name: "internal status from the handler", body: "status-internal", wantCode: codes.Internal,
			wantMessage: "internal error; quote request id {id}",
			wantDetails: []proto.Message{
				&errdetails.ErrorInfo{Reason: "INTERNAL", Domain: ErrorDomain, Metadata: map[string]string{"request_id": "{id}"}},
				&errdetails.LocalizedMessage{Locale: "vi-VN", Message: "Lỗi hệ thống; vui lòng báo mã yêu cầu {id}."},
			},
			wantLogged: "internal error",
		},
		{
			name: "client error keeps details and gains request id", body: "notfound", wantCode: codes.NotFound,
			wantMessage: `unit "01" not found`,
			wantDetails: []proto.Message{
				&errdetails.ErrorInfo{Reason: "UNIT_NOT_FOUND", Domain: ErrorDomain, Metadata: map[string]string{"id": "01", "request_id": "{id}"}},
				&errdetails.LocalizedMessage{Locale: "vi-VN", Message: `Không tìm thấy đơn vị hành chính "01".`},
			},
		},
		{
			name: "wrapped client error", body: "wrapped-notfound", wantCode: codes.NotFound,
			wantMessage: `unit "01" not found`,
			wantDetails: []proto.Message{
				&errdetails.ErrorInfo{Reason: "UNIT_NOT_FOUND", Domain: ErrorDomain, Metadata: map[string]string{"id": "01", "request_id": "{id}"}},
				&errdetails.LocalizedMessage{Locale: "vi-VN", Message: `Không tìm thấy đơn vị hành chính "01".`},
			},
		},
		{
			name: "deadline", body: "deadline", wantCode: codes.DeadlineExceeded,
			wantMessage: "deadline exceeded",
		},
		{
			name: "unavailable dependency passes", body: "unavailable", wantCode: codes.Unavailable,
			wantMessage: "catalog is down",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var header metadata.MD
			_, err := s.client.UnaryCall(callCtx(t, "authorization", auth),
				&testgrpc.SimpleRequest{Payload: &testgrpc.Payload{Body: []byte(tt.body)}}, grpc.Header(&header))
			st := status.Convert(err)
			if st.Code() != tt.wantCode {
				t.Fatalf("code = %v (%v), want %v", st.Code(), err, tt.wantCode)
			}
			ids := header.Get(RequestIDHeader)
			if len(ids) != 1 || !hexID.MatchString(ids[0]) {
				t.Fatalf("header %s = %v, want one generated id", RequestIDHeader, ids)
			}
			id := ids[0]
			call := s.lastCall()
			if call == nil || call.reqID != id {
				t.Errorf("handler saw request id %v, want %q", call, id)
			}
			msg := st.Message()
			if want := strings.ReplaceAll(tt.wantMessage, "{id}", id); msg != want {
				t.Errorf("message = %q, want %q", msg, want)
			}
			for _, leak := range []string{panicText, "secret", "/var/lib", "goroutine", ".go:", "bolt"} {
				if strings.Contains(msg, leak) {
					t.Errorf("message %q leaks %q", msg, leak)
				}
				for _, d := range st.Details() {
					if strings.Contains(fmt.Sprint(d), leak) {
						t.Errorf("detail %v leaks %q", d, leak)
					}
				}
			}
			if tt.wantDetails != nil {
				want := make([]proto.Message, len(tt.wantDetails))
				for i, d := range tt.wantDetails {
					c := proto.Clone(d)
					if info, ok := c.(*errdetails.ErrorInfo); ok {
						for k, v := range info.Metadata {
							info.Metadata[k] = strings.ReplaceAll(v, "{id}", id)
						}
					}
					if lm, ok := c.(*errdetails.LocalizedMessage); ok {
						lm.Message = strings.ReplaceAll(lm.Message, "{id}", id)
					}
					want[i] = c
				}
				var got []proto.Message
				for _, d := range st.Details() {
					m, ok := d.(proto.Message)
					if !ok {
						t.Fatalf("undecodable detail %v", d)
					}
					got = append(got, m)
				}
				if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
					t.Errorf("details (-want +got):\n%s", diff)
				}
			}
			if tt.wantLogged != "" {
				entries := s.logs.FilterMessage(tt.wantLogged).FilterField(zap.String("request_id", id)).All()
				if len(entries) == 0 {
					t.Fatalf("no %q log entry with request_id %s; logs: %v", tt.wantLogged, id, s.logs.All())
				}
				logged := fmt.Sprint(entries[0].ContextMap())
				hidden := internalErrorText
				if tt.body == "panic" {
					hidden = panicText
				} else if tt.body == "status-internal" {
					hidden = "/var/lib/lienthong/catalog.db"
				}
				if !strings.Contains(logged, hidden) {
					t.Errorf("log entry %v does not keep the hidden text %q for the operator", logged, hidden)
				}
			}
		})
	}
}

func TestUnimplementedMethod(t *testing.T) {
	s := startTestServer(t, nil)
	auth := s.bearer(t, Caller{System: "sys/a", Role: RoleAdmin})
	_, err := s.client.UnimplementedCall(callCtx(t, "authorization", auth), &testgrpc.Empty{})
	if code := status.Code(err); code != codes.Unimplemented {
		t.Errorf("UnimplementedCall code = %v (%v), want Unimplemented", code, err)
	}
	// Without a token the method is refused before anything else.
	_, err = s.client.UnimplementedCall(callCtx(t), &testgrpc.Empty{})
	if code := status.Code(err); code != codes.Unauthenticated {
		t.Errorf("UnimplementedCall without token code = %v (%v), want Unauthenticated", code, err)
	}
}

func TestRequestIDHeader(t *testing.T) {
	s := startTestServer(t, nil)
	auth := s.bearer(t, Caller{System: "sys/a", Role: RoleAdmin})
	long := strings.Repeat("x", 65)
	tests := []struct {
		name     string
		incoming string // "" sends none
		body     string
		auth     string
		wantID   string // "" means a generated id
	}{
		{name: "echoed on success", incoming: "abc-123", auth: auth, wantID: "abc-123"},
		{name: "echoed on client error", incoming: "req-404", body: "notfound", auth: auth, wantID: "req-404"},
		{name: "echoed on internal error", incoming: "req-500", body: "internal", auth: auth, wantID: "req-500"},
		{name: "echoed on refusal", incoming: "req-401", wantID: "req-401"},
		{name: "64 characters kept", incoming: strings.Repeat("y", 64), auth: auth, wantID: strings.Repeat("y", 64)},
		{name: "generated when absent", auth: auth},
		{name: "replaced when too long", incoming: long, auth: auth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var md []string
			if tt.incoming != "" {
				md = append(md, RequestIDHeader, tt.incoming)
			}
			if tt.auth != "" {
				md = append(md, "authorization", tt.auth)
			}
			var header metadata.MD
			_, err := s.client.UnaryCall(callCtx(t, md...),
				&testgrpc.SimpleRequest{Payload: &testgrpc.Payload{Body: []byte(tt.body)}}, grpc.Header(&header))
			if status.Code(err) == codes.Unauthenticated {
				// Refused before the call started: no headers, the id is in ErrorInfo.
				header = metadata.Pairs(RequestIDHeader, errorInfo(err).GetMetadata()["request_id"])
			}
			ids := header.Get(RequestIDHeader)
			if len(ids) != 1 {
				t.Fatalf("header %s = %v, want exactly one", RequestIDHeader, ids)
			}
			got := ids[0]
			if tt.wantID != "" && got != tt.wantID {
				t.Errorf("response %s = %q, want %q", RequestIDHeader, got, tt.wantID)
			}
			if tt.wantID == "" && !hexID.MatchString(got) {
				t.Errorf("response %s = %q, want a generated 16-hex-digit id", RequestIDHeader, got)
			}
			if call := s.lastCall(); call != nil && call.reqID != got {
				t.Errorf("handler RequestID = %q, header says %q", call.reqID, got)
			}
			if err != nil {
				if rid := errorInfo(err).GetMetadata()["request_id"]; rid != got {
					t.Errorf("error request_id = %q, header says %q", rid, got)
				}
			}
		})
	}
}

func TestStreamInterceptor(t *testing.T) {
	s := startTestServer(t, nil)
	province := Caller{System: "000.00.00.H29/motcua", Role: RoleProvince, Unit: "01"}
	auth := s.bearer(t, province)
	tests := []struct {
		name      string
		auth      string
		body      string
		wantCode  codes.Code
		wantCount int
	}{
		{name: "with token", auth: auth, wantCode: codes.OK, wantCount: 3},
		{name: "without token", wantCode: codes.Unauthenticated},
		{name: "bad token", auth: "Bearer x", wantCode: codes.Unauthenticated},
		{name: "panic", auth: auth, body: "panic", wantCode: codes.Internal},
		{name: "internal error", auth: auth, body: "internal", wantCode: codes.Internal},
		{name: "client error", auth: auth, body: "notfound", wantCode: codes.NotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var md []string
			if tt.auth != "" {
				md = []string{"authorization", tt.auth}
			}
			stream, err := s.client.StreamingOutputCall(callCtx(t, md...), &testgrpc.StreamingOutputCallRequest{
				Payload:            &testgrpc.Payload{Body: []byte(tt.body)},
				ResponseParameters: []*testgrpc.ResponseParameters{{Size: 1}, {Size: 2}, {Size: 3}},
			})
			if err != nil {
				t.Fatalf("StreamingOutputCall: %v", err)
			}
			n := 0
			for {
				_, err = stream.Recv()
				if err != nil {
					break
				}
				n++
			}
			if tt.wantCode == codes.OK {
				if err.Error() != "EOF" {
					t.Fatalf("stream ended with %v, want EOF", err)
				}
			} else if code := status.Code(err); code != tt.wantCode {
				t.Fatalf("stream code = %v (%v), want %v", code, err, tt.wantCode)
			}
			if n != tt.wantCount {
				t.Errorf("received %d messages, want %d", n, tt.wantCount)
			}
			header, herr := stream.Header()
			if herr != nil && tt.wantCode != codes.Unauthenticated {
				t.Fatalf("Header: %v", herr)
			}
			if tt.wantCode == codes.Unauthenticated {
				// Refused before the stream started: no headers, the id is in ErrorInfo.
				header = metadata.Pairs(RequestIDHeader, errorInfo(err).GetMetadata()["request_id"])
			}
			id := header.Get(RequestIDHeader)
			if len(id) != 1 {
				t.Fatalf("stream header %s = %v, want one id", RequestIDHeader, id)
			}
			call := s.lastCall()
			switch {
			case tt.wantCode == codes.Unauthenticated && call != nil:
				t.Errorf("stream handler ran for a refused call")
			case tt.wantCode == codes.OK:
				if call == nil || call.caller == nil || call.caller.System != province.System || call.caller.Unit != "01" {
					t.Errorf("stream handler saw %+v, want caller %+v", call, province)
				} else if call.reqID != id[0] {
					t.Errorf("stream handler request id %q, header %q", call.reqID, id[0])
				}
			}
			if tt.wantCode != codes.OK {
				msg := status.Convert(err).Message()
				for _, leak := range []string{panicText, "secret", "goroutine", ".go:"} {
					if strings.Contains(msg, leak) {
						t.Errorf("stream error %q leaks %q", msg, leak)
					}
				}
				if rid := errorInfo(err).GetMetadata()["request_id"]; rid != id[0] {
					t.Errorf("stream error request_id = %q, header %q", rid, id[0])
				}
			}
		})
	}
}

func TestMaxMessageBytes(t *testing.T) {
	const limit = 1024
	s := startTestServer(t, func(o *ServerOptions) { o.MaxMessageBytes = limit })
	auth := s.bearer(t, Caller{System: "sys/a", Role: RoleAdmin})
	tests := []struct {
		name         string
		requestBytes int
		responseSize int32
		wantCode     codes.Code
		wantHandler  bool
	}{
		{name: "small request", requestBytes: 100, wantCode: codes.OK, wantHandler: true},
		{name: "request just under the limit", requestBytes: limit - 16, wantCode: codes.OK, wantHandler: true},
		{name: "request over the limit", requestBytes: 2 * limit, wantCode: codes.ResourceExhausted},
		{name: "huge request", requestBytes: 1 << 20, wantCode: codes.ResourceExhausted},
		{name: "response over the limit", requestBytes: 10, responseSize: 2 * limit, wantCode: codes.ResourceExhausted, wantHandler: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := make([]byte, tt.requestBytes)
			for i := range body {
				body[i] = 'x'
			}
			_, err := s.client.UnaryCall(callCtx(t, "authorization", auth),
				&testgrpc.SimpleRequest{Payload: &testgrpc.Payload{Body: body}, ResponseSize: tt.responseSize})
			if code := status.Code(err); code != tt.wantCode {
				t.Fatalf("code = %v (%v), want %v", code, err, tt.wantCode)
			}
			if ran := s.lastCall() != nil; ran != tt.wantHandler {
				t.Errorf("handler ran = %v, want %v", ran, tt.wantHandler)
			}
		})
	}
	// The default limit applies when none is configured.
	d := startTestServer(t, nil)
	_, err := d.client.UnaryCall(callCtx(t, "authorization", d.bearer(t, Caller{System: "sys/a", Role: RoleAdmin})),
		&testgrpc.SimpleRequest{Payload: &testgrpc.Payload{Body: make([]byte, 2*limit)}})
	if err != nil {
		t.Errorf("2 KiB request with the default limit: %v", err)
	}
	_, err = d.client.UnaryCall(callCtx(t, "authorization", d.bearer(t, Caller{System: "sys/a", Role: RoleAdmin})),
		&testgrpc.SimpleRequest{Payload: &testgrpc.Payload{Body: make([]byte, DefaultMaxMessageBytes+1)}},
		grpc.MaxCallSendMsgSize(DefaultMaxMessageBytes*2))
	if code := status.Code(err); code != codes.ResourceExhausted {
		t.Errorf("request over the default limit: code %v (%v), want ResourceExhausted", code, err)
	}
}

func TestMetricsCountCalls(t *testing.T) {
	s := startTestServer(t, nil)
	auth := s.bearer(t, Caller{System: "sys/a", Role: RoleAdmin})
	for range 2 {
		if _, err := s.client.UnaryCall(callCtx(t, "authorization", auth), &testgrpc.SimpleRequest{}); err != nil {
			t.Fatalf("UnaryCall: %v", err)
		}
	}
	_, _ = s.client.UnaryCall(callCtx(t), &testgrpc.SimpleRequest{})
	_, _ = s.client.UnaryCall(callCtx(t, "authorization", auth), &testgrpc.SimpleRequest{Payload: &testgrpc.Payload{Body: []byte("notfound")}})

	families, err := s.metrics.Registry.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	got := map[string]float64{}
	var latencyCount uint64
	for _, f := range families {
		switch f.GetName() {
		case "lienthong_grpc_server_handled_total":
			for _, m := range f.GetMetric() {
				labels := map[string]string{}
				for _, l := range m.GetLabel() {
					labels[l.GetName()] = l.GetValue()
				}
				if labels["part"] == "test" && labels["method"] == methodUnary {
					got[labels["code"]] = m.GetCounter().GetValue()
				}
			}
		case "lienthong_grpc_server_handling_seconds":
			for _, m := range f.GetMetric() {
				latencyCount += m.GetHistogram().GetSampleCount()
			}
		}
	}
	want := map[string]float64{"OK": 2, "Unauthenticated": 1, "NotFound": 1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("handled_total by code (-want +got):\n%s", diff)
	}
	if latencyCount != 4 {
		t.Errorf("latency histogram has %d samples, want 4", latencyCount)
	}
}

func TestServerWithoutLogger(t *testing.T) {
	srv := NewServer(ServerOptions{Part: "bare"})
	testgrpc.RegisterTestServiceServer(srv.GRPC, &testService{calls: make(chan handlerCall, 16)})
	client := testgrpc.NewTestServiceClient(serve(t, srv))
	tests := []struct {
		name string
		body string
		want codes.Code
	}{
		{"refused before the handler", "", codes.Unauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := client.UnaryCall(callCtx(t), &testgrpc.SimpleRequest{Payload: &testgrpc.Payload{Body: []byte(tt.body)}})
			if code := status.Code(err); code != tt.want {
				t.Errorf("code = %v (%v), want %v", code, err, tt.want)
			}
		})
	}
	if _, err := client.EmptyCall(callCtx(t), &testgrpc.Empty{}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("EmptyCall with no policy: %v, want Unauthenticated (deny by default)", err)
	}
}

func TestServeStopsOnContext(t *testing.T) {
	o, _, logs := testOptions(t)
	srv := NewServer(o)
	testgrpc.RegisterTestServiceServer(srv.GRPC, &testService{calls: make(chan handlerCall, 16)})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, lis, time.Second) }()

	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	hc := healthpb.NewHealthClient(conn)
	resp, err := hc.Check(callCtx(t), &healthpb.HealthCheckRequest{Service: "grpc.testing.TestService"}, grpc.WaitForReady(true))
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health of the registered service = %v, %v; want SERVING", resp, err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve = %v, want nil after its context ends", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("Serve did not return within 10s of its context ending")
	}
	if n := logs.FilterMessage("part stopped").Len(); n != 1 {
		t.Errorf("logged %q %d times, want once", "part stopped", n)
	}
	_, err = hc.Check(callCtx(t), &healthpb.HealthCheckRequest{})
	if err == nil {
		t.Errorf("health check after Serve returned succeeded, want an error")
	}
}

func TestServeReportsListenerError(t *testing.T) {
	o, _, _ := testOptions(t)
	srv := NewServer(o)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lis.Close() // Serve fails at once
	err = srv.Serve(context.Background(), lis, time.Second)
	if err == nil || !strings.Contains(err.Error(), "test") {
		t.Errorf("Serve on a closed listener = %v, want an error naming the part", err)
	}
	if errors.Is(err, context.Canceled) {
		t.Errorf("Serve error %v is a cancellation", err)
	}
}
