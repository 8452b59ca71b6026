package docexchange

import (
	"bytes"
	"testing"
	"time"
)

// FuzzInspectPDF: the inspection of any bytes answers a report within its bounds, never a
// panic (the PDF reader's panics are caught and reported as a file that does not parse).
func FuzzInspectPDF(f *testing.F) {
	ca := newRSACA(&testing.T{})
	_, leaf := ca.agencyCert(&testing.T{}, "Fuzz", time.Now().AddDate(-1, 0, 0), time.Now().AddDate(1, 0, 0))
	pdf := ca.signedPDF(&testing.T{}, leaf, pdfSpec{})
	f.Add(pdf)
	f.Add(pdf[:len(pdf)/2])
	f.Add(append(append([]byte(nil), pdf...), "\n%x\n"...))
	f.Add(bytes.Replace(pdf, []byte("/ByteRange [0 "), []byte("/ByteRange [9 "), 1))
	f.Add([]byte("%PDF-1.7\ntrailer\n<< /Root << /AcroForm << /Fields [<< /FT /Sig /V << /ByteRange [0 1 2 3] /Contents <00> /SubFilter /adbe.pkcs7.detached >> >>] >> >> >>\nstartxref\n0\n%%EOF\n"))
	f.Add([]byte("not a pdf"))
	f.Add(streamXrefPDF(xrefTestObjects, "/Index [0 3 3 4]"))
	f.Add(classicXrefPDF(xrefTestObjects, 4_000_000, ""))
	in := &pdfInspector{roots: nil, now: testStart}
	f.Fuzz(func(t *testing.T, b []byte) {
		start := time.Now()
		out := in.inspect(bytes.NewReader(b), int64(len(b)))
		if out == nil {
			t.Fatal("no report")
		}
		if len(out.GetSignatures()) > pdfMaxSignatures {
			t.Fatalf("%d signatures inspected", len(out.GetSignatures()))
		}
		for _, s := range out.GetSignatures() {
			if s.GetBroken() && s.GetError() == "" {
				t.Fatalf("broken without a reason: %v", s)
			}
			if s.GetBroken() && !out.GetBroken() {
				t.Fatal("a broken signature and the file not flagged")
			}
		}
		if d := time.Since(start); d > pdfInspectTimeout+2*time.Second {
			t.Fatalf("inspection took %s", d)
		}
	})
}
