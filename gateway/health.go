package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// checkParts asks every part at once and returns each part's status.
func (g *Gateway) checkParts(ctx context.Context) map[string]healthpb.HealthCheckResponse_ServingStatus {
	out := make(map[string]healthpb.HealthCheckResponse_ServingStatus, len(g.backends))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, b := range g.backends {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := b.check(ctx, "")
			mu.Lock()
			out[b.Name] = st
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

// healthzResponse is the body of /healthz.
type healthzResponse struct {
	Status string            `json:"status"`
	Parts  map[string]string `json:"parts"`
	Down   []string          `json:"down,omitempty"`
}

// serveHealthz answers 200 when every part is SERVING, else 503 naming the parts down.
func (g *Gateway) serveHealthz(w http.ResponseWriter, r *http.Request) {
	parts := g.checkParts(r.Context())
	resp := healthzResponse{Status: "SERVING", Parts: map[string]string{}}
	for name, st := range parts {
		resp.Parts[name] = st.String()
		if st != healthpb.HealthCheckResponse_SERVING {
			resp.Down = append(resp.Down, name)
		}
	}
	sort.Strings(resp.Down)
	code := http.StatusOK
	if len(resp.Down) > 0 {
		resp.Status = "NOT_SERVING"
		code = http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(resp)
}

// healthServer is grpc.health.v1.Health at the gateway: "" is the whole suite (SERVING when
// every part is), a service name is the part that serves it.
type healthServer struct {
	healthpb.UnimplementedHealthServer
	g *Gateway
}

func (h *healthServer) status(ctx context.Context, service string) (healthpb.HealthCheckResponse_ServingStatus, error) {
	switch service {
	case "", healthpb.Health_ServiceDesc.ServiceName:
		for _, st := range h.g.checkParts(ctx) {
			if st != healthpb.HealthCheckResponse_SERVING {
				return healthpb.HealthCheckResponse_NOT_SERVING, nil
			}
		}
		return healthpb.HealthCheckResponse_SERVING, nil
	}
	b := h.g.routes[service]
	if b == nil {
		return healthpb.HealthCheckResponse_SERVICE_UNKNOWN, status.Errorf(codes.NotFound, "unknown service %s", service)
	}
	return b.check(ctx, service), nil
}

// Check answers the current status.
func (h *healthServer) Check(ctx context.Context, r *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	st, err := h.status(ctx, r.GetService())
	if err != nil {
		return nil, err
	}
	return &healthpb.HealthCheckResponse{Status: st}, nil
}

// Watch sends the status and then every change, checking once a second.
func (h *healthServer) Watch(r *healthpb.HealthCheckRequest, stream healthpb.Health_WatchServer) error {
	last := healthpb.HealthCheckResponse_ServingStatus(-1)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		st, _ := h.status(stream.Context(), r.GetService())
		if st != last {
			if err := stream.Send(&healthpb.HealthCheckResponse{Status: st}); err != nil {
				return err
			}
			last = st
		}
		select {
		case <-stream.Context().Done():
			return nil
		case <-t.C:
		}
	}
}

// List answers every service and its status.
func (h *healthServer) List(ctx context.Context, _ *healthpb.HealthListRequest) (*healthpb.HealthListResponse, error) {
	out := &healthpb.HealthListResponse{Statuses: map[string]*healthpb.HealthCheckResponse{}}
	for svc := range h.g.routes {
		st, _ := h.status(ctx, svc)
		out.Statuses[svc] = &healthpb.HealthCheckResponse{Status: st}
	}
	st, _ := h.status(ctx, "")
	out.Statuses[""] = &healthpb.HealthCheckResponse{Status: st}
	return out, nil
}
