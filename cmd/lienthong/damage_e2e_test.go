package main

import (
	"bytes"
	"context"
	enc "encoding/binary"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// partFiles are the data files of a suite that ran with demo data, made once.
func partFiles(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	s := startUp(t, dir, "--demo", "--demo-dossiers", "200")
	s.waitDemoDocuments()
	s.stop()
	return filepath.Join(dir, "data")
}

// copyData copies a data folder (the files directly in it and keys/).
func copyData(t *testing.T, from string) string {
	t.Helper()
	to := filepath.Join(t.TempDir(), "data")
	for _, sub := range []string{"", "keys"} {
		if err := os.MkdirAll(filepath.Join(to, sub), 0o700); err != nil {
			t.Fatal(err)
		}
		entries, err := os.ReadDir(filepath.Join(from, sub))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.IsDir() {
				continue
			}
			b, err := os.ReadFile(filepath.Join(from, sub, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(to, sub, e.Name()), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	return to
}

// pageLayout finds, in a closed bbolt file, the pages in use (the larger page count of the
// two meta pages), a bucket's root page and a leaf page under a branch page.
func pageLayout(t *testing.T, path, bucket string) (pageSize, inUse, root, leaf int64) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	roots := map[int64]bool{}
	err = db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		if b == nil {
			return fmt.Errorf("no bucket %s", bucket)
		}
		if b.Stats().Depth < 2 {
			return fmt.Errorf("bucket %s is one page: pick a larger one", bucket)
		}
		root = int64(b.Root())
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			roots[int64(b.Root())] = true
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	pageSize = int64(db.Info().PageSize)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for slot := int64(0); slot < 2; slot++ {
		m := raw[slot*pageSize+16:]
		inUse = max(inUse, int64(enc.NativeEndian.Uint64(m[40:])))
		roots[int64(enc.NativeEndian.Uint64(m[16:]))] = true // the root bucket's page
	}
	// The root page's children: the leaves right under the bucket's root branch page.
	p := raw[root*pageSize:]
	count := int(enc.NativeEndian.Uint16(p[10:]))
	child := int64(enc.NativeEndian.Uint64(p[16+(count/2)*16+8:]))
	if flags := enc.NativeEndian.Uint16(raw[child*pageSize+8:]); flags != 0x02 || roots[child] {
		t.Fatalf("page %d under the root of %s is not a leaf (type %#x): pick another bucket", child, bucket, flags)
	}
	return pageSize, inUse, root, child
}

// runLienthong runs the binary, at most limit, and returns its exit error and output.
func runLienthong(t *testing.T, limit time.Duration, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	out, err := exec.CommandContext(ctx, binary, args...).CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("lienthong %s still running after %v:\n%s", strings.Join(args, " "), limit, out)
	}
	return string(out), err
}

func upArgs(data string, extra ...string) []string {
	args := []string{"up", "--data-dir", data, "--listen", "127.0.0.1:0", "--log-format", "json"}
	for _, p := range parts {
		args = append(args, "--"+p.name+"-listen", "127.0.0.1:0")
	}
	return append(args, extra...)
}

// A damaged part file stops the start with a message naming the file and the backup to
// restore, never a panic or a fault; `lienthong verify` finds the damage in every part's
// file and exits 1, and passes the undamaged files. On the code before the check, the start
// went ahead on every one of these files (or crashed with a fault on the truncated one) and
// verify knew only the dossier part's values.
func TestDamagedFileStopsStart(t *testing.T) {
	clean := partFiles(t)
	for _, p := range []string{"catalog", "dossier", "docexchange", "scoring"} {
		out, err := runLienthong(t, 30*time.Second, "verify", "--part", p, "--data-dir", clean)
		if err != nil || !strings.Contains(out, "no damage") {
			t.Errorf("verify --part %s of a sound file: %v\n%s", p, err, out)
		}
	}

	type damage struct {
		name  string
		part  string
		apply func(t *testing.T, path string)
		quick bool // the default start sees it (else only --check-db full and verify)
	}
	writeAt := func(t *testing.T, path string, off int64, b []byte) {
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteAt(b, off); err != nil {
			t.Fatal(err)
		}
	}
	cases := []damage{
		{"meta page bytes flipped", "catalog", func(t *testing.T, path string) {
			writeAt(t, path, 60, []byte{0x5a, 0xa5})
		}, true},
		{"truncated", "dossier", func(t *testing.T, path string) {
			ps, inUse, _, _ := pageLayout(t, path, "events")
			if err := os.Truncate(path, inUse*ps/2); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"bucket root page zeroed", "catalog", func(t *testing.T, path string) {
			ps, _, root, _ := pageLayout(t, path, "procedures")
			writeAt(t, path, root*ps, make([]byte, ps))
		}, true},
		{"bucket root page garbage", "docexchange", func(t *testing.T, path string) {
			ps, _, root, _ := pageLayout(t, path, "documents")
			writeAt(t, path, root*ps, bytes.Repeat([]byte("garbage!"), int(ps/8)))
		}, true},
		{"leaf deep in a bucket zeroed but its header", "dossier", func(t *testing.T, path string) {
			ps, _, _, leaf := pageLayout(t, path, "events")
			writeAt(t, path, leaf*ps+16, make([]byte, ps-16))
		}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := copyData(t, clean)
			path := filepath.Join(data, tc.part+".db")
			tc.apply(t, path)
			levels := []string{"full"}
			if tc.quick {
				levels = append(levels, "quick")
			}
			for _, level := range levels {
				out, err := runLienthong(t, 60*time.Second, upArgs(data, "--check-db", level)...)
				if err == nil {
					t.Fatalf("up --check-db %s on a damaged %s started and ended cleanly:\n%s", level, path, out)
				}
				for _, want := range []string{path + " is damaged", "restore the last backup", "lienthong backup --part " + tc.part} {
					if !strings.Contains(out, want) {
						t.Errorf("up --check-db %s: output does not say %q:\n%s", level, want, out)
					}
				}
				for _, crash := range []string{"panic", "goroutine ", "fatal error", "SIGBUS", "SIGSEGV"} {
					if strings.Contains(out, crash) {
						t.Errorf("up --check-db %s crashed (%q) instead of refusing:\n%s", level, crash, out)
					}
				}
			}
			out, err := runLienthong(t, 30*time.Second, "verify", "--part", tc.part, "--file", path)
			if err == nil || !strings.Contains(out, "DAMAGED") || !strings.Contains(out, path) {
				t.Errorf("verify --part %s of a damaged file: %v\n%s", tc.part, err, out)
			}
		})
	}
}

// A file left by kill -9 in the middle of writes is sound: bbolt's last committed
// transaction is whole, so neither the full check nor verify flags it, and the suite starts
// with --check-db full.
func TestKill9LeavesSoundFiles(t *testing.T) {
	dir := t.TempDir()
	s := startUp(t, dir, "--demo", "--demo-dossiers", "300")
	token := s.token()
	procedures := func() float64 {
		_, out := s.call(http.MethodGet, "/v1/procedures?page_size=1", "", "")
		n, _ := out["total_size"].(float64)
		return n
	}
	before := procedures()
	stop := make(chan struct{})
	done := make(chan int)
	for w := 0; w < 4; w++ {
		go func() {
			client := &http.Client{Timeout: 5 * time.Second}
			n := 0
			defer func() { done <- n }()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				code := fmt.Sprintf("1.9%d%04d", w, i)
				body := fmt.Sprintf(`{"code":%q,"name":"Thủ tục %s","field":"Đất đai","implementing_level":"IMPLEMENTING_LEVEL_PROVINCE","agency_codes":["000.06.00.H31"],"processing_days":5,"online_level":"ONLINE_LEVEL_FULL"}`, code, code)
				req, _ := http.NewRequest(http.MethodPost, s.base+"/v1/procedures", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := client.Do(req)
				if err != nil {
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				n++
			}
		}()
	}
	// Killed while the demo dossiers load in the background and procedures are written.
	waitFor(t, 30*time.Second, "writes under way", func() bool { return procedures() >= before+100 })
	s.kill9()
	close(stop)
	for w := 0; w < 4; w++ {
		<-done
	}
	data := filepath.Join(dir, "data")
	for _, p := range []string{"catalog", "dossier", "docexchange", "scoring"} {
		out, err := runLienthong(t, 30*time.Second, "verify", "--part", p, "--data-dir", data)
		if err != nil || !strings.Contains(out, "no damage") {
			t.Errorf("verify --part %s after kill -9: %v\n%s", p, err, out)
		}
	}
	startUp(t, dir, "--check-db", "full").stop()
}
