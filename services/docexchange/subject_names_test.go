package docexchange

import (
	"crypto/x509/pkix"
	"testing"
)

// The subject kept for an XML signature names UID with its text, where a certificate
// names its agency, rather than as an OID and hex.
func TestReadableSubject(t *testing.T) {
	ca := newRSACA(t)
	_, c := ca.agencyCert(t, "Sở Tư pháp, tỉnh Hưng Yên", testStart, testStart.AddDate(1, 0, 0),
		pkix.AttributeTypeAndValue{Type: oidUID, Value: "MCQ:" + agTuPhap33})
	want := `UID=MCQ:000.02.00.H31,CN=Sở Tư pháp\, tỉnh Hưng Yên,C=VN`
	if got := readableSubject(c); got != want {
		t.Fatalf("readableSubject = %q, want %q (pkix: %q)", got, want, c.Subject.String())
	}
}
