package platform

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// A part's bbolt file is checked before the part serves it (README, "Damaged data files"):
// a damaged page would otherwise be found by a request, as a wrong answer or as a panic,
// and a pointer past the end of the file as a fault that kills the process. The checks read
// the file with plain reads, never through bbolt's memory map, so that no damage can crash
// them; only when they find the structure sound is bbolt's own page check (tx.Check) run.

// CheckLevel is how thoroughly a bbolt file is checked before it is opened.
type CheckLevel int

// The zero value is CheckQuick, the default.
const (
	// CheckQuick reads a few pages whatever the size: both meta pages (checksums, and the
	// file long enough for the pages they count), the freelist, the root bucket and each
	// top-level bucket's root page and the pages right under it.
	CheckQuick CheckLevel = iota
	// CheckFull reads every page: each reachable once, in range, of the right kind, keys in
	// order, every other page free; then bbolt's own tx.Check.
	CheckFull
	// CheckOff opens the file as it is.
	CheckOff
)

// ParseCheckLevel reads "off", "quick" or "full".
func ParseCheckLevel(s string) (CheckLevel, error) {
	switch s {
	case "off":
		return CheckOff, nil
	case "quick", "":
		return CheckQuick, nil
	case "full":
		return CheckFull, nil
	}
	return CheckOff, fmt.Errorf("must be quick, full or off, not %q", s)
}

// MarshalText and UnmarshalText make a CheckLevel a flag (flag.TextVar).
func (l CheckLevel) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText reads a level as ParseCheckLevel does.
func (l *CheckLevel) UnmarshalText(b []byte) error {
	v, err := ParseCheckLevel(string(b))
	if err == nil {
		*l = v
	}
	return err
}

func (l CheckLevel) String() string {
	switch l {
	case CheckOff:
		return "off"
	case CheckFull:
		return "full"
	}
	return "quick"
}

// ErrDamaged is wrapped by every DamageError.
var ErrDamaged = errors.New("data file is damaged")

// DamageError lists what a check found wrong in a bbolt file.
type DamageError struct {
	Path     string
	Part     string // the part whose file it is, when known
	Problems []string
}

// maxProblems bounds the problems a check gathers: one damaged page can make many more.
const maxProblems = 20

func (e *DamageError) Error() string {
	shown := e.Problems
	if len(shown) > 5 {
		shown = shown[:5]
	}
	more := ""
	if n := len(e.Problems) - len(shown); n > 0 {
		more = fmt.Sprintf(" (and %d more)", n)
	}
	part := e.Part
	if part == "" {
		part = "PART"
	}
	return fmt.Sprintf("the data file %s is damaged: %s%s. It is not served: move it aside for inspection and "+
		"restore the last backup in its place (a file written by `lienthong backup --part %s --out FILE`; README, "+
		"\"Damaged data files\"); `lienthong verify --part %s --file FILE` lists all the damage",
		e.Path, strings.Join(shown, "; "), more, part, part)
}

func (e *DamageError) Unwrap() error { return ErrDamaged }

// Page layout of a bbolt file (go.etcd.io/bbolt, internal/common), in the machine's byte
// order: a 16-byte header (id u64, flags u16, count u16, overflow u32), then a meta, the
// freelist's page ids, or 16-byte elements whose keys and values follow.
const (
	pageHeaderSize  = 16
	elementSize     = 16
	bucketHeader    = 16 // the value of a bucket key: root page id, sequence
	flagBranch      = 0x01
	flagLeaf        = 0x02
	flagMeta        = 0x04
	flagFreelist    = 0x10
	leafFlagBucket  = 0x01
	boltMagic       = 0xED0CDAED
	boltVersion     = 2
	metaChecksumEnd = pageHeaderSize + 56 // the checksum covers the meta up to itself
	noFreelist      = ^uint64(0)
	// maxPageExtent bounds one page and its overflow: bbolt keeps a value in one page run,
	// and no part stores values near this size.
	maxPageExtent = 256 << 20
)

var ne = binary.NativeEndian

type meta struct {
	pageSize uint32
	root     uint64
	freelist uint64
	pgid     uint64
	txid     uint64
}

