package platform

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"google.golang.org/grpc/codes"
)

// Metrics are the process's Prometheus collectors. One Metrics serves every part that runs
// in the process; the part is a label.
type Metrics struct {
	Registry *prometheus.Registry
	calls    *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// NewMetrics makes a registry with the Go and process collectors and the call metrics.
func NewMetrics() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lienthong_grpc_server_handled_total",
			Help: "gRPC calls handled by a part, by method and status code.",
		}, []string{"part", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "lienthong_grpc_server_handling_seconds",
			Help:    "Time a part took to handle a gRPC call.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"part", "method"}),
	}
	reg.MustRegister(m.calls, m.latency, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *Metrics) observe(part, method string, code codes.Code, d time.Duration) {
	m.calls.WithLabelValues(part, method, code.String()).Inc()
	m.latency.WithLabelValues(part, method).Observe(d.Seconds())
}
