package docexchange

import (
	"bytes"
	"errors"
	"io"
	"sort"
)

// The PDF reader (github.com/digitorus/pdf) loads a whole object when it resolves it, so a
// signature dictionary whose /Contents is huge would cost memory up to the attachment's
// size before the pdfMaxCMSBytes bound is checked. Before the reader sees the file, one
// streamed pass finds every hexadecimal string longer than a CMS signature this service
// parses (pdfMaxContentsGap), and the reader is given a view of the file in which those
// strings' digits read as spaces, so that it sees them empty and allocates nothing for
// them. The signed bytes are still read from the file itself; a signature whose
// /ByteRange gap is longer than pdfMaxContentsGap is reported broken before its /Contents
// is looked at (signature, pdf_signatures.go).

// pdfMaxContentsGap is the longest /Contents hexadecimal string inspected, its delimiters
// included: two digits a byte of the pdfMaxCMSBytes of a CMS blob, and "<" and ">".
const pdfMaxContentsGap = 2*pdfMaxCMSBytes + 2

// pdfScanChunk is the size of the reads of the pass that finds long hexadecimal strings.
const pdfScanChunk = 64 << 10

// longHexStrings answers the extents [start, end) of the insides (between "<" and ">", or
// to the end of the file when unclosed) of the hexadecimal strings of r longer than limit
// bytes, delimiters included, in file order. "<<" opens a dictionary, not a string. The
// pass reads the file once in chunks: its memory is bounded whatever the file; the
// extents are at most size/limit.
func longHexStrings(r io.ReaderAt, size, limit int64) ([][2]int64, error) {
	const (
		normal = iota
		afterLT
		inHex
	)
	var out [][2]int64
	state, start := normal, int64(0)
	buf := make([]byte, pdfScanChunk)
	for off := int64(0); off < size; {
		n, err := r.ReadAt(buf[:min(int64(len(buf)), size-off)], off)
		if n == 0 && err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, err
		}
		b := buf[:n]
		for i := 0; i < len(b); {
			switch state {
			case normal:
				j := bytes.IndexByte(b[i:], '<')
				if j < 0 {
					i = len(b)
					continue
				}
				i += j
				state, start = afterLT, off+int64(i)
				i++
			case afterLT:
				if b[i] == '<' {
					state = normal
					i++
					continue
				}
				state = inHex
			case inHex:
				for i < len(b) && pdfHexOrSpace[b[i]] {
					i++
				}
				if i == len(b) {
					continue
				}
				if p := off + int64(i); b[i] == '>' && p+1-start > limit {
					out = append(out, [2]int64{start + 1, p})
				}
				state = normal
				if b[i] != '<' {
					i++
				}
			}
		}
		off += int64(n)
	}
	if state != normal && size-start > limit {
		out = append(out, [2]int64{start + 1, size})
	}
	return out, nil
}

// pdfHexOrSpace: the bytes of a hexadecimal string between its delimiters.
var pdfHexOrSpace = func() (t [256]bool) {
	for c := range t {
		t[c] = isHexDigit(byte(c)) || isPDFSpace(byte(c))
	}
	return t
}()

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// isPDFSpace: the white-space characters of ISO 32000-1 §7.2.2 (Table 1).
func isPDFSpace(c byte) bool {
	switch c {
	case 0, '\t', '\n', '\f', '\r', ' ':
		return true
	}
	return false
}

// blankedReaderAt reads r with the bytes of the extents (sorted, disjoint) read as spaces.
type blankedReaderAt struct {
	r       io.ReaderAt
	extents [][2]int64
}

func (b blankedReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := b.r.ReadAt(p, off)
	end := off + int64(n)
	for i := sort.Search(len(b.extents), func(i int) bool { return b.extents[i][1] > off }); i < len(b.extents) && b.extents[i][0] < end; i++ {
		for j := max(b.extents[i][0], off); j < min(b.extents[i][1], end); j++ {
			p[j-off] = ' '
		}
	}
	return n, err
}

// withoutLongHexStrings answers the view of r the PDF reader is given: r itself when it
// has no hexadecimal string longer than pdfMaxContentsGap, else r with their digits blanked.
func withoutLongHexStrings(r io.ReaderAt, size int64) (io.ReaderAt, error) {
	extents, err := longHexStrings(r, size, pdfMaxContentsGap)
	if err != nil || len(extents) == 0 {
		return r, err
	}
	return blankedReaderAt{r: r, extents: extents}, nil
}
