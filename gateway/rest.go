package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/textproto"
	"regexp"
	"strconv"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/lienthong/lienthong/services/platform"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/grpclog"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// jsonMarshaler writes proto field names, enums as names, int64 as strings and default
// values; it rejects unknown fields on input (docs/api.md, "Conventions").
func jsonMarshaler() runtime.Marshaler {
	return &runtime.HTTPBodyMarshaler{Marshaler: &runtime.JSONPb{
		MarshalOptions:   protojson.MarshalOptions{UseProtoNames: true, EmitDefaultValues: true},
		UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
	}}
}

// fastJSON uses a part's own encoder for the messages it offers one for, and the generic
// marshaler for everything else (and for decoding).
type fastJSON struct {
	runtime.Marshaler
	enc map[protoreflect.FullName]JSONEncoder
}

func (f fastJSON) Marshal(v any) ([]byte, error) {
	if m, ok := v.(proto.Message); ok {
		if e := f.enc[m.ProtoReflect().Descriptor().FullName()]; e != nil {
			return e(nil, m)
		}
	}
	return f.Marshaler.Marshal(v)
}

func newRESTMux(enc map[protoreflect.FullName]JSONEncoder, guard runtime.Middleware) *runtime.ServeMux {
	var m runtime.Marshaler = jsonMarshaler()
	if len(enc) > 0 {
		m = fastJSON{Marshaler: m, enc: enc}
	}
	return runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, m),
		runtime.WithErrorHandler(errorHandler),
		runtime.WithRoutingErrorHandler(routingErrorHandler),
		// A system id holds '/', written %2F in a path: keep it inside its segment.
		runtime.WithUnescapingMode(runtime.UnescapingModeAllExceptSlash),
		runtime.WithIncomingHeaderMatcher(func(key string) (string, bool) {
			if strings.EqualFold(key, platform.RequestIDHeader) {
				return platform.RequestIDHeader, true
			}
			return runtime.DefaultHeaderMatcher(key)
		}),
		// observe has already set X-Request-Id to the id the part was given; forwarding the
		// part's header as well would send it twice.
		runtime.WithOutgoingHeaderMatcher(func(string) (string, bool) { return "", false }),
		// The token, the body limit and the body adapters, once the route is known.
		runtime.WithMiddlewares(guard),
		// A form-encoded POST would otherwise be read (ParseForm) before any check.
		runtime.WithDisablePathLengthFallback(),
	)
}

// httpStatus is grpc-gateway's mapping, except FAILED_PRECONDITION, which is 412
// (docs/api.md, "Errors"), and RESOURCE_EXHAUSTED for a request too large (a body, a batch, a document, a
// message over its limit), which is 413: retrying it cannot help. 429 stays for the limits
// that time lifts (rate, open streams).
func httpStatus(st *status.Status) int {
	switch c := st.Code(); {
	case c == codes.FailedPrecondition:
		return http.StatusPreconditionFailed
	case c == codes.ResourceExhausted && tooLarge(st):
		return http.StatusRequestEntityTooLarge
	default:
		return runtime.HTTPStatusFromCode(c)
	}
}

// tooLarge says whether a RESOURCE_EXHAUSTED is about the size of the request: its reason
// is *_TOO_LARGE (the gateway's REQUEST_TOO_LARGE, the parts' BATCH_TOO_LARGE,
// DOCUMENT_TOO_LARGE, UPLOAD_TOO_LARGE, ...) or, from gRPC itself, a message larger than
// the maximum.
func tooLarge(st *status.Status) bool {
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return strings.HasSuffix(info.GetReason(), "_TOO_LARGE")
		}
	}
	return strings.Contains(st.Message(), "larger than max")
}

