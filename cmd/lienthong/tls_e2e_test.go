package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// writeCert makes a certificate for 127.0.0.1 signed by parent (self-signed when parent is
// nil, as a CA if ca), writes it and its key as PEM in dir, and returns it.
func writeCert(t *testing.T, dir, name string, ca bool, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey, string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	if ca {
		tmpl.IsCA, tmpl.BasicConstraintsValid, tmpl.KeyUsage = true, true, x509.KeyUsageCertSign|x509.KeyUsageDigitalSignature
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key, certFile, keyFile
}

// `up --tls-cert --tls-key` serves the one port over TLS (the banner says https), and with
// --part-tls-* the gateway and the parts talk mutual TLS: /healthz (the gateway asking
// every part) is 200 over HTTPS, and a gRPC call through the gateway reaches its part.
func TestUpWithTLS(t *testing.T) {
	dir := t.TempDir()
	gwCert, _, certFile, keyFile := writeCert(t, dir, "gateway", false, nil, nil)
	ca, caKey, caFile, _ := writeCert(t, dir, "parts-ca", true, nil, nil)
	_, _, partCert, partKey := writeCert(t, dir, "part", false, ca, caKey)
	args := []string{"up", "--data-dir", filepath.Join(dir, "data"), "--listen", "127.0.0.1:0", "--tls-cert", certFile, "--tls-key", keyFile,
		"--part-tls-ca", caFile, "--part-tls-cert", partCert, "--part-tls-key", partKey}
	for _, p := range parts {
		args = append(args, "--"+p.name+"-listen", "127.0.0.1:0")
	}
	cmd := exec.Command(binary, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	https := regexp.MustCompile(`REST and gRPC on https://(\S+)`)
	addr, partAddrs := "", map[string]string{}
	sc := bufio.NewScanner(out)
	for (addr == "" || len(partAddrs) == 0) && sc.Scan() {
		if m := https.FindStringSubmatch(sc.Text()); m != nil {
			addr = m[1]
		}
		if m := partsLine.FindStringSubmatch(sc.Text()); m != nil {
			for _, kv := range strings.Split(m[1], ", ") {
				name, a, _ := strings.Cut(kv, " ")
				partAddrs[name] = a
			}
		}
	}
	if addr == "" {
		t.Fatal("up with TLS did not print an https address")
	}
	go func() {
		for sc.Scan() {
		}
	}()
	pool := x509.NewCertPool()
	pool.AddCert(gwCert)
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	waitFor(t, 30*time.Second, "healthz over HTTPS", func() bool {
		resp, err := hc.Get("https://" + addr + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool})))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := catalogv1.NewCatalogServiceClient(conn).ListUnits(ctx, &catalogv1.ListUnitsRequest{Level: "province"}); err != nil {
		t.Errorf("gRPC through the gateway to the catalog over mutual TLS: %v", err)
	}
	// The container health check speaks to a part's port with the parts' certificate.
	hout, err := exec.Command(binary, "health", "--health-addr", partAddrs["catalog"], "--part-tls-ca", caFile, "--part-tls-cert", partCert, "--part-tls-key", partKey).CombinedOutput()
	if err != nil || !strings.Contains(string(hout), "SERVING") {
		t.Errorf("health over mutual TLS: %v %s", err, hout)
	}
	if out, err := exec.Command(binary, "health", "--health-addr", partAddrs["catalog"], "--timeout", "1s").CombinedOutput(); err == nil {
		t.Errorf("health in plain gRPC to a mutual-TLS part succeeded: %s", out)
	}
}
