package main

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestBenchHelp(t *testing.T) {
	out, err := exec.Command(binary, "bench", "--help").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Usage: lienthong bench") || !strings.Contains(string(out), "-stream-inflight") {
		t.Errorf("bench --help: %v\n%s", err, out)
	}
}

// TestBenchCommand runs `lienthong bench` briefly in every mode against a fresh
// `lienthong up --demo` and checks that each mode stored events, none was refused and
// latencies were measured. Speed is measured, never asserted.
func TestBenchCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the suite under load for about 10 s")
	}
	dir := t.TempDir()
	s := startUp(t, dir, "--demo", "--log-level", "warn")
	data := filepath.Join(dir, "data")
	cmd := exec.Command(binary, "bench", "--addr", s.addr, "--data-dir", data, "--mode", "all",
		"--duration", "2s", "--concurrency", "4", "--stats-interval", "50ms", "--json")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("bench: %v\n%s\nserver logs:\n%s", err, stderr.String(), s.logs.String())
	}
	var sum benchSummary
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil {
		t.Fatalf("bench --json: %v\n%s", err, stdout.String())
	}
	t.Logf("bench:\n%s", stderr.String())
	got := map[string]*modeResult{}
	for _, m := range sum.Modes {
		got[m.Mode] = m
	}
	for _, mode := range benchModes {
		m := got[mode]
		if m == nil {
			t.Errorf("no figures for mode %s", mode)
			continue
		}
		if m.Accepted <= 0 || m.Refused != 0 || m.FailedRequests != 0 {
			t.Errorf("%s: sent %d, accepted %d, refused %d %v, failed requests %d; want all accepted",
				mode, m.Sent, m.Accepted, m.Refused, m.RefusedByReason, m.FailedRequests)
		}
		if m.EventsPerSecond <= 0 || m.Latency.Count == 0 || m.Latency.P50 <= 0 || m.Latency.P99 <= 0 || m.Latency.Max <= 0 {
			t.Errorf("%s: events/s %.0f, latency %+v; want figures above 0", mode, m.EventsPerSecond, m.Latency)
		}
		if m.Stats.Count == 0 || m.Stats.P50 <= 0 || m.Stats.P99 <= 0 {
			t.Errorf("%s: dossier-stats latency %+v, %d errors; want it measured", mode, m.Stats, m.StatsErrors)
		}
		if m.Memory.Samples == 0 || m.Memory.HeapInuse <= 0 || m.Memory.RSS <= 0 {
			t.Errorf("%s: memory %+v; want it read from /metrics", mode, m.Memory)
		}
		if m.StoredEvents < m.Accepted || m.DBBytes <= 0 || m.BytesPerEvent <= 0 {
			t.Errorf("%s: stored %d events, file %d bytes, %.0f B/event; want the feed and the file read", mode, m.StoredEvents, m.DBBytes, m.BytesPerEvent)
		}
	}
}

// TestBenchSoak repeats a mode in rounds until the soak time has passed and compares the
// first round with the last.
func TestBenchSoak(t *testing.T) {
	dir := t.TempDir()
	s := startUp(t, dir, "--demo", "--demo-dossiers", "0", "--log-level", "warn")
	cmd := exec.Command(binary, "bench", "--addr", s.addr, "--data-dir", filepath.Join(dir, "data"), "--mode", "grpc-stream",
		"--duration", "1s", "--soak", "1500ms", "--rate", "500", "--batch", "50", "--stats-interval", "50ms", "--json")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("bench --soak: %v\n%s", err, stderr.String())
	}
	var sum benchSummary
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil {
		t.Fatalf("bench --json: %v\n%s", err, stdout.String())
	}
	if len(sum.Modes) < 2 || sum.Modes[0].Mode != "grpc-stream #1" || sum.Modes[1].Mode != "grpc-stream #2" {
		t.Fatalf("rounds %v, want grpc-stream #1, #2, ...", sum.Modes)
	}
	for _, m := range sum.Modes {
		if m.Accepted == 0 || m.Refused != 0 {
			t.Errorf("%s: %d accepted, %d refused", m.Mode, m.Accepted, m.Refused)
		}
	}
	if !strings.Contains(stderr.String(), "soak: first round → last round") || !strings.Contains(stderr.String(), "grpc-stream  events/s") {
		t.Errorf("no soak comparison in:\n%s", stderr.String())
	}
}
