package gateway_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lienthong/lienthong/gateway"
	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// A caller without a valid token is refused 401 before its body is read: not 400 for a
// body that does not decode, not 413 for one over the limit, and at once even when the
// body never comes. Public routes still answer without a token.
func TestRESTAuthenticatedBeforeBody(t *testing.T) {
	e := newEnv(t)
	big := bigJSON(4 << 20)
	tests := []struct {
		name string
		req  request
	}{
		{"no token, body that is not JSON", request{method: http.MethodPost, path: "/v1/agencies", body: "{not json"}},
		{"no token, body over the limit", request{method: http.MethodPost, path: "/v1/agencies", body: big}},
		{"no token, chunked body over the limit", request{method: http.MethodPost, path: "/v1/agencies", body: big, chunked: true}},
		{"bad token, body that is not JSON", request{method: http.MethodPost, path: "/v1/agencies", body: "{not json",
			header: map[string]string{"Authorization": "Bearer not.a.token"}}},
		{"bad scheme, body over the limit", request{method: http.MethodPost, path: "/v1/agencies", body: big,
			header: map[string]string{"Authorization": "Basic dXNlcjpwYXNz"}}},
		{"no token, a read that needs one", request{method: http.MethodGet, path: "/v1/catalog-stats"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(tc.req)
			if r.code != http.StatusUnauthorized {
				t.Fatalf("HTTP status: got %d, want 401\n%.300s", r.code, r.body)
			}
			checkDetails(t, restStatus(t, r.body), "UNAUTHENTICATED")
		})
	}

	// A body that never comes: the answer does not wait for it.
	t.Run("no token, body never sent", func(t *testing.T) {
		pr, pw := io.Pipe()
		defer pw.Close()
		req, err := http.NewRequest(http.MethodPost, e.base+"/v1/agencies", pr)
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = 1 << 20
		start := time.Now()
		resp, err := e.client.Do(req)
		if err != nil {
			t.Fatalf("POST with a stalled body: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("HTTP status: got %d, want 401", resp.StatusCode)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("answered after %v, want at once", d)
		}
	})

	// Public routes and the edge endpoints need no token.
	for _, path := range []string{"/v1/units/80", "/v1/units", "/healthz", "/openapi.json"} {
		if r := e.get(path); r.code != http.StatusOK {
			t.Errorf("GET %s without a token: %d, want 200\n%.200s", path, r.code, r.body)
		}
	}
	// A valid token passes to the part.
	r := e.do(request{method: http.MethodGet, path: "/v1/catalog-stats", header: map[string]string{"Authorization": "Bearer " + e.token()}})
	if r.code != http.StatusOK {
		t.Errorf("catalog-stats with a token: %d\n%.200s", r.code, r.body)
	}
}

// Over gRPC, the gateway refuses a call without a valid token before calling the part.
func TestGRPCAuthenticatedAtTheGateway(t *testing.T) {
	e := newEnv(t)
	e.part.stop(t) // a call that reached the part would be UNAVAILABLE
	cat := catalogv1.NewCatalogServiceClient(e.grpcConn())
	for _, md := range [][]string{nil, {"authorization", "Bearer x.y.z"}} {
		ctx := grpcCtx(t)
		if md != nil {
			ctx = metadata.AppendToOutgoingContext(ctx, md...)
		}
		_, err := cat.GetCatalogStats(ctx, &catalogv1.GetCatalogStatsRequest{})
		if status.Code(err) != codes.Unauthenticated {
			t.Errorf("metadata %v: %v, want UNAUTHENTICATED from the gateway", md, err)
		}
	}
}

// An error answer never echoes unbounded input: a 512 KiB id or path comes back cut.
func TestErrorBodiesStaySmall(t *testing.T) {
	e := newEnv(t)
	long := strings.Repeat("9", 512<<10)
	for _, path := range []string{"/v1/units/" + long, "/v1/no-such-thing/" + long} {
		r := e.get(path)
		if r.code != http.StatusNotFound {
			t.Errorf("GET %.40s…: %d, want 404", path, r.code)
		}
		if len(r.body) > 2048 {
			t.Errorf("GET %.40s…: error body of %d bytes, want it small\n%.300s", path, len(r.body), r.body)
		}
		if !strings.Contains(string(r.body), "…") {
			t.Errorf("GET %.40s…: the id is not marked cut: %.300s", path, r.body)
		}
	}
}

// The gateway's listener caps the connections of one client address: one over the cap is
// closed at once, the others keep working.
func TestGatewayConnsPerIP(t *testing.T) {
	e := newEnvConfig(t, func(c *gateway.Config) { c.MaxConnsPerIP = 2 })
	var kept []net.Conn
	for i := 0; i < 2; i++ {
		c, err := net.Dial("tcp", e.gwAddr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		kept = append(kept, c)
	}
	// Each kept connection works.
	for i, c := range kept {
		fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("connection %d: %v", i+1, err)
		}
		resp.Body.Close()
	}
	extra, err := net.Dial("tcp", e.gwAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	fmt.Fprintf(extra, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	_ = extra.SetReadDeadline(time.Now().Add(5 * time.Second))
	if resp, err := http.ReadResponse(bufio.NewReader(extra), nil); err == nil {
		resp.Body.Close()
		t.Fatalf("a third connection from one address was served (%d), want it closed", resp.StatusCode)
	}
}
