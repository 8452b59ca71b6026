package docexchange

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"

	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The stages of send run in their order (documents.go): a document failing several of them
// is refused by the first, and nothing of it is stored.
func TestSendStagesInOrder(t *testing.T) {
	f := newFixture(t)
	badDigest := func(d *docv1.Document) *docv1.Document {
		d.Attachments[0].Sha256 = hex.EncodeToString(make([]byte, 32))
		return d
	}
	cases := []struct {
		name   string
		d      *docv1.Document
		code   codes.Code
		reason string
	}{
		{"invalid and sent as another agency: validate first", func() *docv1.Document {
			d := letter("1")
			d.Subject, d.From = "", agTuPhap36
			return d
		}(), codes.InvalidArgument, ""},
		{"sent as another agency with a wrong digest: authorise before attachments", func() *docv1.Document {
			d := badDigest(letter("2"))
			d.From = agTuPhap36
			return d
		}(), codes.PermissionDenied, ""},
		{"unknown recipient with a wrong digest: the catalog before attachments", func() *docv1.Document {
			d := badDigest(letter("3"))
			d.To = []string{"000.99.99.H31"}
			return d
		}(), codes.InvalidArgument, "UNKNOWN_REFERENCE"},
		{"signed, then an attachment changed: attachments before the signature", func() *docv1.Document {
			d := f.signed(letter("4"))
			d.Attachments[0].Content = []byte("changed after signing")
			return d
		}(), codes.InvalidArgument, "ATTACHMENT_DIGEST_MISMATCH"},
	}
	for _, c := range cases {
		_, err := f.client.SendDocument(f.agency(agTuPhap33), &docv1.SendDocumentRequest{Document: c.d})
		if status.Code(err) != c.code || (c.reason != "" && reason(err) != c.reason) {
			t.Errorf("%s: %v (reason %q), want %v %s", c.name, err, reason(err), c.code, c.reason)
		}
	}
	if ids := f.inboxIDs(agUBND33); len(ids) != 0 {
		t.Errorf("refused documents delivered: %v", ids)
	}
}

// matchAttachment gives an unsigned document's attachment the digest and size received and
// leaves a signed document's as signed.
func TestMatchAttachmentKeepsSignedDocument(t *testing.T) {
	sum := sha256.Sum256([]byte("x"))
	hx := hex.EncodeToString(sum[:])
	for _, signed := range []bool{false, true} {
		a := &docv1.Attachment{Name: "a.pdf"}
		if err := matchAttachment(&sendState{signed: signed}, 0, a, hx, 1, "content"); err != nil {
			t.Fatal(err)
		}
		if got := a.GetSha256() == hx && a.GetSize() == 1; got == signed {
			t.Errorf("signed %v: attachment given digest %q size %d", signed, a.GetSha256(), a.GetSize())
		}
	}
	a := &docv1.Attachment{Name: "a.pdf", Size: 2}
	err := matchAttachment(&sendState{}, 3, a, hx, 1, "upload")
	if reason(err) != "ATTACHMENT_SIZE_MISMATCH" {
		t.Errorf("size 2 for 1 byte: %v", err)
	}
}
