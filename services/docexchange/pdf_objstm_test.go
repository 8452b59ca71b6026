package docexchange

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lienthong/lienthong/services/platform/platformtest"
)

// objStmPDF writes a PDF whose signature field (object 4) lies in an object stream (object
// 5) holding body as that object, with a cross-reference stream (object 6); the object
// stream is compressed (FlateDecode) when deflate is set.
func objStmPDF(body string, deflate bool) []byte {
	var b bytes.Buffer
	offsets := writePDFObjects(&b, xrefTestObjects[:3])
	header := "4 0 "
	content := header + body
	stm := b.Len()
	filter := ""
	if deflate {
		var z bytes.Buffer
		zw := zlib.NewWriter(&z)
		_, _ = zw.Write([]byte(content))
		_ = zw.Close()
		content, filter = z.String(), "/Filter /FlateDecode "
	}
	fmt.Fprintf(&b, "5 0 obj\n<< /Type /ObjStm /N 1 /First %d %s/Length %d >>\nstream\n%s\nendstream\nendobj\n", len(header), filter, len(content), content)
	xref := b.Len()
	var data bytes.Buffer
	xrefStreamEntry(&data, 0, 0, 65535)
	for _, off := range offsets {
		xrefStreamEntry(&data, 1, uint32(off), 0)
	}
	xrefStreamEntry(&data, 2, 5, 0) // object 4: the first object of stream 5
	xrefStreamEntry(&data, 1, uint32(stm), 0)
	xrefStreamEntry(&data, 1, uint32(xref), 0)
	fmt.Fprintf(&b, "6 0 obj\n<< /Type /XRef /Size 7 /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n", data.Len())
	b.Write(data.Bytes())
	fmt.Fprintf(&b, "\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n", xref)
	return b.Bytes()
}

// TestPDFOpenArrayInObjectStream: an object stream that ends inside an open array made the
// PDF reader read the stream's end forever, growing without bound, out of reach of the
// inspection's time limit (it reads nothing more), and holding one of the two inspection
// slots for good. The patched reader (third_party/digitorus-pdf, lienthong patch) reports it:
// the inspection ends, allocating little, and says the file does not parse.
func TestPDFOpenArrayInObjectStream(t *testing.T) {
	in := &pdfInspector{now: testStart}
	good := objStmPDF("<< /FT /Sig /T (Signature1) /V << /Type /Sig /Contents <00> >> >>", true)
	if out := in.inspect(bytes.NewReader(good), int64(len(good))); out.GetError() != "" || len(out.GetSignatures()) != 1 {
		t.Fatalf("a field in an object stream: want its signature read, got %v", out)
	}
	bad := objStmPDF("[1 2", false)
	done := make(chan struct{})
	var alloc uint64
	go func() {
		defer close(done)
		alloc = allocatedBy(func() { _ = in.inspect(bytes.NewReader(bad), int64(len(bad))) })
	}()
	platformtest.WaitFor(t, 3*time.Second, "the inspection of an open array to end", func() bool {
		select {
		case <-done:
			return true
		default:
			return false
		}
	})
	if alloc > 4<<20 {
		t.Errorf("an open array in an object stream: the inspection allocated %d bytes", alloc)
	}
	out := in.inspect(bytes.NewReader(bad), int64(len(bad)))
	if !strings.Contains(out.GetError()+fmt.Sprint(out.GetSignatures()), "not closed") {
		t.Errorf("want the open array reported, got %v", out)
	}
}

// TestPDFObjectStreamBomb: a small compressed object stream that inflates beyond 16 MiB is
// cut there by the patched reader (third_party/digitorus-pdf) and reported, without the
// inflated bytes being held.
func TestPDFObjectStreamBomb(t *testing.T) {
	in := &pdfInspector{now: testStart}
	bomb := objStmPDF("<< /FT /Sig /T ("+strings.Repeat("a", 40<<20)+") >>", true)
	if len(bomb) > 1<<20 {
		t.Fatalf("the bomb is %d bytes", len(bomb))
	}
	var out = in.inspect(bytes.NewReader(bomb), int64(len(bomb)))
	alloc := allocatedBy(func() { out = in.inspect(bytes.NewReader(bomb), int64(len(bomb))) })
	if alloc > 8<<20 {
		t.Errorf("a 40 MiB object stream: the inspection allocated %d bytes", alloc)
	}
	if !strings.Contains(out.GetError()+fmt.Sprint(out.GetSignatures()), "a string of more than") {
		t.Errorf("want the stream reported as too large, got %v", out)
	}
}
