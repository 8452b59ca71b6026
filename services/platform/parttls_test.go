package platform

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// testCA makes a CA and returns its pool and a function that issues a leaf for 127.0.0.1.
func testCA(t *testing.T, name string) (*x509.CertPool, func() tls.Certificate) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	serial := int64(1)
	leaf := func() tls.Certificate {
		serial++
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "part"},
			IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	}
	return pool, leaf
}

// With mutual TLS a part answers only peers with a certificate of the deployment's CA.
func TestPartMutualTLS(t *testing.T) {
	pool, leaf := testCA(t, "lienthong parts")
	otherPool, otherLeaf := testCA(t, "someone else")
	o, _, _ := testOptions(t)
	o.TLS = NewPartTLS(pool, leaf())
	srv := NewServer(o)
	srv.SetServing()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, lis, time.Second) }()
	t.Cleanup(func() { cancel(); <-done })
	check := func(tlsConf PartTLS) error {
		conn, err := Dial(lis.Addr().String(), 0, tlsConf)
		if err != nil {
			return err
		}
		defer conn.Close()
		cctx, ccancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer ccancel()
		_, err = healthpb.NewHealthClient(conn).Check(cctx, &healthpb.HealthCheckRequest{}, grpc.WaitForReady(false))
		return err
	}
	if err := check(NewPartTLS(pool, leaf())); err != nil {
		t.Errorf("a part with the deployment's certificate: %v", err)
	}
	if err := check(PartTLS{}); status.Code(err) != codes.Unavailable {
		t.Errorf("plain gRPC to a TLS part: %v, want UNAVAILABLE", err)
	}
	if err := check(NewPartTLS(otherPool, otherLeaf())); status.Code(err) != codes.Unavailable {
		t.Errorf("a certificate of another CA: %v, want UNAVAILABLE", err)
	}
	if _, err := LoadPartTLS("ca.pem", "", ""); err == nil {
		t.Error("a CA without certificate and key: no error")
	}
	if p, err := LoadPartTLS("", "", ""); err != nil || p.Enabled() {
		t.Errorf("no files: %v, enabled %v; want plain gRPC", err, p.Enabled())
	}
}
