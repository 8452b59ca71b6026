package docexchange

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/digitorus/pkcs7"
	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// pdfSpec says how buildSignedPDF builds a PDF.
type pdfSpec struct {
	subFilter string // default adbe.pkcs7.detached
	padding   int    // bytes of a comment in the page's content stream, to make the file large
}

// buildSignedPDF builds a one-page PDF with one signature field whose /Sig dictionary
// carries a detached CMS signature (made with the CMS library) over its /ByteRange, as a
// PAdES signer writes it.
func buildSignedPDF(t testing.TB, leaf *x509.Certificate, key *rsa.PrivateKey, parents []*x509.Certificate, sp pdfSpec) []byte {
	t.Helper()
	if sp.subFilter == "" {
		sp.subFilter = subFilterPKCS7Detached
	}
	const sigBytes = 8192
	stream := "BT /F1 12 Tf 20 100 Td (Cong van) Tj ET\n% " + strings.Repeat("x", sp.padding) + "\n"
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [4 0 R] /SigFlags 3 >> >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 6 0 R /Annots [4 0 R] >>",
		"<< /FT /Sig /Type /Annot /Subtype /Widget /Rect [0 0 0 0] /P 3 0 R /T (Signature1) /V 5 0 R >>",
		"<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /" + sp.subFilter + " /M (D:20261201100000+07'00') /ByteRange [0 ########## ########## ##########] /Contents <" +
			strings.Repeat("0", 2*sigBytes) + "> >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", len(stream), stream),
	}
	file := classicPDF(objs, 0, "")
	start := bytes.Index(file, []byte("/Contents <")) + len("/Contents ")
	end := start + 2*sigBytes + 2
	br := fmt.Sprintf("[0 %010d %010d %010d]", start, end, len(file)-end)
	copy(file[bytes.Index(file, []byte("[0 ##########")):], br)
	signed := append(append([]byte(nil), file[:start]...), file[end:]...)
	sd, err := pkcs7.NewSignedData(signed)
	if err != nil {
		t.Fatal(err)
	}
	sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	if err := sd.AddSignerChain(leaf, key, parents, pkcs7.SignerInfoConfig{}); err != nil {
		t.Fatal(err)
	}
	sd.Detach()
	der, err := sd.Finish()
	if err != nil {
		t.Fatal(err)
	}
	if len(der) > sigBytes {
		t.Fatalf("CMS of %d bytes", len(der))
	}
	copy(file[start+1:], hex.EncodeToString(der))
	return file
}

// pdfCA is the test CA hierarchy and a certificate of the leaf key valid now (the CMS
// library stamps the signing time with the clock).
func pdfCA(t *testing.T) (*rsaCA, *x509.Certificate) {
	t.Helper()
	ca := newRSACA(t)
	_, leaf := ca.agencyCert(t, "Sở Tư pháp tỉnh Hưng Yên", time.Now().AddDate(-1, 0, 0), time.Now().AddDate(1, 0, 0))
	return ca, leaf
}

func (ca *rsaCA) signedPDF(t *testing.T, leaf *x509.Certificate, sp pdfSpec) []byte {
	return buildSignedPDF(t, leaf, ca.leafKey, []*x509.Certificate{ca.inter}, sp)
}

// sendPDF sends a letter with the PDF attached and answers the stored attachment's report.
func (f *fixture) sendPDF(number string, pdf []byte) (*docv1.PdfInspection, error) {
	f.t.Helper()
	d := letter(number)
	d.Attachments[0].Content = pdf
	resp, err := f.client.SendDocument(f.agency(d.From), &docv1.SendDocumentRequest{Document: d})
	if err != nil {
		return nil, err
	}
	got, err := f.client.GetDocument(f.agency(d.From), &docv1.GetDocumentRequest{Id: resp.GetId()})
	if err != nil {
		f.t.Fatal(err)
	}
	return got.GetAttachments()[0].GetPdf(), nil
}

func onlySignature(t *testing.T, in *docv1.PdfInspection) *docv1.PdfSignature {
	t.Helper()
	if in == nil || in.GetError() != "" || len(in.GetSignatures()) != 1 {
		t.Fatalf("want one signature, got %v", in)
	}
	return in.GetSignatures()[0]
}

