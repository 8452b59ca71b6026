package docexchange

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// samplePDF is a PDF signed by real software (testdata/pdf/README.md): iText 5.3.2 with a
// GlobalSign test certificate on an HSM, chained to the Adobe Root CA through two GlobalSign
// CDS intermediates the CMS carries.
const (
	samplePDF       = "testdata/pdf/itext-globalsign-hsm.pdf"
	samplePDFSHA256 = "0c64de0613cdd42cc99d3705c61070dbce61ed85c66eb28aff51132c694b3669"
)

func readSamplePDF(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(samplePDF)
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != samplePDFSHA256 {
		t.Fatalf("%s is not the file testdata/pdf/README.md names", samplePDF)
	}
	return b
}

// samplePDFCertificate is the certificate of the sample's CMS whose common name is cn.
func samplePDFCertificate(t *testing.T, pdf []byte, cn string) *x509.Certificate {
	t.Helper()
	start := bytes.Index(pdf, []byte("/Contents <")) + len("/Contents <")
	end := start + bytes.IndexByte(pdf[start:], '>')
	der, err := hex.DecodeString(string(pdf[start:end]))
	if err != nil {
		t.Fatal(err)
	}
	p7, err := parseCMS(der)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range p7.Certificates {
		if c.Subject.CommonName == cn {
			return c
		}
	}
	t.Fatalf("no certificate %q in the sample's CMS", cn)
	return nil
}

// tamperSamplePDF changes one byte of the sample inside its signed range (the signature
// dictionary's /Reason, after the /Contents gap).
func tamperSamplePDF(t testing.TB, pdf []byte) []byte {
	t.Helper()
	i := bytes.Index(pdf, []byte("/Reason(HSM test)"))
	if i < 0 {
		t.Fatal("no /Reason in the sample")
	}
	out := append([]byte(nil), pdf...)
	out[i+len("/Reason(HSM tes")] = 'x'
	return out
}

// TestPDFRealSample: the inspection of a PDF signed by real software reports what it is:
// its field, sub-filter, signer (the subject readable, e-mail and description as text),
// the signing time of its signed attribute, unchanged and covering the whole file;
// untrusted where its chain leads to no configured root, trusted where its issuer's CA is
// configured (the chain checked at the signing time: the certificate expired a week
// after); one byte changed inside the signed range breaks it.
func TestPDFRealSample(t *testing.T) {
	pdf := readSamplePDF(t)
	inspect := func(roots *x509.CertPool, b []byte) *docv1.PdfSignature {
		in := &pdfInspector{roots: roots, now: time.Now()}
		return onlySignature(t, in.inspect(bytes.NewReader(b), int64(len(b))))
	}
	ca := newRSACA(t)
	testRoots := x509.NewCertPool()
	testRoots.AddCert(ca.root)

	s := inspect(testRoots, pdf)
	if s.GetFieldName() != "sig" || s.GetSubFilter() != subFilterPKCS7Detached || s.GetSignerName() != "Paul van Brouwershaven" ||
		s.GetSignerSerial() != "112113a7c21adc385e9e9bd45dcfded63d7f" {
		t.Errorf("field, sub-filter or signer: %v", s)
	}
	// In the certificate's order of attributes, most specific first (RFC 4514).
	const subject = "description=Test CDS Certificate - Not to be relied upon,CN=Paul van Brouwershaven,O=GlobalSign," +
		"E=paul.vanbrouwershaven@globalsign.com,OU=Test CDS Certificate - Not to be relied upon,L=Maidstone,ST=Kent,C=GB"
	if s.GetSignerSubject() != subject {
		t.Errorf("signer subject %q, want %q", s.GetSignerSubject(), subject)
	}
	if at, err := time.Parse(time.RFC3339, s.GetSigningTime()); err != nil || !at.Equal(time.Date(2012, 8, 24, 10, 22, 14, 0, time.UTC)) ||
		s.GetSigningTimeSource() != "signed_attribute" {
		t.Errorf("signing time %q from %q", s.GetSigningTime(), s.GetSigningTimeSource())
	}
	if !s.GetUnchanged() || !s.GetCoversWholeFile() || s.GetBroken() || s.GetError() != "" {
		t.Errorf("want unchanged, covering the whole file: %v", s)
	}
	if s.GetTrusted() || !strings.Contains(s.GetTrustError(), "does not lead to a trusted root at 2012-08-24") ||
		!strings.Contains(s.GetTrustError(), "unknown authority") {
		t.Errorf("want untrusted, its root unknown: %v", s)
	}
	if s := inspect(nil, pdf); s.GetTrusted() || !strings.Contains(s.GetTrustError(), "no trusted root configured") || !s.GetUnchanged() {
		t.Errorf("no roots: %v", s)
	}

	// Trusted where the CA above the signer's issuer is a trust root, at the signing time.
	gs := x509.NewCertPool()
	gs.AddCert(samplePDFCertificate(t, pdf, "GlobalSign Primary SHA256 CA for Adobe"))
	if s := inspect(gs, pdf); !s.GetTrusted() || s.GetTrustError() != "" || !s.GetUnchanged() {
		t.Errorf("want trusted under the GlobalSign CA: %v", s)
	}

	s = inspect(gs, tamperSamplePDF(t, pdf))
	if !s.GetBroken() || s.GetUnchanged() || s.GetTrusted() || !strings.Contains(s.GetError(), "the signed bytes changed") ||
		!strings.HasPrefix(s.GetTrustError(), "the signature is broken: the signed bytes changed") {
		t.Errorf("one byte changed: want broken: %v", s)
	}
}

