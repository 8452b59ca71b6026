package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	scoringv1 "github.com/lienthong/lienthong/proto/gen/lienthong/scoring/v1"
	"github.com/lienthong/lienthong/services/platform"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
)

// hungYen is the province system the token tests use: a demo agency of unit 33.
var hungYen = platform.Caller{System: "000.00.00.H31/motcua", Role: platform.RoleProvince, Unit: "33"}

// tokenProbe uses a token the way a provincial system does, in every part that serves it:
// a dossier event (dossier), a read of its documents (docexchange) and a heartbeat
// (scoring), each over REST and over gRPC through the gateway.
type tokenProbe struct {
	t    *testing.T
	base string // http://gateway
	conn *grpc.ClientConn
	n    int // events sent, for unique ids and dossier codes
}

func newTokenProbe(t *testing.T, gatewayAddr string) *tokenProbe {
	p := &tokenProbe{t: t}
	p.connect(gatewayAddr)
	return p
}

// connect points the probe at a gateway (again, after a restart); dossier codes stay unique.
func (p *tokenProbe) connect(gatewayAddr string) {
	p.t.Helper()
	conn, err := grpc.NewClient(gatewayAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(func() { conn.Close() })
	p.base, p.conn = "http://"+gatewayAddr, conn
}

// event is a new dossier at Hưng Yên's department of construction, received an hour ago.
func (p *tokenProbe) event() string {
	p.n++
	at := time.Now().Add(-time.Hour).In(time.FixedZone("ICT", 7*3600))
	agency := "000.04.00.H31"
	return fmt.Sprintf(`{"event_id":"tok-%d-%d","dossier_code":"%s-%s-%04d","status":"DOSSIER_STATUS_NEW","occurred_at":"%s","unit_code":"33","agency_code":"%s","procedure_code":"%s","channel":"CHANNEL_ONLINE"}`,
		time.Now().UnixNano(), p.n, agency, at.Format("060102"), p.n%10000, at.Format(time.RFC3339), agency, hungYenProcedure)
}

// hungYenProcedure is a demo procedure that Hưng Yên's department of construction carries out.
const hungYenProcedure = "1.000114"

// results are "REST dossier write: 200", "gRPC heartbeat: Unauthenticated TOKEN_REVOKED", ...
func (p *tokenProbe) results(token string) []string {
	p.t.Helper()
	var out []string
	rest := func(name, method, path, body string) {
		code, reason := restCall(p.t, p.base, method, path, token, body)
		out = append(out, fmt.Sprintf("REST %s: %d %s", name, code, reason))
	}
	rest("dossier write", http.MethodPost, "/v1/dossier-events", p.event())
	rest("document read", http.MethodGet, "/v1/documents?from=000.00.00.H31&page_size=1", "")
	rest("heartbeat", http.MethodPost, "/v1/systems/000.00.00.H31%2Fmotcua:heartbeat", `{}`)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
	ev := &dossierv1.DossierEvent{}
	if err := protojson.Unmarshal([]byte(p.event()), ev); err != nil {
		p.t.Fatal(err)
	}
	_, err := dossierv1.NewDossierServiceClient(p.conn).CreateDossierEvent(ctx, &dossierv1.CreateDossierEventRequest{Event: ev})
	out = append(out, "gRPC dossier write: "+grpcResult(err))
	_, err = docv1.NewDocumentServiceClient(p.conn).ListDocuments(ctx, &docv1.ListDocumentsRequest{From: "000.00.00.H31", PageSize: 1})
	out = append(out, "gRPC document read: "+grpcResult(err))
	_, err = scoringv1.NewScoringServiceClient(p.conn).SendHeartbeat(ctx, &scoringv1.SendHeartbeatRequest{System: hungYen.System})
	out = append(out, "gRPC heartbeat: "+grpcResult(err))
	return out
}

func grpcResult(err error) string {
	st := status.Convert(err)
	for _, d := range st.Details() {
		if info, ok := d.(interface{ GetReason() string }); ok {
			return st.Code().String() + " " + info.GetReason()
		}
	}
	return st.Code().String()
}

// accepted and refused are what results must say of every call.
var (
	acceptedRE = regexp.MustCompile(`: (200 |OK)`)
	refusedRE  = func(reason string) *regexp.Regexp {
		return regexp.MustCompile(`: (401|Unauthenticated) ` + reason + `$`)
	}
)

// mismatches lists the results that do not match want.
func mismatches(results []string, want *regexp.Regexp) []string {
	var bad []string
	for _, r := range results {
		if !want.MatchString(r) {
			bad = append(bad, r)
		}
	}
	return bad
}

func (p *tokenProbe) want(what, token string, want *regexp.Regexp) {
	p.t.Helper()
	if bad := mismatches(p.results(token), want); len(bad) > 0 {
		p.t.Errorf("%s: want every call to match %q, got:\n  %s", what, want, strings.Join(bad, "\n  "))
	}
}

// restCall makes a REST call and returns the status and the ErrorInfo reason, if any.
func restCall(t *testing.T, base, method, path, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out struct {
		Details []struct {
			Reason string `json:"reason"`
		} `json:"details"`
	}
	_ = json.Unmarshal(raw, &out)
	for _, d := range out.Details {
		if d.Reason != "" {
			return resp.StatusCode, d.Reason
		}
	}
	return resp.StatusCode, ""
}

// issueCLI runs `lienthong token issue` and returns the token and its id (from stderr).
func issueCLI(t *testing.T, args ...string) (token, id string, err error) {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(binary, append([]string{"token", "issue", "--print-id"}, args...)...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", "", fmt.Errorf("%v: %s", err, stderr.String())
	}
	m := regexp.MustCompile(`token id ([0-9a-f]{32})`).FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("token issue printed no id on stderr: %q", stderr.String())
	}
	return strings.TrimSpace(string(out)), m[1], nil
}