// errorHandler writes every REST error as google.rpc.Status JSON with ErrorInfo and a vi-VN
// message, whether it came from a part or from the gateway itself (bad JSON, body too large).
func errorHandler(ctx context.Context, _ *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
	st := status.Convert(err)
	if st.Code() == codes.InvalidArgument && strings.Contains(st.Message(), "http: request body too large") {
		st = status.New(codes.ResourceExhausted, "request body larger than the limit")
	}
	st = withDetails(st, w.Header().Get("X-Request-Id"))
	if md, ok := runtime.ServerMetadataFromContext(ctx); ok {
		for _, v := range md.HeaderMD.Get(platform.RequestIDHeader) {
			w.Header().Set("X-Request-Id", v)
		}
	}
	writeStatus(w, r, m, st)
}

func writeStatus(w http.ResponseWriter, _ *http.Request, m runtime.Marshaler, st *status.Status) {
	writeStatusHTTP(w, m, st, httpStatus(st))
}

// writeStatusHTTP writes a status as JSON with a given HTTP status.
func writeStatusHTTP(w http.ResponseWriter, m runtime.Marshaler, st *status.Status, code int) {
	buf, merr := m.Marshal(st.Proto())
	if merr != nil {
		grpclog.Errorf("marshal error: %v", merr)
		buf = []byte(`{"code": 13, "message": "failed to marshal error message"}`)
	}
	w.Header().Del("Trailer")
	w.Header().Del("Transfer-Encoding")
	w.Header().Set("Content-Type", "application/json")
	if code == http.StatusTooManyRequests && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", retryAfter(st))
	}
	w.WriteHeader(code)
	_, _ = w.Write(buf)
}

// retryAfter is the Retry-After of a RESOURCE_EXHAUSTED answer: the part's RetryInfo
// rounded up to whole seconds, or 1.
func retryAfter(st *status.Status) string {
	for _, d := range st.Details() {
		if r, ok := d.(*errdetails.RetryInfo); ok {
			if secs := int64(math.Ceil(r.GetRetryDelay().AsDuration().Seconds())); secs > 1 {
				return strconv.FormatInt(secs, 10)
			}
		}
	}
	return "1"
}

// withDetails adds ErrorInfo (with the request id) and a vi-VN message to a status that the
// gateway itself produced; a part's error already has them.
func withDetails(st *status.Status, reqID string) *status.Status {
	for _, d := range st.Details() {
		if _, ok := d.(*errdetails.ErrorInfo); ok {
			return st
		}
	}
	reason := st.Code().String()
	switch st.Code() {
	case codes.InvalidArgument:
		reason = "MALFORMED_REQUEST"
	case codes.ResourceExhausted:
		reason = "REQUEST_TOO_LARGE"
	case codes.NotFound:
		reason = "NO_SUCH_PATH"
	}
	e := &platform.Error{Code: st.Code(), Reason: strings.ToUpper(reason), Message: st.Message()}
	if st.Code() == codes.InvalidArgument {
		e.Violations = []platform.FieldViolation{malformedField(st.Message())}
	}
	if reqID != "" {
		e = e.WithMetadata("request_id", reqID)
	}
	return e.GRPCStatus()
}

var unknownFieldRE = regexp.MustCompile(`unknown field "([^"]+)"`)

// malformedField names the field of a body that grpc-gateway could not decode: the unknown
// field when there is one, else the body as a whole.
func malformedField(msg string) platform.FieldViolation {
	if m := unknownFieldRE.FindStringSubmatch(msg); m != nil {
		return platform.FieldViolation{Field: platform.Clip(m[1]), Description: "unknown field"}
	}
	return platform.FieldViolation{Field: "body", Description: msg}
}

// routingErrorHandler answers unknown paths (404) and wrong methods (405) in the same JSON.
func routingErrorHandler(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpStatus int) {
	switch httpStatus {
	case http.StatusMethodNotAllowed:
		st := withDetails(status.Newf(codes.Unimplemented, "method %s not allowed on %s", platform.Clip(r.Method), platform.Clip(r.URL.Path)), w.Header().Get("X-Request-Id"))
		writeStatusHTTP(w, m, st, http.StatusMethodNotAllowed)
	case http.StatusBadRequest:
		errorHandler(ctx, mux, m, w, r, status.Error(codes.InvalidArgument, "bad request path"))
	default:
		errorHandler(ctx, mux, m, w, r, status.Errorf(codes.NotFound, "no such path: %s %s", platform.Clip(r.Method), platform.Clip(r.URL.Path)))
	}
}

