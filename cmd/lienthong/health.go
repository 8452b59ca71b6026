package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/lienthong/lienthong/services/platform"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// cmdHealth is the container health check: it asks a part or the gateway over gRPC.
func cmdHealth(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("health [flags]", "Exits 0 when the gRPC health check of a part or the gateway answers SERVING.", stderr)
	addr := fs.String("health-addr", fmt.Sprintf("127.0.0.1:%d", gatewayPort), "gRPC address to check")
	service := fs.String("service", "", "service to check; empty for the whole server")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait")
	var pt partTLSFlags
	pt.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	tlsConf, err := pt.load()
	if err != nil {
		return err
	}
	conn, err := grpc.NewClient(*addr, tlsConf.DialOption())
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: *service})
	if err != nil {
		return fmt.Errorf("health of %s: %w", *addr, err)
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		return fmt.Errorf("health of %s: %s", *addr, resp.GetStatus())
	}
	fmt.Fprintln(stdout, "SERVING")
	return nil
}

// partTLSFlags are the mutual-TLS flags of the commands that talk to a part's port.
type partTLSFlags struct{ ca, cert, key string }

func (p *partTLSFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&p.ca, "part-tls-ca", "", "PEM CA certificate of the parts, when they talk mutual TLS")
	fs.StringVar(&p.cert, "part-tls-cert", "", "PEM certificate signed by --part-tls-ca")
	fs.StringVar(&p.key, "part-tls-key", "", "PEM private key of --part-tls-cert")
}

func (p *partTLSFlags) load() (platform.PartTLS, error) {
	return platform.LoadPartTLS(p.ca, p.cert, p.key)
}
