package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	"github.com/lienthong/lienthong/services/dossier"
	"github.com/lienthong/lienthong/services/dossier/simulate"
	"github.com/lienthong/lienthong/services/platform"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
)

// bench --hostile: one province attacks the suite while another sends its dossier events.
// The attacker (a province token and an agency token of that province) holds slow
// connections (request headers or a body dribbled a byte at a time), opens streams and
// stops reading them after their first message (WatchDossierEvents and SubscribeInbox with
// small flow-control windows) and floods the gateway with expensive reads. The victim sends
// REST single events and REST batches, first in a quiet phase, then under the attack, each
// for --duration; the figures are compared with the targets of issue "Safe to connect":
// single p99 ≤ 100 ms, batches ≥ 50% of their quiet throughput, the server's Go memory
// under its soft limit (README.md, "Memory"). The two come from different loopback
// addresses, so that caps per client address act on the attacker only. Every loop stops by
// itself and every connection is closed before the figures are printed.

// hostileOpts are the flags of bench --hostile.
type hostileOpts struct {
	on                          bool
	slowConns, stalledStreams   int
	floodConcurrency            int
	attackerUnit, victimUnit    string
	attackerSource, victimSrc   string
	slowInterval                time.Duration
	singleWorkers, batchWorkers int
	singleRate                  float64
	memoryLimitMiB              int
}

func registerHostileFlags(fs *flag.FlagSet, h *hostileOpts) {
	fs.BoolVar(&h.on, "hostile", false, "instead of --mode: one province attacks the gateway (slow connections, stalled streams, a flood of expensive reads)\n"+
		"while another sends REST single events (first half of a phase) and batches (second half); compares the victim's figures\n"+
		"with a quiet phase just before (each phase --duration)")
	fs.IntVar(&h.slowConns, "slow-conns", 1000, "--hostile: the attacker's slow connections (a request header or body sent a byte at a time)")
	fs.IntVar(&h.stalledStreams, "stalled-streams", 500, "--hostile: streams the attacker opens and stops reading after the first message (WatchDossierEvents; one in five SubscribeInbox)")
	fs.IntVar(&h.floodConcurrency, "flood-concurrency", 32, "--hostile: the attacker's workers calling expensive reads as fast as they are answered")
	fs.StringVar(&h.attackerUnit, "attacker-unit", "33", "--hostile: the attacking province")
	fs.StringVar(&h.victimUnit, "victim-unit", "40", "--hostile: the province whose events are measured")
	fs.StringVar(&h.attackerSource, "attacker-source", "127.0.0.2", "--hostile: loopback address the attacker connects from")
	fs.StringVar(&h.victimSrc, "victim-source", "127.0.0.1", "--hostile: loopback address the victim connects from")
	fs.DurationVar(&h.slowInterval, "slow-interval", 3*time.Second, "--hostile: a slow connection sends one byte this often")
	fs.IntVar(&h.singleWorkers, "victim-single-workers", 8, "--hostile: the victim's workers sending REST single events")
	fs.IntVar(&h.batchWorkers, "victim-batch-workers", 2, "--hostile: the victim's workers sending REST batches of --batch events")
	fs.Float64Var(&h.singleRate, "victim-single-rate", 200, "--hostile: REST single events a second the victim sends in all (0: as fast as they are acknowledged)")
	fs.IntVar(&h.memoryLimitMiB, "memory-limit-mib", 224, "--hostile: the server's soft memory limit (its --memory-limit-mib) to compare its Go memory with")
}

// Targets of the hostile bench.
const (
	hostileSingleP99Ms  = 100
	hostileBatchShare   = 0.5
	hostileTokenTTL     = time.Hour
	hostileStreamsPerTC = 50 // streams per attacker connection, under HTTP/2's usual 100–250
	hostileRampLimit    = 10 * time.Second
)

// hostileSummary is the JSON output of bench --hostile.
type hostileSummary struct {
	Addr           string          `json:"addr"`
	Started        string          `json:"started"`
	RunID          int             `json:"run_id"`
	AttackerUnit   string          `json:"attacker_unit"`
	AttackerSystem string          `json:"attacker_system"`
	AttackerAgency string          `json:"attacker_agency_system"`
	AttackerSource string          `json:"attacker_source"`
	VictimUnit     string          `json:"victim_unit"`
	VictimSystem   string          `json:"victim_system"`
	VictimSource   string          `json:"victim_source"`
	MemoryLimitMiB int             `json:"memory_limit_mib"`
	Quiet          *hostilePhase   `json:"quiet"`
	Attack         *hostilePhase   `json:"attack"`
	RampSeconds    float64         `json:"ramp_seconds"`
	Counts         *attackCounts   `json:"attack_counts"`
	Targets        []hostileTarget `json:"targets"`
}

