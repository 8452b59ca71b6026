package dossier

import (
	"encoding/binary"
	"os"
	"slices"
	"sync"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"
)

// At start the part walks two buckets whole: the statistics cells and, when there is no
// current snapshot of a clean stop (livesnap.go), the open-dossier index (one entry per open
// dossier, 1.5 M of them with 19 M events stored). Their pages
// lie scattered in the file, so on a file that is not in the page cache (after a reboot)
// the walk waits for one random read after another: 7.6 s for the 62,000 pages of that
// index. warmBuckets reads the buckets' pages into the page cache first, level by level
// of each B+tree, many reads at a time and in file order, which a disk serves far faster.
//
// It only reads the file (through its own descriptor); the walk that follows goes through
// bbolt as before. A page it cannot make sense of is skipped, and any error ends the warm-
// up early: the walk then reads what is missing itself.

// warmReaders is how many reads are in flight at once.
const warmReaders = 32

// On-disk layout of a bbolt page (go.etcd.io/bbolt/internal/common/page.go): a 16-byte
// header (id uint64, flags uint16, count uint16, overflow uint32), then for a branch page
// count elements of 16 bytes (pos uint32, ksize uint32, pgid uint64). Little-endian on
// the machines bbolt files are made on.
const (
	pageHeaderSize    = 16
	branchElementSize = 16
	branchPageFlag    = 0x01
)

// warmBuckets reads the pages of the named buckets into the page cache and says how many
// pages it read (overflow pages not counted).
func warmBuckets(db *bolt.DB, names ...[]byte) int {
	var roots []uint64
	var size int64
	if err := db.View(func(tx *bolt.Tx) error {
		size = tx.Size()
		for _, n := range names {
			if b := tx.Bucket(n); b != nil && b.Root() != 0 {
				roots = append(roots, uint64(b.Root()))
			}
		}
		return nil
	}); err != nil || len(roots) == 0 {
		return 0
	}
	f, err := os.Open(db.Path())
	if err != nil {
		return 0
	}
	defer f.Close()
	w := &warmer{f: f, pageSize: db.Info().PageSize, pages: uint64(size) / uint64(db.Info().PageSize)}
	for level := roots; len(level) > 0; {
		level = w.readLevel(level)
	}
	return int(w.read.Load())
}

type warmer struct {
	f        *os.File
	pageSize int
	pages    uint64 // pages in the file: ids at or beyond are not read
	read     atomic.Int64
}

// readLevel reads the pages ids, warmReaders at a time in file order, and returns the
// children of the branch pages among them.
func (w *warmer) readLevel(ids []uint64) []uint64 {
	slices.Sort(ids)
	ids = slices.Compact(ids)
	work := make(chan uint64)
	var mu sync.Mutex
	var next []uint64
	var wg sync.WaitGroup
	if len(ids) == 0 {
		return nil
	}
	for range min(warmReaders, len(ids)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, w.pageSize)
			for id := range work {
				kids := w.readPage(id, buf)
				if len(kids) > 0 {
					mu.Lock()
					next = append(next, kids...)
					mu.Unlock()
				}
			}
		}()
	}
	for _, id := range ids {
		if id >= 2 && id < w.pages { // 0 and 1 are the meta pages
			work <- id
		}
	}
	close(work)
	wg.Wait()
	return next
}

// readPage reads page id (with its overflow pages) and returns its children if it is a
// branch page.
func (w *warmer) readPage(id uint64, buf []byte) []uint64 {
	off := int64(id) * int64(w.pageSize)
	if _, err := w.f.ReadAt(buf, off); err != nil {
		return nil
	}
	if binary.LittleEndian.Uint64(buf) != id {
		return nil // not the page expected: leave it to the walk
	}
	w.read.Add(1)
	flags := binary.LittleEndian.Uint16(buf[8:])
	count := int(binary.LittleEndian.Uint16(buf[10:]))
	overflow := binary.LittleEndian.Uint32(buf[12:])
	page := buf
	if overflow > 0 {
		if id+uint64(overflow) >= w.pages {
			return nil
		}
		page = make([]byte, (1+int(overflow))*w.pageSize)
		if _, err := w.f.ReadAt(page, off); err != nil {
			return nil
		}
	}
	if flags != branchPageFlag {
		return nil
	}
	kids := make([]uint64, 0, count)
	for i := range count {
		e := pageHeaderSize + i*branchElementSize
		if e+branchElementSize > len(page) {
			break
		}
		kids = append(kids, binary.LittleEndian.Uint64(page[e+8:]))
	}
	return kids
}