// bodyAdapters turn bodies that are not the request message into it: the imports of
// procedures and agencies take a bare JSON array or CSV, the import of edXML the XML itself.
var bodyAdapters = map[string]func(body []byte, contentType string, r *http.Request) ([]byte, error){
	"/v1/procedures:import":     importBody("procedures"),
	"/v1/agencies:import":       importBody("agencies"),
	"/v1/documents:importEdxml": adaptEdxmlBody,
}

// adaptEdxmlBody wraps an XML body as {"edxml": "<base64>"}; a JSON object body (already
// {"edxml": ...}) passes unchanged unless its Content-Type says XML (an XML package never
// starts with "{"; edxml_stream.go tells them apart the same way).
func adaptEdxmlBody(body []byte, contentType string, _ *http.Request) ([]byte, error) {
	trimmed := bytes.TrimSpace(body)
	if !xmlContentType(contentType) && len(trimmed) > 0 && trimmed[0] == '{' {
		return body, nil
	}
	return json.Marshal(map[string][]byte{"edxml": body})
}

// importBody answers the adapter of an import whose request lists its rows in field: it
// wraps a JSON array as {field: [...]} and CSV as {"csv": "..."}. `?validate_only=true` is
// carried into the request, for an object body too.
func importBody(field string) func(body []byte, contentType string, r *http.Request) ([]byte, error) {
	return func(body []byte, contentType string, r *http.Request) ([]byte, error) {
		return adaptImportBody(field, body, contentType, r)
	}
}

func adaptImportBody(field string, body []byte, contentType string, r *http.Request) ([]byte, error) {
	trimmed := bytes.TrimSpace(body)
	wrapped := map[string]json.RawMessage{}
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.TrimSpace(strings.ToLower(mt))
	switch {
	case mt == "text/csv" || mt == "application/csv":
		s, err := json.Marshal(string(body))
		if err != nil {
			return nil, err
		}
		wrapped["csv"] = s
	case len(trimmed) > 0 && trimmed[0] == '[':
		wrapped[field] = trimmed
	default:
		// {field: [...]}: a validate_only query must not be lost, or a check would store.
		if v := r.URL.Query().Get("validate_only"); v != "true" && v != "1" {
			return body, nil
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(trimmed, &obj); err != nil || obj == nil {
			return body, nil // the decoder reports it
		}
		delete(obj, "validateOnly")
		obj["validate_only"] = json.RawMessage("true")
		return json.Marshal(obj)
	}
	if v := r.URL.Query().Get("validate_only"); v != "" {
		wrapped["validate_only"] = json.RawMessage(fmt.Sprintf("%t", v == "true" || v == "1"))
	}
	return json.Marshal(wrapped)
}

// adaptBody runs the body adapter of the path, if any.
func adaptBody(r *http.Request, maxBody int64) error {
	adapt, ok := bodyAdapters[r.URL.Path]
	if !ok || r.Method != http.MethodPost {
		return nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return status.Error(codes.ResourceExhausted, "request body larger than the limit")
	}
	if err != nil {
		return status.Error(codes.InvalidArgument, "request body not received in full")
	}
	out, err := adapt(body, r.Header.Get("Content-Type"), r)
	if err != nil {
		return status.Error(codes.InvalidArgument, "body cannot be read")
	}
	r.Body = io.NopCloser(bytes.NewReader(out))
	r.ContentLength = int64(len(out))
	r.Header.Set("Content-Type", "application/json")
	return nil
}

// cors allows browsers on any origin to call the API with a bearer token (no cookies are
// used, so a wildcard origin is safe) and answers preflight requests.
func cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Origin") == "" {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Add("Vary", "Origin")
		h.Set("Access-Control-Expose-Headers", "X-Request-Id, Retry-After")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Request-Id")
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// canonicalRequestID is the request id header as net/http stores it.
var canonicalRequestID = textproto.CanonicalMIMEHeaderKey(platform.RequestIDHeader)