// parseMeta reads the meta in a page; the error says what is wrong with it.
func parseMeta(p []byte, slot uint64) (meta, error) {
	if len(p) < metaChecksumEnd+8 {
		return meta{}, errors.New("cut short")
	}
	m := meta{pageSize: ne.Uint32(p[24:]), root: ne.Uint64(p[32:]), freelist: ne.Uint64(p[48:]), pgid: ne.Uint64(p[56:]), txid: ne.Uint64(p[64:])}
	h := fnv.New64a()
	h.Write(p[pageHeaderSize:metaChecksumEnd])
	switch {
	case ne.Uint32(p[16:]) != boltMagic:
		return m, errors.New("not a bbolt meta page (wrong magic number)")
	case ne.Uint32(p[20:]) != boltVersion:
		return m, fmt.Errorf("unknown version %d", ne.Uint32(p[20:]))
	case ne.Uint64(p[metaChecksumEnd:]) != h.Sum64():
		return m, errors.New("checksum mismatch")
	case ne.Uint16(p[8:]) != flagMeta || ne.Uint64(p[0:]) != slot:
		return m, errors.New("page header is not that of a meta page")
	case m.pageSize < 512 || m.pageSize > 1<<24 || m.pageSize&(m.pageSize-1) != 0:
		return m, fmt.Errorf("impossible page size %d", m.pageSize)
	}
	return m, nil
}

// fileCheck reads a bbolt file page by page with ReadAt.
type fileCheck struct {
	f        io.ReaderAt
	size     int64
	pageSize int64
	hwm      uint64 // pages in use: ids 0 .. hwm-1
	problems []string
	// full walk only
	reachable []uint64 // bit set
	freed     map[uint64]bool
}

func (c *fileCheck) problem(format string, args ...any) {
	if len(c.problems) < maxProblems {
		c.problems = append(c.problems, fmt.Sprintf(format, args...))
	}
}

func (c *fileCheck) full() bool { return len(c.problems) >= maxProblems }

// readPage reads a page and its overflow after checking that the id is in use, that the
// page says it is that page and that it is of one of the kinds in want. A nil result means
// a problem was recorded.
func (c *fileCheck) readPage(id uint64, want byte, what string) []byte {
	if id < 2 || id >= c.hwm {
		c.problem("%s points to page %d, outside the pages in use (2 to %d)", what, id, c.hwm-1)
		return nil
	}
	first := make([]byte, c.pageSize)
	if _, err := c.f.ReadAt(first, int64(id)*c.pageSize); err != nil {
		c.problem("%s: page %d cannot be read: %v", what, id, err)
		return nil
	}
	gotID, flags, overflow := ne.Uint64(first[0:]), ne.Uint16(first[8:]), uint64(ne.Uint32(first[12:]))
	if gotID != id {
		c.problem("%s: page %d holds something else (its header says page %d, type %#x)", what, id, gotID, flags)
		return nil
	}
	if flags == 0 || flags&^uint16(want) != 0 || flags&(flags-1) != 0 {
		c.problem("%s: page %d has type %#x, want %s", what, id, flags, pageKinds(want))
		return nil
	}
	if id+overflow >= c.hwm || (overflow+1)*uint64(c.pageSize) > maxPageExtent {
		c.problem("%s: page %d runs over %d more pages, past the pages in use", what, id, overflow)
		return nil
	}
	if overflow == 0 {
		return first
	}
	p := make([]byte, (overflow+1)*uint64(c.pageSize))
	copy(p, first)
	if _, err := c.f.ReadAt(p[len(first):], int64(id+1)*c.pageSize); err != nil {
		c.problem("%s: page %d cannot be read: %v", what, id, err)
		return nil
	}
	return p
}

func pageKinds(want byte) string {
	var k []string
	for _, f := range []struct {
		flag byte
		name string
	}{{flagBranch, "branch"}, {flagLeaf, "leaf"}, {flagMeta, "meta"}, {flagFreelist, "freelist"}} {
		if want&f.flag != 0 {
			k = append(k, f.name)
		}
	}
	return strings.Join(k, " or ")
}

