package platform

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	adminv1 "github.com/lienthong/lienthong/proto/gen/lienthong/admin/v1"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

var testBucket = []byte("things")

func put(t *testing.T, db *bolt.DB, key string, value []byte) {
	t.Helper()
	err := db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(testBucket)
		if err != nil {
			return err
		}
		return b.Put([]byte(key), value)
	})
	if err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

// openCopy writes data to a file and opens it read-only as a bbolt database.
func openCopy(t *testing.T, data []byte) *bolt.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatalf("copy does not open as a bbolt file: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// get reads a key of the test bucket; ok is false when bucket or key is missing.
func get(t *testing.T, db *bolt.DB, key string) (value []byte, ok bool) {
	t.Helper()
	err := db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(testBucket)
		if b == nil {
			return nil
		}
		if v := b.Get([]byte(key)); v != nil {
			value, ok = append([]byte(nil), v...), true
		}
		return nil
	})
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	return value, ok
}

func TestOpenDBCreatesPrivateFile(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data", "nested")
	db, err := OpenDB(dataDir, "catalog")
	if err != nil {
		t.Fatalf("OpenDB: %v", err)
	}
	want := filepath.Join(dataDir, "catalog.db")
	if got := DBPath(dataDir, "catalog"); got != want {
		t.Errorf("DBPath = %q, want %q", got, want)
	}
	if db.Path() != want {
		t.Errorf("db.Path() = %q, want %q", db.Path(), want)
	}
	fi, err := os.Stat(want)
	if err != nil {
		t.Fatalf("stat: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode = %04o, want 0600", fi.Mode().Perm())
	}
	if di, err := os.Stat(dataDir); err != nil {
		t.Fatal(err)
	} else if di.Mode().Perm()&0o077 != 0 {
		t.Errorf("data folder mode = %04o, want no group/other access", di.Mode().Perm())
	}
	if db.NoSync {
		t.Errorf("NoSync is set; every write must be fsynced")
	}

	put(t, db, "k", []byte("v"))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = OpenDB(dataDir, "catalog")
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer db.Close()
	if v, ok := get(t, db, "k"); !ok || string(v) != "v" {
		t.Errorf("after reopen k = %q (present %v), want v", v, ok)
	}
}

