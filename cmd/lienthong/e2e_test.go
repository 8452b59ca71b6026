package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
)

// binary is the lienthong binary built once for the end-to-end tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lienthong-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "lienthong")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build lienthong:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// suite is a running `lienthong up`.
type suite struct {
	t       testing.TB
	cmd     *exec.Cmd
	dir     string // working folder; data is dir/data
	base    string // http://host:port
	addr    string // host:port of the gateway
	parts   map[string]string
	started time.Duration // from process start to /healthz 200
	exited  chan struct{}
	logs    *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var upLine = regexp.MustCompile(`REST and gRPC on http://(\S+)`)
var partsLine = regexp.MustCompile(`parts:\s+(.*)`)

// startUp runs `lienthong up` in dir on free ports and waits until /healthz is 200.
func startUp(t testing.TB, dir string, extra ...string) *suite {
	t.Helper()
	args := append([]string{"up", "--data-dir", filepath.Join(dir, "data"), "--listen", "127.0.0.1:0", "--log-format", "json"}, extra...)
	for _, p := range parts {
		args = append(args, "--"+p.name+"-listen", "127.0.0.1:0")
	}
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	cmd.Stderr = logs
	begin := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &suite{t: t, cmd: cmd, dir: dir, exited: make(chan struct{}), logs: logs, parts: map[string]string{}}
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	go func() { _ = cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() { s.stop() })
	deadline := time.After(30 * time.Second)
	for s.addr == "" || len(s.parts) == 0 {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("lienthong up ended before it was up; logs:\n%s", logs.String())
			}
			if m := upLine.FindStringSubmatch(l); m != nil {
				s.addr, s.base = m[1], "http://"+m[1]
			}
			if m := partsLine.FindStringSubmatch(l); m != nil {
				for _, kv := range strings.Split(m[1], ", ") {
					name, addr, _ := strings.Cut(kv, " ")
					s.parts[name] = addr
				}
			}
		case <-deadline:
			t.Fatalf("lienthong up did not print its address; logs:\n%s", logs.String())
		}
	}
	go func() {
		for range lines {
		}
	}()
	waitFor(t, 30*time.Second, "healthz 200", func() bool {
		resp, err := http.Get(s.base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	s.started = time.Since(begin)
	return s
}

// stop sends SIGTERM and waits for a clean exit.
func (s *suite) stop() {
	select {
	case <-s.exited:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		if !s.cmd.ProcessState.Success() {
			s.t.Errorf("lienthong exited with %v on SIGTERM; logs:\n%s", s.cmd.ProcessState, s.logs.String())
		}
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
		s.t.Errorf("lienthong did not stop on SIGTERM within 20s")
	}
}

// kill9 ends the process at once, as a power cut would.
func (s *suite) kill9() {
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.exited
}

func waitFor(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		select {
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (s *suite) token() string {
	s.t.Helper()
	b, err := os.ReadFile(filepath.Join(s.dir, "data", AdminTokenFile))
	if err != nil {
		s.t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// call makes a REST call and decodes the JSON answer.
func (s *suite) call(method, path, token, body string) (int, map[string]any) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 && json.Unmarshal(raw, &out) != nil {
		s.t.Fatalf("%s %s: not JSON: %s", method, path, raw)
	}
	return resp.StatusCode, out
}

// issue signs a token with the suite's key, as `lienthong token issue` would.
func (s *suite) issue(c platform.Caller, ttl time.Duration, now time.Time) string {
	s.t.Helper()
	priv, err := platform.LoadPrivateKey(filepath.Join(s.dir, "data", "keys", platform.PrivateKeyFile))
	if err != nil {
		s.t.Fatal(err)
	}
	tok, err := platform.NewTokenIssuer(priv).Issue(c, ttl, now)
	if err != nil {
		s.t.Fatal(err)
	}
	return tok
}

// firstCode is the code of the first item of a list answer (list is its field).
func (s *suite) firstCode(path, list string) string {
	s.t.Helper()
	_, out := s.call(http.MethodGet, path, s.token(), "")
	items, _ := out[list].([]any)
	if len(items) == 0 {
		s.t.Fatalf("GET %s: no %s", path, list)
	}
	return items[0].(map[string]any)["code"].(string)
}

// waitDemoDocuments waits until the demo documents, loaded in the background, are all in:
// the last of Hưng Yên's 2018 acceptances.
func (s *suite) waitDemoDocuments() {
	s.t.Helper()
	tok := s.token()
	waitFor(s.t, 60*time.Second, "demo documents", func() bool {
		_, st := s.call(http.MethodGet, "/v1/document-stats?unit=33&from=2018&geography=historical", tok, "")
		total, _ := st["total"].(map[string]any)
		return total["sent"] == "200" && total["received_electronically"] == "178"
	})
}

func (s *suite) grpcConn() *grpc.ClientConn {
	s.t.Helper()
	conn, err := grpc.NewClient(s.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { conn.Close() })
	return conn
}

// TestReadmeWalkthrough runs every line of the README's curl walkthrough against a fresh
// `lienthong up --demo` and checks each `# →` expectation.
func TestReadmeWalkthrough(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	block := walkthroughBlock(t, string(readme))
	s := startUp(t, t.TempDir(), "--demo", "--demo-dossiers", "500")
	t.Logf("up --demo: /healthz 200 after %v", s.started)
	// The demo documents load in the background (well under a second); the walkthrough
	// reads their statistics.
	s.waitDemoDocuments()
	env := append(os.Environ(), "PATH="+os.Getenv("PATH"))
	assign := regexp.MustCompile(`^([A-Z_]+)=\$\((.*)\)$`)
	ran := 0
	for _, line := range strings.Split(block, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		line = strings.ReplaceAll(line, "http://localhost:8080", s.base)
		line = strings.ReplaceAll(line, "localhost:8080", strings.TrimPrefix(s.base, "http://")) // gRPC addresses
		line = strings.ReplaceAll(line, "go run ./cmd/lienthong", binary+" --data-dir-unused-marker")
		line = strings.ReplaceAll(line, " --data-dir-unused-marker", "")
		if m := assign.FindStringSubmatch(line); m != nil {
			out := runShell(t, m[2], s.dir, env)
			env = append(env, m[1]+"="+strings.TrimSpace(out))
			continue
		}
		cmdText, want, hasWant := strings.Cut(line, "# →")
		out := runShell(t, cmdText, s.dir, env)
		ran++
		if hasWant && !strings.Contains(squash(out), squash(want)) {
			t.Errorf("README line\n  %s\ngot\n  %s\nwant it to contain %q", cmdText, out, strings.TrimSpace(want))
		}
	}
	if ran < 35 {
		t.Errorf("walkthrough ran %d commands; the README block was not found whole", ran)
	}
}

// walkthroughBlock is the first sh block of every "## Walkthrough" section, in order.
func walkthroughBlock(t *testing.T, readme string) string {
	t.Helper()
	var blocks []string
	sections := strings.Split(readme, "\n## ")
	for _, sec := range sections {
		if !strings.HasPrefix(sec, "Walkthrough") {
			continue
		}
		_, after, ok := strings.Cut(sec, "```sh\n")
		if !ok {
			t.Fatalf("walkthrough section %.30q has no sh block", sec)
		}
		block, _, ok := strings.Cut(after, "```")
		if !ok {
			t.Fatal("walkthrough block not closed")
		}
		blocks = append(blocks, block)
	}
	if len(blocks) == 0 {
		t.Fatal("README has no Walkthrough section")
	}
	return strings.Join(blocks, "\n")
}

func runShell(t *testing.T, script, dir string, env []string) string {
	t.Helper()
	cmd := exec.Command("bash", "-c", script)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
	return string(out)
}

// squash removes white space, since protojson spaces its output unpredictably.
func squash(s string) string {
	return strings.Join(strings.Fields(s), "")
}

// TestKill9LosesNothing acknowledges writes, kills the process with SIGKILL while it keeps
// writing, restarts on the same data and finds every acknowledged write.
func TestKill9LosesNothing(t *testing.T) {
	dir := t.TempDir()
	s := startUp(t, dir, "--demo", "--demo-dossiers", "0")
	token := s.token()
	var mu sync.Mutex
	var acked []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 5 * time.Second}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				code := fmt.Sprintf("1.8%d%04d", w, i)
				body := fmt.Sprintf(`{"code":%q,"name":"Thủ tục %s","field":"Đất đai","implementing_level":"IMPLEMENTING_LEVEL_PROVINCE","agency_codes":["000.06.00.H31"],"processing_days":5,"online_level":"ONLINE_LEVEL_FULL"}`, code, code)
				req, _ := http.NewRequest(http.MethodPost, s.base+"/v1/procedures", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := client.Do(req)
				if err != nil {
					return // the process is gone
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					mu.Lock()
					acked = append(acked, code)
					mu.Unlock()
				}
			}
		}()
	}
	waitFor(t, 30*time.Second, "40 acknowledged writes", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(acked) >= 40
	})
	s.kill9()
	close(stop)
	wg.Wait()
	mu.Lock()
	got := append([]string(nil), acked...)
	mu.Unlock()

	s2 := startUp(t, dir)
	for _, code := range got {
		if st, body := s2.call(http.MethodGet, "/v1/procedures/"+code, "", ""); st != http.StatusOK {
			t.Errorf("acknowledged procedure %s lost after kill -9: %d %v", code, st, body)
		}
	}
	// Demo data and the province tables survive too, once each.
	_, units := s2.call(http.MethodGet, "/v1/units?level=province&date=2025-06-30&page_size=1", "", "")
	if units["total_size"] != float64(63) {
		t.Errorf("provinces after restart: %v", units["total_size"])
	}
	t.Logf("%d acknowledged writes before kill -9, all found after restart (start to healthy: %v)", len(got), s2.started)
}

func TestGRPCOnTheGatewayPort(t *testing.T) {
	s := startUp(t, t.TempDir(), "--demo", "--demo-dossiers", "0")
	conn := s.grpcConn()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	refl, err := reflectionv1.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := refl.Send(&reflectionv1.ServerReflectionRequest{MessageRequest: &reflectionv1.ServerReflectionRequest_ListServices{ListServices: ""}}); err != nil {
		t.Fatal(err)
	}
	resp, err := refl.Recv()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, svc := range resp.GetListServicesResponse().GetService() {
		names = append(names, svc.GetName())
	}
	for _, want := range []string{"lienthong.catalog.v1.CatalogService", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"} {
		if !slices.Contains(names, want) {
			t.Errorf("reflection lists %v, missing %s", names, want)
		}
	}
	hc, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil || hc.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health: %v %v", hc, err)
	}
	cat := catalogv1.NewCatalogServiceClient(conn)
	u, err := cat.GetUnit(ctx, &catalogv1.GetUnitRequest{Code: "80", Date: "2025-06-30"})
	if err != nil || u.GetName() != "Long An" {
		t.Errorf("GetUnit over gRPC: %v %v", u, err)
	}
	_, err = cat.GetProcedure(ctx, &catalogv1.GetProcedureRequest{Code: "9.999999"})
	if status.Code(err) != codes.NotFound || len(status.Convert(err).Details()) < 2 {
		t.Errorf("NotFound over gRPC: %v with %d details", err, len(status.Convert(err).Details()))
	}
	_, err = cat.CreateAgency(ctx, &catalogv1.CreateAgencyRequest{})
	if status.Code(err) != codes.Unauthenticated {
		t.Errorf("write without token over gRPC: %v", err)
	}
}