// hostilePhase is the victim's figures in one phase.
type hostilePhase struct {
	Phase   string      `json:"phase"`
	Seconds float64     `json:"seconds"`
	Single  *modeResult `json:"single"`
	Batch   *modeResult `json:"batch"`
	Memory  memory      `json:"memory"`
}

// hostileTarget is one target with the measured figure.
type hostileTarget struct {
	What   string  `json:"what"`
	Got    float64 `json:"got"`
	Want   string  `json:"want"`
	Met    bool    `json:"met"`
	Figure string  `json:"figure"`
}

// attackCounts is what became of the attacker's connections, streams and calls.
type attackCounts struct {
	Slow    slowCounts   `json:"slow_connections"`
	Streams streamCounts `json:"stalled_streams"`
	Flood   floodCounts  `json:"flood"`
	Closed  bool         `json:"all_closed"`

	mu      sync.Mutex // guards kinds while the attack runs
	kinds   map[string]*floodKind
	started time.Time
}

// slowCounts: every dial of a slow connection and how it ended. A connection the server
// closes is dialled again (after a pause when it was refused), as an attacker would.
type slowCounts struct {
	Wanted         int              `json:"wanted"`
	Dials          int64            `json:"dials"`
	RefusedAtDial  int64            `json:"refused_at_dial"`
	Accepted       int64            `json:"accepted"`
	MaxHeld        int64            `json:"max_held_at_once"`
	OpenAtEnd      int64            `json:"open_at_end"`
	ClosedAtOnce   int64            `json:"closed_at_once"`
	ClosedLater    int64            `json:"closed_later"`
	AnsweredStatus map[string]int64 `json:"answered_by_status"`
}

// streamCounts: the stalled streams.
type streamCounts struct {
	Wanted      int              `json:"wanted"`
	Watch       int              `json:"watch"`
	Inbox       int              `json:"subscribe_inbox"`
	Connections int              `json:"connections"`
	Answered    int64            `json:"answered"`
	Refused     int64            `json:"refused"`
	ByReason    map[string]int64 `json:"refused_by_reason"`
	NoAnswer    int64            `json:"no_answer"`
}

// floodCounts: the expensive calls.
type floodCounts struct {
	Workers   int                   `json:"workers"`
	Calls     int64                 `json:"calls"`
	Cut       int64                 `json:"cut_at_end"`
	PerSecond float64               `json:"calls_per_s"`
	ByStatus  map[string]int64      `json:"by_status"`
	ByKind    map[string]*floodKind `json:"by_kind"`
}

// floodKind is one kind of expensive call.
type floodKind struct {
	Path    string    `json:"path"`
	Calls   int64     `json:"calls"`
	OK      int64     `json:"ok"`
	Latency latencies `json:"ok_latency"`
	lat     []time.Duration
	status  map[string]int64
}

// loopbackDialer dials from a loopback source address.
func loopbackDialer(src string) *net.Dialer {
	return &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
}

// checkHostileAddrs refuses anything but loopback addresses: the hostile bench never leaves the
// machine.
func checkHostileAddrs(addr string, h hostileOpts) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--addr %q: %w", addr, err)
	}
	ips, err := net.LookupIP(host)
	if err != nil {
		return fmt.Errorf("--addr %q: %w", addr, err)
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return fmt.Errorf("--hostile attacks only a suite on this machine: --addr %s is not a loopback address", addr)
		}
	}
	for name, src := range map[string]string{"--attacker-source": h.attackerSource, "--victim-source": h.victimSrc} {
		if ip := net.ParseIP(src); ip == nil || !ip.IsLoopback() {
			return fmt.Errorf("%s %q: want a loopback address such as 127.0.0.2", name, src)
		}
	}
	if h.slowConns < 0 || h.stalledStreams < 0 || h.floodConcurrency < 0 {
		return errors.New("--slow-conns, --stalled-streams and --flood-concurrency must not be negative")
	}
	if h.singleWorkers < 1 || h.batchWorkers < 1 {
		return errors.New("--victim-single-workers and --victim-batch-workers must be at least 1")
	}
	if h.slowInterval <= 0 {
		return errors.New("--slow-interval must be positive")
	}
	return nil
}