// element is one entry of a branch or leaf page.
type element struct {
	flags uint32
	key   []byte
	value []byte // leaf
	child uint64 // branch
}

// elements decodes the entries of a branch or leaf page p (bytes of the page and its
// overflow, or of an inline bucket), checking that each lies within p.
func (c *fileCheck) elements(p []byte, id uint64, what string) ([]element, bool) {
	flags, count := ne.Uint16(p[8:]), int(ne.Uint16(p[10:]))
	if pageHeaderSize+count*elementSize > len(p) {
		c.problem("%s: page %d counts %d entries, more than it can hold", what, id, count)
		return nil, false
	}
	out := make([]element, count)
	for i := range out {
		off := pageHeaderSize + i*elementSize
		e := p[off : off+elementSize]
		var start, ksize, vsize uint64
		if flags == flagBranch {
			start, ksize = uint64(off)+uint64(ne.Uint32(e[0:])), uint64(ne.Uint32(e[4:]))
			out[i].child = ne.Uint64(e[8:])
		} else {
			out[i].flags = ne.Uint32(e[0:])
			start, ksize, vsize = uint64(off)+uint64(ne.Uint32(e[4:])), uint64(ne.Uint32(e[8:])), uint64(ne.Uint32(e[12:]))
		}
		if start+ksize+vsize > uint64(len(p)) {
			c.problem("%s: page %d: entry %d lies past the end of the page", what, id, i)
			return nil, false
		}
		out[i].key = p[start : start+ksize]
		out[i].value = p[start+ksize : start+ksize+vsize]
	}
	return out, true
}

// keysInOrder checks that the keys of a page are strictly increasing and within [lo, hi)
// (nil: unbounded).
func (c *fileCheck) keysInOrder(es []element, lo, hi []byte, id uint64, what string) bool {
	prev := lo
	for i, e := range es {
		if prev != nil && (bytes.Compare(e.key, prev) < 0 || (i > 0 && bytes.Equal(e.key, prev))) {
			c.problem("%s: page %d: keys out of order at entry %d", what, id, i)
			return false
		}
		if hi != nil && bytes.Compare(e.key, hi) >= 0 {
			c.problem("%s: page %d: entry %d lies beyond the range its parent page gives it", what, id, i)
			return false
		}
		prev = e.key
	}
	return true
}

// inlinePage returns the page held in the value of an inline bucket (root id 0).
func (c *fileCheck) inlinePage(v []byte, what string) []byte {
	p := v[bucketHeader:]
	if len(p) < pageHeaderSize || ne.Uint16(p[8:]) != flagLeaf {
		c.problem("%s: inline bucket is not a leaf page", what)
		return nil
	}
	return p
}

// CheckFile checks the bbolt file open as f at level (CheckOff does nothing). It returns a
// *DamageError naming path and what it found, or an error if the file cannot be read.
func CheckFile(f *os.File, path string, level CheckLevel) (err error) {
	if level == CheckOff {
		return nil
	}
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("check %s: %w", path, err)
	}
	c := &fileCheck{f: f, size: st.Size()}
	defer func() {
		// The reads only slice what they checked; a panic would still be a damaged file, not
		// a crash of the part.
		if r := recover(); r != nil {
			c.problem("the file's structure cannot be read (%v)", r)
			err = &DamageError{Path: path, Problems: c.problems}
		}
	}()
	if c.size == 0 {
		return nil // a new file: bbolt writes its first pages
	}
	m, ok := c.metas()
	if ok {
		if level == CheckFull {
			c.freed = map[uint64]bool{}
			c.reachable = make([]uint64, (c.hwm+63)/64)
			c.mark(0, 0, "meta page 0")
			c.mark(1, 0, "meta page 1")
		}
		c.freelist(m, level == CheckFull)
		if !c.full() {
			c.rootBucket(m, level == CheckFull)
		}
		if level == CheckFull && len(c.problems) == 0 {
			c.unreachable()
		}
	}
	if len(c.problems) > 0 {
		return &DamageError{Path: path, Problems: c.problems}
	}
	return nil
}

