package platform

import (
	"context"
	"fmt"
	"github.com/lienthong/lienthong/services/platform/platformtest"
	"os"
	"path/filepath"
	"testing"
	"time"

	adminv1 "github.com/lienthong/lienthong/proto/gen/lienthong/admin/v1"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/grpc/metadata"
)

// A backup client that takes the first message and then never reads holds no transaction:
// writes that make the file grow (bbolt remaps it, which waits for every open read
// transaction) finish at once. Before, the backup streamed from inside its read transaction
// and these writes waited for as long as the client did not read.
func TestBackupStalledReaderDoesNotBlockWrites(t *testing.T) {
	s, db, client := backupServer(t)
	big := make([]byte, 1<<20)
	for i := range 16 {
		big[0] = byte(i)
		put(t, db, fmt.Sprintf("blob/%d", i), big)
	}
	auth := s.bearer(t, Caller{System: "sys/admin", Role: RoleAdmin})
	ctx, cancel := context.WithCancel(metadata.AppendToOutgoingContext(context.Background(), "authorization", auth))
	defer cancel()
	stream, err := client.Backup(ctx, &adminv1.BackupRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != nil {
		t.Fatalf("first chunk: %v", err)
	}
	// From here on the client reads nothing.
	sizeBefore := backupFileSize(t, db.Path())
	wrote := make(chan error, 1)
	go func() {
		for i := range 48 {
			big[0] = byte(i)
			err := db.Update(func(tx *bolt.Tx) error {
				return tx.Bucket(testBucket).Put([]byte(fmt.Sprintf("more/%d", i)), big)
			})
			if err != nil {
				wrote <- err
				return
			}
		}
		wrote <- nil
	}()
	select {
	case err := <-wrote:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("writes that grow the file are blocked by a backup whose client does not read")
	}
	if after := backupFileSize(t, db.Path()); after <= sizeBefore {
		t.Fatalf("the file did not grow (%d bytes, then %d): the test proves nothing", sizeBefore, after)
	}
	// The temporary copy goes when the call ends.
	cancel()
	platformtest.WaitFor(t, 10*time.Second, "the backup's temporary copy removed", func() bool {
		names, _ := filepath.Glob(filepath.Join(filepath.Dir(db.Path()), backupTempPattern("catalog")))
		return len(names) == 0
	})
}

// A temporary backup copy left by a process that stopped mid-backup is removed at the next
// start; other files are not touched.
func TestBackupTempRemovedAtStart(t *testing.T) {
	dir := t.TempDir()
	db, err := OpenDB(dir, "catalog")
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	left := filepath.Join(dir, ".catalog.db.backup-123456")
	other := filepath.Join(dir, ".dossier.db.backup-123456")
	for _, f := range []string{left, other} {
		if err := os.WriteFile(f, []byte("partial copy"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	db, err = OpenDB(dir, "catalog")
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := os.Stat(left); !os.IsNotExist(err) {
		t.Errorf("%s still there after the start: %v", left, err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("another part's file was touched: %v", err)
	}
}

func backupFileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}
