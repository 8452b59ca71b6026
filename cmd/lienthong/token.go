package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/lienthong/lienthong/services/platform"
)

func cmdToken(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "issue" {
		fmt.Fprintln(stderr, "Usage: lienthong token issue --system ID --role ROLE [--unit CODE] [--ttl 24h]")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return errors.New("token needs the subcommand issue")
	}
	fs := newFlags("token issue [flags]", "Prints a signed bearer token (Ed25519) for a calling system.", stderr)
	dataDir := fs.String("data-dir", "./data", "data folder of `lienthong up` (its keys are under DATA_DIR/keys)")
	keysDir := fs.String("keys-dir", "", "folder of the token signing keys (default DATA_DIR/keys)")
	system := fs.String("system", "", "calling system: agency code and subsystem, e.g. 000.00.00.H33/motcua")
	role := fs.String("role", "", "admin, ministry, province or agency")
	unit := fs.String("unit", "", "2-digit province code (required for role province)")
	ttl := fs.Duration("ttl", 24*time.Hour, "how long the token is valid")
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
	tok, err := platform.NewTokenIssuer(priv).Issue(platform.Caller{System: *system, Role: r, Unit: *unit}, *ttl, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
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
