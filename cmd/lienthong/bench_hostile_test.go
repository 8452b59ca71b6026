package main

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBenchHostile runs `lienthong bench --hostile` with small numbers against a fresh
// `lienthong up --demo`: the attacker's slow connections, stalled streams and flood are
// made and counted, every event of the victim is acknowledged in both phases, and the
// figures and targets are printed. Speed is measured, never asserted.
func TestBenchHostile(t *testing.T) {
	dir := t.TempDir()
	s := startUp(t, dir, "--demo", "--demo-dossiers", "2000", "--log-level", "warn")
	cmd := exec.Command(binary, "bench", "--hostile", "--addr", s.addr, "--data-dir", filepath.Join(dir, "data"),
		"--duration", "3s", "--slow-conns", "50", "--stalled-streams", "20", "--flood-concurrency", "4",
		"--slow-interval", "500ms", "--batch", "100", "--victim-single-rate", "100", "--json")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("bench --hostile: %v\n%s\nserver logs:\n%s", err, stderr.String(), s.logs.String())
	}
	t.Logf("bench --hostile:\n%s", stderr.String())
	var sum hostileSummary
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil {
		t.Fatalf("bench --hostile --json: %v\n%s", err, stdout.String())
	}
	if sum.AttackerSource != "127.0.0.2" || sum.VictimSource != "127.0.0.1" || sum.AttackerUnit != "33" || sum.VictimUnit != "40" {
		t.Errorf("attacker %s from %s, victim %s from %s; want 33 from 127.0.0.2, 40 from 127.0.0.1",
			sum.AttackerUnit, sum.AttackerSource, sum.VictimUnit, sum.VictimSource)
	}
	for _, p := range []*hostilePhase{sum.Quiet, sum.Attack} {
		if p == nil {
			t.Fatalf("a phase is missing: quiet %v, attack %v", sum.Quiet, sum.Attack)
		}
		for _, r := range []*modeResult{p.Single, p.Batch} {
			if r.Sent == 0 || r.Accepted+r.Duplicates != r.Sent || r.Refused != 0 || r.FailedRequests != 0 {
				t.Errorf("%s %s: sent %d, accepted %d, duplicates %d, refused %d %v, failed requests %d; want every event acknowledged",
					p.Phase, r.Mode, r.Sent, r.Accepted, r.Duplicates, r.Refused, r.RefusedByReason, r.FailedRequests)
			}
			if r.EventsPerSecond <= 0 || r.Latency.Count == 0 || r.Latency.P99 <= 0 {
				t.Errorf("%s %s: %.0f events/s, latency %+v; want figures above 0", p.Phase, r.Mode, r.EventsPerSecond, r.Latency)
			}
		}
		if p.Memory.Samples == 0 || p.Memory.GoMemory <= 0 || p.Memory.HeapPlusStack <= 0 {
			t.Errorf("%s: memory %+v; want it read from /metrics", p.Phase, p.Memory)
		}
	}
	c := sum.Counts
	if c == nil {
		t.Fatal("no attack counts")
	}
	if c.Slow.Wanted != 50 || c.Slow.Dials < 50 || c.Slow.Accepted+c.Slow.RefusedAtDial != c.Slow.Dials {
		t.Errorf("slow connections %+v; want 50 dialled at least once, each accepted or refused", c.Slow)
	}
	if got := c.Streams.Answered + c.Streams.Refused + c.Streams.NoAnswer; c.Streams.Wanted != 20 || got != 20 || c.Streams.Watch != 16 || c.Streams.Inbox != 4 {
		t.Errorf("stalled streams %+v; want 20 (16 watches, 4 inbox subscriptions), each answered, refused or unanswered", c.Streams)
	}
	if c.Flood.Workers != 4 || c.Flood.Calls == 0 || len(c.Flood.ByKind) != 7 {
		t.Errorf("flood %+v; want 4 workers calling 7 kinds of reads", c.Flood)
	}
	if !c.Closed {
		t.Error("slow connections still open after the attack")
	}
	if len(sum.Targets) != 4 {
		t.Errorf("targets %+v; want single p99, batch share, memory and acknowledgements", sum.Targets)
	}
	for _, want := range []string{"caps per client address act on the attacker only", "single p99", "want ≤ 100 ms", "≥ 50% of quiet",
		"want ≤ 224 MiB", "slow connections: 50 wanted", "stalled streams: 20 wanted", "flood: 4 workers", "all attack connections closed"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

// TestHostileStaysOnLoopback: the hostile bench refuses to aim at, or come from, anything
// but a loopback address.
func TestHostileStaysOnLoopback(t *testing.T) {
	ok := hostileOpts{attackerSource: "127.0.0.2", victimSrc: "127.0.0.1", slowInterval: time.Second, singleWorkers: 1, batchWorkers: 1}
	if err := checkHostileAddrs("127.0.0.1:8080", ok); err != nil {
		t.Fatalf("loopback: %v", err)
	}
	for name, c := range map[string]struct {
		addr string
		h    func(*hostileOpts)
	}{
		"gateway elsewhere":  {addr: "192.0.2.10:8080"},
		"attacker elsewhere": {addr: "127.0.0.1:8080", h: func(h *hostileOpts) { h.attackerSource = "192.0.2.11" }},
		"victim elsewhere":   {addr: "127.0.0.1:8080", h: func(h *hostileOpts) { h.victimSrc = "10.0.0.1" }},
		"no interval":        {addr: "127.0.0.1:8080", h: func(h *hostileOpts) { h.slowInterval = 0 }},
	} {
		h := ok
		if c.h != nil {
			c.h(&h)
		}
		if err := checkHostileAddrs(c.addr, h); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestSlowConnectionEnds: how the server ended a slow connection is counted by its answer,
// or by how long it was held without one.
func TestSlowConnectionEnds(t *testing.T) {
	a := &attacker{}
	now := time.Now()
	if !a.ended("", now) || !a.ended("HTTP/1.1 429 Too Many Requests\r\n", now) {
		t.Error("a connection closed or answered at once is not counted as refused")
	}
	if a.ended("", now.Add(-5*time.Second)) || a.ended("HTTP/1.1 408 Request Timeout\r\n", now.Add(-5*time.Second)) {
		t.Error("a connection held for seconds is counted as refused")
	}
	if got := a.answered.snapshot(); got["429"] != 1 || got["408"] != 1 {
		t.Errorf("answers %v, want one 429 and one 408", got)
	}
	if a.slowStat.atOnce.Load() != 1 || a.slowStat.later.Load() != 1 {
		t.Errorf("closed at once %d, later %d; want 1 and 1", a.slowStat.atOnce.Load(), a.slowStat.later.Load())
	}
}
