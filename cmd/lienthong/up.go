package main

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/lienthong/lienthong/gateway"
	"github.com/lienthong/lienthong/services/docexchange"
	"github.com/lienthong/lienthong/services/dossier"
	"github.com/lienthong/lienthong/services/platform"
	"github.com/lienthong/lienthong/services/scoring"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"
)

// commonFlags are the flags of up and serve.
type commonFlags struct {
	dataDir, keysDir    string
	logLevel, logFormat string
	grace               time.Duration
	maxMsg              int
	demo                bool
	holidays            string
	demoDossiers        int
	debugListen         string
	memoryLimitMiB      int
	rateLimit           platform.RateLimit
	tlsCert, tlsKey     string
	partCA              string
	partCert, partKey   string
	tokenMaxTTL         platform.MaxTTLFlag
	thresholds          scoring.Thresholds
	maxDoc              int
	trustedRoots        string
	crls                fileList
	refuseBrokenPDF     bool
	checkDB             platform.CheckLevel
	limits              limitFlags
}

func (c *commonFlags) register(fs *flag.FlagSet, logFormat string) {
	fs.StringVar(&c.dataDir, "data-dir", "./data", "folder of the bbolt files (one per part)")
	fs.StringVar(&c.keysDir, "keys-dir", "", "folder of the token signing keys (default DATA_DIR/keys)")
	fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.logFormat, "log-format", logFormat, "console or json")
	c.limits.register(fs)
	fs.DurationVar(&c.grace, "grace", 10*time.Second, "how long open calls may finish on shutdown")
	fs.IntVar(&c.maxMsg, "max-message-bytes", platform.DefaultMaxMessageBytes, "largest request a part or the gateway accepts")
	fs.IntVar(&c.maxDoc, "max-document-bytes", docexchange.DefaultMaxDocumentBytes, "largest document (attachments included) one request may send; REST bodies of POST /v1/documents may be this large")
	fs.Var(&c.tokenMaxTTL, "token-max-ttl", fmt.Sprintf("longest lifetime (exp − iat) of a token per role, `ROLE=DURATION,…`; longer tokens are refused (default %s)", platform.DefaultMaxTTL))
	fs.StringVar(&c.trustedRoots, "trusted-roots", "", "PEM file of the root certificates that agencies' signing certificate chains must lead to (docexchange)")
	fs.Var(&c.crls, "crl", "certificate revocation list `FILE` (DER or PEM) agencies' certificates are checked against, read again when it changes (docexchange; repeatable)")
	fs.BoolVar(&c.refuseBrokenPDF, "refuse-broken-pdf-signatures", false, "refuse a document with a PDF attachment whose embedded signature is broken (FAILED_PRECONDITION, PDF_SIGNATURE_BROKEN); by default it is only reported (docexchange)")
	fs.BoolVar(&c.demo, "demo", false, "load the demo data (once; later starts keep it)")
	fs.IntVar(&c.demoDossiers, "demo-dossiers", 100000, "with --demo, how many demo dossiers (2024 to now) the dossier part loads in the background")
	fs.Float64Var(&c.rateLimit.PerSecond, "rate-limit", platform.DefaultRateLimit.PerSecond, "calls per second each sending system may make to a part (stream messages count; the admin token is not limited; 0: no limit)")
	fs.IntVar(&c.rateLimit.Burst, "rate-burst", platform.DefaultRateLimit.Burst, "calls a sending system may make at once above --rate-limit")
	fs.StringVar(&c.tlsCert, "tls-cert", "", "PEM certificate (chain) of the gateway: with --tls-key, the gateway's port speaks TLS only (HTTPS and gRPC over TLS)")
	fs.StringVar(&c.tlsKey, "tls-key", "", "PEM private key of --tls-cert")
	fs.StringVar(&c.partCA, "part-tls-ca", "", "PEM CA certificate that signs the parts' certificates: with --part-tls-cert and --part-tls-key, parts and gateway talk mutual TLS")
	fs.StringVar(&c.partCert, "part-tls-cert", "", "PEM certificate of this process for mutual TLS between parts (signed by --part-tls-ca)")
	fs.StringVar(&c.partKey, "part-tls-key", "", "PEM private key of --part-tls-cert")
	fs.IntVar(&c.memoryLimitMiB, "memory-limit-mib", 224, "soft limit of the process's Go memory in MiB (GC works harder near it; 0: none; GOMEMLIMIT, if set, wins)")
	fs.StringVar(&c.debugListen, "debug-listen", "", "address for Go's profiles at /debug/pprof/ (off when empty; keep it on loopback)")
	fs.TextVar(&c.checkDB, "check-db", platform.CheckQuick, "how each part checks its bbolt file before serving it: quick (a few pages, whatever the size), full (every page; about 2 s a GiB) or off; a damaged file stops the start")
	fs.StringVar(&c.holidays, "holidays", "", "working-day calendar file (CSV date,kind,name) replacing the built-in holidays")
	d := scoring.DefaultThresholds
	fs.DurationVar(&c.thresholds.HeartbeatDegraded, "heartbeat-degraded-after", d.HeartbeatDegraded, "scoring: a system's channels are DEGRADED when its last heartbeat is older")
	fs.DurationVar(&c.thresholds.HeartbeatDisconnected, "heartbeat-disconnected-after", d.HeartbeatDisconnected, "scoring: a system's channels are DISCONNECTED when its last heartbeat is older")
	fs.DurationVar(&c.thresholds.DossierIdle, "dossier-idle-after", d.DossierIdle, "scoring: a dossier push channel is DEGRADED when the system's last accepted dossier event is older")
	fs.Float64Var(&c.thresholds.RefusedShare, "refused-share-degraded", d.RefusedShare, "scoring: a dossier push channel is DEGRADED when more than this share of the system's last 24 hours' events were refused")
	fs.DurationVar(&c.thresholds.DocumentWaiting, "document-waiting-after", d.DocumentWaiting, "scoring: a document exchange channel is DEGRADED when documents wait for acceptance longer")
}

