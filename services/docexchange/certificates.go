package docexchange

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"time"
)

// LoadTrustedRoots reads the PEM certificates that agencies' certificate chains must lead to.
func LoadTrustedRoots(path string) (*x509.CertPool, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(raw) {
		return nil, fmt.Errorf("%s: no PEM certificate", path)
	}
	return pool, nil
}

// parseChain reads PEM certificates, leaf first.
func parseChain(pemText string) ([]*x509.Certificate, error) {
	rest := []byte(pemText)
	var out []*x509.Certificate
	for {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("a %s block is not a certificate", blk.Type)
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %v", len(out)+1, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM certificate")
	}
	return out, nil
}

// chainKey checks a chain against the trusted roots at a time and returns the leaf, its
// algorithm and its public key in the form a registered key is kept (raw Ed25519, PKIX DER
// for ECDSA P-256).
func chainKey(roots *x509.CertPool, pemText string, at time.Time) (*x509.Certificate, string, []byte, error) {
	if roots == nil {
		return nil, "", nil, errors.New("this service has no trusted root configured (--trusted-roots); register a bare public key instead")
	}
	chain, err := parseChain(pemText)
	if err != nil {
		return nil, "", nil, err
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	leaf := chain[0]
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: at,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return nil, "", nil, fmt.Errorf("the chain does not lead to a trusted root: %v", err)
	}
	switch k := leaf.PublicKey.(type) {
	case ed25519.PublicKey:
		return leaf, AlgEd25519, []byte(k), nil
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return nil, "", nil, errors.New("the leaf's ECDSA key is not on P-256")
		}
		der, err := x509.MarshalPKIXPublicKey(k)
		if err != nil {
			return nil, "", nil, err
		}
		return leaf, AlgECDSAP256, der, nil
	}
	return nil, "", nil, fmt.Errorf("the leaf's key (%T) is neither Ed25519 nor ECDSA P-256", leaf.PublicKey)
}