func TestOpenDBLocked(t *testing.T) {
	dataDir := t.TempDir()
	first, err := OpenDB(dataDir, "dossier")
	if err != nil {
		t.Fatalf("OpenDB: %v", err)
	}

	type result struct {
		db  *bolt.DB
		err error
	}
	res := make(chan result, 1)
	start := time.Now()
	go func() {
		db, err := OpenDB(dataDir, "dossier")
		res <- result{db, err}
	}()
	select {
	case r := <-res:
		if r.err == nil {
			r.db.Close()
			t.Fatalf("second OpenDB of a held file succeeded, want ErrLocked")
		}
		if !errors.Is(r.err, ErrLocked) {
			t.Errorf("second OpenDB error = %v, want one wrapping ErrLocked", r.err)
		}
		if !strings.Contains(r.err.Error(), DBPath(dataDir, "dossier")) {
			t.Errorf("error %q does not name the file", r.err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("ErrLocked took %v, want about a second", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("second OpenDB still waiting after 5s, want ErrLocked after about a second")
	}

	// Another part's file in the same folder is not affected.
	other, err := OpenDB(dataDir, "catalog")
	if err != nil {
		t.Errorf("OpenDB of another part while dossier is held: %v", err)
	} else {
		other.Close()
	}

	// Once the holder closes, the file opens again.
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := OpenDB(dataDir, "dossier")
	if err != nil {
		t.Fatalf("OpenDB after the holder closed: %v", err)
	}
	again.Close()
}

func TestOpenDBErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage")
	if err := os.MkdirAll(garbage, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(garbage, "catalog.db"), bytes.Repeat([]byte("not a bolt file "), 1024), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, dataDir string
	}{
		{"data dir is a file", file},
		{"file is not a bbolt database", garbage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := OpenDB(tt.dataDir, "catalog")
			if err == nil {
				db.Close()
				t.Fatalf("OpenDB(%s) succeeded, want an error", tt.dataDir)
			}
			if errors.Is(err, ErrLocked) {
				t.Errorf("OpenDB error %v claims the file is locked", err)
			}
		})
	}
}

func TestCopyDB(t *testing.T) {
	db, err := OpenDB(t.TempDir(), "scoring")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	put(t, db, "report/01/2026-Q3", []byte("42"))
	var buf bytes.Buffer
	n, err := CopyDB(db, &buf)
	if err != nil {
		t.Fatalf("CopyDB: %v", err)
	}
	if n != int64(buf.Len()) {
		t.Errorf("CopyDB returned %d, wrote %d bytes", n, buf.Len())
	}
	c := openCopy(t, buf.Bytes())
	if v, ok := get(t, c, "report/01/2026-Q3"); !ok || string(v) != "42" {
		t.Errorf("copy has %q (present %v), want 42", v, ok)
	}
}

// backupServer serves the backup service of a fresh database and returns it with a client.
func backupServer(t *testing.T) (*testServer, *bolt.DB, adminv1.AdminServiceClient) {
	t.Helper()
	o, priv, logs := testOptions(t)
	db, err := OpenDB(t.TempDir(), "catalog")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	srv := NewServer(o)
	RegisterBackup(srv, "catalog", db)
	conn := serve(t, srv)
	return &testServer{conn: conn, logs: logs, priv: priv, srv: srv}, db, adminv1.NewAdminServiceClient(conn)
}

// readBackup reads a whole backup stream.
func readBackup(stream interface {
	Recv() (*adminv1.BackupResponse, error)
}) (data []byte, chunks []*adminv1.BackupResponse, err error) {
	for {
		msg, err := stream.Recv()
		if err == io.EOF {
			return data, chunks, nil
		}
		if err != nil {
			return data, chunks, err
		}
		chunks = append(chunks, msg)
		data = append(data, msg.GetData()...)
	}
}

func TestBackupStreamsValidCopy(t *testing.T) {
	s, db, client := backupServer(t)
	put(t, db, "unit/01", []byte("Hà Nội"))
	// Enough data for several chunks.
	big := make([]byte, 512<<10)
	for i := range 6 {
		if _, err := rand.Read(big); err != nil {
			t.Fatal(err)
		}
		put(t, db, fmt.Sprintf("blob/%d", i), big)
	}
	var wantSize int64
	if err := db.View(func(tx *bolt.Tx) error { wantSize = tx.Size(); return nil }); err != nil {
		t.Fatal(err)
	}

	auth := s.bearer(t, Caller{System: "000.00.00.H31/admin", Role: RoleAdmin})
	stream, err := client.Backup(callCtx(t, "authorization", auth), &adminv1.BackupRequest{})
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	data, chunks, err := readBackup(stream)
	if err != nil {
		t.Fatalf("Backup stream: %v", err)
	}
	if len(chunks) < 3 {
		t.Errorf("backup of %d bytes came in %d chunks, want several of at most 1 MiB", len(data), len(chunks))
	}
	for i, c := range chunks {
		if len(c.GetData()) > backupChunk {
			t.Errorf("chunk %d has %d bytes, want at most %d", i, len(c.GetData()), backupChunk)
		}
		if i == 0 {
			if c.GetPart() != "catalog" || c.GetTotalSize() != wantSize {
				t.Errorf("first chunk part %q total_size %d, want catalog and %d", c.GetPart(), c.GetTotalSize(), wantSize)
			}
		} else if c.GetPart() != "" || c.GetTotalSize() != 0 {
			t.Errorf("chunk %d repeats part %q / total_size %d, want them on the first chunk only", i, c.GetPart(), c.GetTotalSize())
		}
	}
	if int64(len(data)) != wantSize {
		t.Errorf("backup has %d bytes, total_size says %d", len(data), wantSize)
	}

	c := openCopy(t, data)
	if v, ok := get(t, c, "unit/01"); !ok || string(v) != "Hà Nội" {
		t.Errorf("backup has unit/01 = %q (present %v), want Hà Nội", v, ok)
	}
	if v, ok := get(t, c, "blob/5"); !ok || !bytes.Equal(v, big) {
		t.Errorf("backup blob/5 differs from the last value written (present %v, %d bytes)", ok, len(v))
	}
	if err := c.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	}); err != nil {
		t.Errorf("backup fails the consistency check: %v", err)
	}
}

