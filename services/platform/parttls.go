package platform

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// PartTLS is mutual TLS between the parts (and from the gateway to them): every part
// presents a certificate signed by the deployment's own CA and accepts only peers that do.
// The zero value means plain gRPC (parts on loopback or a private network).
type PartTLS struct {
	server, client *tls.Config
}

// LoadPartTLS reads the CA certificate that signs the parts' certificates and this
// process's certificate and key (PEM). All three empty: no TLS.
func LoadPartTLS(caFile, certFile, keyFile string) (PartTLS, error) {
	if caFile == "" && certFile == "" && keyFile == "" {
		return PartTLS{}, nil
	}
	if caFile == "" || certFile == "" || keyFile == "" {
		return PartTLS{}, errors.New("mutual TLS between parts needs the CA, the certificate and the key")
	}
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return PartTLS{}, fmt.Errorf("parts' CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return PartTLS{}, fmt.Errorf("parts' CA %s: no PEM certificate", caFile)
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return PartTLS{}, fmt.Errorf("part certificate: %w", err)
	}
	return NewPartTLS(pool, cert), nil
}

// NewPartTLS is LoadPartTLS from a pool and a certificate already in memory.
func NewPartTLS(ca *x509.CertPool, cert tls.Certificate) PartTLS {
	return PartTLS{
		server: &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: ca, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12},
		client: &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: ca, MinVersion: tls.VersionTLS12},
	}
}

// Enabled reports whether parts talk TLS.
func (p PartTLS) Enabled() bool { return p.server != nil }

// ServerOption is the gRPC server option of a part (none without TLS).
func (p PartTLS) ServerOption() []grpc.ServerOption {
	if p.server == nil {
		return nil
	}
	return []grpc.ServerOption{grpc.Creds(credentials.NewTLS(p.server))}
}

// DialOption is how a part or the gateway connects to a part.
func (p PartTLS) DialOption() grpc.DialOption {
	if p.client == nil {
		return grpc.WithTransportCredentials(insecure.NewCredentials())
	}
	return grpc.WithTransportCredentials(credentials.NewTLS(p.client))
}
