package docexchange

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Before the PDF reader (github.com/digitorus/pdf) opens a file, the two things it sizes
// from the file's own words are checked so that a small hostile file cannot make it
// allocate without bound (docs/security.md, "signed PDF attachments"):
//
//   - where the file ends: the reader looks for the last %%EOF with a search that grows
//     by 200 bytes and allocates each time, so a file without one costs time and memory
//     quadratic in its size; %%EOF must be within the last 1024 bytes (what Acrobat
//     accepts; docs/domain.md, "Signed PDF attachments"), else the file is reported as
//     not parsing;
//   - its cross-reference sections: the reader builds a table of every object number a
//     section names (the first number of a subsection of a classic table plus its
//     entries, the /Size and /Index of a cross-reference stream), so a subsection
//     starting at 100,000,000 would cost gigabytes. The sections it reads (from the
//     startxref it finds, then each /Prev) are read here the way it reads them, and object
//     numbers of pdfMaxObjectNumber or more are refused.

// pdfEOFWindow is how near the end of the file its %%EOF must be.
const pdfEOFWindow = 1024

// pdfMaxObjectNumber is the bound on a PDF's object numbers: one per 16 bytes of the file,
// at least 65,536, at most 8,388,607 (the largest number of indirect objects of ISO
// 32000-1 Annex C; docs/domain.md, "Signed PDF attachments"). The reader's table costs 32
// bytes an object number.
func pdfMaxObjectNumber(size int64) int64 {
	return min(max(size/16, 1<<16), 8388607)
}

// The bounds of the reading of one cross-reference section's dictionaries.
const (
	pdfXrefMaxTokens   = 1 << 16 // tokens of one dictionary
	pdfXrefMaxArray    = 1 << 12 // elements of one of its arrays kept
	pdfXrefMaxDepth    = 32      // nesting of arrays and dictionaries
	pdfXrefMaxSections = 1 << 10 // sections of a /Prev chain
	pdfXrefMaxW        = 64      // bytes of one cross-reference stream entry (/W)
)

// errPDFBound is a bound of this file refused: the file is not handed to the reader.
type errPDFBound struct{ msg string }

func (e errPDFBound) Error() string { return e.msg }

// checkPDFReaderBounds answers an error when the PDF reader should not open r: no %%EOF
// near the end, or a cross-reference section the reader would read names too many objects
// or does not parse.
func checkPDFReaderBounds(r io.ReaderAt, size int64) error {
	n := min(size, pdfEOFWindow)
	tail := make([]byte, n)
	if _, err := r.ReadAt(tail, size-n); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	i := bytes.LastIndex(tail, []byte("%%EOF"))
	if i < 0 {
		return fmt.Errorf("no %%%%EOF in its last %d bytes", pdfEOFWindow)
	}
	eofEnd := size - n + int64(i) + 5
	// The reader takes the startxref of the last line "startxref" in the 200 bytes before
	// the end of %%EOF; without one it fails by itself.
	if eofEnd < 200 {
		return nil
	}
	win := make([]byte, 200)
	if _, err := r.ReadAt(win, eofEnd-200); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	at := lastStartxrefLine(win)
	if at < 0 {
		return nil
	}
	lx := newPDFLexer(r, size, eofEnd-200+int64(at))
	if lx.token() != (pdfToken{kind: 'k', s: "startxref"}) {
		return nil
	}
	t := lx.token()
	if t.kind != 'i' {
		return nil
	}
	if err := checkXrefChain(r, size, t.n, pdfMaxObjectNumber(size)); err != nil {
		return errPDFBound{msg: err.Error()}
	}
	return nil
}

// lastStartxrefLine is the index of the last "startxref" of buf with a line end on both
// sides (not at the very start or end of buf), or -1.
func lastStartxrefLine(buf []byte) int {
	kw := []byte("startxref")
	eol := func(c byte) bool { return c == '\n' || c == '\r' }
	for end := len(buf); ; {
		i := bytes.LastIndex(buf[:end], kw)
		if i <= 0 || i+len(kw) >= len(buf) {
			return -1
		}
		if eol(buf[i-1]) && eol(buf[i+len(kw)]) {
			return i
		}
		end = i
	}
}