// runHostile runs the quiet phase, then the attack, and prints the comparison.
func (b *bencher) runHostile(ctx context.Context, stdout io.Writer) error {
	h := b.o.hostile
	if err := checkHostileAddrs(b.o.addr, h); err != nil {
		return err
	}
	priv, err := platform.LoadPrivateKey(filepath.Join(b.o.dataDir, "keys", platform.PrivateKeyFile))
	if err != nil {
		return fmt.Errorf("signing key: %w (--hostile issues the province tokens with the suite's key: give the suite's --data-dir)", err)
	}
	issuer := platform.NewTokenIssuer(priv)
	now := time.Now()
	attackerL1, err := b.unitLevel1(ctx, h.attackerUnit)
	if err != nil {
		return err
	}
	victimL1, err := b.unitLevel1(ctx, h.victimUnit)
	if err != nil {
		return err
	}
	attackerAgency := "000.00.00." + attackerL1
	sum := &hostileSummary{Addr: b.o.addr, Started: now.Format(time.RFC3339), RunID: b.o.runID,
		AttackerUnit: h.attackerUnit, AttackerSystem: attackerAgency + "/motcua", AttackerAgency: attackerAgency + "/qlvb",
		AttackerSource: h.attackerSource, VictimUnit: h.victimUnit, VictimSystem: "000.00.00." + victimL1 + "/motcua",
		VictimSource: h.victimSrc, MemoryLimitMiB: h.memoryLimitMiB}
	provTok, err := issuer.Issue(platform.Caller{System: sum.AttackerSystem, Role: platform.RoleProvince, Unit: h.attackerUnit}, hostileTokenTTL, now)
	if err != nil {
		return fmt.Errorf("attacker's token: %w", err)
	}
	agencyTok, err := issuer.Issue(platform.Caller{System: sum.AttackerAgency, Role: platform.RoleAgency}, hostileTokenTTL, now)
	if err != nil {
		return fmt.Errorf("attacker's agency token: %w", err)
	}
	victimTok, err := issuer.Issue(platform.Caller{System: sum.VictimSystem, Role: platform.RoleProvince, Unit: h.victimUnit}, hostileTokenTTL, now)
	if err != nil {
		return fmt.Errorf("victim's token: %w", err)
	}

	refs, err := b.references(ctx)
	if err != nil {
		return err
	}
	var mine []simulate.Ref
	for _, r := range refs {
		if r.Unit == h.victimUnit {
			mine = append(mine, r)
		}
	}
	if len(mine) == 0 {
		// No procedure of the catalog names an agency of the victim's province: file under
		// its People's Committee (000.00.00.XNN), which every province has.
		mine = []simulate.Ref{{Unit: h.victimUnit, Agency: "000.00.00." + victimL1, Procedure: refs[0].Procedure, ProcessingDays: refs[0].ProcessingDays}}
	}
	profile := simulate.Typical
	profile.Online = b.o.online
	v := &victim{b: b, token: victimTok, workers: [2]int{h.singleWorkers, h.batchWorkers},
		shared: &genShared{refs: mine, profile: profile, cal: dossier.DefaultCalendar(), run: b.o.runID, counters: map[string]int{}}}
	tr := &http.Transport{DialContext: loopbackDialer(h.victimSrc).DialContext, MaxIdleConns: h.singleWorkers + h.batchWorkers,
		MaxIdleConnsPerHost: h.singleWorkers + h.batchWorkers, IdleConnTimeout: 90 * time.Second, DisableCompression: true}
	defer tr.CloseIdleConnections()
	v.hc = &http.Client{Transport: tr, Timeout: 60 * time.Second}

	fmt.Fprintf(b.stderr, "bench --hostile: %s; attacker province %s (%s, agency %s) from %s; victim province %s (%s) from %s, run id %04d\n",
		b.o.addr, h.attackerUnit, sum.AttackerSystem, sum.AttackerAgency, h.attackerSource, h.victimUnit, sum.VictimSystem, h.victimSrc, b.o.runID)

	// The feed pages of the flood ask for the attacker's unit after the feed's end as it is
	// now: the attacker sends nothing, so they find nothing among what the victim sends.
	tail, err := b.lastSequence(ctx)
	if err != nil {
		return fmt.Errorf("feed: %w", err)
	}

	fmt.Fprintf(b.stderr, "bench --hostile: quiet phase for %s\n", b.o.duration)
	sum.Quiet = v.phase(ctx, "quiet", 1)
	if ctx.Err() != nil {
		return ctx.Err()
	}

	a := &attacker{h: h, addr: b.o.addr, provTok: provTok, agencyTok: agencyTok, agency: attackerAgency, tail: tail,
		stderr: b.stderr, counts: &attackCounts{kinds: map[string]*floodKind{}}}
	fmt.Fprintf(b.stderr, "bench --hostile: attack (%d slow connections, %d stalled streams, %d flood workers)\n", h.slowConns, h.stalledStreams, h.floodConcurrency)
	actx, stopAttack := context.WithCancel(ctx)
	rampStart := time.Now()
	done := a.start(actx)
	sum.RampSeconds = time.Since(rampStart).Seconds()
	fmt.Fprintf(b.stderr, "bench --hostile: attack in place after %.1f s; victim for %s\n", sum.RampSeconds, b.o.duration)
	sum.Attack = v.phase(ctx, "attack", 2)
	stopAttack()
	<-done
	sum.Counts = a.finish()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	sum.Targets = hostileTargets(sum)

	table := stdout
	if b.o.json {
		table = b.stderr
	}
	printHostile(table, sum)
	if b.o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(sum)
	}
	return nil
}

