package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lienthong/lienthong/services/platform"
)

// pythonWithCryptography is a Python 3 that can import the cryptography package (the one on
// PATH, else Debian's, where scripts/test installs python3-cryptography).
func pythonWithCryptography(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(p, "-c", "import cryptography").Run() == nil {
			return p
		}
	}
	t.Fatal("no python3 with the cryptography package (scripts/test installs python3-cryptography)")
	return ""
}

// TestSigningExamples runs the signing examples of examples/ against the suite: a Python
// client (RSA-PSS) and a Node client (ECDSA P-256) each register a key, sign the JSON they
// send exactly as they send it (lowerCamel names, defaults, numbers as numbers) and post
// it; the suite must accept both (README.md, "Documents": the document as sent).
func TestSigningExamples(t *testing.T) {
	python := pythonWithCryptography(t)
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is needed (scripts/test installs nodejs)")
	}
	s := startUp(t, t.TempDir())
	const from, to = "000.09.00.H31", "000.10.00.H31"
	for _, code := range []string{from, to} {
		body := fmt.Sprintf(`{"code":%q,"name":"Sở Thử nghiệm %s","unit_code":"33"}`, code, code)
		if st, out := s.call(http.MethodPost, "/v1/agencies", s.token(), body); st != http.StatusOK {
			t.Fatalf("agency %s: %d %v", code, st, out)
		}
	}
	agency := s.issue(platform.Caller{System: from + "/qlvb", Role: platform.RoleAgency}, time.Hour, time.Now())
	examples, err := filepath.Abs("../../examples")
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "LIENTHONG_URL="+s.base, "LIENTHONG_ADMIN_TOKEN="+s.token(), "LIENTHONG_TOKEN="+agency,
		"LIENTHONG_FROM="+from, "LIENTHONG_TO="+to)
	for _, c := range []struct{ name, bin, script string }{
		{"python", python, filepath.Join(examples, "python", "sign_document.py")},
		{"node", node, filepath.Join(examples, "node", "sign_document.mjs")},
	} {
		cmd := exec.Command(c.bin, c.script)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "accepted ") {
			t.Errorf("%s example: %v\n%s", c.name, err, out)
		}
	}
}
