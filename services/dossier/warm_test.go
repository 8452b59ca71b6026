package dossier

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestWarmBucketsReadsEveryPage checks the reading of bbolt's page layout: the warm-up
// must visit every branch and leaf page of the buckets named, and nothing of the others.
func TestWarmBucketsReadsEveryPage(t *testing.T) {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "w.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range []string{"a", "b", "other", "small"} {
			b, err := tx.CreateBucket([]byte(name))
			if err != nil {
				return err
			}
			n := 30000
			if name == "small" {
				n = 3 // an inline bucket: no page of its own
			}
			for i := range n {
				// Random keys, as dossier codes arrive: half-full pages, four levels.
				k := fmt.Sprintf("%016x-%d", rng.Uint64(), i)
				v := make([]byte, 20+rng.IntN(60))
				if i%5000 == 0 {
					v = make([]byte, 9000) // a value larger than a page: overflow pages
				}
				if err := b.Put([]byte(k), v); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	var levels int
	if err := db.View(func(tx *bolt.Tx) error {
		for _, name := range []string{"a", "b", "small"} {
			st := tx.Bucket([]byte(name)).Stats()
			want += st.BranchPageN + st.LeafPageN
			levels = max(levels, st.Depth)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if levels < 3 {
		t.Fatalf("the buckets are %d levels deep; the test needs branch pages under the root", levels)
	}
	if got := warmBuckets(db, []byte("a"), []byte("b"), []byte("small"), []byte("missing")); got != want {
		t.Errorf("warmBuckets read %d pages, want %d (every branch and leaf page of a and b)", got, want)
	}
}
