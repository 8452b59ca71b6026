package docexchange

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// testCA is a root (ECDSA P-256) that issues an intermediate, which issues leaves.
type testCA struct {
	root, inter       *x509.Certificate
	rootKey, interKey *ecdsa.PrivateKey
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	ca := &testCA{}
	ca.rootKey, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca.root = issue(t, &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name + " Root"},
		NotBefore: testStart.Add(-24 * time.Hour), NotAfter: testStart.Add(365 * 24 * time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}, nil, &ca.rootKey.PublicKey, ca.rootKey)
	ca.interKey, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca.inter = issue(t, &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: name + " Intermediate"},
		NotBefore: testStart.Add(-24 * time.Hour), NotAfter: testStart.Add(300 * 24 * time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}, ca.root, &ca.interKey.PublicKey, ca.rootKey)
	return ca
}

func issue(t *testing.T, tmpl, parent *x509.Certificate, pub any, key crypto.Signer) *x509.Certificate {
	t.Helper()
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// leaf issues an Ed25519 certificate for an agency valid until notAfter; it returns the
// chain in PEM (leaf, intermediate) and the private key.
func (ca *testCA) leaf(t *testing.T, agency string, notAfter time.Time) (string, ed25519.PrivateKey) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	c := issue(t, &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: agency, Organization: []string{"Sở Tư pháp Hưng Yên"}},
		NotBefore: testStart.Add(-time.Hour), NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature}, ca.inter, pub, ca.interKey)
	out := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.inter.Raw})...)
	return string(out), priv
}

func TestCertificateChains(t *testing.T) {
	trusted, other := newTestCA(t, "Ban Cơ yếu"), newTestCA(t, "Other")
	f := newFixture(t)
	f.closeFn()
	f.roots = x509.NewCertPool()
	f.roots.AddCert(trusted.root)
	f.open(f.verifier)

	chain, priv := trusted.leaf(t, agTuPhap33, testStart.Add(2*time.Hour))
	k, err := f.client.PutSigningKey(f.admin(), &docv1.PutSigningKeyRequest{AgencyCode: agTuPhap33, KeyId: "stp-cert",
		SigningKey: &docv1.SigningKey{CertificateChain: chain}})
	if err != nil {
		t.Fatal(err)
	}
	if k.GetAlgorithm() != AlgEd25519 || len(k.GetPublicKey()) != ed25519.PublicKeySize || k.GetCertificateSubject() == "" {
		t.Fatalf("registered key %v", k)
	}
	send := func(number string) error {
		d := letter(number)
		f.signed(d)
		if err := Sign(d, "stp-cert", priv); err != nil {
			t.Fatal(err)
		}
		_, err := f.client.SendDocument(f.agency(agTuPhap33), &docv1.SendDocumentRequest{Document: d})
		return err
	}
	if err := send("1"); err != nil {
		t.Fatalf("signed with a certified key: %v", err)
	}
	// A chain to a root the service does not trust is refused.
	untrusted, _ := other.leaf(t, agTuPhap33, testStart.Add(2*time.Hour))
	_, err = f.client.PutSigningKey(f.admin(), &docv1.PutSigningKeyRequest{AgencyCode: agTuPhap33, KeyId: "stp-other",
		SigningKey: &docv1.SigningKey{CertificateChain: untrusted}})
	if status.Code(err) != codes.InvalidArgument || reason(err) != "CERTIFICATE_INVALID" {
		t.Fatalf("untrusted chain: %v", err)
	}
	// Without the intermediate the chain does not verify.
	leafOnly := chain[:strings.Index(chain[1:], "-----BEGIN")+1]
	if _, err := f.client.PutSigningKey(f.admin(), &docv1.PutSigningKeyRequest{AgencyCode: agTuPhap33, KeyId: "stp-leaf",
		SigningKey: &docv1.SigningKey{CertificateChain: leafOnly}}); reason(err) != "CERTIFICATE_INVALID" {
		t.Fatalf("leaf without intermediate: %v", err)
	}
	// Once the leaf expires, documents signed with it are refused.
	f.nowMu.Lock()
	f.now = f.now.Add(3 * time.Hour)
	f.nowMu.Unlock()
	if err := send("2"); status.Code(err) != codes.InvalidArgument || reason(err) != "CERTIFICATE_INVALID" {
		t.Fatalf("expired certificate: %v", err)
	}
}
