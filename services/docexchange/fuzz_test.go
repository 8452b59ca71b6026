package docexchange

import (
	"crypto/ed25519"
	"testing"

	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// FuzzDocumentJSON: a document body as a client sends it (JSON, attachments in base64) is
// refused or checked without a panic; a valid one has a canonical form that is a fixed
// point and signs and verifies, and survives an edXML round trip with the same canonical
// bytes.
func FuzzDocumentJSON(f *testing.F) {
	for _, s := range []string{
		`{"from":"000.02.00.H31","to":["000.00.00.H31"],"code_number":"1","code_notation":"STP","promulgation_date":"2026-11-02","subject":"Về việc","attachments":[{"name":"a.pdf","content":"JVBERi0xLjQ="}]}`,
		`{"from":"000.02.00.H31","to":["000.00.00.H31"],"code_number":"2","code_notation":"STP","promulgation_date":"2026-11-02","subject":"x","business_type":"BUSINESS_TYPE_REPLACE","response_for":{"document_id":"0123456789abcdef01234567"},"priority":3}`,
		`{"attachments":[{"content":"!!!"}]}`,
		`{"attachments":[{"content":"JVBERi0xLjQ"}]}`,
		`{"signer":{"name":"\u0000"},"subject":"\ud800"}`,
	} {
		f.Add([]byte(s))
	}
	_, key, _ := ed25519.GenerateKey(nil)
	f.Fuzz(func(t *testing.T, in []byte) {
		var d docv1.Document
		if err := protojson.Unmarshal(in, &d); err != nil {
			return
		}
		if validateEnvelope(&d) != nil {
			return
		}
		normalizeUnsigned(&d)
		canon, err := CanonicalBytes(&d)
		if err != nil {
			t.Fatalf("a valid document has no canonical form: %v", err)
		}
		again, err := Canonicalize(canon)
		if err != nil || string(again) != string(canon) {
			t.Fatalf("canonical form is not a fixed point: %s", canon)
		}
		if err := Sign(&d, "k", key); err != nil {
			t.Fatal(err)
		}
		if !verifyBytes(AlgEd25519, key.Public().(ed25519.PublicKey), canon, d.GetSignature().GetValue()) {
			t.Fatal("own signature does not verify")
		}
		var contents [][]byte
		for _, a := range d.GetAttachments() {
			contents = append(contents, a.GetContent())
		}
		x, err := MarshalEdxml(&d, contents)
		if err != nil {
			return
		}
		back, err := ParseEdxml(x)
		if err != nil {
			return // text XML cannot carry some characters
		}
		c2, err := CanonicalBytes(back)
		if err == nil && string(c2) != string(canon) && !hasCR(&d) {
			t.Fatalf("edXML round trip changed the canonical form:\n%s\n%s", canon, c2)
		}
	})
}

// hasCR reports text with carriage returns, which XML reads back as line feeds.
func hasCR(d *docv1.Document) bool {
	js, _ := protojson.Marshal(d)
	for i := 0; i+1 < len(js); i++ {
		if js[i] == '\\' && js[i+1] == 'r' {
			return true
		}
	}
	return false
}
