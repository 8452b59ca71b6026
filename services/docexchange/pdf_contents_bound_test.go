package docexchange

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
)

// hugeContentsPDF builds a one-page PDF whose signature dictionary has a /Contents hex
// string of hexLen digits; the /ByteRange gap is that string when honest, else a gap of
// 8194 bytes at its start. terminated=false leaves the string without its ">" (the
// dictionary's ">>" closes it).
func hugeContentsPDF(hexLen int, honest, terminated bool) []byte {
	closing := ">"
	if !terminated {
		closing = ""
	}
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [4 0 R] /SigFlags 3 >> >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Annots [4 0 R] >>",
		"<< /FT /Sig /Type /Annot /Subtype /Widget /Rect [0 0 0 0] /P 3 0 R /T (Signature1) /V 5 0 R >>",
		"<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /adbe.pkcs7.detached /ByteRange [0 ########## ########## ##########] /Contents <" +
			strings.Repeat("0", hexLen) + closing + " >>",
	}
	file := classicPDF(objs, 0, "")
	start := bytes.Index(file, []byte("/Contents <")) + len("/Contents ")
	end := start + hexLen + 2
	if !honest {
		end = start + 8194
	}
	copy(file[bytes.Index(file, []byte("[0 ##########")):], fmt.Sprintf("[0 %010d %010d %010d]", start, end, len(file)-end))
	return file
}

// allocatedBy answers the bytes allocated on the heap while f runs.
func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestPDFHugeContentsNotLoaded: a signature whose /Contents is 8 MiB of hexadecimal is
// reported broken (too large, or not filling its /ByteRange gap) without the PDF reader
// loading the string: the inspection allocates little whatever the string's size, also
// when the /ByteRange lies about the gap or the string has no ">" of its own.
func TestPDFHugeContentsNotLoaded(t *testing.T) {
	const hexLen = 8 << 20
	in := &pdfInspector{now: testStart}
	for _, c := range []struct {
		name               string
		honest, terminated bool
		want               string
	}{
		{"honest byte range", true, true, "more than the 524288 inspected"},
		{"short byte range", false, true, "is empty or has more than the 524288 bytes inspected"},
		{"string closed by the dictionary's end", true, false, ""},
	} {
		pdf := hugeContentsPDF(hexLen, c.honest, c.terminated)
		var out *docv1.PdfInspection
		alloc := allocatedBy(func() { out = in.inspect(bytes.NewReader(pdf), int64(len(pdf))) })
		t.Logf("%s: %d bytes allocated for a file of %d: %v", c.name, alloc, len(pdf), out)
		if alloc > 2<<20 {
			t.Errorf("%s: the inspection allocated %d bytes for a /Contents of %d hexadecimal digits", c.name, alloc, hexLen)
		}
		if !c.terminated {
			if out.GetError() == "" && !out.GetBroken() {
				t.Errorf("%s: want the file reported: %v", c.name, out)
			}
			continue
		}
		if len(out.GetSignatures()) != 1 {
			t.Fatalf("%s: want one signature, got %v", c.name, out)
		}
		s := out.GetSignatures()[0]
		if !s.GetBroken() || !out.GetBroken() || s.GetTrusted() || s.GetUnchanged() || !strings.Contains(s.GetError(), c.want) {
			t.Errorf("%s: want broken (%q): %v", c.name, c.want, s)
		}
	}
}

// TestPDFLargestContentsStillInspected: a /Contents of exactly the largest size inspected
// is still read (and here, being zeros, fails to parse as CMS rather than being refused as
// too large).
func TestPDFLargestContentsStillInspected(t *testing.T) {
	pdf := hugeContentsPDF(2*pdfMaxCMSBytes, true, true)
	start := time.Now()
	out := (&pdfInspector{now: testStart}).inspect(bytes.NewReader(pdf), int64(len(pdf)))
	s := onlySignature(t, out)
	if !s.GetBroken() || !strings.Contains(s.GetError(), "does not parse") {
		t.Errorf("want the CMS parsed (and failing): %v", s)
	}
	t.Logf("%s", time.Since(start))
}

// TestLongHexStrings: the pass finds the insides of the hexadecimal strings longer than its
// limit (white space included, "<<" not a string, unclosed ones to the end of the file,
// across its reads' boundaries), and the view given to the PDF reader reads them blank.
func TestLongHexStrings(t *testing.T) {
	pad := strings.Repeat("%", pdfScanChunk-5)
	for _, c := range []struct {
		in   string
		want [][2]int64
	}{
		{"<< /A <0123456789> /B <01> >>", [][2]int64{{7, 17}}},
		{"<<<0123456789>", [][2]int64{{3, 13}}},
		{"<01 23\n45\x0067>", [][2]int64{{1, 12}}},
		{"/C <0123456789", [][2]int64{{4, 14}}},
		{"<012345678g> <0123456> (<0123456789>)", [][2]int64{{25, 35}}},
		{"<01234<0123456789>", [][2]int64{{7, 17}}},
		{pad + "<0123456789abcdef>", [][2]int64{{int64(len(pad)) + 1, int64(len(pad)) + 17}}},
		{"<0123456>", nil},
	} {
		got, err := longHexStrings(strings.NewReader(c.in), int64(len(c.in)), 10)
		if err != nil || fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%.40q: got %v %v, want %v", c.in, got, err, c.want)
		}
	}
	file := "1 0 obj << /Contents <" + strings.Repeat("ab", pdfMaxContentsGap) + "> /X <00> >> endobj"
	view, err := withoutLongHexStrings(strings.NewReader(file), int64(len(file)))
	if err != nil {
		t.Fatal(err)
	}
	seen := make([]byte, len(file))
	for off := 0; off < len(file); off += 1000 {
		n, _ := view.ReadAt(seen[off:min(off+1000, len(file))], int64(off))
		if n != min(1000, len(file)-off) {
			t.Fatalf("read %d at %d", n, off)
		}
	}
	if want := "1 0 obj << /Contents <" + strings.Repeat("  ", pdfMaxContentsGap) + "> /X <00> >> endobj"; string(seen) != want {
		t.Errorf("the view is not the file with the long string blanked")
	}
}
