package gateway

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/lienthong/lienthong/services/platform"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// A REST request is checked in this order, each step before any later one costs anything:
// the route (404/405, by grpc-gateway's router, which reads no body), the bearer token
// (401: a missing token where the method needs one, or one that is not valid), the body's
// declared length (413), and only then is the body read, under a read deadline, and
// decoded. The parts check the token again; the gateway's check is what keeps an anonymous
// caller from costing a body read, an adapter's copy or a JSON decode.

// Per-request bounds of REST. A body must arrive within DefaultBodyReadTimeout unless
// configured (Config.BodyReadTimeout; 20 MiB at about 170 KiB/s); each write of the answer
// must be taken by the client within writeTimeout. A stream (a REST watch) is not cut
// however long it lasts: the write deadline is renewed at each write, so only a client that
// stops reading loses it.
const (
	DefaultBodyReadTimeout = 2 * time.Minute
	writeTimeout           = 30 * time.Second
)

// route is what the gateway knows of a REST route before calling the part.
type route struct {
	method string // full gRPC method
	public bool   // callable without a token (the part's Policy)
}

// restRoutes maps "VERB pattern" (the pattern as runtime.Pattern.String writes it) to the
// gRPC method of each REST binding of the parts' services, from their google.api.http
// options.
func restRoutes(parts []Part) map[string]route {
	out := map[string]route{}
	for _, p := range parts {
		for _, svc := range p.Services {
			d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(svc))
			if err != nil {
				continue
			}
			sd, ok := d.(protoreflect.ServiceDescriptor)
			if !ok {
				continue
			}
			for i := 0; i < sd.Methods().Len(); i++ {
				md := sd.Methods().Get(i)
				full := "/" + svc + "/" + string(md.Name())
				r := route{method: full, public: p.Policy[full] == platform.Public}
				rule, _ := proto.GetExtension(md.Options(), annotations.E_Http).(*annotations.HttpRule)
				for _, b := range append([]*annotations.HttpRule{rule}, rule.GetAdditionalBindings()...) {
					if verb, path := httpBinding(b); path != "" {
						out[verb+" "+patternString(path)] = r
					}
				}
			}
		}
	}
	return out
}

// httpBinding is the verb and path template of a rule.
func httpBinding(r *annotations.HttpRule) (verb, path string) {
	switch p := r.GetPattern().(type) {
	case *annotations.HttpRule_Get:
		return http.MethodGet, p.Get
	case *annotations.HttpRule_Post:
		return http.MethodPost, p.Post
	case *annotations.HttpRule_Put:
		return http.MethodPut, p.Put
	case *annotations.HttpRule_Delete:
		return http.MethodDelete, p.Delete
	case *annotations.HttpRule_Patch:
		return http.MethodPatch, p.Patch
	case *annotations.HttpRule_Custom:
		return p.Custom.GetKind(), p.Custom.GetPath()
	}
	return "", ""
}

var bareVariable = regexp.MustCompile(`\{([^}=]+)\}`)

// patternString writes a path template as runtime.Pattern.String does: {code} is {code=*}.
func patternString(path string) string { return bareVariable.ReplaceAllString(path, "{$1=*}") }

// guard is the grpc-gateway middleware that runs once the route is known: token, body
// limit, body read deadline, body adapter, write deadlines.
func (g *Gateway) guard(next runtime.HandlerFunc) runtime.HandlerFunc {
	m := jsonMarshaler()
	return func(w http.ResponseWriter, r *http.Request, params map[string]string) {
		reqID := w.Header().Get("X-Request-Id")
		refuse := func(st *status.Status) { writeStatus(w, r, m, withDetails(st, reqID)) }
		rt := g.restRoutes[routeKey(r)]
		caller, err := g.authenticate(r.Context(), r.Header.Get("Authorization"), rt.public)
		if err != nil {
			refuse(status.Convert(err))
			return
		}
		if r.Method == http.MethodGet || isReadMethod(rt.method) {
			if key := readKey(caller, r.RemoteAddr); key != "" {
				release, err := g.reads.acquire(r.Context(), key)
				if err != nil {
					refuse(status.Convert(err))
					return
				}
				defer release()
			}
		}
		limit := g.bodyLimit(r)
		if r.ContentLength > limit {
			refuse(status.Newf(codes.ResourceExhausted, "request body of %d bytes is larger than the limit of %d", r.ContentLength, limit))
			return
		}
		rc := http.NewResponseController(w)
		if r.Body != nil && r.Body != http.NoBody {
			_ = rc.SetReadDeadline(time.Now().Add(g.cfg.BodyReadTimeout))
			r.Body = &deadlineBody{ReadCloser: http.MaxBytesReader(w, r.Body, limit), rc: rc}
		}
		if r.Method == http.MethodPost && r.URL.Path == edxmlPath && g.streamEdxml(&deadlineWriter{ResponseWriter: w, rc: rc}, r, refuse) {
			_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout))
			return
		}
		if err := adaptBody(r, limit); err != nil {
			refuse(status.Convert(err))
			return
		}
		dw := &deadlineWriter{ResponseWriter: w, rc: rc}
		next(dw, r, params)
		// What net/http writes after the handler (the end of a chunked answer) gets a
		// fresh deadline too, however long the handler was idle.
		_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout))
	}
}

// routeKey is the key of a request's route in restRoutes.
func routeKey(r *http.Request) string {
	p, ok := runtime.HTTPPattern(r.Context())
	if !ok {
		return ""
	}
	return r.Method + " " + p.String()
}

// authenticate checks an Authorization header as the parts do (platform's interceptors)
// and returns the caller (nil for an anonymous call to a public method): when the gateway
// has no verifier it leaves the check to the parts.
func (g *Gateway) authenticate(ctx context.Context, auth string, public bool) (*platform.Caller, error) {
	if g.cfg.Verifier == nil {
		return nil, nil
	}
	if auth == "" {
		if public {
			return nil, nil
		}
		return nil, platform.Unauthenticated("this call needs a bearer token (Authorization: Bearer <token>)")
	}
	scheme, token, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "bearer") || strings.TrimSpace(token) == "" {
		return nil, platform.Unauthenticated("authorization must be \"Bearer <token>\"")
	}
	c, err := g.cfg.Verifier.VerifyContext(ctx, strings.TrimSpace(token))
	if err != nil {
		if _, ok := err.(*platform.Error); ok {
			return nil, err
		}
		return nil, platform.Unauthenticated(err.Error())
	}
	return c, nil
}

// deadlineBody clears the body's read deadline once the body is read: a stream answered
// to a request with a body (net/http then watches the connection for the client going
// away) must not end when the body's deadline passes.
type deadlineBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	done bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && !b.done {
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

// deadlineWriter gives each write of an answer writeTimeout to be taken by the client.
type deadlineWriter struct {
	http.ResponseWriter
	rc *http.ResponseController
}

func (d *deadlineWriter) Write(b []byte) (int, error) {
	_ = d.rc.SetWriteDeadline(time.Now().Add(writeTimeout))
	return d.ResponseWriter.Write(b)
}

func (d *deadlineWriter) Flush() {
	_ = d.rc.SetWriteDeadline(time.Now().Add(writeTimeout))
	_ = d.rc.Flush()
}

func (d *deadlineWriter) Unwrap() http.ResponseWriter { return d.ResponseWriter }

// gateContext closes a flow gate when the call's context ends, whatever the proxy is
// doing: a body read waiting at the gate never outlives its call.
func gateContext(ctx context.Context, g *flowGate) (stop func() bool) {
	return context.AfterFunc(ctx, g.close)
}