// metas checks both meta pages and returns the one bbolt would use.
func (c *fileCheck) metas() (meta, bool) {
	if c.size < 1024 {
		c.problem("the file is %d bytes long, shorter than its two meta pages: it was cut short", c.size)
		return meta{}, false
	}
	buf := make([]byte, 4096)
	n, _ := c.f.ReadAt(buf, 0)
	m0, err0 := parseMeta(buf[:n], 0)
	// The second meta page is one page further: its size comes from the first, or, when
	// that is damaged, from the first size at which a sound meta page is found.
	var m1 meta
	err1 := errors.New("not found")
	if err0 == nil {
		c.pageSize = int64(m0.pageSize)
		n, _ = c.f.ReadAt(buf, c.pageSize)
		m1, err1 = parseMeta(buf[:n], 1)
	} else {
		for ps := int64(1024); ps <= 1<<24 && ps < c.size; ps *= 2 {
			n, _ = c.f.ReadAt(buf, ps)
			if m, err := parseMeta(buf[:n], 1); err == nil && int64(m.pageSize) == ps {
				m1, err1, c.pageSize = m, nil, ps
				break
			}
		}
	}
	if err0 != nil {
		c.problem("meta page 0: %v", err0)
	}
	if err1 != nil {
		c.problem("meta page 1: %v", err1)
	}
	if err0 != nil && err1 != nil {
		return meta{}, false
	}
	if err0 == nil && err1 == nil && m0.pageSize != m1.pageSize {
		c.problem("the meta pages disagree on the page size (%d and %d)", m0.pageSize, m1.pageSize)
		return meta{}, false
	}
	cur := m0
	if err0 != nil || (err1 == nil && m1.txid > m0.txid) {
		cur = m1
	}
	for i, m := range []meta{m0, m1} {
		if []error{err0, err1}[i] != nil {
			continue
		}
		if need := int64(m.pgid) * c.pageSize; need > c.size {
			c.problem("meta page %d counts %d pages (%d bytes) but the file is %d bytes long: it was cut short", i, m.pgid, need, c.size)
		}
		if m.root < 2 || m.root >= m.pgid {
			c.problem("meta page %d: root bucket page %d is outside the pages in use", i, m.root)
		}
		if m.freelist != noFreelist && (m.freelist < 2 || m.freelist >= m.pgid) {
			c.problem("meta page %d: freelist page %d is outside the pages in use", i, m.freelist)
		}
	}
	if c.size%c.pageSize != 0 {
		c.problem("the file is %d bytes long, not a whole number of %d-byte pages: it was cut short or appended to", c.size, c.pageSize)
	}
	c.hwm = cur.pgid
	return cur, len(c.problems) == 0
}

// freelist checks the freelist page; with all, it records the free pages for the walk.
func (c *fileCheck) freelist(m meta, all bool) {
	if m.freelist == noFreelist {
		return
	}
	p := c.readPage(m.freelist, flagFreelist, "freelist")
	if p == nil {
		return
	}
	count, off := uint64(ne.Uint16(p[10:])), uint64(pageHeaderSize)
	if count == 0xFFFF {
		count, off = ne.Uint64(p[pageHeaderSize:]), off+8
	}
	if off+count*8 > uint64(len(p)) {
		c.problem("freelist: page %d counts %d free pages, more than it holds", m.freelist, count)
		return
	}
	if all {
		c.mark(m.freelist, uint64(ne.Uint32(p[12:])), "freelist")
	}
	var prev uint64
	for i := uint64(0); i < count; i++ {
		id := ne.Uint64(p[off+i*8:])
		if id < 2 || id >= c.hwm || (i > 0 && id <= prev) {
			c.problem("freelist: page %d: entry %d (page %d) is out of range or out of order", m.freelist, i, id)
			return
		}
		prev = id
		if all {
			c.freed[id] = true
		}
	}
}