// victim sends the measured province's events: REST single events (paced at
// --victim-single-rate) in the first half of a phase, REST batches (as fast as they are
// acknowledged) in the second.
type victim struct {
	b       *bencher
	token   string
	workers [2]int // single, batch
	shared  *genShared
	hc      *http.Client
}

func (v *victim) phase(ctx context.Context, name string, no uint64) *hostilePhase {
	b := v.b
	single, batch := *b, *b
	single.o.token, batch.o.token = v.token, v.token
	single.pace = &pacer{rate: b.o.hostile.singleRate}
	batch.pace = &pacer{}
	v.shared.dossiers.Store(0)
	v.shared.events.Store(0)

	stopMem := b.startMemory(ctx, b.o.memInterval)

	// Singles in the first half, batches in the second: batches sent as fast as they are
	// acknowledged would otherwise put the singles' latency behind the victim's own batches.
	half := b.o.duration / 2
	start := time.Now()
	singles := make([]*tally, v.workers[0])
	batches := make([]*tally, v.workers[1])
	var wg sync.WaitGroup
	deadline := start.Add(half)
	for i := range singles {
		t := newTally()
		singles[i] = t
		g := &gen{sh: v.shared, rng: rand.New(rand.NewPCG(b.o.seed, no<<40|uint64(i)))}
		wg.Add(1)
		go func() {
			defer wg.Done()
			single.restSingleWorker(ctx, v.hc, g, deadline, t)
		}()
	}
	wg.Wait()
	singleTime := time.Since(start)
	batchStart := time.Now()
	deadline = start.Add(b.o.duration)
	for i := range batches {
		t := newTally()
		batches[i] = t
		g := &gen{sh: v.shared, rng: rand.New(rand.NewPCG(b.o.seed, no<<40|1<<32|uint64(i)))}
		wg.Add(1)
		go func() {
			defer wg.Done()
			batch.restBatchWorker(ctx, v.hc, g, deadline, t)
		}()
	}
	wg.Wait()
	mem := stopMem()
	p := &hostilePhase{Phase: name, Seconds: time.Since(start).Seconds(), Memory: mem}
	p.Single = phaseResult("rest-single", singles, 1, singleTime)
	p.Batch = phaseResult("rest-batch", batches, b.o.batch, time.Since(batchStart))
	return p
}

func phaseResult(mode string, ts []*tally, batch int, elapsed time.Duration) *modeResult {
	all := newTally()
	for _, t := range ts {
		all.merge(t)
	}
	r := &modeResult{Mode: mode, Concurrency: len(ts), Batch: batch, Seconds: elapsed.Seconds(), Requests: all.requests,
		FailedRequests: all.failed, Sent: all.sent, Accepted: all.accepted, Duplicates: all.dups, Refused: all.refused,
		RefusedByReason: all.reasons, Latency: summarize(all.lat)}
	if elapsed > 0 {
		r.EventsPerSecond = float64(all.accepted) / elapsed.Seconds()
	}
	return r
}

// attacker is the hostile province.
type attacker struct {
	h                 hostileOpts
	addr              string
	provTok           string
	agencyTok, agency string
	tail              int64
	stderr            io.Writer
	counts            *attackCounts

	wg        sync.WaitGroup
	slowFirst atomic.Int64 // slow connections dialled at least once
	slowOpen  atomic.Int64 // sockets open on this side
	slowHeld  atomic.Int64 // connections the server has held for a second or more
	slowMax   atomic.Int64 // the most held at once
	slowStat  struct {
		dials, refused, accepted, atOnce, later, openAtEnd atomic.Int64
	}
	answered  counter
	streamRes counter // "answered", "no answer" or a refusal's reason
	settled   atomic.Int64
	conns     []*grpc.ClientConn
	floodTr   *http.Transport
	floodEnd  time.Time
	floodCut  atomic.Int64
}

// counter counts outcomes by name.
type counter struct {
	mu sync.Mutex
	m  map[string]int64
}

func (c *counter) add(k string) {
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]int64{}
	}
	c.m[k]++
	c.mu.Unlock()
}

func (c *counter) snapshot() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int64, len(c.m))
	for k, v := range c.m {
		out[k] = v
	}
	return out
}