// checkXrefChain reads the cross-reference section at off and those its /Prev entries
// name, as the reader does, and refuses object numbers of limit or more.
func checkXrefChain(r io.ReaderAt, size, off, limit int64) error {
	if off < 0 || off >= size {
		return nil // the reader fails by itself
	}
	lx := newPDFLexer(r, size, off)
	first := lx.token()
	if first.kind == 'k' && first.s == "xref" {
		return checkXrefTables(r, size, lx, limit)
	}
	if first.kind == 'i' {
		lx.unread(first)
		return checkXrefStreams(r, size, lx, limit)
	}
	return nil
}

// checkXrefTables reads classic tables: subsections "start count" and their entries, then
// the trailer dictionary, following /Prev.
func checkXrefTables(r io.ReaderAt, size int64, lx *pdfLexer, limit int64) error {
	seen := map[int64]bool{}
	for sections := 0; ; sections++ {
		if sections >= pdfXrefMaxSections {
			return fmt.Errorf("more than %d cross-reference sections", pdfXrefMaxSections)
		}
		for {
			t := lx.token()
			if t.kind == 'k' && t.s == "trailer" {
				break
			}
			c := lx.token()
			if t.kind != 'i' || c.kind != 'i' {
				return lx.fail("a cross-reference subsection header")
			}
			for i := int64(0); i < c.n; i++ {
				o, g, a := lx.token(), lx.token(), lx.token()
				if o.kind != 'i' || g.kind != 'i' || a.kind != 'k' || a.s != "f" && a.s != "n" {
					return lx.fail("a cross-reference entry")
				}
				if x := t.n + i; x < 0 || x >= limit {
					return fmt.Errorf("the cross-reference table names object %d, beyond the %d objects read in a file of this size", x, limit)
				}
			}
		}
		trailer, err := lx.dictObject()
		if err != nil {
			return err
		}
		prev, ok := trailer["Prev"]
		if !ok {
			return nil
		}
		if prev.kind != 'i' || seen[prev.n] || prev.n < 0 || prev.n >= size {
			return nil // the reader fails by itself
		}
		seen[prev.n] = true
		lx = newPDFLexer(r, size, prev.n)
		if t := lx.token(); t.kind != 'k' || t.s != "xref" {
			return nil
		}
	}
}

// checkXrefStreams reads cross-reference streams' dictionaries (/Size, /Index, /W),
// following /Prev.
func checkXrefStreams(r io.ReaderAt, size int64, lx *pdfLexer, limit int64) error {
	seen := map[int64]bool{}
	var lastSize int64 = -1
	for sections := 0; ; sections++ {
		if sections >= pdfXrefMaxSections {
			return fmt.Errorf("more than %d cross-reference sections", pdfXrefMaxSections)
		}
		id, gen, obj := lx.token(), lx.token(), lx.token()
		if id.kind != 'i' || gen.kind != 'i' || obj != (pdfToken{kind: 'k', s: "obj"}) {
			return nil // the reader fails by itself
		}
		d, err := lx.dictObject()
		if err != nil {
			return err
		}
		if t := d["Type"]; t.kind != '/' || t.s != "XRef" {
			return nil
		}
		n := d["Size"]
		if lastSize < 0 {
			if n.kind != 'i' {
				return nil
			}
			if n.n >= limit {
				return fmt.Errorf("the cross-reference stream has /Size %d, beyond the %d objects read in a file of this size", n.n, limit)
			}
			lastSize = n.n
		} else if n.kind != 'i' {
			n = pdfValue{kind: 'i'} // an indirect /Size reads as 0
		}
		if n.n > lastSize {
			return nil
		}
		index := d["Index"]
		if index.kind != 'a' {
			index = pdfValue{kind: 'a', arr: []pdfValue{{kind: 'i'}, n}}
		}
		for i := 0; i+1 < len(index.arr); i += 2 {
			s, c := index.arr[i], index.arr[i+1]
			if s.kind != 'i' || c.kind != 'i' {
				break
			}
			if c.n > 0 && (s.n < 0 || s.n >= limit || c.n > limit-s.n) {
				return fmt.Errorf("the cross-reference stream's /Index names objects up to %d, beyond the %d objects read in a file of this size", s.n+c.n-1, limit)
			}
		}
		var w int64
		for _, e := range d["W"].arr {
			if e.kind == 'i' {
				w += max(e.n, 0)
			}
		}
		if w > pdfXrefMaxW {
			return fmt.Errorf("the cross-reference stream's entries have %d bytes (/W), more than %d", w, pdfXrefMaxW)
		}
		prev, ok := d["Prev"]
		if !ok || prev.kind != 'i' || seen[prev.n] || prev.n < 0 || prev.n >= size {
			return nil
		}
		seen[prev.n] = true
		lx = newPDFLexer(r, size, prev.n)
	}
}