// mark records that pages id .. id+overflow are reachable; false if one already was (a
// page referenced twice, or a loop).
func (c *fileCheck) mark(id, overflow uint64, what string) bool {
	once := true
	for i := id; i <= id+overflow; i++ {
		w, b := i/64, uint64(1)<<(i%64)
		if c.reachable[w]&b != 0 {
			c.problem("%s: page %d is referenced twice", what, i)
			once = false
		}
		c.reachable[w] |= b
		if c.freed[i] {
			c.problem("%s: page %d is in use and also listed as free", what, i)
		}
	}
	return once
}

// rootBucket checks the root bucket's page and the buckets it holds: with all, every page
// of every bucket; otherwise each top-level bucket's root page and the pages right under it.
func (c *fileCheck) rootBucket(m meta, all bool) {
	if all {
		c.walk(m.root, nil, nil, "root bucket")
		return
	}
	// The root bucket holds a handful of keys (one per top-level bucket): one leaf page, or
	// a branch page over a few.
	p := c.readPage(m.root, flagBranch|flagLeaf, "root bucket")
	if p == nil {
		return
	}
	leaves := [][]byte{p}
	if ne.Uint16(p[8:]) == flagBranch {
		es, ok := c.elements(p, m.root, "root bucket")
		if !ok || !c.keysInOrder(es, nil, nil, m.root, "root bucket") {
			return
		}
		leaves = leaves[:0]
		for _, e := range es {
			if l := c.readPage(e.child, flagLeaf, "root bucket"); l != nil {
				leaves = append(leaves, l)
			}
		}
	}
	for _, l := range leaves {
		es, ok := c.elements(l, ne.Uint64(l[0:]), "root bucket")
		if !ok || !c.keysInOrder(es, nil, nil, ne.Uint64(l[0:]), "root bucket") {
			continue
		}
		for _, e := range es {
			if e.flags&leafFlagBucket == 0 {
				continue
			}
			c.bucketTop(e.key, e.value)
			if c.full() {
				return
			}
		}
	}
}

// bucketTop checks a bucket's root page and the first page of each of its children.
func (c *fileCheck) bucketTop(name, v []byte) {
	what := fmt.Sprintf("bucket %q", name)
	if len(v) < bucketHeader {
		c.problem("%s: its header is cut short", what)
		return
	}
	root := ne.Uint64(v)
	if root == 0 {
		if p := c.inlinePage(v, what); p != nil {
			if es, ok := c.elements(p, 0, what); ok {
				c.keysInOrder(es, nil, nil, 0, what)
			}
		}
		return
	}
	p := c.readPage(root, flagBranch|flagLeaf, what)
	if p == nil {
		return
	}
	es, ok := c.elements(p, root, what)
	if !ok || !c.keysInOrder(es, nil, nil, root, what) || ne.Uint16(p[8:]) != flagBranch {
		return
	}
	// Only the first page of each child: its header and its table of entries, which is all
	// a lookup needs to start, without reading the overflow of large values.
	for _, e := range es {
		first := make([]byte, c.pageSize)
		if e.child < 2 || e.child >= c.hwm {
			c.problem("%s: page %d points to page %d, outside the pages in use", what, root, e.child)
			return
		}
		if _, err := c.f.ReadAt(first, int64(e.child)*c.pageSize); err != nil {
			c.problem("%s: page %d cannot be read: %v", what, e.child, err)
			return
		}
		id, flags, count, overflow := ne.Uint64(first[0:]), ne.Uint16(first[8:]), int(ne.Uint16(first[10:])), uint64(ne.Uint32(first[12:]))
		switch {
		case id != e.child:
			c.problem("%s: page %d holds something else (its header says page %d, type %#x)", what, e.child, id, flags)
		case flags != flagBranch && flags != flagLeaf:
			c.problem("%s: page %d has type %#x, want branch or leaf", what, e.child, flags)
		case e.child+overflow >= c.hwm:
			c.problem("%s: page %d runs over %d more pages, past the pages in use", what, e.child, overflow)
		case uint64(pageHeaderSize+count*elementSize) > (overflow+1)*uint64(c.pageSize):
			c.problem("%s: page %d counts %d entries, more than it can hold", what, e.child, count)
		case flags == flagBranch:
			// The page ids it points to, which a lookup follows next.
			for i := 0; i < count && pageHeaderSize+(i+1)*elementSize <= len(first); i++ {
				if id := ne.Uint64(first[pageHeaderSize+i*elementSize+8:]); id < 2 || id >= c.hwm {
					c.problem("%s: page %d points to page %d, outside the pages in use", what, e.child, id)
					break
				}
			}
		}
		if c.full() {
			return
		}
	}
}

