package docexchange

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
)

// xrefTestObjects are the objects of a one-page PDF with one signature field whose /Sig
// dictionary has a short /Contents (its /ByteRange is set by setByteRange).
var xrefTestObjects = []string{
	"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [4 0 R] /SigFlags 3 >> >>",
	"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
	"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Annots [4 0 R] >>",
	"<< /FT /Sig /Type /Annot /Subtype /Widget /Rect [0 0 0 0] /P 3 0 R /T (Signature1) /V 5 0 R >>",
	"<< /Type /Sig /SubFilter /adbe.pkcs7.detached /ByteRange [0 ########## ########## ##########] /Contents <" +
		strings.Repeat("0", 64) + "> >>",
}

// setByteRange fills the /ByteRange around the /Contents string.
func setByteRange(file []byte) []byte {
	start := bytes.Index(file, []byte("/Contents <")) + len("/Contents ")
	end := start + 66
	copy(file[bytes.Index(file, []byte("[0 ##########")):], fmt.Sprintf("[0 %010d %010d %010d]", start, end, len(file)-end))
	return file
}

// writePDFObjects starts a PDF in b with its header and objs as objects 1, 2, ... and
// answers their offsets.
func writePDFObjects(b *bytes.Buffer, objs []string) []int {
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	return offsets
}

// classicPDF writes objs with a classic cross-reference table whose one subsection starts
// at first (0 for a well-formed file), and extra entries in the trailer.
func classicPDF(objs []string, first int, trailerExtra string) []byte {
	var b bytes.Buffer
	offsets := writePDFObjects(&b, objs)
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n%d %d\n0000000000 65535 f \n", first, len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R %s >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, trailerExtra, xref)
	return b.Bytes()
}

// classicXrefPDF is classicPDF with the /ByteRange set around the /Contents string.
func classicXrefPDF(objs []string, first int, trailerExtra string) []byte {
	return setByteRange(classicPDF(objs, first, trailerExtra))
}

// xrefStreamEntry appends an entry of a cross-reference stream of /W [1 4 2].
func xrefStreamEntry(data *bytes.Buffer, typ byte, f2 uint32, f3 uint16) {
	data.WriteByte(typ)
	_ = binary.Write(data, binary.BigEndian, f2)
	_ = binary.Write(data, binary.BigEndian, f3)
}

// streamXrefPDF writes objs with an (unfiltered) cross-reference stream, /W [1 4 2], whose
// dictionary is /Size, /Root and dictExtra (an /Index, another /W, a /Prev ...). A
// dictExtra with its own /Size or /W takes the place of the computed one (the last of a
// key read wins).
func streamXrefPDF(objs []string, dictExtra string) []byte {
	var b bytes.Buffer
	offsets := writePDFObjects(&b, objs)
	xref := b.Len()
	var data bytes.Buffer
	xrefStreamEntry(&data, 0, 0, 65535)
	for _, off := range offsets {
		xrefStreamEntry(&data, 1, uint32(off), 0)
	}
	xrefStreamEntry(&data, 1, uint32(xref), 0)
	n := len(objs) + 2
	fmt.Fprintf(&b, "%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root 1 0 R /Length %d %s >>\nstream\n", n-1, n, data.Len(), dictExtra)
	b.Write(data.Bytes())
	fmt.Fprintf(&b, "\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n", xref)
	return setByteRange(b.Bytes())
}

// TestPDFReaderBounds: a file without %%EOF near its end, or whose cross-reference names
// millions of objects (a classic subsection's first number, a stream's /Size, /Index or
// /W, directly or through /Prev), is reported as not parsing before the PDF reader sizes
// anything by it: the inspection allocates little and is quick. Well-formed files with
// either kind of cross-reference are read.
func TestPDFReaderBounds(t *testing.T) {
	in := &pdfInspector{now: testStart}
	const far = 4_000_000
	classic := classicXrefPDF(xrefTestObjects, 0, "")
	// A classic table whose /Prev is a second table naming object far.
	prevBad := classicXrefPDF(xrefTestObjects, 0, "/Prev ##########")
	badAt := len(prevBad)
	prevBad = append(prevBad, fmt.Sprintf("xref\n%d 1\n0000000000 00000 n \ntrailer\n<< /Size 1 >>\n", far)...)
	copy(prevBad[bytes.Index(prevBad, []byte("/Prev #")):], fmt.Sprintf("/Prev %010d", badAt))
	for _, c := range []struct {
		name string
		pdf  []byte
		want string // in the report's error; "" for a file read
	}{
		{"no %%EOF", []byte("%PDF-1.7\n" + strings.Repeat("x", 256<<10)), "no %%EOF in its last 1024 bytes"},
		{"%%EOF earlier", append(append([]byte(nil), classic...), strings.Repeat(" ", 2000)...), "no %%EOF"},
		{"classic subsection far", classicXrefPDF(xrefTestObjects, far, ""), "names object 4000000"},
		{"classic /Prev far", prevBad, "names object 4000000"},
		{"stream /Size far", streamXrefPDF(xrefTestObjects, fmt.Sprintf("/Size %d", far)), "/Size 4000000"},
		{"stream /Index far", streamXrefPDF(xrefTestObjects, fmt.Sprintf("/Index [0 1 %d 1]", far)), "/Index names objects up to 4000000"},
		{"stream /W wide", streamXrefPDF(xrefTestObjects, "/W [1 400000000 2]"), "(/W)"},
		{"classic", classic, ""},
		{"stream", streamXrefPDF(xrefTestObjects, ""), ""},
		{"stream with /Index", streamXrefPDF(xrefTestObjects, "/Index [0 7]"), ""},
	} {
		var out = in.inspect(bytes.NewReader(c.pdf), int64(len(c.pdf)))
		alloc := allocatedBy(func() { out = in.inspect(bytes.NewReader(c.pdf), int64(len(c.pdf))) })
		if alloc > 2<<20 {
			t.Errorf("%s: the inspection allocated %d bytes for a file of %d", c.name, alloc, len(c.pdf))
		}
		if c.want != "" {
			if !strings.Contains(out.GetError(), c.want) || len(out.GetSignatures()) != 0 {
				t.Errorf("%s: want the file reported as not parsing (%q): %v", c.name, c.want, out)
			}
			continue
		}
		// The signature is found and read: its zeros are no CMS signature.
		if s := onlySignature(t, out); !s.GetBroken() || !strings.Contains(s.GetError(), "does not parse") || s.GetFieldName() != "Signature1" {
			t.Errorf("%s: want the signature read: %v", c.name, out)
		}
	}
}