// TestPartDownAndBack runs the parts as separate processes: when catalog stops, the gateway
// says so (503 naming it) and recovers by itself when catalog comes back.
func TestPartDownAndBack(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys")
	if out, err := exec.Command(binary, "keys", "init", "--keys-dir", keys).CombinedOutput(); err != nil {
		t.Fatalf("keys init: %v %s", err, out)
	}
	catAddr, gwAddr := freeAddr(t), freeAddr(t)
	startCatalog := func() *exec.Cmd {
		c := exec.Command(binary, "serve", "catalog", "--listen", catAddr, "--data-dir", filepath.Join(dir, "data"), "--keys-dir", keys)
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		return c
	}
	cat := startCatalog()
	dosAddr := freeAddr(t)
	dos := exec.Command(binary, "serve", "dossier", "--listen", dosAddr, "--data-dir", filepath.Join(dir, "data"), "--keys-dir", keys, "--catalog-addr", catAddr)
	if err := dos.Start(); err != nil {
		t.Fatal(err)
	}
	docAddr := freeAddr(t)
	doc := exec.Command(binary, "serve", "docexchange", "--listen", docAddr, "--data-dir", filepath.Join(dir, "data"), "--keys-dir", keys, "--catalog-addr", catAddr)
	if err := doc.Start(); err != nil {
		t.Fatal(err)
	}
	scoAddr := freeAddr(t)
	sco := exec.Command(binary, "serve", "scoring", "--listen", scoAddr, "--data-dir", filepath.Join(dir, "data"), "--keys-dir", keys,
		"--catalog-addr", catAddr, "--dossier-addr", dosAddr, "--docexchange-addr", docAddr)
	if err := sco.Start(); err != nil {
		t.Fatal(err)
	}
	gw := exec.Command(binary, "serve", "gateway", "--listen", gwAddr)
	// Configuration from the environment.
	gw.Env = append(os.Environ(), "LIENTHONG_KEYS_DIR="+keys, "LIENTHONG_CATALOG_ADDR="+catAddr, "LIENTHONG_DOSSIER_ADDR="+dosAddr, "LIENTHONG_DOCEXCHANGE_ADDR="+docAddr,
		"LIENTHONG_SCORING_ADDR="+scoAddr)
	if err := gw.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, c := range []*exec.Cmd{gw, sco, doc, dos, cat} {
			_ = c.Process.Kill()
			_ = c.Wait()
		}
	})
	base := "http://" + gwAddr
	health := func() (int, map[string]any) {
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			return 0, nil
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	waitFor(t, 30*time.Second, "healthz 200", func() bool { st, _ := health(); return st == http.StatusOK })

	_ = cat.Process.Signal(syscall.SIGKILL)
	_ = cat.Wait()
	st, body := health()
	if st != http.StatusServiceUnavailable || fmt.Sprint(body["down"]) != "[catalog]" {
		t.Errorf("healthz with catalog down: %d %v", st, body)
	}
	// Scoring cannot tell which units were in force without the catalog: UNAVAILABLE.
	resp, err := http.Get(base + "/v1/rankings/ICT-2018/2018")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(raw), "CATALOG_UNAVAILABLE") {
		t.Errorf("ranking with catalog down: %d %s", resp.StatusCode, raw)
	}
	resp, err = http.Get(base + "/v1/units/80")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(raw), "PART_UNAVAILABLE") || strings.Contains(string(raw), catAddr) {
		t.Errorf("REST with catalog down: %d %s", resp.StatusCode, raw)
	}

	cat = startCatalog()
	waitFor(t, 30*time.Second, "healthz 200 after catalog restart", func() bool { st, _ := health(); return st == http.StatusOK })
	resp, err = http.Get(base + "/v1/units/80")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("REST after catalog restart: %v %v", resp.StatusCode, err)
	}
	if resp != nil {
		resp.Body.Close()
	}
	// Scoring, a separate process, reads the catalog again: every unit in force in 2018.
	resp, err = http.Get(base + "/v1/rankings/ICT-2018/2018")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(raw), `"unit_count":63`) {
		t.Errorf("ranking after catalog restart: %d %.300s", resp.StatusCode, raw)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func TestBackupOnlineAndOffline(t *testing.T) {
	dir := t.TempDir()
	s := startUp(t, dir, "--demo", "--demo-dossiers", "0")
	data := filepath.Join(dir, "data")
	online := filepath.Join(dir, "online.db")
	out, err := exec.Command(binary, "backup", "--part", "catalog", "--out", online, "--data-dir", data, "--addr", s.parts["catalog"]).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "online") {
		t.Fatalf("online backup: %v %s", err, out)
	}
	checkBackup(t, online)
	s.stop()
	offline := filepath.Join(dir, "offline.db")
	out, err = exec.Command(binary, "backup", "--part", "catalog", "--out", offline, "--data-dir", data).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "offline") {
		t.Fatalf("offline backup: %v %s", err, out)
	}
	checkBackup(t, offline)
}