// TestPDFSignatureReported: a PDF signed by an agency certificate of a trusted chain is
// reported per attachment with its signer, signing time, trust and integrity, for both
// sub-filters, whether sent inline or uploaded (and read from the blob store across chunks).
func TestPDFSignatureReported(t *testing.T) {
	ca, leaf := pdfCA(t)
	f := caFixture(t, ca, "")
	for i, sf := range []string{subFilterPKCS7Detached, subFilterCAdESDetached} {
		in, err := f.sendPDF(fmt.Sprintf("%d/PDF", i+1), ca.signedPDF(t, leaf, pdfSpec{subFilter: sf}))
		if err != nil {
			t.Fatal(err)
		}
		s := onlySignature(t, in)
		if !s.GetTrusted() || !s.GetUnchanged() || !s.GetCoversWholeFile() || s.GetBroken() || in.GetBroken() {
			t.Errorf("%s: want trusted, unchanged, whole file: %v", sf, s)
		}
		if s.GetSignerName() != "Sở Tư pháp tỉnh Hưng Yên" || s.GetSignerSerial() != leaf.SerialNumber.Text(16) ||
			s.GetSubFilter() != sf || s.GetFieldName() != "Signature1" || s.GetSigningTimeSource() != "signed_attribute" {
			t.Errorf("%s: signer or field: %v", sf, s)
		}
		if at, err := time.Parse(time.RFC3339, s.GetSigningTime()); err != nil || time.Since(at) > time.Minute {
			t.Errorf("%s: signing time %q", sf, s.GetSigningTime())
		}
	}

	// Uploaded: a PDF of more than two blob chunks, inspected where it is stored.
	large := ca.signedPDF(t, leaf, pdfSpec{padding: 2*blobChunk + 1000})
	up := f.uploadFile(agTuPhap33, "big.pdf", large)
	d := letter("3/PDF")
	d.Attachments[0] = &docv1.Attachment{Name: "big.pdf", ContentType: "application/pdf", UploadId: up.GetUploadId()}
	resp, err := f.client.SendDocument(f.agency(d.From), &docv1.SendDocumentRequest{Document: d})
	if err != nil {
		t.Fatal(err)
	}
	if s := onlySignature(t, resp.GetDocument().GetAttachments()[0].GetPdf()); !s.GetTrusted() || !s.GetUnchanged() || !s.GetCoversWholeFile() {
		t.Errorf("uploaded: %v", s)
	}
}

// TestPDFSignatureBroken: bytes changed after signing break the signature (the digest
// over /ByteRange differs from the signed messageDigest); bytes appended after it leave it
// intact but not covering the whole file.
func TestPDFSignatureBroken(t *testing.T) {
	ca, leaf := pdfCA(t)
	f := caFixture(t, ca, "")
	pdf := ca.signedPDF(t, leaf, pdfSpec{})
	changed := bytes.Replace(pdf, []byte("(Cong van)"), []byte("(Cong vam)"), 1)
	in, err := f.sendPDF("1/PDF", changed)
	if err != nil {
		t.Fatal(err)
	}
	s := onlySignature(t, in)
	if !s.GetBroken() || !in.GetBroken() || s.GetUnchanged() || !strings.Contains(s.GetError(), "the signed bytes changed") {
		t.Errorf("changed: want broken with its reason: %v", s)
	}
	appended := append(append([]byte(nil), pdf...), "\n% added after signing\n"...)
	in, err = f.sendPDF("2/PDF", appended)
	if err != nil {
		t.Fatal(err)
	}
	s = onlySignature(t, in)
	if s.GetBroken() || !s.GetUnchanged() || s.GetCoversWholeFile() || !s.GetTrusted() {
		t.Errorf("appended: want intact, trusted, not the whole file: %v", s)
	}
	// The gap of the byte range must be the /Contents string and nothing else.
	shifted := bytes.Replace(pdf, []byte("/ByteRange [0 "), []byte("/ByteRange [1 "), 1)
	if s := onlySignature(t, mustInspect(f, shifted)); !s.GetBroken() || !strings.Contains(s.GetError(), "/ByteRange") {
		t.Errorf("byte range: %v", s)
	}
}

func mustInspect(f *fixture, pdf []byte) *docv1.PdfInspection {
	in := &pdfInspector{roots: f.svc.roots, crls: f.svc.crls, now: time.Now()}
	return in.inspect(bytes.NewReader(pdf), int64(len(pdf)))
}

// TestPDFSignatureTrust: a signer whose chain leads to no configured root, or whose
// certificate a configured CRL revokes, is reported untrusted with the reason; the bytes
// are still reported unchanged.
func TestPDFSignatureTrust(t *testing.T) {
	ca, leaf := pdfCA(t)
	other, otherLeaf := pdfCA(t)
	_, revoked := ca.agencyCert(t, "Sở Nội vụ (thu hồi)", time.Now().AddDate(-1, 0, 0), time.Now().AddDate(1, 0, 0))
	crl := filepath.Join(t.TempDir(), "inter.crl")
	ca.writeCRL(t, crl, 1, x509.RevocationListEntry{SerialNumber: revoked.SerialNumber, RevocationTime: time.Now().AddDate(0, -1, 0), ReasonCode: 1})
	f := caFixture(t, ca, crl)

	in, err := f.sendPDF("1/PDF", other.signedPDF(t, otherLeaf, pdfSpec{}))
	if err != nil {
		t.Fatal(err)
	}
	s := onlySignature(t, in)
	if s.GetTrusted() || !strings.Contains(s.GetTrustError(), "trusted root") || !s.GetUnchanged() || s.GetBroken() {
		t.Errorf("untrusted chain: %v", s)
	}
	in, err = f.sendPDF("2/PDF", ca.signedPDF(t, revoked, pdfSpec{}))
	if err != nil {
		t.Fatal(err)
	}
	s = onlySignature(t, in)
	if s.GetTrusted() || !strings.Contains(s.GetTrustError(), "revoked") || !s.GetUnchanged() {
		t.Errorf("revoked: %v", s)
	}
	if _, err := f.sendPDF("3/PDF", ca.signedPDF(t, leaf, pdfSpec{})); err != nil {
		t.Fatal(err)
	}
}

