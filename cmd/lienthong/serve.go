package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"slices"
	"strings"

	"github.com/lienthong/lienthong/gateway"
	"github.com/lienthong/lienthong/services/catalog"
	"github.com/lienthong/lienthong/services/docexchange"
	"github.com/lienthong/lienthong/services/platform"
)

func partNames() string {
	names := make([]string, 0, len(parts)+1)
	for _, p := range parts {
		names = append(names, p.name)
	}
	return strings.Join(append(names, "gateway"), ", ")
}

// cmdServe runs one part in this process, for compose or a cluster. Parts need the token
// public key (keys-dir/token-signing.pub); the gateway needs each part's address.
func cmdServe(ctx context.Context, args []string, _, stderr io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintf(stderr, "Usage: lienthong serve PART [flags]\nParts: %s\n", partNames())
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return errors.New("serve needs a part")
	}
	name, args := args[0], args[1:]
	p, isPart := findPart(name)
	if !isPart && name != "gateway" {
		return fmt.Errorf("unknown part %q (parts: %s)", name, partNames())
	}
	fs := newFlags("serve "+name+" [flags]", "Runs the "+name+" part alone.", stderr)
	var c commonFlags
	c.register(fs, "json")
	defaultPort := gatewayPort
	if isPart {
		defaultPort = p.port
	}
	listen := fs.String("listen", fmt.Sprintf("127.0.0.1:%d", defaultPort), "address to listen on")
	partAddr := map[string]*string{}
	for _, q := range parts {
		if !isPart || slices.Contains(p.needs, q.name) {
			partAddr[q.name] = fs.String(q.name+"-addr", fmt.Sprintf("127.0.0.1:%d", q.port), "gRPC address of the "+q.name+" part")
		}
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	lg, err := platform.NewLogger(c.logLevel, c.logFormat)
	if err != nil {
		return err
	}
	defer lg.Sync() //nolint:errcheck
	metrics := platform.NewMetrics()
	if err := serveDebug(ctx, c.debugListen, lg); err != nil {
		return fmt.Errorf("debug listener: %w", err)
	}
	c.applyMemoryLimit()
	lis, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	defer lis.Close()

	addrs := map[string]string{}
	for n, a := range partAddr {
		addrs[n] = *a
	}
	if !isPart {
		tlsConf, err := c.gatewayTLS()
		if err != nil {
			return err
		}
		partTLS, err := c.partTLS()
		if err != nil {
			return err
		}
		// The gateway checks tokens before reading bodies: it needs the public key too.
		pub, err := platform.LoadPublicKey(filepath.Join(c.keys(), platform.PublicKeyFile))
		if err != nil {
			return fmt.Errorf("token public key: %w (the gateway checks tokens; give it --keys-dir)", err)
		}
		verifier := platform.NewTokenVerifier(pub).WithMaxTTL(c.tokenMaxTTL.Get())
		gw, err := gateway.New(ctx, gateway.Config{Parts: gatewayParts(addrs), Logger: lg.Named("gateway"), Metrics: metrics, MaxBodyBytes: int64(c.maxMsg), MaxDocumentBytes: int64(c.maxDoc), TLS: tlsConf, PartTLS: partTLS,
			Verifier: verifier, MaxConnsPerIP: c.limits.maxConnsPerIP, MaxReadsPerCaller: c.limits.maxReadsPerCaller})
		if err != nil {
			return err
		}
		return gw.Serve(ctx, lis, c.grace)
	}

	pub, err := platform.LoadPublicKey(filepath.Join(c.keys(), platform.PublicKeyFile))
	if err != nil {
		return fmt.Errorf("token public key: %w (run `lienthong keys init --keys-dir %s` first)", err, c.keys())
	}
	cal, err := c.calendar()
	if err != nil {
		return err
	}
	partTLS, err := c.partTLS()
	if err != nil {
		return err
	}
	env := partEnv{partTLS: partTLS, dataDir: c.dataDir, lg: lg, verifier: platform.NewTokenVerifier(pub).WithMaxTTL(c.tokenMaxTTL.Get()), metrics: metrics, demo: c.demo,
		maxMsg: c.maxMsg, peers: addrs, calendar: cal, demoDossiers: c.demoDossiers, thresholds: c.thresholds, rateLimit: c.rateLimit,
		maxDoc: c.maxDoc, trustedRoots: c.trustedRoots, limits: c.limits}
	env.checkDB = c.checkDB
	env.crls = c.crls
	env.refuseBrokenPDF = c.refuseBrokenPDF
	if c.demo && c.trustedRoots == "" && p.name == docexchange.Part {
		if env.trustedRoots, err = demoTrustedRoots(c.dataDir, lg); err != nil {
			return err
		}
	}
	// A part that calls others with its own token (scoring) signs it with the private key
	// when the keys folder holds it.
	if priv, err := platform.LoadPrivateKey(filepath.Join(c.keys(), platform.PrivateKeyFile)); err == nil {
		env.issuer = platform.NewTokenIssuer(priv).WithMaxTTL(c.tokenMaxTTL.Get())
	}
	if p.name != catalog.Part {
		stopFollowing, err := followCatalogTokens(ctx, env, p.name, addrs[catalog.Part])
		if err != nil {
			return err
		}
		defer stopFollowing()
	}
	srv, closeDB, err := p.start(ctx, env)
	if err != nil {
		return err
	}
	defer closeDB()
	return srv.Serve(ctx, lis, c.grace)
}
