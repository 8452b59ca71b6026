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
