package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestFullDataFile runs `up` with a limit on the size of its files (RLIMIT_FSIZE, as a full
// disk does for the file that must grow): once dossier.db cannot grow, every write is
// refused with STORAGE_* and nothing of it stored, the process stays up, and after a
// restart without the limit `verify` finds exactly the events acknowledged, and writes go on.
func TestFullDataFile(t *testing.T) {
	dir := t.TempDir()
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	limit := syscall.Rlimit{Cur: 4 << 20, Max: old.Max}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &limit); err != nil {
		t.Fatal(err)
	}
	s := startUp(t, dir, "--demo", "--demo-dossiers", "0", "--log-level", "warn") // the child keeps the limit
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	cmd := exec.Command(binary, "bench", "--addr", s.addr, "--data-dir", data, "--mode", "rest-batch", "--batch", "200",
		"--concurrency", "2", "--duration", "12s", "--stats-interval", "0", "--json")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("bench: %v\n%s", err, stderr.String())
	}
	var sum benchSummary
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil || len(sum.Modes) != 1 {
		t.Fatalf("bench --json: %v\n%s", err, stdout.String())
	}
	m := sum.Modes[0]
	full := m.RefusedByReason["STORAGE_FAILED"] + m.RefusedByReason["STORAGE_FULL"]
	if m.Accepted == 0 || full == 0 {
		t.Fatalf("accepted %d, refused for storage %d (%v): the file never filled", m.Accepted, full, m.RefusedByReason)
	}
	if code, _ := s.call(http.MethodGet, "/healthz", "", ""); code != http.StatusOK {
		t.Errorf("/healthz %d with a full data file, want 200: the process should stay up", code)
	}
	// Documents until docexchange.db cannot grow either: 503 STORAGE_FULL, and the
	// evidence log still verifies.
	token := s.token()
	attachment := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("lienthong "), 400))
	var code int
	var body map[string]any
	sentDocs := 0
	for i := 0; i < 3000; i++ {
		code, body = s.call(http.MethodPost, "/v1/documents", token, fmt.Sprintf(`{"from":"000.02.00.H31","to":["000.00.00.H31"],"code_number":"%d","code_notation":"STP-VP","promulgation_date":"2026-11-02","subject":"Văn bản %d","attachments":[{"name":"a.txt","content":"%s"}]}`, 5000+i, i, attachment))
		if code != http.StatusOK {
			break
		}
		sentDocs++
	}
	if code != http.StatusServiceUnavailable || !strings.Contains(fmt.Sprint(body), "STORAGE_FULL") {
		t.Errorf("after %d documents: %d %v, want 503 STORAGE_FULL", sentDocs, code, body)
	}
	if st, v := s.call(http.MethodGet, "/v1/evidence:verify", token, ""); st != http.StatusOK || v["ok"] != true {
		t.Errorf("evidence with a full data file: %d %v", st, v)
	}
	s.stop()

	out, err := exec.Command(binary, "verify", "--part", "dossier", "--data-dir", data).CombinedOutput()
	if err != nil {
		t.Fatalf("verify: %v\n%s", err, out)
	}
	n := regexp.MustCompile(`: (\d+) events`).FindSubmatch(out)
	if n == nil {
		t.Fatalf("verify printed no event count: %s", out)
	}
	if got, _ := strconv.ParseInt(string(n[1]), 10, 64); got != m.Accepted || !bytes.Contains(out, []byte("no differences")) {
		t.Errorf("verify: %s; want exactly the %d events acknowledged and no difference", out, m.Accepted)
	}

	s = startUp(t, dir)
	cmd = exec.Command(binary, "bench", "--addr", s.addr, "--data-dir", data, "--mode", "rest-batch", "--batch", "100",
		"--concurrency", "1", "--duration", "1s", "--stats-interval", "0", "--json")
	stdout.Reset()
	cmd.Stdout = &stdout
	if err := cmd.Run(); err != nil {
		t.Fatalf("bench after the restart: %v", err)
	}
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil || sum.Modes[0].Accepted == 0 || sum.Modes[0].Refused != 0 {
		t.Errorf("after the restart without the limit: %+v, %v; want writes accepted again", sum.Modes, err)
	}
}
