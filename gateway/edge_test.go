package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

func TestOpenAPI(t *testing.T) {
	e := newEnv(t)
	r := e.get("/openapi.json")
	if r.code != http.StatusOK {
		t.Fatalf("GET /openapi.json: got %d, want 200", r.code)
	}
	if got := r.header.Get("Content-Type"); !strings.HasPrefix(got, "application/json") {
		t.Errorf("Content-Type: got %q, want application/json", got)
	}
	var doc struct {
		Swagger string `json:"swagger"`
		Info    struct {
			Title string `json:"title"`
		} `json:"info"`
		Paths               map[string]json.RawMessage `json:"paths"`
		SecurityDefinitions map[string]struct {
			Type string `json:"type"`
			Name string `json:"name"`
			In   string `json:"in"`
		} `json:"securityDefinitions"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	tests := []struct {
		what      string
		got, want any
	}{
		{"swagger", doc.Swagger, "2.0"},
		{"info.title", doc.Info.Title, "lienthong API"},
		{"path /v1/units/{code} present", doc.Paths["/v1/units/{code}"] != nil, true},
		{"path /v1/procedures:import present", doc.Paths["/v1/procedures:import"] != nil, true},
		{"securityDefinitions.bearer.type", doc.SecurityDefinitions["bearer"].Type, "apiKey"},
		{"securityDefinitions.bearer.name", doc.SecurityDefinitions["bearer"].Name, "Authorization"},
		{"securityDefinitions.bearer.in", doc.SecurityDefinitions["bearer"].In, "header"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.what, tc.got, tc.want)
		}
	}
}

func TestDocsAndMetrics(t *testing.T) {
	e := newEnv(t)
	// Some traffic first, so the request counter has series.
	for _, p := range []string{"/v1/units/80", "/v1/units/99"} {
		e.get(p)
	}
	tests := []struct {
		path         string
		wantCode     int
		wantLocation string
		wantType     string
		wantBody     []string
	}{
		{path: "/docs", wantCode: http.StatusMovedPermanently, wantLocation: "/docs/"},
		{path: "/docs/", wantCode: http.StatusOK, wantType: "text/html", wantBody: []string{"lienthong"}},
		{path: "/docs/docs.css", wantCode: http.StatusOK, wantType: "text/css"},
		{path: "/metrics", wantCode: http.StatusOK, wantBody: []string{
			"lienthong_gateway_requests_total",
			`lienthong_gateway_requests_total{code="200",kind="rest"}`,
			`lienthong_gateway_requests_total{code="404",kind="rest"}`,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			r := e.get(tc.path)
			if r.code != tc.wantCode {
				t.Fatalf("status: got %d, want %d", r.code, tc.wantCode)
			}
			if tc.wantLocation != "" {
				if got := r.header.Get("Location"); got != tc.wantLocation {
					t.Errorf("Location: got %q, want %q", got, tc.wantLocation)
				}
			}
			if tc.wantType != "" {
				if got := r.header.Get("Content-Type"); !strings.HasPrefix(got, tc.wantType) {
					t.Errorf("Content-Type: got %q, want %s", got, tc.wantType)
				}
			}
			for _, s := range tc.wantBody {
				if !strings.Contains(string(r.body), s) {
					t.Errorf("body does not contain %q", s)
				}
			}
		})
	}
}

// healthz reads /healthz.
func (e *env) healthz() (int, map[string]any, string) {
	e.t.Helper()
	r := e.get("/healthz")
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		e.t.Fatalf("/healthz is not JSON: %v\n%s", err, r.body)
	}
	return r.code, m, string(r.body)
}

func TestHealthzPartDownAndBack(t *testing.T) {
	e := newEnv(t)
	conn := e.grpcConn()
	cat := catalogv1.NewCatalogServiceClient(conn)
	health := healthpb.NewHealthClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// Everything up.
	code, m, raw := e.healthz()
	wantUp := map[string]any{"status": "SERVING", "parts": map[string]any{"catalog": "SERVING"}}
	if code != http.StatusOK || !reflect.DeepEqual(m, wantUp) {
		t.Fatalf("/healthz with the part up: got %d %s, want 200 %v", code, raw, wantUp)
	}
	if r := e.get("/healthz"); r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("/healthz Cache-Control: got %q, want no-store", r.header.Get("Cache-Control"))
	}

	// The part goes away.
	addr := e.part.addr
	e.part.stop(t)
	waitFor(t, 15*time.Second, "/healthz 503", func() (bool, string) {
		code, _, raw := e.healthz()
		return code == http.StatusServiceUnavailable, fmt.Sprintf("%d %s", code, raw)
	})
	code, m, raw = e.healthz()
	wantDown := map[string]any{"status": "NOT_SERVING", "parts": map[string]any{"catalog": "NOT_SERVING"}, "down": []any{"catalog"}}
	if code != http.StatusServiceUnavailable || !reflect.DeepEqual(m, wantDown) {
		t.Errorf("/healthz with the part down: got %d %s, want 503 %v", code, raw, wantDown)
	}

	t.Run("REST while down", func(t *testing.T) {
		r := e.get("/v1/units/80")
		if r.code != http.StatusServiceUnavailable {
			t.Fatalf("status: got %d, want 503\n%s", r.code, r.body)
		}
		st := restStatus(t, r.body)
		if st.Code() != codes.Unavailable {
			t.Errorf("code: got %v, want UNAVAILABLE", st.Code())
		}
		d := checkDetails(t, st, "PART_UNAVAILABLE")
		if got := d.info.GetMetadata()["part"]; got != "catalog" {
			t.Errorf("ErrorInfo.metadata.part: got %q, want catalog", got)
		}
		if strings.Contains(string(r.body), addr) || strings.Contains(string(r.body), "127.0.0.1") {
			t.Errorf("the error shows the part's address %s: %s", addr, r.body)
		}
	})

	t.Run("gRPC while down", func(t *testing.T) {
		_, err := cat.GetUnit(ctx, &catalogv1.GetUnitRequest{Code: "80"})
		st := status.Convert(err)
		if st.Code() != codes.Unavailable {
			t.Fatalf("code: got %v (%v), want UNAVAILABLE", st.Code(), err)
		}
		d := checkDetails(t, st, "PART_UNAVAILABLE")
		if got := d.info.GetMetadata()["part"]; got != "catalog" {
			t.Errorf("ErrorInfo.metadata.part: got %q, want catalog", got)
		}
		if strings.Contains(st.Message(), addr) || strings.Contains(st.Message(), "127.0.0.1") {
			t.Errorf("the message shows the part's address %s: %q", addr, st.Message())
		}
		for _, svc := range []string{"", catalogv1.CatalogService_ServiceDesc.ServiceName} {
			resp, err := health.Check(ctx, &healthpb.HealthCheckRequest{Service: svc})
			if err != nil {
				t.Errorf("Check(%q): %v", svc, err)
				continue
			}
			if resp.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
				t.Errorf("Check(%q): got %v, want NOT_SERVING", svc, resp.GetStatus())
			}
		}
	})

	// A new part comes up on the same address; the gateway reconnects by itself.
	lis := listenAgain(t, addr)
	e.part = startPart(t, lis, e.verifier)
	waitFor(t, 15*time.Second, "/healthz 200 again", func() (bool, string) {
		code, _, raw := e.healthz()
		return code == http.StatusOK, fmt.Sprintf("%d %s", code, raw)
	})
	code, m, raw = e.healthz()
	if code != http.StatusOK || !reflect.DeepEqual(m, wantUp) {
		t.Errorf("/healthz after the restart: got %d %s, want 200 %v", code, raw, wantUp)
	}
	waitFor(t, 15*time.Second, "REST works again", func() (bool, string) {
		r := e.get("/v1/units/80")
		return r.code == http.StatusOK, fmt.Sprintf("%d %s", r.code, r.body)
	})
	u, err := cat.GetUnit(ctx, &catalogv1.GetUnitRequest{Code: "80"})
	if err != nil {
		t.Fatalf("gRPC GetUnit after the restart: %v", err)
	}
	if u.GetName() != "Tây Ninh" {
		t.Errorf("gRPC GetUnit after the restart: got name %q, want Tây Ninh", u.GetName())
	}
}

func TestRESTOverCleartextHTTP2(t *testing.T) {
	e := newEnv(t)
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	tr := &http.Transport{Protocols: &protocols}
	t.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	tests := []struct {
		path     string
		wantCode int
	}{
		{"/v1/units/80", http.StatusOK},
		{"/v1/units/99", http.StatusNotFound},
		{"/healthz", http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			resp, err := client.Get(e.base + tc.path)
			if err != nil {
				t.Fatalf("GET %s: %v", tc.path, err)
			}
			defer resp.Body.Close()
			if resp.ProtoMajor != 2 {
				t.Errorf("protocol: got %s, want HTTP/2", resp.Proto)
			}
			if resp.StatusCode != tc.wantCode {
				t.Errorf("status: got %d, want %d", resp.StatusCode, tc.wantCode)
			}
			if got := resp.Header.Values("X-Request-Id"); len(got) != 1 {
				t.Errorf("X-Request-Id: got %q, want one value", got)
			}
		})
	}
}
