package docexchange

import (
	"archive/zip"
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/google/go-cmp/cmp"
	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	dsig "github.com/russellhaering/goxmldsig"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/testing/protocmp"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "edxml", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (f *fixture) importEdxml(ag string, pkg []byte) *docv1.SendDocumentResponse {
	f.t.Helper()
	resp, err := f.client.ImportEdxml(f.agency(ag), &docv1.ImportEdxmlRequest{Edxml: pkg})
	if err != nil {
		f.t.Fatalf("import: %v", err)
	}
	return resp
}

// A package built as the national SDK builds it imports with every header field, its file
// stored unzipped (the SHA-256 of the file), and exports in the national form that imports
// back to the same document.
func TestEdxmlNationalRoundTrip(t *testing.T) {
	f := newFixture(t)
	resp := f.importEdxml(agTuPhap33, readFixture(t, "national-new.edxml"))
	got, err := f.client.GetDocument(f.agency(agTuPhap33), &docv1.GetDocumentRequest{Id: resp.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	pdf := readFixture(t, "cv1205.pdf")
	sum := sha256.Sum256(pdf)
	a := got.GetAttachments()[0]
	if a.GetSha256() != hex.EncodeToString(sum[:]) || a.GetSize() != int64(len(pdf)) || a.GetContentType() != "application/pdf" || a.GetName() != "cv1205.pdf" {
		t.Errorf("attachment stored as %v, want the unzipped file (sha256 %x)", a, sum)
	}
	checks := map[string]bool{
		"from organ name":  got.GetFromOrgan().GetOrganName() == "Sở Tư pháp tỉnh Hưng Yên" && got.GetFromOrgan().GetWebsite() == "stp.hungyen.gov.vn",
		"to organs":        len(got.GetToOrgans()) == 2 && got.GetToOrgans()[1].GetFax() == "0221 3862 531",
		"code":             got.GetCodeNumber() == "1205" && got.GetCodeNotation() == "STP-VP",
		"promulgation":     got.GetPromulgationDate() == "2026-11-02" && got.GetPromulgationPlace() == "Hưng Yên",
		"type":             got.GetDocumentTypeCode() == 1 && got.GetDocumentType() == "Công văn",
		"content":          got.GetContent() == "V/v báo cáo công tác tư pháp năm 2026",
		"signer":           got.GetSigner().GetCompetence() == "KT. GIÁM ĐỐC",
		"due date":         got.GetDueDate() == "2026-11-20",
		"to places":        len(got.GetToPlaces()) == 2 && got.GetToPlaces()[1] == "Lưu: VT",
		"other info":       got.GetPriority() == 1 && got.GetOtherInfo().GetPageAmount() == 2 && got.GetOtherInfo().GetPromulgationAmount() == 3 && got.GetOtherInfo().GetTyperNotation() == "TVC" && len(got.GetOtherInfo().GetAppendixes()) == 1,
		"steering type":    got.GetSteeringType() == 1,
		"business":         got.GetBusiness().GetReason() == "Văn bản điện tử mới" && !got.GetBusiness().GetPaper() && got.GetBusiness().GetStaffInfo().GetStaff() == "Nguyễn Thị C",
		"trace":            len(got.GetTraceHeaders()) == 1 && got.GetTraceHeaders()[0].GetTimestamp() == "2026/11/02 08:30:00",
		"national id kept": got.GetEdxmlDocumentId() == "",
	}
	for name, ok := range checks {
		if !ok {
			t.Errorf("%s not kept: %v", name, got)
		}
	}
	body, err := f.client.ExportEdxml(f.agency(agUBND33), &docv1.ExportEdxmlRequest{Id: resp.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	x := string(body.GetData())
	for _, want := range []string{`<edXML xmlns="` + EdxmlNamespace + `">`, `<edXML:edXMLEnvelope xmlns:edXML="` + EdxmlNamespace + `">`,
		"<edXML:Paper>0</edXML:Paper>", "<edXML:ContentTransferEncoded", "<edXML:DocumentId>000.02.00.H31,2026/11/02,1205/STP-VP</edXML:DocumentId>"} {
		if !strings.Contains(x, want) {
			t.Errorf("export lacks %s", want)
		}
	}
	// The attachment travels zipped.
	i := strings.Index(x, `<edXML:ContentTransferEncoded xmlns:edXML="`+EdxmlNamespace+`">`)
	enc := x[i+len(`<edXML:ContentTransferEncoded xmlns:edXML="`+EdxmlNamespace+`">`):]
	enc = enc[:strings.Index(enc, "<")]
	zipped, _ := base64.StdEncoding.DecodeString(enc)
	if zr, err := zip.NewReader(bytes.NewReader(zipped), int64(len(zipped))); err != nil || len(zr.File) != 1 {
		t.Errorf("attachment not zipped: %v", err)
	}
	first, err := ParseEdxml(readFixture(t, "national-new.edxml"))
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseEdxml(body.GetData())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(meaningOf(first, true), meaningOf(back, true), protocmp.Transform()); diff != "" {
		t.Fatalf("import → export → import (-fixture +re-import):\n%s", diff)
	}
	if again := f.importEdxml(agTuPhap33, body.GetData()); !again.GetDuplicate() || again.GetId() != resp.GetId() {
		t.Fatalf("re-import: %v", again)
	}
	// A signed document sent as JSON and exported in the national form is the same document.
	signed := f.send(fullLetter(f))
	nat, err := f.client.ExportEdxml(f.agency(agUBND33), &docv1.ExportEdxmlRequest{Id: signed.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	if again := f.importEdxml(agTuPhap33, nat.GetData()); !again.GetDuplicate() {
		t.Fatalf("national re-import of a signed document: %v", again)
	}
}

// The older VPCP axis package is read.
func TestEdxmlVPCPForm(t *testing.T) {
	f := newFixture(t)
	resp := f.importEdxml(agTuPhap33, readFixture(t, "vpcp-new.edxml"))
	d := resp.GetDocument()
	if d.GetCodeNumber() != "1209" || d.GetPromulgationDate() != "2026-11-02" || d.GetDocumentType() != "Công văn" ||
		d.GetSigner().GetName() != "Trần Văn B" || d.GetEdxmlDocumentId() != "9fbfbad2-f1f8-4256-a2eb-50fb1061cddb" ||
		len(d.GetAttachments()) != 1 || d.GetAttachments()[0].GetName() != "cv1209.pdf" || d.GetOtherInfo().GetPageAmount() != 1 {
		t.Fatalf("VPCP package read as %v", d)
	}
}

// Revocation recalls the earlier document from every recipient; update and replacement
// link to it and mark it superseded.
func TestEdxmlBusiness(t *testing.T) {
	f := newFixture(t)
	orig := f.importEdxml(agTuPhap33, readFixture(t, "national-new.edxml"))
	rev := f.importEdxml(agTuPhap33, readFixture(t, "national-revoke.edxml"))
	if rev.GetDuplicate() || rev.GetDocument().GetBusinessType() != docv1.BusinessType_BUSINESS_TYPE_REVOKE ||
		rev.GetDocument().GetResponseFor().GetDocumentId() != orig.GetId() {
		t.Fatalf("revocation stored as a new document: %v", rev.GetDocument())
	}
	d, err := f.client.GetDocument(f.agency(agTuPhap33), &docv1.GetDocumentRequest{Id: orig.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	for _, rc := range d.GetRecipients() {
		if rc.GetStatus() != docv1.DocumentStatus_DOCUMENT_STATUS_RECALL_REQUESTED || rc.GetReason() != "Thu hồi văn bản điện tử" {
			t.Errorf("recipient %s at %v (%q) after the revocation, want 13", rc.GetAgencyCode(), rc.GetStatus(), rc.GetReason())
		}
	}
	for _, name := range []string{"national-update.edxml", "national-replace.edxml"} {
		later := f.importEdxml(agTuPhap33, readFixture(t, name))
		d, err := f.client.GetDocument(f.agency(agTuPhap33), &docv1.GetDocumentRequest{Id: orig.GetId()})
		if err != nil {
			t.Fatal(err)
		}
		if d.GetSupersededBy() != later.GetId() {
			t.Errorf("%s: original superseded_by %q, want %s", name, d.GetSupersededBy(), later.GetId())
		}
		if l := d.GetLinks(); len(l) == 0 || l[len(l)-1].GetDocumentId() != later.GetId() {
			t.Errorf("%s: not linked: %v", name, l)
		}
		if ri := later.GetDocument().GetBusiness().GetReplacementInfo(); len(ri) != 1 || len(ri[0].GetOrganIds()) != 2 {
			t.Errorf("%s: replacement info %v", name, ri)
		}
	}
}

// A status package reports the recipient's status under the rules of POST statuses; the
// statuses export as status packages that read back.
func TestEdxmlStatusPackages(t *testing.T) {
	f := newFixture(t)
	orig := f.importEdxml(agTuPhap33, readFixture(t, "national-new.edxml"))
	// The fixture's time, moved after the delivery of this run.
	at := f.clock()
	pkg := bytes.Replace(readFixture(t, "status-accepted.edxml"), []byte("2026/11/03 09:15:00"), []byte(at.Format("2006/01/02 15:04:05")), 1)
	if _, err := f.client.ImportEdxml(f.agency(agTNMT33), &docv1.ImportEdxmlRequest{Edxml: pkg}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("another agency reported UBND's status: %v", err)
	}
	resp := f.importEdxml(agUBND33, pkg)
	if !resp.GetStatusReported() || resp.GetId() != orig.GetId() {
		t.Fatalf("status package: %v", resp)
	}
	rc := resp.GetDocument().GetRecipients()[0]
	h := rc.GetHistory()[len(rc.GetHistory())-1]
	if rc.GetStatus() != docv1.DocumentStatus_DOCUMENT_STATUS_ACCEPTED || h.GetStaffInfo().GetStaff() != "Lê Văn D" ||
		h.GetUpdatedAt() != at.Format(time.RFC3339) {
		t.Fatalf("recipient %v", rc)
	}
	// 03 → 01 is not a transition: refused as POST statuses refuses it.
	back := strings.Replace(string(pkg), "<edXML:StatusCode>03</edXML:StatusCode>", "<edXML:StatusCode>02</edXML:StatusCode>", 1)
	if _, err := f.client.ImportEdxml(f.agency(agUBND33), &docv1.ImportEdxmlRequest{Edxml: []byte(back)}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("02 after 03: %v", err)
	}
	out, err := f.client.ExportEdxmlStatuses(f.agency(agTuPhap33), &docv1.ExportEdxmlStatusesRequest{Id: orig.GetId(), AgencyCode: agUBND33})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.GetPackages()) != 2 {
		t.Fatalf("want 01 and 03, got %d packages", len(out.GetPackages()))
	}
	p, err := parseEdxmlPackage(out.GetPackages()[1].GetEdxml(), 1<<20)
	if err != nil || p.status == nil {
		t.Fatalf("exported status package does not read back: %v", err)
	}
	if p.status.documentID != orig.GetId() || p.status.agency != agUBND33 || p.status.status != docv1.DocumentStatus_DOCUMENT_STATUS_ACCEPTED ||
		p.status.staff.GetStaff() != "Lê Văn D" || !p.status.at.Equal(at) {
		t.Fatalf("read back %+v", p.status)
	}
}

// A document with a paper copy is not fully online, even signed and handled electronically.
func TestFullyOnlineMeansNoPaper(t *testing.T) {
	f := newFixture(t)
	d := letter("77")
	d.To = []string{agUBND33}
	d.Business = &docv1.Business{Paper: true}
	resp := f.send(f.signed(d))
	if _, err := f.client.ReportStatus(f.agency(agUBND33), &docv1.ReportStatusRequest{Id: resp.GetId(), Status: docv1.DocumentStatus_DOCUMENT_STATUS_ACCEPTED}); err != nil {
		t.Fatal(err)
	}
	paper := f.importEdxml(agTuPhap33, readFixture(t, "national-new-paper.edxml"))
	if !paper.GetDocument().GetBusiness().GetPaper() {
		t.Fatal("paper flag not read")
	}
	st, err := f.client.GetDocumentStats(f.admin(), &docv1.GetDocumentStatsRequest{From: "2026"})
	if err != nil {
		t.Fatal(err)
	}
	if st.GetTotal().GetSentFullyOnline() != 0 || st.GetTotal().GetReceivedElectronically() != 1 {
		t.Fatalf("stats %v: a document with a paper copy counted fully online", st.GetTotal())
	}
}

// A zipped attachment that would grow beyond the limit, or by a ratio beyond any document,
// is refused without being unzipped whole.
func TestEdxmlZipBomb(t *testing.T) {
	f := newFixture(t)
	big := bytes.Repeat([]byte{0}, 6<<20) // above the fixture's 4 MiB document limit
	mid := bytes.Repeat([]byte{0}, 3<<20) // within it, but 3 MiB of zeros zip a thousand times smaller
	for name, content := range map[string][]byte{"beyond the limit": big, "beyond the ratio": mid} {
		t.Run(name, func(t *testing.T) {
			z, err := zipAttachment("bomb.pdf", content)
			if err != nil {
				t.Fatal(err)
			}
			x := string(readFixture(t, "national-new.edxml"))
			i := strings.Index(x, `">`+"UEsDB") + 2
			j := strings.Index(x[i:], "<") + i
			pkg := x[:i] + base64.StdEncoding.EncodeToString(z) + x[j:]
			_, err = f.client.ImportEdxml(f.agency(agTuPhap33), &docv1.ImportEdxmlRequest{Edxml: []byte(pkg)})
			if status.Code(err) != codes.InvalidArgument || reason(err) != "EDXML_INVALID" {
				t.Fatalf("got %v", err)
			}
		})
	}
}

// testRSAChain is an RSA root and a leaf for agency, the agency code in its subject.
func testRSAChain(t *testing.T, agency string, now time.Time) (*x509.Certificate, tls.Certificate) {
	t.Helper()
	rootKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	rootTpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test Government CA"}, NotBefore: now.Add(-time.Hour),
		NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTpl, rootTpl, &rootKey.PublicKey, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := x509.ParseCertificate(rootDER)
	leafKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	leafTpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "Sở Tư pháp Hưng Yên", OrganizationalUnit: []string{agency}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTpl, root, &leafKey.PublicKey, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	return root, tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: leafKey}
}

// signEdxml signs a package enveloped (RSA-SHA256, exclusive C14N) and puts the signature
// in edXMLHeader, where QCVN 102:2016 has it.
func signEdxml(t *testing.T, pkg []byte, cert tls.Certificate) []byte {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(pkg); err != nil {
		t.Fatal(err)
	}
	ctx := dsig.NewDefaultSigningContext(dsig.TLSCertKeyStore(cert))
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	sig, err := ctx.ConstructSignature(doc.Root(), true)
	if err != nil {
		t.Fatal(err)
	}
	header := doc.FindElement("//edXMLHeader")
	header.AddChild(sig)
	out, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// An edXML package signed (XMLDSig, enveloped) with an RSA certificate of the sending agency
// chaining to a trusted root is accepted; a tampered one, or one signed by another agency's
// certificate, is refused like a bad JSON signature, saying why.
func TestEdxmlXMLSignature(t *testing.T) {
	root, leaf := testRSAChain(t, agTuPhap33, testStart)
	f2 := newFixtureWithRoots(t, root)
	pkg := signEdxml(t, readFixture(t, "national-new.edxml"), leaf)
	tampered := bytes.Replace(pkg, []byte("V/v báo cáo công tác tư pháp năm 2026</edXML:Subject>"), []byte("V/v báo cáo công tác tư pháp năm 2025</edXML:Subject>"), 1)
	if _, err := f2.client.ImportEdxml(f2.agency(agTuPhap33), &docv1.ImportEdxmlRequest{Edxml: tampered}); status.Code(err) != codes.InvalidArgument ||
		reason(err) != "SIGNATURE_INVALID" || !strings.Contains(errDetails(err), "does not verify") {
		t.Fatalf("tampered package: %v (%s)", err, errDetails(err))
	}
	_, other := testRSAChain(t, agUBND33, testStart)
	if _, err := f2.client.ImportEdxml(f2.agency(agTuPhap33), &docv1.ImportEdxmlRequest{Edxml: signEdxml(t, readFixture(t, "national-new.edxml"), other)}); status.Code(err) != codes.InvalidArgument ||
		reason(err) != "CERTIFICATE_INVALID" {
		t.Fatalf("package signed under another root: %v", err)
	}
	resp := f2.importEdxml(agTuPhap33, pkg)
	if !strings.Contains(resp.GetDocument().GetXmlSignatureSubject(), agTuPhap33) {
		t.Fatalf("signature subject %q", resp.GetDocument().GetXmlSignatureSubject())
	}
	if got := f2.inboxIDs(agUBND33); len(got) != 1 {
		t.Fatalf("delivered %v, want the signed package only", got)
	}
}

func newFixtureWithRoots(t *testing.T, root *x509.Certificate) *fixture {
	f := newFixture(t)
	f.closeFn()
	f.roots = x509.NewCertPool()
	f.roots.AddCert(root)
	f.open(f.verifier)
	return f
}

func errDetails(err error) string {
	var b strings.Builder
	for _, d := range status.Convert(err).Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				b.WriteString(v.GetDescription() + " ")
			}
		}
	}
	return b.String()
}