// pdfToken is a token as the reader's lexer reads it: 'k' keyword or delimiter ("<<",
// "[", "R", "obj", ...), 'i' integer, 'f' real, '/' name, 's' string (not kept), 'e' an
// error or the end of the file.
type pdfToken struct {
	kind byte
	s    string
	n    int64
}

// pdfValue is an object of a cross-reference dictionary: a token's value, 'r' a
// reference, 'a' an array (its elements kept at its top level only), 'd' a dictionary.
type pdfValue struct {
	kind byte
	s    string
	n    int64
	arr  []pdfValue
}

// pdfLexer reads tokens from an offset the way github.com/digitorus/pdf does, keeping no
// string and at most 256 bytes of a name or keyword.
type pdfLexer struct {
	r       *bufio.Reader
	pending []pdfToken
	tokens  int
	err     error
}

func newPDFLexer(r io.ReaderAt, size, off int64) *pdfLexer {
	return &pdfLexer{r: bufio.NewReaderSize(io.NewSectionReader(r, off, size-off), 4096)}
}

func (lx *pdfLexer) fail(what string) error {
	if lx.err != nil {
		return fmt.Errorf("reading %s: %v", what, lx.err)
	}
	return fmt.Errorf("%s does not parse", what)
}

func (lx *pdfLexer) unread(t pdfToken) { lx.pending = append(lx.pending, t) }

func (lx *pdfLexer) byte() (byte, bool) {
	c, err := lx.r.ReadByte()
	if err != nil {
		if lx.err == nil {
			lx.err = err
		}
		return 0, false
	}
	return c, true
}

func isPDFDelim(c byte) bool {
	return bytes.IndexByte([]byte("<>()[]{}/%"), c) >= 0
}

func (lx *pdfLexer) token() pdfToken {
	if n := len(lx.pending); n > 0 {
		t := lx.pending[n-1]
		lx.pending = lx.pending[:n-1]
		return t
	}
	lx.tokens++
	c, ok := lx.byte()
	for ok && (isPDFSpace(c) || c == '%') {
		if c == '%' {
			for ok && c != '\r' && c != '\n' {
				c, ok = lx.byte()
			}
			continue
		}
		c, ok = lx.byte()
	}
	if !ok {
		return pdfToken{kind: 'e'}
	}
	switch c {
	case '<':
		if d, ok := lx.byte(); ok && d == '<' {
			return pdfToken{kind: 'k', s: "<<"}
		} else if ok {
			_ = lx.r.UnreadByte()
		}
		for {
			d, ok := lx.byte()
			if !ok {
				return pdfToken{kind: 'e'}
			}
			if d == '>' {
				return pdfToken{kind: 's'}
			}
			if !isHexDigit(d) && !isPDFSpace(d) {
				return pdfToken{kind: 'e'}
			}
		}
	case '(':
		for depth := 1; depth > 0; {
			d, ok := lx.byte()
			if !ok {
				return pdfToken{kind: 'e'}
			}
			switch d {
			case '(':
				depth++
			case ')':
				depth--
			case '\\':
				if _, ok := lx.byte(); !ok {
					return pdfToken{kind: 'e'}
				}
			}
		}
		return pdfToken{kind: 's'}
	case '[', ']', '{', '}':
		return pdfToken{kind: 'k', s: string(c)}
	case '>':
		if d, ok := lx.byte(); ok && d == '>' {
			return pdfToken{kind: 'k', s: ">>"}
		}
		return pdfToken{kind: 'e'}
	case '/':
		name, ok := lx.regular(nil, true)
		if !ok {
			return pdfToken{kind: 'e'}
		}
		return pdfToken{kind: '/', s: name}
	}
	if isPDFDelim(c) {
		return pdfToken{kind: 'e'}
	}
	s, _ := lx.regular([]byte{c}, false)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return pdfToken{kind: 'i', n: n}
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return pdfToken{kind: 'f'}
	}
	return pdfToken{kind: 'k', s: s}
}

