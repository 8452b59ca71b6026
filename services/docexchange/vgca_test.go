package docexchange

import (
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
)

// TestGovernmentRootCA: the real root of the Government's specialised CA
// (testdata/vgca/README.md) loads as a trusted root and parses as a chain; a chain to it is
// refused where only another root is trusted, and, where it is trusted, the root itself is
// no signing certificate.
func TestGovernmentRootCA(t *testing.T) {
	const path = "testdata/vgca/rootcag2.crt"
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	chain, err := parseChain(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	root := chain[0]
	sum := sha256.Sum256(root.Raw)
	if got := hex.EncodeToString(sum[:]); got != "f04ba4b459a7c9a1b971ad9b1cb833e695a80c79aea63b174b66a70edfe2fdb8" {
		t.Fatalf("fingerprint %s", got)
	}
	if k, ok := root.PublicKey.(*rsa.PublicKey); !ok || k.N.BitLen() != 4096 || !strings.Contains(root.Subject.String(), "Ban Cơ yếu Chính phủ") {
		t.Fatalf("root %s, key %T", root.Subject, root.PublicKey)
	}
	pool, err := LoadTrustedRoots(path)
	if err != nil {
		t.Fatal(err)
	}
	// Trusted: the test CA only. The government root is refused: not trusted.
	ca := newRSACA(t)
	f := caFixture(t, ca, "")
	if _, err := putChain(f, agTuPhap33, "vgca", string(raw), ""); reason(err) != "CERTIFICATE_INVALID" ||
		!strings.Contains(err.Error(), "trusted root") {
		t.Errorf("a chain to an untrusted root: %v", err)
	}
	// Trusted: the government root. It leads to itself but signs no documents.
	f.closeFn()
	f.roots = pool
	f.open(f.verifier)
	if _, err := f.client.PutSigningKey(f.admin(), &docv1.PutSigningKeyRequest{AgencyCode: agTuPhap33, KeyId: "vgca",
		SigningKey: &docv1.SigningKey{CertificateChain: string(raw)}}); reason(err) != "CERTIFICATE_INVALID" || !strings.Contains(err.Error(), "key usage") {
		t.Errorf("the root as a signing certificate: %v", err)
	}
}
