package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestServeDocexchangeDemoMakesTestCA: `serve docexchange --demo` without --trusted-roots
// trusts the demo's test CA as `up --demo` does (README.md, "Walkthrough: a national edXML
// package signed with an RSA certificate"), so a part run alone can take the walkthrough's
// certificates.
func TestServeDocexchangeDemoMakesTestCA(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys")
	if out, err := exec.Command(binary, "keys", "init", "--keys-dir", keys).CombinedOutput(); err != nil {
		t.Fatalf("keys init: %v %s", err, out)
	}
	data := filepath.Join(dir, "data")
	doc := exec.Command(binary, "serve", "docexchange", "--demo", "--listen", freeAddr(t), "--data-dir", data, "--keys-dir", keys,
		"--catalog-addr", freeAddr(t))
	if err := doc.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = doc.Process.Kill(); _ = doc.Wait() })
	root := filepath.Join(data, demoCADir, caRootCert)
	waitFor(t, 20*time.Second, "the demo CA's root", func() bool { _, err := os.Stat(root); return err == nil })
	if _, err := os.Stat(filepath.Join(data, demoCADir, caInterCert)); err != nil {
		t.Errorf("the demo CA's intermediate: %v", err)
	}
}
