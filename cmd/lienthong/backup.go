package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	adminv1 "github.com/lienthong/lienthong/proto/gen/lienthong/admin/v1"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"time"
)

// cmdBackup copies a part's bbolt file consistently. When the part is not running the file
// is read directly; when it is (the file is locked), the running part streams a copy taken
// in one read transaction, so it keeps serving.
func cmdBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("backup --part PART --out FILE [flags]", "Writes a consistent copy of a part's bbolt file, online or offline.", stderr)
	name := fs.String("part", "", "part to back up: "+strings.TrimSuffix(partNames(), ", gateway"))
	out := fs.String("out", "", "file to write (replaced atomically)")
	dataDir := fs.String("data-dir", "./data", "data folder of the part")
	addr := fs.String("addr", "", "gRPC address of the running part (default 127.0.0.1:<part port>)")
	tokenFile := fs.String("token-file", "", "admin token for the running part (default DATA_DIR/admin.token)")
	var pt partTLSFlags
	pt.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	p, ok := findPart(*name)
	if !ok {
		return fmt.Errorf("--part must be one of %s", strings.TrimSuffix(partNames(), ", gateway"))
	}
	if *out == "" {
		return errors.New("--out is required")
	}
	tmp, err := os.CreateTemp(filepath.Dir(*out), ".backup-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if err := tmp.Chmod(0o600); err != nil {
		return err
	}
	n, how, err := copyOffline(*dataDir, p.name, tmp)
	if errors.Is(err, platform.ErrLocked) {
		a := *addr
		if a == "" {
			a = fmt.Sprintf("127.0.0.1:%d", p.port)
		}
		tf := *tokenFile
		if tf == "" {
			tf = filepath.Join(*dataDir, AdminTokenFile)
		}
		n, err = copyOnline(ctx, a, tf, pt, tmp)
		how = "online from " + a
	}
	if err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), *out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup of %s: %d bytes to %s (%s)\n", p.name, n, *out, how)
	return nil
}

func copyOffline(dataDir, name string, w io.Writer) (int64, string, error) {
	path := platform.DBPath(dataDir, name)
	if _, err := os.Stat(path); err != nil {
		return 0, "", err
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 200 * time.Millisecond})
	if errors.Is(err, bolt.ErrTimeout) {
		return 0, "", platform.ErrLocked
	}
	if err != nil {
		return 0, "", err
	}
	defer db.Close()
	n, err := platform.CopyDB(db, w)
	return n, "offline from " + path, err
}

func copyOnline(ctx context.Context, addr, tokenFile string, pt partTLSFlags, w io.Writer) (int64, error) {
	tok, err := os.ReadFile(tokenFile)
	if err != nil {
		return 0, fmt.Errorf("admin token: %w", err)
	}
	tlsConf, err := pt.load()
	if err != nil {
		return 0, err
	}
	conn, err := grpc.NewClient(addr, tlsConf.DialOption())
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+strings.TrimSpace(string(tok)))
	stream, err := adminv1.NewAdminServiceClient(conn).Backup(ctx, &adminv1.BackupRequest{})
	if err != nil {
		return 0, err
	}
	var n, total int64
	for {
		chunk, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return n, fmt.Errorf("backup from %s: %w", addr, err)
		}
		if chunk.GetTotalSize() > 0 {
			total = chunk.GetTotalSize()
		}
		m, err := w.Write(chunk.GetData())
		n += int64(m)
		if err != nil {
			return n, err
		}
	}
	if n != total {
		return n, fmt.Errorf("backup from %s: got %d bytes, expected %d", addr, n, total)
	}
	return n, nil
}