// walk checks every page of the tree under id, whose keys must lie in [lo, hi), and of the
// buckets its leaves hold.
func (c *fileCheck) walk(id uint64, lo, hi []byte, what string) {
	if c.full() {
		return
	}
	p := c.readPage(id, flagBranch|flagLeaf, what)
	if p == nil {
		return
	}
	if !c.mark(id, uint64(ne.Uint32(p[12:])), what) {
		return
	}
	es, ok := c.elements(p, id, what)
	if !ok || !c.keysInOrder(es, lo, hi, id, what) {
		return
	}
	if ne.Uint16(p[8:]) == flagBranch {
		for i, e := range es {
			next := hi
			if i+1 < len(es) {
				next = es[i+1].key
			}
			c.walk(e.child, e.key, next, what)
		}
		return
	}
	c.leafBuckets(es, what)
}

// leafBuckets walks the buckets held in the entries of a leaf.
func (c *fileCheck) leafBuckets(es []element, parent string) {
	for _, e := range es {
		if e.flags&leafFlagBucket == 0 || c.full() {
			continue
		}
		what := fmt.Sprintf("bucket %q", e.key)
		if parent != "root bucket" {
			what = parent + "/" + fmt.Sprintf("%q", e.key)
		}
		if len(e.value) < bucketHeader {
			c.problem("%s: its header is cut short", what)
			continue
		}
		if root := ne.Uint64(e.value); root != 0 {
			c.walk(root, nil, nil, what)
			continue
		}
		if p := c.inlinePage(e.value, what); p != nil {
			if ies, ok := c.elements(p, 0, what); ok && c.keysInOrder(ies, nil, nil, 0, what) {
				c.leafBuckets(ies, what)
			}
		}
	}
}

// unreachable reports the pages in use that no tree reaches and the freelist does not list.
func (c *fileCheck) unreachable() {
	for id := uint64(2); id < c.hwm && !c.full(); id++ {
		if c.reachable[id/64]&(1<<(id%64)) == 0 && !c.freed[id] {
			c.problem("page %d is neither in use nor free", id)
		}
	}
}

// CheckPages runs bbolt's own check of every page (tx.Check) on an open database. Run it only
// after CheckFile at CheckFull found the structure sound: bbolt follows page ids through
// its memory map, and an id past the end of the file would fault there. Its panics on a
// damaged page (an unknown page type, a page that is another) are reported as damage.
func CheckPages(db *bolt.DB) (err error) {
	var problems []string
	err = db.View(func(tx *bolt.Tx) error {
		for e := range tx.Check() {
			if len(problems) < maxProblems {
				problems = append(problems, e.Error())
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("check %s: %w", db.Path(), err)
	}
	if len(problems) > 0 {
		return &DamageError{Path: db.Path(), Problems: problems}
	}
	return nil
}

// CheckPath checks every page of part's bbolt file at path (CheckFile at CheckFull, then
// CheckPages), taking the shared lock readers take: ErrLocked if a running part holds it.
func CheckPath(path, part string) (err error) {
	defer func() { err = withPart(err, part) }()
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	if err := lockFile(f, 500*time.Millisecond, false); err != nil {
		f.Close()
		if errors.Is(err, bolt.ErrTimeout) {
			return fmt.Errorf("%s: %w", path, ErrLocked)
		}
		return fmt.Errorf("lock %s: %w", path, err)
	}
	if err := CheckFile(f, path, CheckFull); err != nil {
		f.Close()
		return err
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true,
		OpenFile: func(string, int, os.FileMode) (*os.File, error) { return f, nil }})
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer db.Close()
	return CheckPages(db)
}

// withPart names the part in a DamageError.
func withPart(err error, part string) error {
	var de *DamageError
	if errors.As(err, &de) {
		de.Part = part
	}
	return err
}
