package platform

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	adminv1 "github.com/lienthong/lienthong/proto/gen/lienthong/admin/v1"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/grpc"
)

// ErrLocked means another process holds the bbolt file.
var ErrLocked = errors.New("data file is in use by another process")

// OpenDB opens (creating, mode 0600) the bbolt file of a part under dataDir after the quick
// check of CheckFile. Every write transaction is fsynced before Update returns. A file held
// by another process gives ErrLocked after a second instead of waiting forever.
func OpenDB(dataDir, part string) (*bolt.DB, error) {
	return OpenDBChecked(dataDir, part, CheckQuick)
}

// OpenDBChecked is OpenDB with the check of the file at the given level: a damaged file
// gives a *DamageError (wrapping ErrDamaged) that names the file and what to do, and is not
// opened. The file is locked before it is checked, so no other process writes it meanwhile.
func OpenDBChecked(dataDir, part string, level CheckLevel) (db *bolt.DB, err error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	path := filepath.Join(dataDir, part+".db")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := lockFile(f, time.Second, true); err != nil {
		f.Close()
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("%s: %w", path, ErrLocked)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := CheckFile(f, path, level); err != nil {
		f.Close()
		return nil, withPart(err, part)
	}
	removeBackupTemps(dataDir, part)
	// bbolt takes the file already open and locked (its own lock on the same open file
	// succeeds), so nothing can come between the check and the open.
	defer func() {
		if r := recover(); r != nil {
			f.Close()
			db, err = nil, &DamageError{Path: path, Part: part, Problems: []string{fmt.Sprint("bbolt cannot open it: ", r)}}
		}
	}()
	db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, FreelistType: bolt.FreelistMapType,
		OpenFile: func(string, int, os.FileMode) (*os.File, error) { return f, nil }})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("%s: %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if level == CheckFull {
		if err := CheckPages(db); err != nil {
			db.Close()
			return nil, withPart(err, part)
		}
	}
	return db, nil
}

// DBPath is where a part's bbolt file lives.
func DBPath(dataDir, part string) string { return filepath.Join(dataDir, part+".db") }

// BackupService streams a consistent copy of a part's bbolt file (admin only).
type BackupService struct {
	adminv1.UnimplementedAdminServiceServer
	Part string
	DB   *bolt.DB
}

// RegisterBackup adds the admin backup service of a part to its server.
func RegisterBackup(s *Server, part string, db *bolt.DB) {
	adminv1.RegisterAdminServiceServer(s.GRPC, &BackupService{Part: part, DB: db})
}

// Backup copies the file inside one read transaction to a temporary file beside it, ends the
// transaction, then streams the copy, each message within DefaultSendTimeout. A client that
// stops reading so holds no transaction (bbolt's writer waits for the readers whenever the
// file must grow), only a file that is removed when the call ends, or at the next start.
func (b *BackupService) Backup(_ *adminv1.BackupRequest, stream grpc.ServerStreamingServer[adminv1.BackupResponse]) error {
	if _, err := RequireRole(stream.Context(), RoleAdmin); err != nil {
		return err
	}
	f, size, err := snapshot(b.DB, b.Part)
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	return sendFile(stream.Context(), f, size, b.Part, stream.Send)
}

const backupChunk = 1 << 20

// backupReserve is the space a backup leaves free on the data disk beside its copy, so
// that the part's own writes go on.
const backupReserve = 64 << 20

// backupTempPattern names the temporary copies of a part's file that a backup makes in the
// data folder.
func backupTempPattern(part string) string { return "." + part + ".db.backup-*" }

// snapshot copies the database, in one read transaction, to a new temporary file in its
// folder, opened for reading from the start.
func snapshot(db *bolt.DB, part string) (*os.File, int64, error) {
	dir := filepath.Dir(db.Path())
	var f *os.File
	var size int64
	err := db.View(func(tx *bolt.Tx) error {
		size = tx.Size()
		if free, ok := freeSpace(dir); ok && free < uint64(size)+backupReserve {
			return FailedPrecondition("BACKUP_NO_SPACE",
				fmt.Sprintf("the %s part's data disk has %d MiB free, too little for the backup's copy of the file (%d MiB, and %d MiB left for the part's writes): free space, or stop the part and run the backup offline",
					part, free>>20, size>>20, backupReserve>>20),
				"Ổ đĩa dữ liệu không đủ chỗ cho bản sao lưu tạm thời; hãy giải phóng dung lượng hoặc dừng dịch vụ rồi sao lưu ngoại tuyến.")
		}
		var err error
		if f, err = os.CreateTemp(dir, backupTempPattern(part)); err != nil {
			return fmt.Errorf("backup copy: %w", err)
		}
		_, err = tx.WriteTo(f)
		return err
	})
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		if f != nil {
			f.Close()
			os.Remove(f.Name())
		}
		if StorageFull(err) {
			return nil, 0, ErrStorageFull(part)
		}
		var pe *Error
		if errors.As(err, &pe) {
			return nil, 0, pe
		}
		return nil, 0, fmt.Errorf("backup copy: %w", err)
	}
	return f, size, nil
}

// sendFile streams r in chunks of backupChunk, the first carrying the part and total size.
func sendFile(ctx context.Context, r io.Reader, total int64, part string, send func(*adminv1.BackupResponse) error) error {
	first := true
	for {
		// A send that timed out may still hold its buffer: each message gets its own.
		buf := make([]byte, backupChunk)
		n, err := io.ReadFull(r, buf)
		if errors.Is(err, io.EOF) && !first {
			return nil
		}
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
			return fmt.Errorf("backup read: %w", err)
		}
		msg := &adminv1.BackupResponse{Data: buf[:n]}
		if first {
			msg.TotalSize, msg.Part = total, part
			first = false
		}
		if serr := SendWithTimeout(ctx, DefaultSendTimeout, func() error { return send(msg) }); serr != nil {
			return serr
		}
		if err != nil { // the last, short chunk
			return nil
		}
	}
}

// removeBackupTemps removes the temporary copies a backup of part left in dataDir (the
// process stopped during one).
func removeBackupTemps(dataDir, part string) {
	names, _ := filepath.Glob(filepath.Join(dataDir, backupTempPattern(part)))
	for _, n := range names {
		os.Remove(n)
	}
}

// CopyDB writes a consistent copy of an open database to w.
func CopyDB(db *bolt.DB, w io.Writer) (int64, error) {
	var n int64
	err := db.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}
