package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	adminv1 "github.com/lienthong/lienthong/proto/gen/lienthong/admin/v1"
	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	"github.com/lienthong/lienthong/services/catalog"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"
	"google.golang.org/grpc"
)

// How the token checks are wired (docs/security.md):
//   - the catalog part (in `up` the one process, in `serve catalog` its own) checks systems
//     against its catalog in memory and feeds its verifier each revocation as it stores it
//     (startCatalog);
//   - a part in its own process (`serve dossier|docexchange|scoring`) asks the catalog
//     (answers cached), follows its revocation stream and keeps the revocations it knows in
//     DATA_DIR/PART.token-revocations, read at start before the catalog is reached
//     (followCatalogTokens).

// revocationsFile is where a part in its own process keeps the revocations it knows.
func revocationsFile(dataDir, part string) string {
	return filepath.Join(dataDir, part+".token-revocations")
}

// wireCatalogTokens makes the catalog part's verifier check systems in memory and consult
// the revocations the part stores; it returns the revocation service to register.
func wireCatalogTokens(env partEnv, db *bolt.DB, c *catalog.Catalog) (*catalog.TokenRevocations, error) {
	tr, err := catalog.OpenTokenRevocations(db, env.verifier.Revocations(), env.lg.Named(catalog.Part))
	if err != nil {
		return nil, err
	}
	env.verifier.SetSystemCheck(c.CheckTokenSystem)
	return tr, nil
}

// followCatalogTokens makes the verifier of a part in its own process check systems with
// the catalog at addr and follow its revocations, starting from the local copy. The
// returned stop ends the following.
func followCatalogTokens(ctx context.Context, env partEnv, part, addr string) (stop func(), err error) {
	if err := os.MkdirAll(env.dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	revs := env.verifier.Revocations()
	if err := revs.Persist(revocationsFile(env.dataDir, part)); err != nil {
		return nil, err
	}
	conn, err := platform.Dial(addr, env.maxMsg, env.partTLS)
	if err != nil {
		return nil, fmt.Errorf("%s: catalog address: %w", part, err)
	}
	env.verifier.SetSystemCheck(platform.CachedSystemCheck(catalog.RemoteSystemCheck(catalogv1.NewCatalogServiceClient(conn))))
	lg := env.lg.Named(part)
	lg.Info("token revocations loaded", zap.Int("revocations", revs.Len()))
	fctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		revs.Follow(fctx, adminv1.NewTokenRevocationServiceClient(conn), lg)
	}()
	return func() {
		cancel()
		<-done
		conn.Close()
	}, nil
}

// checkSystemAtIssue applies the catalog's rule to a token about to be issued: against the
// running catalog at addr (a catalog part or the gateway) when given, else against
// DATA_DIR/catalog.db when no part holds it. It says what it checked against, or why it
// could not check (the parts check at every call anyway).
func checkSystemAtIssue(ctx context.Context, c *platform.Caller, addr string, pt partTLSFlags, dataDir string) (string, error) {
	if c.Role == platform.RoleAdmin {
		return "admin tokens' systems are not checked", nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if addr != "" {
		tlsConf, err := pt.load()
		if err != nil {
			return "", err
		}
		conn, err := grpc.NewClient(addr, tlsConf.DialOption())
		if err != nil {
			return "", err
		}
		defer conn.Close()
		if err := catalog.RemoteSystemCheck(catalogv1.NewCatalogServiceClient(conn))(ctx, c); err != nil {
			return "", fmt.Errorf("system %s: %w", c.System, err)
		}
		return "system checked with the catalog at " + addr, nil
	}
	path := platform.DBPath(dataDir, catalog.Part)
	if _, err := os.Stat(path); err != nil {
		return "system not checked: no catalog at " + path + " (give --catalog-addr of the running suite)", nil
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 200 * time.Millisecond})
	if errors.Is(err, bolt.ErrTimeout) {
		return "system not checked: " + path + " is in use by the running suite (give --catalog-addr, e.g. the gateway's address, to check with it)", nil
	}
	if err != nil {
		return "", err
	}
	defer db.Close()
	if err := catalog.FileSystemCheck(db)(ctx, c); err != nil {
		return "", fmt.Errorf("system %s: %w", c.System, err)
	}
	return "system checked with " + path, nil
}
