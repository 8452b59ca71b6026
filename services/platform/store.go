package platform

import (
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

// OpenDB opens (creating, mode 0600) the bbolt file of a part under dataDir. Every write
// transaction is fsynced before Update returns. A file held by another process gives
// ErrLocked after a second instead of waiting forever.
func OpenDB(dataDir, part string) (*bolt.DB, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	path := filepath.Join(dataDir, part+".db")
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, FreelistType: bolt.FreelistMapType})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("%s: %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
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

// Backup copies the file inside one read transaction, so writes go on meanwhile.
func (b *BackupService) Backup(_ *adminv1.BackupRequest, stream grpc.ServerStreamingServer[adminv1.BackupResponse]) error {
	if _, err := RequireRole(stream.Context(), RoleAdmin); err != nil {
		return err
	}
	return b.DB.View(func(tx *bolt.Tx) error {
		w := &chunkWriter{send: stream.Send, part: b.Part, total: tx.Size()}
		if _, err := tx.WriteTo(w); err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		return w.flush()
	})
}

const backupChunk = 1 << 20

type chunkWriter struct {
	send  func(*adminv1.BackupResponse) error
	buf   []byte
	part  string
	total int64
	sent  bool
}

func (w *chunkWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		room := backupChunk - len(w.buf)
		if room > len(p) {
			room = len(p)
		}
		w.buf = append(w.buf, p[:room]...)
		p = p[room:]
		if len(w.buf) == backupChunk {
			if err := w.flush(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

func (w *chunkWriter) flush() error {
	if len(w.buf) == 0 && w.sent {
		return nil
	}
	msg := &adminv1.BackupResponse{Data: w.buf}
	if !w.sent {
		msg.TotalSize, msg.Part = w.total, w.part
	}
	w.sent = true
	err := w.send(msg)
	w.buf = w.buf[:0:0]
	return err
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