// samplePDFPackage is a national-form package of letter(number) whose one attachment is
// the given PDF.
func samplePDFPackage(t *testing.T, number string, pdf []byte) []byte {
	t.Helper()
	d := letter(number)
	d.Attachments = []*docv1.Attachment{{Name: "cong-van-ky-so.pdf", ContentType: "application/pdf"}}
	pkg, err := MarshalNationalEdxml(d, [][]byte{pdf})
	if err != nil {
		t.Fatal(err)
	}
	return pkg
}

// TestEdxmlSignedPDFAttachment: a national-form edXML package whose attachment is a signed
// PDF, imported unary or streamed, shows the PDF report on GetDocument; where broken PDF
// signatures are refused, a package whose PDF was changed after signing is refused
// PDF_SIGNATURE_BROKEN over both paths and leaves nothing stored, while the intact one is
// accepted.
func TestEdxmlSignedPDFAttachment(t *testing.T) {
	pdf := readSamplePDF(t)
	f := newFixtureWithRoots(t, samplePDFCertificate(t, pdf, "GlobalSign Primary SHA256 CA for Adobe"))
	ctx := f.agency(agTuPhap33)
	report := func(id string) *docv1.PdfSignature {
		got, err := f.client.GetDocument(ctx, &docv1.GetDocumentRequest{Id: id})
		if err != nil {
			t.Fatal(err)
		}
		return onlySignature(t, got.GetAttachments()[0].GetPdf())
	}
	check := func(how string, s *docv1.PdfSignature) {
		if s.GetSignerName() != "Paul van Brouwershaven" || !s.GetTrusted() || !s.GetUnchanged() || !s.GetCoversWholeFile() ||
			s.GetBroken() || !strings.HasPrefix(s.GetSigningTime(), "2012-08-24T17:22:14") ||
			!strings.Contains(s.GetSignerSubject(), ",E=paul.vanbrouwershaven@globalsign.com,") {
			t.Errorf("%s: %v", how, s)
		}
	}
	check("unary", report(f.importEdxml(agTuPhap33, samplePDFPackage(t, "11/PDF", pdf)).GetId()))
	resp, err := f.streamPackage(ctx, samplePDFPackage(t, "12/PDF", pdf))
	if err != nil {
		t.Fatal(err)
	}
	check("streamed", report(resp.GetId()))

	// Broken and refused: a fixture of its own, so that nothing stored is left to count.
	g := newFixture(t)
	g.svc.refuseBrokenPDF = true
	gctx := g.agency(agTuPhap33)
	broken := tamperSamplePDF(t, pdf)
	refused := func(how string, err error) {
		t.Helper()
		if status.Code(err) != codes.FailedPrecondition || reason(err) != "PDF_SIGNATURE_BROKEN" ||
			!strings.Contains(err.Error(), `"cong-van-ky-so.pdf"`) || !strings.Contains(err.Error(), "the signed bytes changed") {
			t.Errorf("%s: want FAILED_PRECONDITION PDF_SIGNATURE_BROKEN naming the attachment, got %v", how, err)
		}
		g.waitClean(how)
	}
	_, err = g.client.ImportEdxml(gctx, &docv1.ImportEdxmlRequest{Edxml: samplePDFPackage(t, "21/PDF", broken)})
	refused("unary", err)
	_, err = g.streamPackage(gctx, samplePDFPackage(t, "22/PDF", broken))
	refused("streamed", err)
	for _, n := range []string{"21/PDF", "22/PDF"} {
		if _, err := g.client.GetDocument(g.admin(), &docv1.GetDocumentRequest{Id: documentID(letter(n))}); status.Code(err) != codes.NotFound {
			t.Errorf("%s: a refused package was stored: %v", n, err)
		}
	}
	if ids := g.inboxIDs(agUBND33); len(ids) != 0 {
		t.Errorf("refused packages delivered: %v", ids)
	}
	if _, err := g.streamPackage(gctx, samplePDFPackage(t, "23/PDF", pdf)); err != nil {
		t.Errorf("the intact PDF refused: %v", err)
	}
}