// start opens the stalled streams and the slow connections, waits until they are in place
// (at most hostileRampLimit), starts the flood and returns a channel closed when everything
// the attack started has ended, after ctx ends.
func (a *attacker) start(ctx context.Context) <-chan struct{} {
	a.openStreams(ctx)
	spread := time.Second / time.Duration(max(1, a.h.slowConns))
	for i := range a.h.slowConns {
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			a.slowConn(ctx, i, time.Duration(i)*spread)
		}()
	}
	limit := time.Now().Add(hostileRampLimit)
	for time.Now().Before(limit) && ctx.Err() == nil &&
		(a.slowFirst.Load() < int64(a.h.slowConns) || a.settled.Load() < int64(a.h.stalledStreams)) {
		sleepCtx(ctx, 20*time.Millisecond)
	}
	a.startFlood(ctx)
	done := make(chan struct{})
	go func() {
		<-ctx.Done()
		a.wg.Wait()
		a.floodEnd = time.Now()
		for _, c := range a.conns {
			c.Close()
		}
		a.floodTr.CloseIdleConnections()
		close(done)
	}()
	return done
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// slowConn keeps one slow connection open until ctx ends, dialling again whenever the
// server closes it (after 1–2 s when it was refused). Even connections dribble a request
// header, odd ones send a whole header (with the attacker's token) and dribble the body.
func (a *attacker) slowConn(ctx context.Context, i int, delay time.Duration) {
	sleepCtx(ctx, delay)
	d := loopbackDialer(a.h.attackerSource)
	rng := rand.New(rand.NewPCG(uint64(i), 7))
	first := true
	for ctx.Err() == nil {
		a.slowStat.dials.Add(1)
		c, err := d.DialContext(ctx, "tcp", a.addr)
		if first {
			a.slowFirst.Add(1)
			first = false
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			a.slowStat.refused.Add(1)
			sleepCtx(ctx, time.Second+time.Duration(rng.Int64N(int64(time.Second))))
			continue
		}
		a.slowStat.accepted.Add(1)
		a.slowOpen.Add(1)
		refused := a.dribble(ctx, c, i%2 == 1, rng)
		a.slowOpen.Add(-1)
		if refused {
			sleepCtx(ctx, time.Second+time.Duration(rng.Int64N(int64(time.Second))))
		}
	}
}

// dribble sends one slow request on c until the server closes c or ctx ends, counts how
// it ended and closes c. It reports whether the server refused the connection (closed it
// or answered within a second).
func (a *attacker) dribble(ctx context.Context, c net.Conn, body bool, rng *rand.Rand) bool {
	defer c.Close()
	begun := time.Now()
	type answer struct {
		head string
		err  error
	}
	answers := make(chan answer, 1)
	go func() {
		buf := make([]byte, 64)
		n, err := io.ReadAtLeast(c, buf, 12)
		answers <- answer{string(buf[:n]), err}
	}()
	head := "POST /v1/dossier-events HTTP/1.1\r\nHost: " + a.addr + "\r\n"
	if body {
		head += "Authorization: Bearer " + a.provTok + "\r\nContent-Type: application/json\r\nContent-Length: 65536\r\n\r\n{"
	} else {
		head += "X-Slow: "
	}
	_ = c.SetWriteDeadline(time.Now().Add(time.Second))
	_, wrote := c.Write([]byte(head))
	// The first byte comes at a random point of the interval, so that the bytes of all
	// connections are spread over it. A connection still open after a second is held.
	next := time.NewTimer(time.Duration(rng.Int64N(int64(a.h.slowInterval))))
	defer next.Stop()
	held := time.NewTimer(time.Second)
	defer held.Stop()
	isHeld := false
	defer func() {
		if isHeld {
			a.slowHeld.Add(-1)
		}
	}()
	for wrote == nil {
		select {
		case <-ctx.Done():
			a.slowStat.openAtEnd.Add(1)
			c.Close()
			<-answers
			return false
		case ans := <-answers:
			return a.ended(ans.head, begun)
		case <-held.C:
			isHeld = true
			n := a.slowHeld.Add(1)
			for m := a.slowMax.Load(); n > m && !a.slowMax.CompareAndSwap(m, n); m = a.slowMax.Load() {
			}
		case <-next.C:
			_ = c.SetWriteDeadline(time.Now().Add(time.Second))
			_, wrote = c.Write([]byte{' '})
			next.Reset(a.h.slowInterval)
		}
	}
	// A write failed: the server has closed the connection; its answer (if any) is read.
	timer := time.NewTimer(time.Second)
	defer timer.Stop()
	select {
	case ans := <-answers:
		return a.ended(ans.head, begun)
	case <-timer.C:
		c.Close()
		<-answers
		return a.ended("", begun)
	}
}

// ended counts how the server ended a slow connection: with an HTTP answer (by status), or
// without one, at once (within a second: a cap) or later (a timeout).
func (a *attacker) ended(head string, begun time.Time) bool {
	if code, ok := strings.CutPrefix(head, "HTTP/1.1 "); ok && len(code) >= 3 {
		a.answered.add(code[:3])
		return time.Since(begun) < time.Second
	}
	if time.Since(begun) < time.Second {
		a.slowStat.atOnce.Add(1)
		return true
	}
	a.slowStat.later.Add(1)
	return false
}