func TestBackupIsASnapshot(t *testing.T) {
	s, db, client := backupServer(t)
	put(t, db, "before", []byte("1"))
	big := make([]byte, 1<<20)
	for i := range 3 {
		put(t, db, fmt.Sprintf("blob/%d", i), big)
	}
	auth := s.bearer(t, Caller{System: "sys/admin", Role: RoleAdmin})
	stream, err := client.Backup(callCtx(t, "authorization", auth), &adminv1.BackupRequest{})
	if err != nil {
		t.Fatal(err)
	}
	first, err := stream.Recv()
	if err != nil {
		t.Fatalf("first chunk: %v", err)
	}
	// The read transaction has begun; a write now must not block the backup nor appear in it.
	written := make(chan error, 1)
	go func() {
		written <- db.Update(func(tx *bolt.Tx) error { return tx.Bucket(testBucket).Put([]byte("after"), []byte("2")) })
	}()
	rest, _, err := readBackup(stream)
	if err != nil {
		t.Fatalf("backup stream: %v", err)
	}
	select {
	case err := <-written:
		if err != nil {
			t.Fatalf("write during backup: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("write during backup did not finish")
	}
	c := openCopy(t, append(first.GetData(), rest...))
	if _, ok := get(t, c, "before"); !ok {
		t.Errorf("backup lacks the key written before it started")
	}
	if _, ok := get(t, c, "after"); ok {
		t.Errorf("backup has a key written after it started; it must be one consistent snapshot")
	}
	if v, ok := get(t, db, "after"); !ok || string(v) != "2" {
		t.Errorf("live database lost the write made during the backup")
	}
}

func TestBackupNeedsAdmin(t *testing.T) {
	s, db, client := backupServer(t)
	put(t, db, "k", []byte("v"))
	tests := []struct {
		name string
		auth string
		want codes.Code
	}{
		{"no token", "", codes.Unauthenticated},
		{"bad token", "Bearer x.y.z", codes.Unauthenticated},
		{"province", s.bearer(t, Caller{System: "000.00.00.H29/motcua", Role: RoleProvince, Unit: "01"}), codes.PermissionDenied},
		{"ministry", s.bearer(t, Caller{System: "000.00.00.G12/bo", Role: RoleMinistry}), codes.PermissionDenied},
		{"agency", s.bearer(t, Caller{System: "000.00.00.H31/edoc", Role: RoleAgency}), codes.PermissionDenied},
		{"admin", s.bearer(t, Caller{System: "sys/admin", Role: RoleAdmin}), codes.OK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var md []string
			if tt.auth != "" {
				md = []string{"authorization", tt.auth}
			}
			stream, err := client.Backup(callCtx(t, md...), &adminv1.BackupRequest{})
			if err != nil {
				t.Fatalf("Backup: %v", err)
			}
			data, chunks, err := readBackup(stream)
			if code := status.Code(err); code != tt.want {
				t.Fatalf("Backup code = %v (%v), want %v", code, err, tt.want)
			}
			if tt.want != codes.OK && (len(chunks) > 0 || len(data) > 0) {
				t.Errorf("refused backup still sent %d chunks / %d bytes", len(chunks), len(data))
			}
			if tt.want == codes.OK && len(data) == 0 {
				t.Errorf("admin backup sent no data")
			}
		})
	}
}