func checkBackup(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s mode %o, want 600", path, fi.Mode().Perm())
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		units, procs := tx.Bucket([]byte("units")), tx.Bucket([]byte("procedures"))
		if units == nil || procs == nil {
			return errors.New("buckets missing")
		}
		// The 63 province-level codes (the 34 of 2025 reuse them) and the 3,321 communes.
		if n := units.Stats().KeyN; n != 63+3321 {
			return fmt.Errorf("units: %d, want %d", n, 63+3321)
		}
		if n := procs.Stats().KeyN; n < 200 {
			return fmt.Errorf("procedures: %d, want at least 200", n)
		}
		return nil
	})
	if err != nil {
		t.Errorf("backup %s: %v", path, err)
	}
}

func TestFilesAndTokens(t *testing.T) {
	dir := t.TempDir()
	// The demo agencies: a province token's system must be an agency of its unit.
	s := startUp(t, dir, "--demo", "--demo-dossiers", "0")
	for _, f := range []string{"data/admin.token", "data/catalog.db", "data/keys/token-signing.key"} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %o, want 600", f, fi.Mode().Perm())
		}
	}
	issue := func(args ...string) (string, error) {
		out, err := exec.Command(binary, append([]string{"token", "issue", "--data-dir", filepath.Join(dir, "data")}, args...)...).Output()
		return strings.TrimSpace(string(out)), err
	}
	province, err := issue("--system", "000.00.00.H31/motcua", "--role", "province", "--unit", "33")
	if err != nil {
		t.Fatal(err)
	}
	body := `{"code":"000.98.00.H31","name":"Thử","unit_code":"33"}`
	cases := []struct {
		name  string
		token string
		want  int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"tampered", province[:len(province)-4] + "AAAA", http.StatusUnauthorized},
		{"province", province, http.StatusForbidden},
		{"admin", s.token(), http.StatusOK},
	}
	for _, tc := range cases {
		if st, out := s.call(http.MethodPost, "/v1/agencies", tc.token, body); st != tc.want {
			t.Errorf("%s: got %d %v, want %d", tc.name, st, out, tc.want)
		}
	}
	if _, err := issue("--system", "x", "--role", "province"); err == nil {
		t.Error("province token without unit was issued")
	}
	if _, err := issue("--system", "x", "--role", "king"); err == nil {
		t.Error("token with unknown role was issued")
	}
}

func TestEveryCommandHasHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"up", "--help"}, {"serve", "catalog", "--help"}, {"serve", "gateway", "--help"}, {"token", "issue", "--help"}, {"keys", "init", "--help"}, {"backup", "--help"}, {"health", "--help"}} {
		out, err := exec.Command(binary, args...).CombinedOutput()
		if err != nil {
			t.Errorf("%v: %v", args, err)
		}
		if !strings.Contains(string(out), "Usage") && !strings.Contains(string(out), "usage") {
			t.Errorf("%v: no usage in %s", args, out)
		}
	}
	if err := exec.Command(binary, "frobnicate").Run(); err == nil {
		t.Error("unknown command exited 0")
	}
}

// BenchmarkRESTGetProcedure measures one REST read through the gateway and the catalog part
// of a running `lienthong up --demo`, over HTTP/1.1 keep-alive.
func BenchmarkRESTGetProcedure(b *testing.B) {
	s := startUp(b, b.TempDir(), "--demo", "--demo-dossiers", "0")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	url := s.base + "/v1/procedures/1.000114"
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Get(url)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
}