// openStreams opens the stalled streams over connections of hostileStreamsPerTC streams,
// with 64 KiB flow-control windows (which also turn off grpc-go's dynamic windows). Each
// stream's first message is read, to tell an answered stream from a refused one (the
// gateway sends a refusal's status after ordinary headers, so the header alone does not
// tell), and nothing more: the part's sends fill the window and wait.
func (a *attacker) openStreams(ctx context.Context) {
	n := a.h.stalledStreams
	if n == 0 {
		return
	}
	dial := loopbackDialer(a.h.attackerSource)
	for range (n + hostileStreamsPerTC - 1) / hostileStreamsPerTC {
		c, err := grpc.NewClient(a.addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) { return dial.DialContext(ctx, "tcp", addr) }),
			grpc.WithInitialWindowSize(64<<10), grpc.WithInitialConnWindowSize(64<<10))
		if err != nil {
			fmt.Fprintf(a.stderr, "bench --hostile: stream connection: %v\n", err)
			return
		}
		a.conns = append(a.conns, c)
	}
	a.counts.Streams.Connections = len(a.conns)
	watchCtx := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+a.provTok)
	inboxCtx := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+a.agencyTok)
	for i := range n {
		conn := a.conns[i/hostileStreamsPerTC]
		var first func() error // reads the stream's first message
		var err error
		if i%5 == 4 {
			a.counts.Streams.Inbox++
			var s grpc.ServerStreamingClient[docv1.InboxEntry]
			s, err = docv1.NewDocumentServiceClient(conn).SubscribeInbox(inboxCtx, &docv1.SubscribeInboxRequest{AgencyCode: a.agency})
			if err == nil {
				first = func() error { _, err := s.Recv(); return err }
			}
		} else {
			a.counts.Streams.Watch++
			var s grpc.ServerStreamingClient[dossierv1.DossierEvent]
			s, err = dossierv1.NewDossierServiceClient(conn).WatchDossierEvents(watchCtx, &dossierv1.WatchDossierEventsRequest{Unit: a.h.attackerUnit})
			if err == nil {
				first = func() error { _, err := s.Recv(); return err }
			}
		}
		if err != nil {
			a.streamRes.add(grpcReason(err))
			a.settled.Add(1)
			continue
		}
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			err := first()
			switch {
			case err == nil:
				a.streamRes.add("answered")
			case ctx.Err() != nil:
				a.streamRes.add("no answer")
			default:
				a.streamRes.add(grpcReason(err))
			}
			a.settled.Add(1)
			<-ctx.Done() // the stream stays open, unread, until the attack ends
		}()
	}
}

// floodCall is one kind of expensive read.
type floodCall struct {
	kind, path string
	agency     bool // with the agency token rather than the province's
}

func (a *attacker) floodCalls() []floodCall {
	u := a.h.attackerUnit
	year := strconv.Itoa(time.Now().In(dossier.Vietnam).Year())
	return []floodCall{
		{kind: "feed-empty", path: "/v1/dossier-events?unit=" + u + "&page_size=1000&after=" + strconv.FormatInt(a.tail, 10)},
		{kind: "feed-full", path: "/v1/dossier-events?unit=" + u + "&page_size=1000"},
		{kind: "stats-month", path: "/v1/dossier-stats?unit=" + u + "&from=2000&to=" + year + "&group_by=month"},
		{kind: "stats-procedure", path: "/v1/dossier-stats?unit=" + u + "&from=2000&to=" + year + "&group_by=procedure"},
		{kind: "documents", path: "/v1/documents?page_size=1000", agency: true},
		{kind: "inbox", path: "/v1/agencies/" + a.agency + "/inbox?page_size=1000", agency: true},
		{kind: "ranking", path: "/v1/rankings/QD766-2022/" + year},
	}
}

// startFlood starts --flood-concurrency workers, each with its own connection, calling
// the expensive reads in turn and reading every answer whole.
func (a *attacker) startFlood(ctx context.Context) {
	calls := a.floodCalls()
	for _, c := range calls {
		a.counts.kinds[c.kind] = &floodKind{Path: c.path, status: map[string]int64{}}
	}
	a.floodTr = &http.Transport{DialContext: loopbackDialer(a.h.attackerSource).DialContext, MaxIdleConnsPerHost: a.h.floodConcurrency,
		MaxConnsPerHost: a.h.floodConcurrency, DisableCompression: true}
	hc := &http.Client{Transport: a.floodTr, Timeout: 30 * time.Second}
	a.counts.Flood.Workers = a.h.floodConcurrency
	a.counts.started = time.Now()
	for w := range a.h.floodConcurrency {
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			for n := w; ctx.Err() == nil; n++ {
				c := calls[n%len(calls)]
				tok := a.provTok
				if c.agency {
					tok = a.agencyTok
				}
				start := time.Now()
				st := floodGet(ctx, hc, "http://"+a.addr+c.path, tok)
				if ctx.Err() != nil {
					a.floodCut.Add(1) // still unanswered when the attack ended
					return
				}
				k := a.counts.kinds[c.kind]
				a.counts.mu.Lock()
				k.Calls++
				k.status[st]++
				if st == "200" {
					k.OK++
					k.lat = append(k.lat, time.Since(start))
				}
				a.counts.mu.Unlock()
				if st == "no answer" {
					sleepCtx(ctx, 100*time.Millisecond) // refused connections are not retried in a busy loop
				}
			}
		}()
	}
}

