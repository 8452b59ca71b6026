package docexchange

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"google.golang.org/protobuf/testing/protocmp"
)

// TestEdxmlLienthongVariantKeepsSigningFields: lienthong's own edXML variant carries a
// document's signing time (signed_at) and a signature's JSON as sent (signed_json), so a
// document signed with a signing time, exported by one lienthong and imported by another
// that knows the key, still verifies; and the JSON as sent survives the round trip.
func TestEdxmlLienthongVariantKeepsSigningFields(t *testing.T) {
	f, peer := newFixture(t), newFixture(t)
	pub := f.keys[agTuPhap33].Public().(ed25519.PublicKey)
	for _, fx := range []*fixture{f, peer} {
		if _, err := fx.client.PutSigningKey(fx.admin(), &docv1.PutSigningKeyRequest{AgencyCode: agTuPhap33, KeyId: "stp-shared",
			SigningKey: &docv1.SigningKey{Algorithm: AlgEd25519, PublicKey: pub}}); err != nil {
			t.Fatal(err)
		}
	}
	d := letter("44")
	d.SignedAt = rfc3339(testStart.Add(-10 * time.Minute))
	for _, a := range d.Attachments {
		sum := sha256.Sum256(a.Content)
		a.Sha256, a.Size = hex.EncodeToString(sum[:]), int64(len(a.Content))
	}
	if err := Sign(d, "stp-shared", f.keys[agTuPhap33]); err != nil {
		t.Fatal(err)
	}
	resp := f.send(d)
	body, err := f.client.ExportEdxml(f.agency(agTuPhap33), &docv1.ExportEdxmlRequest{Id: resp.GetId(), Format: "lienthong"})
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseEdxml(body.GetData())
	if err != nil {
		t.Fatal(err)
	}
	if back.GetSignedAt() != d.GetSignedAt() {
		t.Errorf("signed_at after export: %q, want %q", back.GetSignedAt(), d.GetSignedAt())
	}
	got, err := peer.client.ImportEdxml(peer.agency(agTuPhap33), &docv1.ImportEdxmlRequest{Edxml: body.GetData()})
	if err != nil {
		t.Fatalf("a peer importing the exported package: %v (%s)", err, errDetails(err))
	}
	if got.GetDocument().GetSignedAt() != d.GetSignedAt() || got.GetDocument().GetSignature().GetKeyId() != "stp-shared" {
		t.Errorf("the peer keeps signed_at %q and signature %v", got.GetDocument().GetSignedAt(), got.GetDocument().GetSignature())
	}

	// signed_json, as a REST client's signature over the JSON as sent keeps it.
	s := letter("45")
	s.SignedAt = rfc3339(testStart)
	s.Signature = &docv1.Signature{KeyId: "stp-rest", Algorithm: AlgECDSAP256, Value: []byte{1, 2, 3},
		SignedJson: []byte(`{"codeNumber":"45","from":"000.02.00.H31","signedAt":"2026-11-23T10:00:00+07:00"}`)}
	pkg, err := MarshalEdxml(s, [][]byte{s.Attachments[0].Content})
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := ParseEdxml(pkg)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s.GetSignature(), parsed.GetSignature(), protocmp.Transform()); diff != "" || parsed.GetSignedAt() != s.GetSignedAt() {
		t.Errorf("signature after the round trip (-sent +parsed):\n%s signed_at %q", diff, parsed.GetSignedAt())
	}
}
