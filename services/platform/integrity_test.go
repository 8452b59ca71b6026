package platform

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// damageFixture is a part file with a few buckets, one of them three levels deep (a root
// branch page over branch pages over leaves), closed, and where its pages are.
type damageFixture struct {
	dir, part, path string
	pageSize        int64
	freelist        uint64
	smallRoot       uint64 // root page of a bucket of one leaf
	bigRoot         uint64 // root (branch) page of the deep bucket
	deepLeaf        uint64 // a leaf two levels under bigRoot
	deepBranch      uint64 // a branch page one level under bigRoot
}

func newDamageFixture(t *testing.T) *damageFixture {
	t.Helper()
	fx := &damageFixture{dir: t.TempDir(), part: "catalog"}
	db, err := OpenDB(fx.dir, fx.part)
	if err != nil {
		t.Fatal(err)
	}
	fx.path = db.Path()
	val := make([]byte, 100)
	err = db.Update(func(tx *bolt.Tx) error {
		small, err := tx.CreateBucket([]byte("small"))
		if err != nil {
			return err
		}
		for i := 0; i < 20; i++ {
			if err := small.Put([]byte(fmt.Sprintf("s%04d", i)), val); err != nil {
				return err
			}
		}
		big, err := tx.CreateBucket([]byte("big"))
		if err != nil {
			return err
		}
		for i := 0; i < 20000; i++ {
			if err := big.Put([]byte(fmt.Sprintf("key-%012d", i)), val); err != nil {
				return err
			}
		}
		inline, err := tx.CreateBucket([]byte("tiny"))
		if err != nil {
			return err
		}
		return inline.Put([]byte("a"), []byte("b"))
	})
	if err != nil {
		t.Fatal(err)
	}
	err = db.View(func(tx *bolt.Tx) error {
		fx.smallRoot = uint64(tx.Bucket([]byte("small")).Root())
		fx.bigRoot = uint64(tx.Bucket([]byte("big")).Root())
		if d := tx.Bucket([]byte("big")).Stats().Depth; d < 3 {
			return fmt.Errorf("bucket big is %d levels deep, want 3 or more", d)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	fx.pageSize = int64(db.Info().PageSize)
	db.Close()

	f, err := os.Open(fx.path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	c := &fileCheck{f: f, size: st.Size(), pageSize: fx.pageSize, hwm: 1 << 40}
	m, ok := c.metas()
	if !ok {
		t.Fatalf("fresh file: %v", c.problems)
	}
	fx.freelist = m.freelist
	c.hwm = m.pgid
	root := c.readPage(fx.bigRoot, flagBranch, "big")
	es, _ := c.elements(root, fx.bigRoot, "big")
	fx.deepBranch = es[len(es)/2].child
	mid := c.readPage(fx.deepBranch, flagBranch, "big")
	es, _ = c.elements(mid, fx.deepBranch, "big")
	fx.deepLeaf = es[len(es)/2].child
	if c.readPage(fx.deepLeaf, flagLeaf, "big") == nil {
		t.Fatalf("page %d is not a leaf: %v", fx.deepLeaf, c.problems)
	}
	return fx
}

// writePage overwrites page id with b (padded with zeros to a page).
func (fx *damageFixture) writePage(t *testing.T, id uint64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(fx.path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	page := make([]byte, fx.pageSize)
	copy(page, b)
	if _, err := f.WriteAt(page, int64(id)*fx.pageSize); err != nil {
		t.Fatal(err)
	}
}

func garbage(n int64) []byte {
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

// A damaged file is refused at start with an error naming it and what to do, at the level
// that can see the damage, and never with a panic or a fault. Run on the code before the
// check existed, bbolt opens the damaged copies (or panics, or faults on the pages past the
// end of a truncated file).
func TestDamagedFileRefused(t *testing.T) {
	cases := []struct {
		name   string
		damage func(t *testing.T, fx *damageFixture)
		// quick: the quick check sees it too (otherwise only the full one)
		quick bool
		want  string
	}{
		{"meta page 0 bytes flipped", func(t *testing.T, fx *damageFixture) {
			f, _ := os.OpenFile(fx.path, os.O_RDWR, 0)
			defer f.Close()
			b := make([]byte, 8)
			f.ReadAt(b, 56) // the page count
			b[0] ^= 0x5a
			f.WriteAt(b, 56)
		}, true, "meta page 0: checksum mismatch"},
		{"meta page 1 zeroed", func(t *testing.T, fx *damageFixture) { fx.writePage(t, 1, nil) }, true, "meta page 1"},
		{"file truncated", func(t *testing.T, fx *damageFixture) {
			st, _ := os.Stat(fx.path)
			if err := os.Truncate(fx.path, st.Size()/3); err != nil {
				t.Fatal(err)
			}
		}, true, "cut short"},
		{"file cut mid-page", func(t *testing.T, fx *damageFixture) {
			if err := os.Truncate(fx.path, int64(fx.deepLeaf)*fx.pageSize+100); err != nil {
				t.Fatal(err)
			}
		}, true, "cut short"},
		{"freelist page garbage", func(t *testing.T, fx *damageFixture) { fx.writePage(t, fx.freelist, garbage(fx.pageSize)) }, true, "freelist"},
		{"bucket root leaf zeroed", func(t *testing.T, fx *damageFixture) { fx.writePage(t, fx.smallRoot, nil) }, true, `bucket "small"`},
		{"bucket root branch garbage", func(t *testing.T, fx *damageFixture) { fx.writePage(t, fx.bigRoot, garbage(fx.pageSize)) }, true, `bucket "big"`},
		{"branch under a root zeroed", func(t *testing.T, fx *damageFixture) { fx.writePage(t, fx.deepBranch, nil) }, true, `bucket "big"`},
		{"deep leaf zeroed", func(t *testing.T, fx *damageFixture) { fx.writePage(t, fx.deepLeaf, nil) }, false, "page"},
		{"deep leaf garbage", func(t *testing.T, fx *damageFixture) { fx.writePage(t, fx.deepLeaf, garbage(fx.pageSize)) }, false, "page"},
		{"deep leaf keys out of order", func(t *testing.T, fx *damageFixture) {
			f, _ := os.OpenFile(fx.path, os.O_RDWR, 0)
			defer f.Close()
			p := make([]byte, fx.pageSize)
			f.ReadAt(p, int64(fx.deepLeaf)*fx.pageSize)
			// the first key's last byte becomes larger than the second's
			off := pageHeaderSize + int(binary.NativeEndian.Uint32(p[pageHeaderSize+4:])) + int(binary.NativeEndian.Uint32(p[pageHeaderSize+8:])) - 1
			p[off] = 0xff
			f.WriteAt(p, int64(fx.deepLeaf)*fx.pageSize)
		}, false, "out of order"},
		{"branch points past the end", func(t *testing.T, fx *damageFixture) {
			f, _ := os.OpenFile(fx.path, os.O_RDWR, 0)
			defer f.Close()
			// the first child id of a second-level branch page: far past the end of the file
			var id [8]byte
			binary.NativeEndian.PutUint64(id[:], 1<<36)
			f.WriteAt(id[:], int64(fx.deepBranch)*fx.pageSize+pageHeaderSize+8)
		}, true, "outside the pages in use"},
	}
	for _, tc := range cases {
		for _, level := range []CheckLevel{CheckQuick, CheckFull} {
			t.Run(tc.name+"/"+level.String(), func(t *testing.T) {
				fx := newDamageFixture(t)
				tc.damage(t, fx)
				var db *bolt.DB
				var err error
				func() {
					defer func() {
						if r := recover(); r != nil {
							t.Fatalf("open panicked: %v", r)
						}
					}()
					db, err = OpenDBChecked(fx.dir, fx.part, level)
				}()
				if db != nil {
					db.Close()
				}
				if level == CheckQuick && !tc.quick {
					if err != nil {
						t.Logf("quick check found deeper damage too: %v", err)
					}
					return
				}
				var de *DamageError
				if !errors.As(err, &de) || !errors.Is(err, ErrDamaged) {
					t.Fatalf("open of a damaged file: err = %v, want a DamageError", err)
				}
				msg := err.Error()
				for _, want := range []string{fx.path, "restore the last backup", "lienthong backup", tc.want} {
					if !strings.Contains(msg, want) {
						t.Errorf("error %q does not say %q", msg, want)
					}
				}
			})
		}
	}
}

// A sound file passes both checks and opens; so does a new one, and one reopened after
// writes, deletes and bucket removals (pages freed and reused).
func TestSoundFileOpens(t *testing.T) {
	fx := newDamageFixture(t)
	for _, level := range []CheckLevel{CheckQuick, CheckFull} {
		db, err := OpenDBChecked(fx.dir, fx.part, level)
		if err != nil {
			t.Fatalf("%s check of a sound file: %v", level, err)
		}
		err = db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket([]byte("big"))
			for i := 0; i < 20000; i += 3 {
				if err := b.Delete([]byte(fmt.Sprintf("key-%012d", i))); err != nil {
					return err
				}
			}
			if err := tx.DeleteBucket([]byte("small")); err != nil {
				return err
			}
			n, err := tx.CreateBucket([]byte("small"))
			if err != nil {
				return err
			}
			sub, err := n.CreateBucket([]byte("nested"))
			if err != nil {
				return err
			}
			for i := 0; i < 500; i++ {
				if err := sub.Put([]byte(fmt.Sprintf("n%05d", i)), garbage(300)); err != nil {
					return err
				}
			}
			return n.Put([]byte("large"), garbage(3*fx.pageSize))
		})
		if err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
	db, err := OpenDBChecked(fx.dir, fx.part, CheckFull)
	if err != nil {
		t.Fatalf("full check after the changes: %v", err)
	}
	db.Close()
	fresh, err := OpenDBChecked(t.TempDir(), "dossier", CheckFull)
	if err != nil {
		t.Fatalf("full check of a new file: %v", err)
	}
	fresh.Close()
}

func TestParseCheckLevel(t *testing.T) {
	for in, want := range map[string]CheckLevel{"off": CheckOff, "quick": CheckQuick, "full": CheckFull} {
		if got, err := ParseCheckLevel(in); err != nil || got != want {
			t.Errorf("ParseCheckLevel(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseCheckLevel("fast"); err == nil {
		t.Error("ParseCheckLevel(fast) succeeded")
	}
}

// bigFile writes a part file of about 330 MiB in 8 buckets.
func bigFile(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	db, err := OpenDB(dir, "dossier")
	if err != nil {
		b.Fatal(err)
	}
	val := garbage(200)
	for bucket := 0; bucket < 8; bucket++ {
		for batch := 0; batch < 25; batch++ {
			err := db.Update(func(tx *bolt.Tx) error {
				bk, err := tx.CreateBucketIfNotExists([]byte(fmt.Sprintf("bucket-%d", bucket)))
				if err != nil {
					return err
				}
				for i := 0; i < 8000; i++ {
					if err := bk.Put([]byte(fmt.Sprintf("%06d-%08d", batch, i)), val); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	path := db.Path()
	db.Close()
	return path
}

func benchmarkCheck(b *testing.B, level CheckLevel) {
	path := bigFile(b)
	st, _ := os.Stat(path)
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := CheckFile(f, path, level); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(st.Size())/(1<<20), "MiB")
}

// BenchmarkQuickCheck measures the quick check on a file of a few hundred MB (README,
// "Damaged data files"): go test -run - -bench Check -benchtime 10x
func BenchmarkQuickCheck(b *testing.B) { benchmarkCheck(b, CheckQuick) }

// BenchmarkFullCheck is the full walk of the same file (without bbolt's tx.Check).
func BenchmarkFullCheck(b *testing.B) { benchmarkCheck(b, CheckFull) }