// calendar is the working-day calendar: the built-in one, or --holidays.
func (c *commonFlags) calendar() (*dossier.Calendar, error) {
	if c.holidays == "" {
		return dossier.DefaultCalendar(), nil
	}
	f, err := os.Open(c.holidays)
	if err != nil {
		return nil, fmt.Errorf("holidays: %w", err)
	}
	defer f.Close()
	cal, err := dossier.ParseCalendar(f)
	if err != nil {
		return nil, fmt.Errorf("holidays %s: %w", c.holidays, err)
	}
	return cal, nil
}

// partTLS loads --part-tls-ca, --part-tls-cert and --part-tls-key.
func (c *commonFlags) partTLS() (platform.PartTLS, error) {
	return platform.LoadPartTLS(c.partCA, c.partCert, c.partKey)
}

// gatewayTLS loads --tls-cert and --tls-key; nil when neither is given.
func (c *commonFlags) gatewayTLS() (*tls.Config, error) {
	if c.tlsCert == "" && c.tlsKey == "" {
		return nil, nil
	}
	if c.tlsCert == "" || c.tlsKey == "" {
		return nil, fmt.Errorf("--tls-cert and --tls-key go together")
	}
	cert, err := tls.LoadX509KeyPair(c.tlsCert, c.tlsKey)
	if err != nil {
		return nil, fmt.Errorf("gateway TLS: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// applyMemoryLimit sets the Go runtime's soft memory limit. A server that holds its hot
// data in memory and churns through short-lived request objects otherwise lets its heap
// grow to twice what is live before collecting; near the limit the collector runs sooner,
// so a small machine keeps its memory. It is soft: the runtime never spends more than about
// half the CPU on collection to stay under it.
func (c *commonFlags) applyMemoryLimit() {
	if c.memoryLimitMiB > 0 && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(int64(c.memoryLimitMiB) << 20)
	}
}

func (c *commonFlags) keys() string {
	if c.keysDir != "" {
		return c.keysDir
	}
	return filepath.Join(c.dataDir, "keys")
}

// AdminTokenFile is written by up in the data folder, mode 0600.
const AdminTokenFile = "admin.token"

// validFor says a lifetime in days when it is whole days, else as a duration.
func validFor(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		n := int(d / (24 * time.Hour))
		return fmt.Sprintf("%d %s", n, plural(n, "day", "days"))
	}
	return d.String()
}

// adminTokenTTL is how long the token that up writes stays valid; up writes a new one at
// every start.
const adminTokenTTL = 30 * 24 * time.Hour

func cmdUp(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("up [flags]", "Runs every part in one process: each on its own loopback gRPC port, the gateway (REST and gRPC) on one port.", stderr)
	var c commonFlags
	c.register(fs, "console")
	listen := fs.String("listen", fmt.Sprintf("127.0.0.1:%d", gatewayPort), "address of the gateway (REST and gRPC)")
	partAddr := map[string]*string{}
	for _, p := range parts {
		partAddr[p.name] = fs.String(p.name+"-listen", fmt.Sprintf("127.0.0.1:%d", p.port), "gRPC address of the "+p.name+" part")
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	lg, err := platform.NewLogger(c.logLevel, c.logFormat)
	if err != nil {
		return err
	}
	defer lg.Sync() //nolint:errcheck
	start := time.Now()

	priv, err := platform.EnsureSigningKey(c.keys())
	if err != nil {
		return fmt.Errorf("token key: %w", err)
	}
	verifier := platform.NewTokenVerifier(priv.Public().(ed25519.PublicKey)).WithMaxTTL(c.tokenMaxTTL.Get())
	metrics := platform.NewMetrics()
	cal, err := c.calendar()
	if err != nil {
		return err
	}
	if err := serveDebug(ctx, c.debugListen, lg); err != nil {
		return fmt.Errorf("debug listener: %w", err)
	}
	c.applyMemoryLimit()
	partTLS, err := c.partTLS()
	if err != nil {
		return err
	}
	env := partEnv{partTLS: partTLS, dataDir: c.dataDir, lg: lg, verifier: verifier, metrics: metrics, demo: c.demo, maxMsg: c.maxMsg, calendar: cal, demoDossiers: c.demoDossiers, rateLimit: c.rateLimit,
		limits: c.limits, issuer: platform.NewTokenIssuer(priv).WithMaxTTL(c.tokenMaxTTL.Get()), thresholds: c.thresholds, maxDoc: c.maxDoc, trustedRoots: c.trustedRoots}
	env.checkDB = c.checkDB
	env.crls = c.crls
	if c.demo && c.trustedRoots == "" {
		if env.trustedRoots, err = demoTrustedRoots(c.dataDir, lg); err != nil {
			return err
		}
	}
	env.refuseBrokenPDF = c.refuseBrokenPDF

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	partsGroup, pctx := errgroup.WithContext(ctx)
	addrs := map[string]string{}
	var closers []func() error
	defer func() {
		for i := len(closers) - 1; i >= 0; i-- {
			if err := closers[i](); err != nil {
				lg.Error("close data file", zap.Error(err))
			}
		}
	}()
	listeners := map[string]net.Listener{}
	for _, p := range parts {
		lis, err := net.Listen("tcp", *partAddr[p.name])
		if err != nil {
			for _, l := range listeners {
				l.Close()
			}
			return fmt.Errorf("%s: %w", p.name, err)
		}
		listeners[p.name] = lis
		addrs[p.name] = lis.Addr().String()
	}
	env.peers = addrs
	servers := map[string]*platform.Server{}
	for i, p := range parts {
		srv, closeDB, err := p.start(ctx, env)
		servers[p.name] = srv
		if err != nil {
			for _, q := range parts[i:] {
				listeners[q.name].Close()
			}
			cancel()
			_ = partsGroup.Wait()
			return err
		}
		closers = append(closers, closeDB)
		lis := listeners[p.name]
		partsGroup.Go(func() error { return srv.Serve(pctx, lis, c.grace) })
	}

	// Every part is in this process: the gateway calls their unary methods in process
	// (same interceptors, no loopback gRPC hop); gRPC clients and streams still go to the
	// parts' ports.
	gwParts := gatewayParts(addrs)
	for i := range gwParts {
		if srv := servers[gwParts[i].Name]; srv != nil {
			gwParts[i].Local = srv.Local
		}
	}
	tlsConf, err := c.gatewayTLS()
	if err != nil {
		cancel()
		_ = partsGroup.Wait()
		return err
	}
	gw, err := gateway.New(ctx, gateway.Config{Parts: gwParts, Logger: lg.Named("gateway"), Metrics: metrics, MaxBodyBytes: int64(c.maxMsg), MaxDocumentBytes: int64(c.maxDoc), TLS: tlsConf, PartTLS: partTLS,
		Verifier: verifier, MaxConnsPerIP: c.limits.maxConnsPerIP, MaxReadsPerCaller: c.limits.maxReadsPerCaller})
	if err != nil {
		cancel()
		_ = partsGroup.Wait()
		return err
	}
	glis, err := net.Listen("tcp", *listen)
	if err != nil {
		cancel()
		_ = partsGroup.Wait()
		return fmt.Errorf("gateway: %w", err)
	}
	tokenPath := filepath.Join(c.dataDir, AdminTokenFile)
	adminTTL := min(adminTokenTTL, c.tokenMaxTTL.Get().For(platform.RoleAdmin))
	token, err := env.issuer.Issue(platform.Caller{System: "lienthong/admin", Role: platform.RoleAdmin}, adminTTL, time.Now())
	if err == nil {
		err = platform.WriteFileAtomic(tokenPath, []byte(token+"\n"), 0o600)
	}
	if err != nil {
		cancel()
		_ = partsGroup.Wait()
		return fmt.Errorf("admin token: %w", err)
	}
	gaddr := glis.Addr().String()
	scheme, plain := "http", "-plaintext "
	if tlsConf != nil {
		scheme, plain = "https", ""
	}
	fmt.Fprintf(stdout, `lienthong is up (%s): REST and gRPC on %s://%s
  health:   curl %s://%s/healthz
  API docs: %s://%s/docs
  admin token (valid %s, renewed at every start) in %s:
    TOKEN=$(cat %s)
    curl -H "Authorization: Bearer $TOKEN" %s://%s/v1/procedures?page_size=5
  gRPC:     grpcurl %s%s list
  parts:    %s
Stop with Ctrl-C.
`, time.Since(start).Round(time.Millisecond), scheme, gaddr, scheme, gaddr, scheme, gaddr, validFor(adminTTL), tokenPath, tokenPath, scheme, gaddr, plain, gaddr, partList(addrs))

	gwErr := gw.Serve(pctx, glis, c.grace)
	cancel()
	perr := partsGroup.Wait()
	if gwErr != nil {
		return gwErr
	}
	return perr
}

// parseFlags parses args, then fills unset flags from LIENTHONG_* variables.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	return platform.ApplyEnv(fs, os.LookupEnv)
}

// partList is "catalog 127.0.0.1:9101, ..." in start order.
func partList(addrs map[string]string) string {
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		out = append(out, p.name+" "+addrs[p.name])
	}
	return strings.Join(out, ", ")
}