// floodGet reads a gateway answer whole and returns its status ("no answer" when the
// connection was refused or closed).
func floodGet(ctx context.Context, hc *http.Client, url, tok string) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "no answer"
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := hc.Do(req)
	if err != nil {
		return "no answer"
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return "no answer"
	}
	return strconv.Itoa(resp.StatusCode)
}

// finish gathers the counts once the attack has ended.
func (a *attacker) finish() *attackCounts {
	c := a.counts
	c.Slow = slowCounts{Wanted: a.h.slowConns, Dials: a.slowStat.dials.Load(), RefusedAtDial: a.slowStat.refused.Load(),
		Accepted: a.slowStat.accepted.Load(), MaxHeld: a.slowMax.Load(), OpenAtEnd: a.slowStat.openAtEnd.Load(),
		ClosedAtOnce: a.slowStat.atOnce.Load(), ClosedLater: a.slowStat.later.Load(), AnsweredStatus: a.answered.snapshot()}
	c.Streams.Wanted = a.h.stalledStreams
	c.Streams.ByReason = map[string]int64{}
	for k, v := range a.streamRes.snapshot() {
		switch k {
		case "answered":
			c.Streams.Answered = v
		case "no answer":
			c.Streams.NoAnswer = v
		default:
			c.Streams.Refused += v
			c.Streams.ByReason[k] = v
		}
	}
	c.Flood.ByStatus = map[string]int64{}
	c.Flood.Cut = a.floodCut.Load()
	c.Flood.ByKind = c.kinds
	for _, k := range c.kinds {
		k.Latency = summarize(k.lat)
		c.Flood.Calls += k.Calls
		for s, n := range k.status {
			c.Flood.ByStatus[s] += n
		}
	}
	if s := a.floodEnd.Sub(c.started).Seconds(); s > 0 {
		c.Flood.PerSecond = float64(c.Flood.Calls) / s
	}
	c.Closed = a.slowOpen.Load() == 0
	return c
}

// hostileTargets compares the attack phase with the targets.
func hostileTargets(s *hostileSummary) []hostileTarget {
	q, at := s.Quiet, s.Attack
	share := 0.0
	if q.Batch.EventsPerSecond > 0 {
		share = at.Batch.EventsPerSecond / q.Batch.EventsPerSecond
	}
	goMiB := float64(max(at.Memory.GoMemory, q.Memory.GoMemory)) / (1 << 20)
	unacked := (q.Single.Sent - q.Single.Accepted - q.Single.Duplicates) + (q.Batch.Sent - q.Batch.Accepted - q.Batch.Duplicates) +
		(at.Single.Sent - at.Single.Accepted - at.Single.Duplicates) + (at.Batch.Sent - at.Batch.Accepted - at.Batch.Duplicates)
	return []hostileTarget{
		{What: "victim's single p99 under attack", Got: at.Single.Latency.P99, Want: fmt.Sprintf("≤ %d ms", hostileSingleP99Ms),
			Met: at.Single.Latency.Count > 0 && at.Single.Latency.P99 <= hostileSingleP99Ms, Figure: ms(at.Single.Latency.P99) + " ms"},
		{What: "victim's batches under attack", Got: share, Want: fmt.Sprintf("≥ %.0f%% of quiet", 100*hostileBatchShare),
			Met: share >= hostileBatchShare, Figure: fmt.Sprintf("%.0f%% (%.0f of %.0f events/s)", 100*share, at.Batch.EventsPerSecond, q.Batch.EventsPerSecond)},
		{What: "server's Go memory (sys − released)", Got: goMiB, Want: fmt.Sprintf("≤ %d MiB", s.MemoryLimitMiB),
			Met: goMiB > 0 && goMiB <= float64(s.MemoryLimitMiB), Figure: fmt.Sprintf("%.0f MiB", goMiB)},
		{What: "victim's events acknowledged", Got: float64(unacked), Want: "all",
			Met: unacked == 0, Figure: map[bool]string{true: "all", false: fmt.Sprintf("%d not", unacked)}[unacked == 0]},
	}
}