// revokeCLI runs `lienthong token revoke` against the gateway.
func revokeCLI(t *testing.T, gatewayAddr, tokenFile string, args ...string) string {
	t.Helper()
	out, err := exec.Command(binary, append([]string{"token", "revoke", "--addr", gatewayAddr, "--token-file", tokenFile}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("token revoke %v: %v %s", args, err, out)
	}
	return string(out)
}

// TestTokenRevocationLifetimeAndSystem drives `lienthong up`: a token revoked by id is
// refused at once by every part over REST and gRPC and still after a restart; a revoked
// system's tokens are all refused while one issued later works; a token longer-lived than
// its role's maximum, and one whose system is an agency of another unit, are refused by the
// parts and by `token issue`.
func TestTokenRevocationLifetimeAndSystem(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	s := startUp(t, dir, "--demo", "--demo-dossiers", "0", "--token-max-ttl", "province=48h")
	adminFile := filepath.Join(data, AdminTokenFile)
	probe := newTokenProbe(t, s.addr)

	tok, id, err := issueCLI(t, "--data-dir", data, "--catalog-addr", s.addr, "--system", hungYen.System, "--role", "province", "--unit", "33")
	if err != nil {
		t.Fatal(err)
	}
	other := s.issue(hungYen, time.Hour, time.Now())
	probe.want("a fresh token", tok, acceptedRE)
	if t.Failed() {
		t.FailNow() // the probe itself is wrong: what follows would prove nothing
	}

	// Revoked by id: refused by every part as soon as the command returns.
	if out := revokeCLI(t, s.addr, adminFile, "--id", id, "--reason", "test"); !strings.Contains(out, "revoked token "+id) {
		t.Errorf("token revoke said %q", out)
	}
	probe.want("the revoked token", tok, refusedRE(platform.ErrTokenRevoked))
	probe.want("another token of the same system", other, acceptedRE)

	// Kept across a restart.
	s.stop()
	s = startUp(t, dir)
	probe.connect(s.addr)
	probe.want("the revoked token after a restart", tok, refusedRE(platform.ErrTokenRevoked))
	probe.want("another token after a restart", other, acceptedRE)

	// A whole system: every token issued so far, not one issued later.
	if out := revokeCLI(t, s.addr, adminFile, "--system", hungYen.System); !strings.Contains(out, "revoked every token of "+hungYen.System) {
		t.Errorf("token revoke --system said %q", out)
	}
	probe.want("a token of the revoked system", other, refusedRE(platform.ErrTokenRevoked))
	later := s.issue(hungYen, time.Hour, time.Now().Add(time.Second)) // iat counts whole seconds
	probe.want("a token issued after the system's revocation", later, acceptedRE)
	st, body := s.call(http.MethodGet, "/v1/token-revocations?page_size=1", s.token(), "")
	if revs, _ := body["token_revocations"].([]any); st != http.StatusOK || len(revs) != 1 || body["next_page_token"] == "" {
		t.Errorf("GET /v1/token-revocations?page_size=1: %d %v, want one revocation and a next page", st, body)
	}
	if st, _ := s.call(http.MethodGet, "/v1/token-revocations", later, ""); st != http.StatusForbidden {
		t.Errorf("a province lists revocations: %d, want 403", st)
	}

	// Lifetime beyond the role's maximum (the restarted suite keeps the default, 90 days).
	long := s.issue(hungYen, 90*24*time.Hour, time.Now().Add(time.Second))
	probe.want("a token of 90 days", long, acceptedRE)
	priv, err := platform.LoadPrivateKey(filepath.Join(data, "keys", platform.PrivateKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	tooLong, err := platform.NewTokenIssuer(priv).WithMaxTTL(platform.MaxTTL{platform.RoleProvince: 91 * 24 * time.Hour}).Issue(hungYen, 91*24*time.Hour, time.Now().Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	probe.want("a token of 91 days", tooLong, refusedRE("UNAUTHENTICATED"))
	if _, _, err := issueCLI(t, "--data-dir", data, "--system", hungYen.System, "--role", "province", "--unit", "33", "--ttl", "2185h"); err == nil || !strings.Contains(err.Error(), "maximum lifetime of a province token") {
		t.Errorf("token issue --ttl 2185h: %v, want refused", err)
	}
	if _, _, err := issueCLI(t, "--data-dir", data, "--system", hungYen.System, "--role", "province", "--unit", "33", "--ttl", "72h", "--token-max-ttl", "province=48h"); err == nil {
		t.Error("token issue --ttl 72h --token-max-ttl province=48h: issued")
	}

	// A system that is an agency of another unit (Nghệ An's, 40) on a token of unit 33.
	nghean := platform.Caller{System: "000.00.00.H41/motcua", Role: platform.RoleProvince, Unit: "33"}
	probe.want("a token of unit 33 for an agency of unit 40", s.issue(nghean, time.Hour, time.Now()), refusedRE("TOKEN_SYSTEM_NOT_OWNED"))
	_, _, err = issueCLI(t, "--data-dir", data, "--catalog-addr", s.addr, "--system", nghean.System, "--role", "province", "--unit", "33")
	if err == nil || !strings.Contains(err.Error(), "belongs to unit 40") {
		t.Errorf("token issue for an agency of another unit, with the running catalog: %v, want refused", err)
	}
	s.stop()
	_, _, err = issueCLI(t, "--data-dir", data, "--system", nghean.System, "--role", "province", "--unit", "33")
	if err == nil || !strings.Contains(err.Error(), "belongs to unit 40") {
		t.Errorf("token issue for an agency of another unit, offline: %v, want refused", err)
	}
}

// TestTokenRevocationAcrossProcesses runs each part as its own process (`lienthong serve`):
// a revocation reaches every part, and a part restarted while the catalog is down still
// refuses the revoked token from its own copy.
func TestTokenRevocationAcrossProcesses(t *testing.T) {
	dir := t.TempDir()
	keys, data := filepath.Join(dir, "keys"), filepath.Join(dir, "data")
	if out, err := exec.Command(binary, "keys", "init", "--keys-dir", keys).CombinedOutput(); err != nil {
		t.Fatalf("keys init: %v %s", err, out)
	}
	addr := map[string]string{}
	for _, name := range []string{"catalog", "dossier", "docexchange", "scoring", "gateway"} {
		addr[name] = freeAddr(t)
	}
	procs := map[string]*exec.Cmd{}
	start := func(name string, extra ...string) {
		args := append([]string{"serve", name, "--listen", addr[name], "--data-dir", data, "--keys-dir", keys, "--log-level", "warn"}, extra...)
		if name != "catalog" && name != "gateway" {
			args = append(args, "--catalog-addr", addr["catalog"])
		}
		c := exec.Command(binary, args...)
		if name == "scoring" || name == "gateway" {
			c.Env = append(os.Environ(), "LIENTHONG_DOSSIER_ADDR="+addr["dossier"], "LIENTHONG_DOCEXCHANGE_ADDR="+addr["docexchange"],
				"LIENTHONG_CATALOG_ADDR="+addr["catalog"], "LIENTHONG_SCORING_ADDR="+addr["scoring"])
		}
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		procs[name] = c
	}
	stop := func(name string, sig syscall.Signal) {
		c := procs[name]
		_ = c.Process.Signal(sig)
		_ = c.Wait()
	}
	t.Cleanup(func() {
		for _, c := range procs {
			_ = c.Process.Kill()
			_ = c.Wait()
		}
	})
	start("catalog", "--demo")
	for _, name := range []string{"dossier", "docexchange", "scoring", "gateway"} {
		start(name)
	}
	waitFor(t, 30*time.Second, "healthz 200", func() bool {
		resp, err := http.Get("http://" + addr["gateway"] + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	admin, _, err := issueCLI(t, "--keys-dir", keys, "--system", "lienthong/admin", "--role", "admin")
	if err != nil {
		t.Fatal(err)
	}
	adminFile := filepath.Join(dir, "admin.token")
	if err := os.WriteFile(adminFile, []byte(admin), 0o600); err != nil {
		t.Fatal(err)
	}
	tok, id, err := issueCLI(t, "--keys-dir", keys, "--catalog-addr", addr["gateway"], "--system", hungYen.System, "--role", "province", "--unit", "33")
	if err != nil {
		t.Fatal(err)
	}
	probe := newTokenProbe(t, addr["gateway"])
	probe.want("a fresh token", tok, acceptedRE)
	if t.Failed() {
		t.FailNow()
	}

	revokeCLI(t, addr["gateway"], adminFile, "--id", id)
	revoked := refusedRE(platform.ErrTokenRevoked)
	begin := time.Now()
	waitFor(t, 5*time.Second, "every part refuses the revoked token", func() bool { return len(mismatches(probe.results(tok), revoked)) == 0 })
	t.Logf("revocation refused by every part %v after the command returned", time.Since(begin).Round(time.Millisecond))

	// The catalog goes away; the dossier part restarts and still refuses the token.
	stop("catalog", syscall.SIGKILL)
	stop("dossier", syscall.SIGTERM)
	start("dossier")
	conn, err := grpc.NewClient(addr["dossier"], grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+tok)
	var got string
	waitFor(t, 30*time.Second, "the restarted dossier part answers", func() bool {
		_, err := dossierv1.NewDossierServiceClient(conn).ListDossierEvents(ctx, &dossierv1.ListDossierEventsRequest{PageSize: 1})
		got = grpcResult(err)
		return status.Code(err) != codes.Unavailable || strings.Contains(got, "CATALOG")
	})
	if got != "Unauthenticated "+platform.ErrTokenRevoked {
		t.Errorf("revoked token at the dossier part restarted without the catalog: %s, want Unauthenticated %s", got, platform.ErrTokenRevoked)
	}
}
