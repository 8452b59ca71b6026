package platform

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/tap"
)

// Access says who may call a method before the method's own checks.
type Access int

// Access levels.
const (
	// Authenticated needs a valid token (the default for any method not listed).
	Authenticated Access = iota
	// Public needs no token; a token that is present must still be valid.
	Public
)

// Policy maps full method names (/pkg.Service/Method) to their access level. Methods not
// listed need a token: deny by default.
type Policy map[string]Access

// RequestIDHeader carries the request id between the gateway, the parts and the client.
const RequestIDHeader = "x-request-id"

type requestIDKey struct{}

// RequestID returns the id of the request being served.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// callInfo is what the interceptors know of a call before the handler runs.
type callInfo struct {
	ctx    context.Context
	method string
	start  time.Time
	reqID  string
}

// edge does the shared work of the unary and stream interceptors: request id, auth,
// logging, metrics and error mapping.
type edge struct {
	part     string
	lg       *zap.Logger
	verifier *TokenVerifier
	policy   Policy
	metrics  *Metrics
	limiter  *RateLimiter
	streams  *streamLimiter
}

func (e *edge) begin(ctx context.Context, method string) (*callInfo, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	reqID := first(md, RequestIDHeader)
	if reqID == "" || len(reqID) > 64 {
		reqID = newRequestID()
	}
	ctx = context.WithValue(ctx, requestIDKey{}, reqID)
	_ = grpc.SetHeader(ctx, metadata.Pairs(RequestIDHeader, reqID))
	ci := &callInfo{ctx: ctx, method: method, start: time.Now(), reqID: reqID}
	c, err := e.authenticate(ctx, md, method, false)
	if err != nil {
		return ci, err
	}
	if c != nil {
		ci.ctx = WithCaller(ci.ctx, c)
	}
	return ci, nil
}

// authenticate checks the call's bearer token: the caller when there is a valid one, nil
// for a call without one to a public method, an UNAUTHENTICATED error otherwise.
// local checks only what needs no other part (TokenVerifier.VerifyLocal): the tap's way.
func (e *edge) authenticate(ctx context.Context, md metadata.MD, method string, local bool) (*Caller, error) {
	auth := first(md, "authorization")
	if auth != "" {
		scheme, token, ok := strings.Cut(auth, " ")
		if !ok || !strings.EqualFold(scheme, "bearer") || token == "" {
			return nil, Unauthenticated("authorization must be \"Bearer <token>\"")
		}
		if e.verifier == nil {
			return nil, Unauthenticated("this part has no token key configured")
		}
		verify := func(tok string) (*Caller, error) { return e.verifier.VerifyContext(ctx, tok) }
		if local {
			verify = e.verifier.VerifyLocal
		}
		c, err := verify(strings.TrimSpace(token))
		if err != nil {
			return nil, err // an *Error: UNAUTHENTICATED, or UNAVAILABLE when the token's system cannot be checked
		}
		return c, nil
	}
	if e.policy[method] != Public && !builtinPublic(method) {
		return nil, Unauthenticated("this call needs a bearer token (Authorization: Bearer <token>)")
	}
	return nil, nil
}

// tap refuses a call whose token is missing (where one is needed) or not valid as soon as
// its headers arrive, before its first message is read or decoded: an anonymous caller
// costs no decoding and no handler (see grpc.InTapHandle). The interceptors check again,
// from the verifier's cache, and log the calls they refuse.
// A call refused here has no response headers (it ends with trailers only): its request
// id is in the error's ErrorInfo.
func (e *edge) tap(ctx context.Context, info *tap.Info) (context.Context, error) {
	_, err := e.authenticate(ctx, info.Header, info.FullMethodName, true)
	if err == nil {
		return ctx, nil
	}
	reqID := first(info.Header, RequestIDHeader)
	if reqID == "" || len(reqID) > 64 {
		reqID = newRequestID()
	}
	ci := &callInfo{ctx: ctx, method: info.FullMethodName, start: time.Now(), reqID: reqID}
	return ctx, status.Convert(e.end(ci, err)).Err()
}

// limit applies the sender's rate limit to a call; health checks and reflection are never
// limited (the gateway's health polling must not be starved by a busy client).
func (e *edge) limit(ci *callInfo) error {
	if builtinPublic(ci.method) {
		return nil
	}
	return e.limiter.check(ci.ctx, 0)
}

func builtinPublic(method string) bool {
	return strings.HasPrefix(method, "/grpc.health.v1.Health/") || strings.HasPrefix(method, "/grpc.reflection.")
}

func first(md metadata.MD, key string) string {
	if v := md.Get(key); len(v) > 0 {
		return v[0]
	}
	return ""
}