// printHostile prints the phases, the targets and the attack's counts.
func printHostile(w io.Writer, s *hostileSummary) {
	fmt.Fprintf(w, "attacker: province %s (%s, agency %s) from %s; victim: province %s (%s) from %s — caps per client address act on the attacker only\n",
		s.AttackerUnit, s.AttackerSystem, s.AttackerAgency, s.AttackerSource, s.VictimUnit, s.VictimSystem, s.VictimSource)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	anon := s.Quiet.Memory.RSSAnon > 0 || s.Attack.Memory.RSSAnon > 0
	head := "phase\ts\tsingle sent\tacked\tsingle ev/s\tp50 ms\tp99 ms\tmax ms\tbatch sent\tacked\tbatch ev/s\tbatch p99 ms\theap+stack MiB\tGo MiB\tRSS MiB"
	if anon {
		head += "\tanon MiB"
	}
	fmt.Fprintln(tw, head+"\t")
	for _, p := range []*hostilePhase{s.Quiet, s.Attack} {
		line := fmt.Sprintf("%s\t%.1f\t%d\t%d\t%.0f\t%s\t%s\t%s\t%d\t%d\t%.0f\t%s\t%s\t%s\t%s", p.Phase, p.Seconds,
			p.Single.Sent, p.Single.Accepted+p.Single.Duplicates, p.Single.EventsPerSecond, ms(p.Single.Latency.P50), ms(p.Single.Latency.P99), ms(p.Single.Latency.Max),
			p.Batch.Sent, p.Batch.Accepted+p.Batch.Duplicates, p.Batch.EventsPerSecond, ms(p.Batch.Latency.P99),
			mib(p.Memory.HeapPlusStack), mib(p.Memory.GoMemory), mib(p.Memory.RSS))
		if anon {
			line += "\t" + mib(p.Memory.RSSAnon)
		}
		fmt.Fprintln(tw, line+"\t")
	}
	tw.Flush()
	for _, p := range []*hostilePhase{s.Quiet, s.Attack} {
		for _, r := range []*modeResult{p.Single, p.Batch} {
			if r.Refused > 0 || r.FailedRequests > 0 {
				fmt.Fprintf(w, "%s %s: refused %s; failed requests %d\n", p.Phase, r.Mode, reasons(r.RefusedByReason), r.FailedRequests)
			}
		}
	}
	fmt.Fprintln(w, "targets:")
	for _, t := range s.Targets {
		verdict := "met"
		if !t.Met {
			verdict = "MISSED"
		}
		fmt.Fprintf(w, "  %-38s %-28s want %-14s %s\n", t.What, t.Figure, t.Want, verdict)
	}
	c := s.Counts
	fmt.Fprintf(w, "attack (in place after %.1f s, then %.0f s):\n", s.RampSeconds, s.Attack.Seconds)
	fmt.Fprintf(w, "  slow connections: %d wanted; %d dials: %d accepted, %d refused at dial; at most %d held open (≥ 1 s) at once, %d open at the end;\n"+
		"    closed by the server without an answer at once (< 1 s: a cap) %d, later (a timeout) %d; answered %s\n",
		c.Slow.Wanted, c.Slow.Dials, c.Slow.Accepted, c.Slow.RefusedAtDial, c.Slow.MaxHeld, c.Slow.OpenAtEnd,
		c.Slow.ClosedAtOnce, c.Slow.ClosedLater, reasons(c.Slow.AnsweredStatus))
	fmt.Fprintf(w, "  stalled streams: %d wanted (%d WatchDossierEvents, %d SubscribeInbox) on %d connections: %d answered (first message read, no more), %d refused %s, %d without answer\n",
		c.Streams.Wanted, c.Streams.Watch, c.Streams.Inbox, c.Streams.Connections, c.Streams.Answered, c.Streams.Refused, reasons(c.Streams.ByReason), c.Streams.NoAnswer)
	fmt.Fprintf(w, "  flood: %d workers, %d calls (%.0f/s): %s; %d unanswered when the attack ended\n"+
		"    (429: the rate limit; no answer: the connection was refused or closed, as by the cap per client address)\n",
		c.Flood.Workers, c.Flood.Calls, c.Flood.PerSecond, reasons(c.Flood.ByStatus), c.Flood.Cut)
	kinds := make([]string, 0, len(c.Flood.ByKind))
	for k := range c.Flood.ByKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		f := c.Flood.ByKind[k]
		fmt.Fprintf(w, "    %-16s %6d calls, %6d answered 200 (p50 %s ms, p99 %s ms)  %s\n", k, f.Calls, f.OK, ms(f.Latency.P50), ms(f.Latency.P99), f.Path)
	}
	closed := "all attack connections closed"
	if !c.Closed {
		closed = "some slow connections were still open"
	}
	fmt.Fprintln(w, "  "+closed)
}

// reasons prints a count by name, largest first: "429 ×120, 200 ×80".
func reasons(m map[string]int64) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s ×%d", k, m[k])
	}
	return strings.Join(parts, ", ")
}