// object reads one object as the reader does (an integer followed by "G R" is a
// reference), with its bounds on tokens and nesting.
func (lx *pdfLexer) object(depth int, keep bool) (pdfValue, error) {
	if lx.tokens > pdfXrefMaxTokens || depth > pdfXrefMaxDepth {
		return pdfValue{}, fmt.Errorf("a cross-reference dictionary of more than %d tokens or %d levels", pdfXrefMaxTokens, pdfXrefMaxDepth)
	}
	t := lx.token()
	switch {
	case t.kind == 'e':
		return pdfValue{}, lx.fail("a cross-reference dictionary")
	case t.kind == 'k' && t.s == "<<":
		return lx.dict(depth+1, nil)
	case t.kind == 'k' && t.s == "[":
		a := pdfValue{kind: 'a'}
		for {
			e := lx.token()
			if e.kind == 'k' && e.s == "]" {
				return a, nil
			}
			lx.unread(e)
			v, err := lx.object(depth+1, false)
			if err != nil {
				return a, err
			}
			if keep {
				if len(a.arr) >= pdfXrefMaxArray {
					return a, fmt.Errorf("an array of more than %d elements in a cross-reference dictionary", pdfXrefMaxArray)
				}
				a.arr = append(a.arr, v)
			}
		}
	case t.kind == 'i' && t.n >= 0 && t.n <= 1<<32-1:
		g := lx.token()
		if g.kind == 'i' && g.n >= 0 && g.n <= 1<<16-1 {
			k := lx.token()
			if k.kind == 'k' && (k.s == "R" || k.s == "obj") {
				return pdfValue{kind: 'r'}, nil
			}
			lx.unread(k)
		}
		lx.unread(g)
	}
	return pdfValue{kind: t.kind, s: t.s, n: t.n}, nil
}

// pdfXrefKeys are the entries of a cross-reference dictionary the reader sizes its table by.
var pdfXrefKeys = map[string]bool{"Type": true, "Size": true, "Prev": true, "Index": true, "W": true}

// dict reads a dictionary after its "<<"; into top (when not nil) it keeps the values of
// the pdfXrefKeys entries, the last of a key read winning as with the reader.
func (lx *pdfLexer) dict(depth int, top map[string]pdfValue) (pdfValue, error) {
	for {
		k := lx.token()
		if k.kind == 'k' && k.s == ">>" {
			return pdfValue{kind: 'd'}, nil
		}
		if k.kind != '/' {
			return pdfValue{}, lx.fail("a cross-reference dictionary's key")
		}
		keep := top != nil && pdfXrefKeys[k.s]
		v, err := lx.object(depth, keep)
		if err != nil {
			return pdfValue{}, err
		}
		if keep {
			top[k.s] = v
		}
	}
}

// dictObject reads a dictionary object ("<<" … ">>") and answers its pdfXrefKeys entries.
func (lx *pdfLexer) dictObject() (map[string]pdfValue, error) {
	lx.tokens = 0
	if t := lx.token(); t.kind != 'k' || t.s != "<<" {
		return nil, lx.fail("a cross-reference dictionary")
	}
	out := map[string]pdfValue{}
	_, err := lx.dict(1, out)
	return out, err
}

// regular reads regular characters up to the next delimiter or white space (left unread),
// keeping the first 256 after start; in a name (ISO 32000-1 §7.3.5) #xx is one byte, and a
// broken one answers false.
func (lx *pdfLexer) regular(start []byte, name bool) (string, bool) {
	out := start
	for {
		d, ok := lx.byte()
		if !ok {
			break
		}
		if isPDFDelim(d) || isPDFSpace(d) {
			_ = lx.r.UnreadByte()
			break
		}
		if name && d == '#' {
			h, ok1 := lx.byte()
			l, ok2 := lx.byte()
			if !ok1 || !ok2 || !isHexDigit(h) || !isHexDigit(l) {
				return "", false
			}
			x, _ := strconv.ParseUint(string([]byte{h, l}), 16, 8)
			d = byte(x)
		}
		if len(out) < 256 {
			out = append(out, d)
		}
	}
	return string(out), true
}