// TestPDFNotParsed: what is not a PDF, garbage and a truncated signed PDF are reported as
// such, never a panic; a file neither named nor typed PDF nor starting like one is not
// inspected at all.
func TestPDFNotParsed(t *testing.T) {
	ca, leaf := pdfCA(t)
	f := caFixture(t, ca, "")
	pdf := ca.signedPDF(t, leaf, pdfSpec{})
	for i, c := range [][]byte{[]byte("not a pdf at all"), bytes.Repeat([]byte{0xff, 0x00, '<'}, 500), pdf[:len(pdf)/2], pdf[:len(pdf)-40], {}} {
		in, err := f.sendPDF(fmt.Sprintf("%d/BAD", i+1), c)
		if err != nil {
			t.Fatal(err)
		}
		if in == nil || (in.GetError() == "" && !in.GetBroken()) {
			t.Errorf("case %d: want the file reported as not parsed: %v", i, in)
		}
	}
	d := letter("9/TXT")
	d.Attachments[0] = &docv1.Attachment{Name: "note.txt", ContentType: "text/plain", Content: []byte("ghi chú")}
	if got := f.send(d).GetDocument().GetAttachments()[0].GetPdf(); got != nil {
		t.Errorf("a text file was inspected: %v", got)
	}
}

// TestRefuseBrokenPDFSignatures: a deployment that refuses broken PDF signatures answers
// FAILED_PRECONDITION PDF_SIGNATURE_BROKEN naming the attachment and stores nothing; an
// intact one, or a broken one by default, is accepted.
func TestRefuseBrokenPDFSignatures(t *testing.T) {
	ca, leaf := pdfCA(t)
	f := caFixture(t, ca, "")
	pdf := ca.signedPDF(t, leaf, pdfSpec{})
	changed := bytes.Replace(pdf, []byte("(Cong van)"), []byte("(Cong vam)"), 1)
	if _, err := f.sendPDF("1/PDF", changed); err != nil {
		t.Fatalf("by default a broken signature is only reported: %v", err)
	}
	f.svc.refuseBrokenPDF = true
	before := len(f.inboxIDs(agUBND33))
	_, err := f.sendPDF("2/PDF", changed)
	if status.Code(err) != codes.FailedPrecondition || reason(err) != "PDF_SIGNATURE_BROKEN" || !strings.Contains(err.Error(), `"cv.pdf"`) {
		t.Fatalf("want FAILED_PRECONDITION PDF_SIGNATURE_BROKEN naming cv.pdf, got %v", err)
	}
	if n := len(f.inboxIDs(agUBND33)); n != before {
		t.Errorf("a refused document was delivered: %d → %d", before, n)
	}
	if _, err := f.sendPDF("3/PDF", pdf); err != nil {
		t.Errorf("an intact signature is accepted: %v", err)
	}
}

// TestPDFDates reads the dates of /M.
func TestPDFDates(t *testing.T) {
	for in, want := range map[string]string{
		"D:20261201100000+07'00'": "2026-12-01T10:00:00+07:00",
		"D:20261201030000Z":       "2026-12-01T10:00:00+07:00",
		"D:2026120103":            "2026-12-01T10:00:00+07:00",
	} {
		got, err := parsePDFDate(in)
		if err != nil || rfc3339(got) != want {
			t.Errorf("%s: %s %v, want %s", in, rfc3339(got), err, want)
		}
	}
	for _, bad := range []string{"", "D:2026133201", "yesterday"} {
		if _, err := parsePDFDate(bad); err == nil {
			t.Errorf("%q read as a date", bad)
		}
	}
}

// uploadFile streams content as an upload of agency, in messages of 1 MiB.
func (f *fixture) uploadFile(agency, name string, content []byte) *docv1.Upload {
	f.t.Helper()
	up, err := f.client.UploadAttachment(f.agency(agency))
	if err != nil {
		f.t.Fatal(err)
	}
	if err := up.Send(&docv1.UploadAttachmentRequest{Header: &docv1.UploadHeader{Name: name, ContentType: "application/pdf"}}); err != nil {
		f.t.Fatal(err)
	}
	for off := 0; off < len(content); off += 1 << 20 {
		if err := up.Send(&docv1.UploadAttachmentRequest{Chunk: content[off:min(off+1<<20, len(content))]}); err != nil {
			f.t.Fatal(err)
		}
	}
	u, err := up.CloseAndRecv()
	if err != nil {
		f.t.Fatal(err)
	}
	return u
}
