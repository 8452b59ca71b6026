package docexchange

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"path/filepath"
	"testing"
	"time"

	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestEdxmlXMLSignatureCertificateChecks: the certificate of an XML-signed package passes
// the check a registered certificate passes for a JSON signature, with the same reasons: a
// certificate revoked by the CRL is CERTIFICATE_REVOKED, an expired one CERTIFICATE_INVALID,
// one naming another agency, or registered for another agency, CERTIFICATE_NOT_OF_SENDER
// (403); one registered for the sender, or naming it, is accepted.
func TestEdxmlXMLSignatureCertificateChecks(t *testing.T) {
	ca := newRSACA(t)
	crl := filepath.Join(t.TempDir(), "intermediate.crl")
	year := testStart.AddDate(1, 0, 0)
	uid := func(code string) pkix.AttributeTypeAndValue {
		return pkix.AttributeTypeAndValue{Type: oidUID, Value: "MCQ:" + code}
	}
	_, named := ca.agencyCert(t, "Sở Tư pháp tỉnh Hưng Yên", testStart.Add(-time.Hour), year, uid(agTuPhap33))
	_, revoked := ca.agencyCert(t, "Sở Tư pháp tỉnh Hưng Yên (thu hồi)", testStart.Add(-time.Hour), year, uid(agTuPhap33))
	_, expired := ca.agencyCert(t, "Sở Tư pháp tỉnh Hưng Yên (hết hạn)", testStart.AddDate(-1, 0, 0), testStart.Add(-time.Hour), uid(agTuPhap33))
	_, other := ca.agencyCert(t, "UBND tỉnh Hưng Yên", testStart.Add(-time.Hour), year, uid(agUBND33))
	plainPEM, plain := ca.agencyCert(t, "Văn thư", testStart.Add(-time.Hour), year)
	ownPEM, own := ca.agencyCert(t, "Văn thư Sở Tư pháp", testStart.Add(-time.Hour), year)
	ca.writeCRL(t, crl, 1, x509.RevocationListEntry{SerialNumber: revoked.SerialNumber, RevocationTime: testStart.Add(-30 * time.Minute), ReasonCode: 1})
	f := caFixture(t, ca, crl)
	if _, err := putChain(f, agUBND33, "ubnd-vanthu", plainPEM, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := putChain(f, agTuPhap33, "stp-vanthu", ownPEM, ""); err != nil {
		t.Fatal(err)
	}
	signed := func(c *x509.Certificate) []byte {
		return signEdxml(t, readFixture(t, "national-new.edxml"), tls.Certificate{Certificate: [][]byte{c.Raw, ca.inter.Raw}, PrivateKey: ca.leafKey})
	}
	refused := []struct {
		name   string
		cert   *x509.Certificate
		code   codes.Code
		reason string
	}{
		{"revoked", revoked, codes.InvalidArgument, "CERTIFICATE_REVOKED"},
		{"expired", expired, codes.InvalidArgument, "CERTIFICATE_INVALID"},
		{"naming another agency", other, codes.PermissionDenied, "CERTIFICATE_NOT_OF_SENDER"},
		{"registered for another agency", plain, codes.PermissionDenied, "CERTIFICATE_NOT_OF_SENDER"},
	}
	for _, c := range refused {
		_, err := f.client.ImportEdxml(f.agency(agTuPhap33), &docv1.ImportEdxmlRequest{Edxml: signed(c.cert)})
		if status.Code(err) != c.code || reason(err) != c.reason {
			t.Errorf("%s certificate: got %v %q (%v), want %v %s", c.name, status.Code(err), reason(err), errDetails(err), c.code, c.reason)
		}
	}
	if got := f.inboxIDs(agUBND33); len(got) != 0 {
		t.Fatalf("refused packages delivered: %v", got)
	}
	for name, c := range map[string]*x509.Certificate{"naming the sender": named, "registered for the sender": own} {
		if resp, err := f.client.ImportEdxml(f.agency(agTuPhap33), &docv1.ImportEdxmlRequest{Edxml: signed(c)}); err != nil {
			t.Errorf("certificate %s: %v (%s)", name, err, errDetails(err))
		} else if resp.GetDocument().GetXmlSignatureSubject() == "" {
			t.Errorf("certificate %s: no signature subject kept", name)
		}
	}
}
