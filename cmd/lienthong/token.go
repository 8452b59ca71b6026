package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	adminv1 "github.com/lienthong/lienthong/proto/gen/lienthong/admin/v1"
	"github.com/lienthong/lienthong/services/platform"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

func cmdToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "revoke" {
		return cmdTokenRevoke(ctx, args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "issue" {
		fmt.Fprintln(stderr, "Usage: lienthong token issue --system ID --role ROLE [--unit CODE] [--ttl 24h]\n       lienthong token revoke --id ID | --system ID [--reason TEXT]")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return errors.New("token needs the subcommand issue or revoke")
	}
	fs := newFlags("token issue [flags]", "Prints a signed bearer token (Ed25519) for a calling system.", stderr)
	dataDir := fs.String("data-dir", "./data", "data folder of `lienthong up` (its keys are under DATA_DIR/keys)")
	keysDir := fs.String("keys-dir", "", "folder of the token signing keys (default DATA_DIR/keys)")
	system := fs.String("system", "", "calling system: agency code and subsystem, e.g. 000.00.00.H31/motcua")
	role := fs.String("role", "", "admin, ministry, province or agency")
	unit := fs.String("unit", "", "2-digit province code (required for role province)")
	ttl := fs.Duration("ttl", 24*time.Hour, "how long the token is valid (at most the role's --token-max-ttl)")
	var maxTTL platform.MaxTTLFlag
	fs.Var(&maxTTL, "token-max-ttl", fmt.Sprintf("longest lifetime of a token per role, as the suite is configured: `ROLE=DURATION,…` (default %s)", platform.DefaultMaxTTL))
	catalogAddr := fs.String("catalog-addr", "", "gRPC address of the running catalog part or gateway, to check that the system belongs to its unit or agency (default: DATA_DIR/catalog.db when the suite is not running)")
	printID := fs.Bool("print-id", false, "also print the token's id (for token revoke --id), its expiry and how its system was checked, on stderr")
	var pt partTLSFlags
	pt.register(fs)
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	dir := *keysDir
	if dir == "" {
		dir = filepath.Join(*dataDir, "keys")
	}
	r, err := platform.ParseRole(*role)
	if err != nil {
		return err
	}
	priv, err := platform.LoadPrivateKey(filepath.Join(dir, platform.PrivateKeyFile))
	if err != nil {
		return fmt.Errorf("signing key: %w (start `lienthong up` once, or run `lienthong keys init`)", err)
	}
	c := platform.Caller{System: *system, Role: r, Unit: *unit}
	now := time.Now()
	iss := platform.NewTokenIssuer(priv).WithMaxTTL(maxTTL.Get())
	if _, _, err := iss.IssueWithID(c, *ttl, now); err != nil { // the caller's own checks first
		return err
	}
	checked, err := checkSystemAtIssue(ctx, &c, *catalogAddr, pt, *dataDir)
	if err != nil {
		return err
	}
	tok, id, err := iss.IssueWithID(c, *ttl, now)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
	if *printID {
		fmt.Fprintf(stderr, "token id %s, valid until %s; %s\n", id, now.Add(*ttl).UTC().Format(time.RFC3339), checked)
	}
	return nil
}

// cmdTokenRevoke revokes a token or a system through the running suite.
func cmdTokenRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("token revoke --id ID | --system ID [flags]",
		"Revokes a token (by the id token issue --print-id printed) or every token of a system issued until now; every part refuses them at once.", stderr)
	id := fs.String("id", "", "id of the token to revoke")
	system := fs.String("system", "", "calling system whose tokens issued until now are all revoked (tokens issued later are valid)")
	reason := fs.String("reason", "", "why, for the operators (at most 500 bytes)")
	addr := fs.String("addr", fmt.Sprintf("127.0.0.1:%d", gatewayPort), "gRPC address of the gateway (or of the catalog part)")
	dataDir := fs.String("data-dir", "./data", "data folder of lienthong up (for its admin token)")
	tokenFile := fs.String("token-file", "", "admin token (default DATA_DIR/admin.token)")
	var pt partTLSFlags
	pt.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if (*id == "") == (*system == "") {
		return errors.New("give --id or --system")
	}
	tf := *tokenFile
	if tf == "" {
		tf = filepath.Join(*dataDir, AdminTokenFile)
	}
	tok, err := os.ReadFile(tf)
	if err != nil {
		return fmt.Errorf("admin token: %w", err)
	}
	tlsConf, err := pt.load()
	if err != nil {
		return err
	}
	conn, err := grpc.NewClient(*addr, tlsConf.DialOption())
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+strings.TrimSpace(string(tok)))
	rv, err := adminv1.NewTokenRevocationServiceClient(conn).CreateTokenRevocation(ctx, &adminv1.CreateTokenRevocationRequest{
		TokenRevocation: &adminv1.TokenRevocation{TokenId: *id, System: *system, Reason: *reason}})
	if err != nil {
		return fmt.Errorf("revoke at %s: %w", *addr, err)
	}
	at := rv.GetRevokedAt().AsTime().UTC()
	if rv.GetTokenId() != "" {
		fmt.Fprintf(stdout, "revoked token %s (revocation %d, %s)\n", rv.GetTokenId(), rv.GetSequence(), at.Format(time.RFC3339))
		return nil
	}
	fmt.Fprintf(stdout, "revoked every token of %s issued until %s (revocation %d); tokens issued from %s on are valid\n",
		rv.GetSystem(), at.Format(time.RFC3339), rv.GetSequence(), at.Truncate(time.Second).Add(time.Second).Format(time.RFC3339))
	return nil
}

func cmdKeys(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "init" {
		fmt.Fprintln(stderr, "Usage: lienthong keys init [--keys-dir DIR]")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return errors.New("keys needs the subcommand init")
	}
	fs := newFlags("keys init [flags]", "Makes the token signing key pair if it does not exist (private key 0600).", stderr)
	keysDir := fs.String("keys-dir", "./data/keys", "folder of the keys")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if _, err := platform.EnsureSigningKey(*keysDir); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "signing keys in %s: %s (private, 0600), %s (public, for the parts)\n", *keysDir, platform.PrivateKeyFile, platform.PublicKeyFile)
	return nil
}