// end maps the error for the client and logs and counts the call.
func (e *edge) end(ci *callInfo, err error) error {
	err = e.clientError(ci, err)
	code := status.Code(err)
	d := time.Since(ci.start)
	if e.metrics != nil {
		e.metrics.observe(e.part, ci.method, code, d)
	}
	fields := []zap.Field{
		zap.String("request_id", ci.reqID),
		zap.String("method", ci.method),
		zap.String("code", code.String()),
		zap.Duration("duration", d),
	}
	if c := CallerFrom(ci.ctx); c != nil {
		fields = append(fields, zap.String("system", c.System), zap.String("role", string(c.Role)))
	}
	switch code {
	case codes.OK:
		e.lg.Debug("call", fields...)
	case codes.Internal, codes.Unknown, codes.DataLoss:
		e.lg.Error("call failed", fields...)
	default:
		e.lg.Info("call refused", fields...)
	}
	return err
}

// clientError returns what the client may see of err: client errors keep their details and
// gain the request id; anything else is logged and becomes a plain INTERNAL.
func (e *edge) clientError(ci *callInfo, err error) error {
	if err == nil {
		return nil
	}
	var ce *Error
	if errors.As(err, &ce) {
		return ce.WithMetadata("request_id", ci.reqID)
	}
	if st, ok := status.FromError(err); ok {
		switch st.Code() {
		case codes.Canceled, codes.DeadlineExceeded, codes.ResourceExhausted, codes.Unavailable, codes.InvalidArgument,
			codes.Unimplemented:
			// Produced by gRPC itself (client gone, limits, malformed frames, a method of the
			// generated Unimplemented*Server): safe to pass on, its message bounded.
			if msg := clipRunes(st.Message(), maxTextRunes); msg != st.Message() {
				p := st.Proto()
				p.Message = msg
				return status.FromProto(p).Err()
			}
			return err
		}
	}
	if errors.Is(err, context.Canceled) {
		return status.Error(codes.Canceled, "request canceled")
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return status.Error(codes.DeadlineExceeded, "deadline exceeded")
	}
	if StorageFull(err) {
		e.lg.Error("storage full", zap.String("request_id", ci.reqID), zap.String("method", ci.method), zap.Error(err))
		return ErrStorageFull(e.part).WithMetadata("request_id", ci.reqID)
	}
	e.lg.Error("internal error", zap.String("request_id", ci.reqID), zap.String("method", ci.method), zap.Error(err))
	return internalError(ci.reqID)
}

func internalError(reqID string) error {
	return (&Error{Code: codes.Internal, Reason: "INTERNAL", Message: "internal error; quote request id " + reqID,
		MessageVI: "Lỗi hệ thống; vui lòng báo mã yêu cầu " + reqID + "."}).WithMetadata("request_id", reqID)
}

// unary is the unary server interceptor.
func (e *edge) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	ci, err := e.begin(ctx, info.FullMethod)
	if err != nil {
		return nil, e.end(ci, err)
	}
	defer func() {
		if r := recover(); r != nil {
			e.lg.Error("panic", zap.String("request_id", ci.reqID), zap.String("method", ci.method), zap.Any("panic", r), zap.Stack("stack"))
			resp, err = nil, e.end(ci, internalError(ci.reqID))
		}
	}()
	if err := e.limit(ci); err != nil {
		return nil, e.end(ci, err)
	}
	resp, err = handler(ci.ctx, req)
	return resp, e.end(ci, err)
}

type wrappedStream struct {
	grpc.ServerStream
	ctx     context.Context
	limiter *RateLimiter
}

func (w *wrappedStream) Context() context.Context { return w.ctx }

// RecvMsg counts every message of a stream against the sender's rate limit: a stream
// carries as much as many calls.
func (w *wrappedStream) RecvMsg(m any) error {
	if err := w.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	return w.limiter.check(w.ctx, streamWait)
}

// stream is the stream server interceptor.
func (e *edge) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
	ci, err := e.begin(ss.Context(), info.FullMethod)
	if err != nil {
		return e.end(ci, err)
	}
	defer func() {
		if r := recover(); r != nil {
			e.lg.Error("panic", zap.String("request_id", ci.reqID), zap.String("method", ci.method), zap.Any("panic", r), zap.Stack("stack"))
			err = e.end(ci, internalError(ci.reqID))
		}
	}()
	if err := e.limit(ci); err != nil {
		return e.end(ci, err)
	}
	release, err := e.streams.open(ci.ctx, ci.method)
	if err != nil {
		return e.end(ci, err)
	}
	defer release()
	ws := &wrappedStream{ServerStream: ss, ctx: ci.ctx}
	if !builtinPublic(ci.method) {
		ws.limiter = e.limiter
	}
	return e.end(ci, handler(srv, ws))
}
