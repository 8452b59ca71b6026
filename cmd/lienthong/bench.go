package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	"github.com/lienthong/lienthong/services/dossier"
	"github.com/lienthong/lienthong/services/dossier/simulate"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
)

// Bench modes, in the order --mode all runs them.
var benchModes = []string{"grpc-stream", "grpc-unary", "rest-single", "rest-batch"}

// benchWindow is how far back dossiers are received: every event has happened by the time
// it is sent.
const benchWindow = 20 * 24 * time.Hour

// benchOpts are the flags of bench.
type benchOpts struct {
	addr, tokenFile, dataDir string
	modes                    []string
	duration                 time.Duration
	concurrency              int
	batch, inflight          int
	online                   float64
	seed                     uint64
	runID                    int
	preload                  int
	statsInterval            time.Duration
	memInterval              time.Duration
	unitAgencies             string
	reference                float64
	serverPID                int
	json                     bool
	token                    string
	rate                     float64
	soak                     time.Duration
	uploadMiB                int
	docModes                 []string
	hostile                  hostileOpts
}

func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench [flags]", "Load generator: pushes realistic dossier events through the gateway over gRPC (stream, unary)\n"+
		"and REST (single, batch) and reports durable events/s, request latency, dossier-stats latency\n"+
		"while ingesting, server memory and storage per event.", stderr)
	var o benchOpts
	fs.StringVar(&o.addr, "addr", fmt.Sprintf("127.0.0.1:%d", gatewayPort), "gateway host:port (REST and gRPC)")
	fs.StringVar(&o.tokenFile, "token-file", "", "file holding an admin or province bearer token (default DATA_DIR/admin.token)")
	fs.StringVar(&o.dataDir, "data-dir", "./data", "data folder of the suite: the token, and dossier.db for bytes per event")
	mode := fs.String("mode", "all", "grpc-stream, grpc-unary, rest-single, rest-batch or all (one after another) for dossier events;\n"+
		"doc-grpc, doc-rest (small documents), doc-upload (one large streamed attachment), edxml (small national-form edXML packages),\n"+
		"status-packages (edXML status packages), edxml-large (a 20 MiB package of 10 attachments) or documents (all of them)")
	fs.IntVar(&o.uploadMiB, "upload-mib", 100, "size of the doc-upload attachment in MiB")
	fs.DurationVar(&o.duration, "duration", 20*time.Second, "how long each mode runs")
	fs.IntVar(&o.concurrency, "concurrency", 0, "workers per mode (default: 4 streams for grpc-stream, 8 for rest-batch, 64 for grpc-unary and rest-single)")
	fs.IntVar(&o.batch, "batch", dossier.MaxBatch, "events per batch (rest-batch) or stream message (grpc-stream)")
	fs.IntVar(&o.inflight, "stream-inflight", 4, "batches in flight per stream, waiting for their ack")
	fs.Float64Var(&o.online, "online", 0.3, "share of dossiers filed online (0-1)")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the dossier generator")
	fs.IntVar(&o.runID, "run-id", -1, "0-9999, part of every dossier code so that runs do not collide; -1 picks one at random")
	fs.IntVar(&o.preload, "preload", 0, "dossiers to load with grpc-stream before measuring")
	fs.DurationVar(&o.soak, "soak", 0, "repeat the modes, each for --duration, until this much time has passed, then compare the first and the last round (memory and latency should stay flat)")
	fs.Float64Var(&o.rate, "rate", 0, "events/s to send at, shared by all workers (0: as fast as the server acks)")
	fs.DurationVar(&o.statsInterval, "stats-interval", 20*time.Millisecond, "how often GET /v1/dossier-stats is timed while a mode runs (0: never)")
	fs.DurationVar(&o.memInterval, "memory-interval", 250*time.Millisecond, "how often the gateway's /metrics is read for memory")
	fs.StringVar(&o.unitAgencies, "unit-agencies", "", "UNIT:AGENCY:PROCEDURE[:DAYS],... to file dossiers under, instead of reading the catalog")
	fs.Float64Var(&o.reference, "reference", 0, "raw bbolt events/s (BenchmarkRawBoltReference) to print ratios against")
	fs.IntVar(&o.serverPID, "server-pid", 0, "pid of the server process, to read its anonymous (non-file) resident memory from /proc")
	fs.BoolVar(&o.json, "json", false, "print a JSON summary on stdout (the table goes to stderr)")
	registerHostileFlags(fs, &o.hostile)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *mode == "all":
		o.modes = benchModes
	case slices.Contains(benchModes, *mode):
		o.modes = []string{*mode}
	case *mode == "documents":
		o.docModes = docBenchModes
	case slices.Contains(docBenchModes, *mode):
		o.docModes = []string{*mode}
	default:
		return fmt.Errorf("--mode %q: want %s, all, %s or documents", *mode, strings.Join(benchModes, ", "), strings.Join(docBenchModes, ", "))
	}
	if o.uploadMiB < 1 {
		return errors.New("--upload-mib must be at least 1")
	}
	if o.batch < 1 || o.batch > dossier.MaxBatch {
		return fmt.Errorf("--batch %d: want 1-%d", o.batch, dossier.MaxBatch)
	}
	if o.inflight < 1 {
		return errors.New("--stream-inflight must be at least 1")
	}
	if o.online < 0 || o.online > 1 {
		return errors.New("--online must be between 0 and 1")
	}
	if o.runID < 0 {
		o.runID = rand.IntN(10000) // math/rand/v2's functions are seeded at random
	}
	if o.runID > 9999 {
		return errors.New("--run-id must be 0-9999")
	}
	if o.tokenFile == "" {
		o.tokenFile = filepath.Join(o.dataDir, AdminTokenFile)
	}
	tok, err := os.ReadFile(o.tokenFile)
	if err != nil {
		return fmt.Errorf("token: %w (start `lienthong up` first, or give --token-file)", err)
	}
	o.token = strings.TrimSpace(string(tok))

	b := &bencher{o: o, base: "http://" + o.addr, stderr: stderr,
		ctl: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 2}}, pace: &pacer{rate: o.rate}}
	if o.hostile.on {
		return b.runHostile(ctx, stdout)
	}
	if len(o.docModes) > 0 {
		var rows []*docBenchResult
		for i, m := range o.docModes {
			if ctx.Err() != nil {
				break
			}
			fmt.Fprintf(stderr, "bench: %s\n", m)
			r, err := b.runDocMode(ctx, m, i+1)
			if err != nil {
				return fmt.Errorf("%s: %w", m, err)
			}
			rows = append(rows, r)
		}
		table := stdout
		if o.json {
			table = stderr
		}
		printDocBenchTable(table, rows)
		if o.json {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(rows)
		}
		return nil
	}
	refs, err := b.references(ctx)
	if err != nil {
		return err
	}
	profile := simulate.Typical
	profile.Online = o.online
	b.shared = &genShared{refs: refs, profile: profile, cal: dossier.DefaultCalendar(), run: o.runID, counters: map[string]int{}}
	fmt.Fprintf(stderr, "bench: %s, %d places to file dossiers (unit/agency/procedure), run id %04d, seed %d, %.0f%% online\n",
		o.addr, len(refs), o.runID, o.seed, 100*o.online)

	sum := benchSummary{Addr: o.addr, Started: time.Now().Format(time.RFC3339), RunID: o.runID, Seed: o.seed,
		Online: o.online, Reference: o.reference}
	if o.preload > 0 {
		fmt.Fprintf(stderr, "bench: preloading %d dossiers over gRPC streams\n", o.preload)
		r, err := b.runMode(ctx, "grpc-stream", o.preload)
		if err != nil {
			return fmt.Errorf("preload: %w", err)
		}
		r.Mode = "preload"
		sum.Preload = r
	}
	soakEnd := time.Now().Add(o.soak)
	for round := 1; ; round++ {
		for _, m := range o.modes {
			if ctx.Err() != nil {
				break
			}
			fmt.Fprintf(stderr, "bench: %s for %s\n", m, o.duration)
			r, err := b.runMode(ctx, m, 0)
			if err != nil {
				return fmt.Errorf("%s: %w", m, err)
			}
			if o.soak > 0 {
				r.Mode = fmt.Sprintf("%s #%d", m, round)
			}
			sum.Modes = append(sum.Modes, r)
		}
		if o.soak <= 0 || ctx.Err() != nil || time.Now().After(soakEnd) {
			break
		}
	}
	if o.soak > 0 {
		defer printSoak(stderr, sum.Modes)
	}
	table := stdout
	if o.json {
		table = stderr
	}
	printBenchTable(table, &sum)
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(&sum)
	}
	return nil
}

// bencher runs the modes against one gateway.
type bencher struct {
	o      benchOpts
	base   string
	ctl    *http.Client // catalog, feed and metrics reads
	stderr io.Writer
	shared *genShared
	modeNo uint64
	pace   *pacer
}

// pacer spaces sends so that all workers together send --rate events per second.
type pacer struct {
	mu   sync.Mutex
	rate float64
	next time.Time
}

// wait blocks until n more events may be sent (at once when there is no rate).
func (p *pacer) wait(ctx context.Context, n int) {
	if p == nil || p.rate <= 0 {
		return
	}
	p.mu.Lock()
	now := time.Now()
	if p.next.Before(now) {
		p.next = now
	}
	at := p.next
	p.next = p.next.Add(time.Duration(float64(n) / p.rate * float64(time.Second)))
	p.mu.Unlock()
	if d := time.Until(at); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
	}
}

// benchSummary is the JSON output.
type benchSummary struct {
	Addr      string        `json:"addr"`
	Started   string        `json:"started"`
	RunID     int           `json:"run_id"`
	Seed      uint64        `json:"seed"`
	Online    float64       `json:"online"`
	Reference float64       `json:"reference_events_per_s,omitempty"`
	Preload   *modeResult   `json:"preload,omitempty"`
	Modes     []*modeResult `json:"modes"`
}

// latencies summarises request times in milliseconds.
type latencies struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

func summarize(d []time.Duration) latencies {
	if len(d) == 0 {
		return latencies{}
	}
	slices.Sort(d)
	q := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(d)))) - 1
		i = max(0, min(i, len(d)-1))
		return float64(d[i]) / 1e6
	}
	return latencies{Count: len(d), P50: q(0.50), P90: q(0.90), P99: q(0.99), Max: float64(d[len(d)-1]) / 1e6}
}

// memory is the largest value of each figure while a mode ran.
type memory struct {
	Samples       int   `json:"samples"`
	HeapInuse     int64 `json:"max_heap_inuse_bytes"`
	StackInuse    int64 `json:"max_stack_inuse_bytes"`
	GoSys         int64 `json:"max_go_sys_bytes"`
	RSS           int64 `json:"max_rss_bytes"`
	RSSAnon       int64 `json:"max_rss_anon_bytes,omitempty"`
	HeapPlusStack int64 `json:"max_heap_plus_stack_bytes"`
	// GoMemory is the Go runtime's memory less what it gave back to the system: what the
	// soft memory limit bounds.
	GoMemory int64 `json:"max_go_memory_bytes"`
}

// modeResult is one mode's figures.
type modeResult struct {
	Mode            string           `json:"mode"`
	Concurrency     int              `json:"concurrency"`
	Batch           int              `json:"batch"`
	Seconds         float64          `json:"seconds"`
	Requests        int64            `json:"requests"`
	FailedRequests  int64            `json:"failed_requests"`
	Dossiers        int64            `json:"dossiers"`
	Sent            int64            `json:"sent"`
	Accepted        int64            `json:"accepted"`
	Duplicates      int64            `json:"duplicates"`
	Refused         int64            `json:"refused"`
	RefusedByReason map[string]int64 `json:"refused_by_reason"`
	EventsPerSecond float64          `json:"events_per_s"`
	RatioToRef      float64          `json:"ratio_to_reference,omitempty"`
	Latency         latencies        `json:"latency"`
	Stats           latencies        `json:"stats_latency"`
	StatsErrors     int64            `json:"stats_errors"`
	Memory          memory           `json:"memory"`
	StoredEvents    int64            `json:"stored_events"`
	DBBytes         int64            `json:"db_bytes"`
	BytesPerEvent   float64          `json:"bytes_per_event"`
}

// tally counts one worker's outcomes; merged at the end of a mode.
type tally struct {
	requests, failed              int64
	sent, accepted, dups, refused int64
	reasons                       map[string]int64
	lat                           []time.Duration
	maxSeq                        int64
}

func newTally() *tally { return &tally{reasons: map[string]int64{}} }

func (t *tally) result(dup bool, seq int64, reason string) {
	switch {
	case reason != "":
		t.refused++
		t.reasons[reason]++
	case dup:
		t.dups++
	default:
		t.accepted++
		t.maxSeq = max(t.maxSeq, seq)
	}
}

// failRequest counts a request that got no per-event answer: its events are refused with
// the request's reason.
func (t *tally) failRequest(events int, reason string) {
	t.failed++
	t.refused += int64(events)
	t.reasons[reason] += int64(events)
}

func (t *tally) merge(o *tally) {
	t.requests += o.requests
	t.failed += o.failed
	t.sent += o.sent
	t.accepted += o.accepted
	t.dups += o.dups
	t.refused += o.refused
	for k, v := range o.reasons {
		t.reasons[k] += v
	}
	t.lat = append(t.lat, o.lat...)
	t.maxSeq = max(t.maxSeq, o.maxSeq)
}

// reasonOf names why an event was refused: the ErrorInfo reason, else the code.
func reasonOf(st *statuspb.Status) string {
	for _, d := range st.GetDetails() {
		info := &errdetails.ErrorInfo{}
		if d.MessageIs(info) && d.UnmarshalTo(info) == nil && info.GetReason() != "" {
			return info.GetReason()
		}
	}
	return codes.Code(st.GetCode()).String()
}

func grpcReason(err error) string {
	if st, ok := status.FromError(err); ok {
		return reasonOf(st.Proto())
	}
	return "TRANSPORT"
}

// restStatus is a google.rpc.Status as JSON.
type restStatus struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Details []struct {
		Type   string `json:"@type"`
		Reason string `json:"reason"`
	} `json:"details"`
}

func (s *restStatus) reason() string {
	for _, d := range s.Details {
		if strings.HasSuffix(d.Type, "google.rpc.ErrorInfo") && d.Reason != "" {
			return d.Reason
		}
	}
	return codes.Code(s.Code).String()
}

// genShared is what the generators of a run share: where to file dossiers and the code
// counters. A dossier code is AGENCY-YYMMDD-RRRRNNNNNN (the national long form): the run id
// RRRR and a counter per agency and day, so codes are unique within a run and two runs
// collide only with the same run id.
type genShared struct {
	refs    []simulate.Ref
	profile simulate.Profile
	cal     *dossier.Calendar
	run     int

	mu       sync.Mutex
	counters map[string]int

	limit    int64 // dossiers to make in all (0: no limit)
	dossiers atomic.Int64
	events   atomic.Int64
}

func (s *genShared) code(agency string, day time.Time) string {
	d := day.In(dossier.Vietnam).Format("060102")
	s.mu.Lock()
	s.counters[agency+d]++
	n := s.counters[agency+d]
	s.mu.Unlock()
	return fmt.Sprintf("%s-%s-%04d%06d", agency, d, s.run, n%1000000)
}

// gen makes one worker's events: dossier after dossier, each dossier's events in order.
type gen struct {
	sh      *genShared
	rng     *rand.Rand
	pending []*dossierv1.DossierEvent
	done    bool
}

func (g *gen) next() *dossierv1.DossierEvent {
	for len(g.pending) == 0 {
		if g.done {
			return nil
		}
		if n := g.sh.dossiers.Add(1); g.sh.limit > 0 && n > g.sh.limit {
			g.done = true
			return nil
		}
		ref := g.sh.refs[g.rng.IntN(len(g.sh.refs))]
		now := time.Now()
		received := now.Add(-time.Duration(g.rng.Int64N(int64(benchWindow))))
		g.pending = simulate.Dossier(g.rng, g.sh.code(ref.Agency, received), ref, received, g.sh.profile, g.sh.cal, now)
	}
	ev := g.pending[0]
	g.pending = g.pending[1:]
	g.sh.events.Add(1)
	return ev
}

func (g *gen) batch(n int) []*dossierv1.DossierEvent {
	out := make([]*dossierv1.DossierEvent, 0, n)
	for len(out) < n {
		ev := g.next()
		if ev == nil {
			break
		}
		out = append(out, ev)
	}
	return out
}

func (b *bencher) concurrency(mode string) int {
	if b.o.concurrency > 0 {
		return b.o.concurrency
	}
	switch mode {
	case "grpc-stream":
		return 4
	case "rest-batch":
		return 8
	}
	return 64
}

// runMode runs one mode for --duration, or until limit dossiers were sent when limit > 0.
func (b *bencher) runMode(ctx context.Context, mode string, limit int) (*modeResult, error) {
	conc := b.concurrency(mode)
	b.modeNo++
	b.shared.limit = int64(limit)
	b.shared.dossiers.Store(0)
	b.shared.events.Store(0)
	deadline := time.Now().Add(b.o.duration)
	if limit > 0 {
		deadline = time.Now().Add(100 * 365 * 24 * time.Hour)
	}
	mctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// Connections: one gRPC connection per 16 workers; an HTTP transport keeping one idle
	// connection per worker.
	var conns []*grpc.ClientConn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	if strings.HasPrefix(mode, "grpc") {
		for i := 0; i < (conc+15)/16; i++ {
			c, err := grpc.NewClient(b.o.addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
				grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20), grpc.MaxCallSendMsgSize(64<<20)))
			if err != nil {
				return nil, err
			}
			conns = append(conns, c)
		}
	}
	tr := &http.Transport{MaxIdleConns: conc, MaxIdleConnsPerHost: conc, IdleConnTimeout: 90 * time.Second, DisableCompression: true}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 60 * time.Second}

	// Side measurements while the mode runs.
	var side sync.WaitGroup
	sideCtx, stopSide := context.WithCancel(mctx)
	var statsLat []time.Duration
	var statsErr int64
	if b.o.statsInterval > 0 {
		side.Add(1)
		go func() {
			defer side.Done()
			statsLat, statsErr = b.pollStats(sideCtx)
		}()
	}
	var mem memory
	side.Add(1)
	go func() {
		defer side.Done()
		mem = b.sampleMemory(sideCtx)
	}()
	var progress chan struct{}
	if limit > 0 {
		progress = make(chan struct{})
		go b.progress(progress, limit)
	}

	start := time.Now()
	tallies := make([]*tally, conc)
	var wg sync.WaitGroup
	for i := range conc {
		t := newTally()
		tallies[i] = t
		g := &gen{sh: b.shared, rng: rand.New(rand.NewPCG(b.o.seed, b.modeNo<<32|uint64(i)))}
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch mode {
			case "grpc-stream":
				b.streamWorker(mctx, conns[i/16], g, deadline, t)
			case "grpc-unary":
				b.unaryWorker(mctx, conns[i/16], g, deadline, t)
			case "rest-single":
				b.restSingleWorker(mctx, hc, g, deadline, t)
			case "rest-batch":
				b.restBatchWorker(mctx, hc, g, deadline, t)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	stopSide()
	side.Wait()
	if progress != nil {
		close(progress)
	}

	all := newTally()
	for _, t := range tallies {
		all.merge(t)
	}
	r := &modeResult{Mode: mode, Concurrency: conc, Seconds: elapsed.Seconds(), Requests: all.requests,
		FailedRequests: all.failed, Dossiers: b.shared.dossiers.Load(), Sent: all.sent,
		Accepted: all.accepted, Duplicates: all.dups, Refused: all.refused, RefusedByReason: all.reasons,
		Latency: summarize(all.lat), Stats: summarize(statsLat), StatsErrors: statsErr, Memory: mem}
	if limit > 0 {
		r.Dossiers = min(r.Dossiers, int64(limit))
	}
	if mode == "grpc-stream" || mode == "rest-batch" {
		r.Batch = b.o.batch
	} else {
		r.Batch = 1
	}
	if elapsed > 0 {
		r.EventsPerSecond = float64(all.accepted) / elapsed.Seconds()
	}
	if b.o.reference > 0 {
		r.RatioToRef = r.EventsPerSecond / b.o.reference
	}
	r.StoredEvents = all.maxSeq
	if n, err := b.lastSequence(ctx); err == nil {
		r.StoredEvents = n
	} else {
		fmt.Fprintf(b.stderr, "bench: stored events from the acks (feed: %v)\n", err)
	}
	if fi, err := os.Stat(filepath.Join(b.o.dataDir, dossier.Part+".db")); err == nil {
		r.DBBytes = fi.Size()
		if r.StoredEvents > 0 {
			r.BytesPerEvent = float64(r.DBBytes) / float64(r.StoredEvents)
		}
	}
	return r, nil
}

func (b *bencher) progress(done chan struct{}, limit int) {
	start := time.Now()
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-tick.C:
			d, e := min(b.shared.dossiers.Load(), int64(limit)), b.shared.events.Load()
			fmt.Fprintf(b.stderr, "bench: preload %d/%d dossiers, %d events sent, %.0f events/s\n",
				d, limit, e, float64(e)/time.Since(start).Seconds())
		}
	}
}

func (b *bencher) outgoing(ctx context.Context) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+b.o.token)
}

// streamWorker sends batches on one stream, --stream-inflight at a time, and times each
// from its send to its ack. Events sent but never acknowledged count as refused with the
// stream's error.
func (b *bencher) streamWorker(ctx context.Context, conn *grpc.ClientConn, g *gen, deadline time.Time, t *tally) {
	sctx, cancel := context.WithCancel(b.outgoing(ctx))
	defer cancel()
	stream, err := dossierv1.NewDossierServiceClient(conn).StreamDossierEvents(sctx)
	if err != nil {
		t.failRequest(0, grpcReason(err))
		return
	}
	type sent struct {
		id string
		at time.Time
		n  int
	}
	slots := make(chan struct{}, b.o.inflight) // one per batch in flight
	fifo := make(chan sent, b.o.inflight)      // sent, not yet acknowledged, in order
	recvDone := make(chan struct{})
	var acked int64
	lostReason := "NO_ACK"
	go func() {
		defer close(recvDone)
		for {
			resp, err := stream.Recv()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					lostReason = grpcReason(err)
				}
				return
			}
			s := <-fifo
			<-slots
			t.lat = append(t.lat, time.Since(s.at))
			t.requests++
			acked += int64(s.n)
			if resp.GetBatchId() != s.id || len(resp.GetResults()) != s.n {
				t.failRequest(s.n, "ACK_MISMATCH")
				continue
			}
			for _, r := range resp.GetResults() {
				reason := ""
				if r.GetError() != nil {
					reason = reasonOf(r.GetError())
				}
				t.result(r.GetDuplicate(), r.GetSequence(), reason)
			}
		}
	}()
	var sentEvents int64
send:
	for n := 0; time.Now().Before(deadline) && ctx.Err() == nil; n++ {
		evs := g.batch(b.o.batch)
		if len(evs) == 0 {
			break
		}
		b.pace.wait(ctx, len(evs))
		// Wait for a free place first, so that the time measured is from the send.
		select {
		case slots <- struct{}{}:
		case <-recvDone:
			break send
		}
		s := sent{id: strconv.Itoa(n), at: time.Now(), n: len(evs)}
		fifo <- s
		if err := stream.Send(&dossierv1.StreamDossierEventsRequest{BatchId: s.id, Events: evs}); err != nil {
			break // the receiver sees the stream's error
		}
		sentEvents += int64(len(evs))
	}
	_ = stream.CloseSend()
	<-recvDone
	t.sent += sentEvents
	if lost := sentEvents - acked; lost > 0 {
		t.failRequest(int(lost), lostReason)
	}
}

func (b *bencher) unaryWorker(ctx context.Context, conn *grpc.ClientConn, g *gen, deadline time.Time, t *tally) {
	client := dossierv1.NewDossierServiceClient(conn)
	ctx = b.outgoing(ctx)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		ev := g.next()
		if ev == nil {
			return
		}
		b.pace.wait(ctx, 1)
		t.sent++
		start := time.Now()
		resp, err := client.CreateDossierEvent(ctx, &dossierv1.CreateDossierEventRequest{Event: ev})
		t.lat = append(t.lat, time.Since(start))
		t.requests++
		if err != nil {
			t.result(false, 0, grpcReason(err))
			continue
		}
		t.result(resp.GetDuplicate(), resp.GetSequence(), "")
	}
}

var benchJSON = protojson.MarshalOptions{UseProtoNames: true}

// post sends a JSON body and decodes a 200 answer into out; any other answer is a
// google.rpc.Status whose reason it returns.
func (b *bencher) post(ctx context.Context, hc *http.Client, path string, body []byte, out any) (string, error) {
	return b.postAs(ctx, hc, path, "application/json", body, out)
}

// postAs is post with a body of another content type.
func (b *bencher) postAs(ctx context.Context, hc *http.Client, path, contentType string, body []byte, out any) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.base+path, bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+b.o.token)
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		var st restStatus
		if json.Unmarshal(raw, &st) != nil || st.Code == 0 {
			return fmt.Sprintf("HTTP_%d", resp.StatusCode), nil
		}
		return st.reason(), nil
	}
	return "", json.Unmarshal(raw, out)
}

func (b *bencher) restSingleWorker(ctx context.Context, hc *http.Client, g *gen, deadline time.Time, t *tally) {
	for time.Now().Before(deadline) && ctx.Err() == nil {
		ev := g.next()
		if ev == nil {
			return
		}
		body, err := benchJSON.Marshal(ev)
		if err != nil {
			t.failRequest(1, "ENCODE")
			continue
		}
		b.pace.wait(ctx, 1)
		t.sent++
		var out struct {
			Duplicate bool  `json:"duplicate"`
			Sequence  int64 `json:"sequence,string"`
		}
		start := time.Now()
		reason, err := b.post(ctx, hc, "/v1/dossier-events", body, &out)
		t.lat = append(t.lat, time.Since(start))
		t.requests++
		if err != nil {
			if ctx.Err() == nil {
				t.failRequest(1, "TRANSPORT")
			}
			continue
		}
		t.result(out.Duplicate, out.Sequence, reason)
	}
}

func (b *bencher) restBatchWorker(ctx context.Context, hc *http.Client, g *gen, deadline time.Time, t *tally) {
	for time.Now().Before(deadline) && ctx.Err() == nil {
		evs := g.batch(b.o.batch)
		if len(evs) == 0 {
			return
		}
		body, err := benchJSON.Marshal(&dossierv1.BatchCreateDossierEventsRequest{Events: evs})
		if err != nil {
			t.failRequest(len(evs), "ENCODE")
			continue
		}
		b.pace.wait(ctx, len(evs))
		t.sent += int64(len(evs))
		var out struct {
			Results []struct {
				Duplicate bool        `json:"duplicate"`
				Sequence  int64       `json:"sequence,string"`
				Error     *restStatus `json:"error"`
			} `json:"results"`
		}
		start := time.Now()
		reason, err := b.post(ctx, hc, "/v1/dossier-events:batchCreate", body, &out)
		t.lat = append(t.lat, time.Since(start))
		t.requests++
		switch {
		case err != nil:
			t.failRequest(len(evs), "TRANSPORT")
		case reason != "":
			t.failRequest(len(evs), reason)
		case len(out.Results) != len(evs):
			t.failRequest(len(evs), "RESULT_COUNT_MISMATCH")
		default:
			for _, r := range out.Results {
				reason := ""
				if r.Error != nil {
					reason = r.Error.reason()
				}
				t.result(r.Duplicate, r.Sequence, reason)
			}
		}
	}
}

// get reads a JSON answer of the gateway.
func (b *bencher) get(ctx context.Context, hc *http.Client, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.base+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+b.o.token)
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var st restStatus
		if json.Unmarshal(raw, &st) == nil && st.Message != "" {
			return fmt.Errorf("GET %s: %d %s", path, resp.StatusCode, st.Message)
		}
		return fmt.Errorf("GET %s: HTTP %d", path, resp.StatusCode)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(raw, out)
}

// pollStats times GET /v1/dossier-stats for this year by agency until ctx ends.
func (b *bencher) pollStats(ctx context.Context) ([]time.Duration, int64) {
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}}
	path := "/v1/dossier-stats?from=" + strconv.Itoa(time.Now().In(dossier.Vietnam).Year()) + "&group_by=agency"
	var lat []time.Duration
	var errs int64
	tick := time.NewTicker(b.o.statsInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return lat, errs
		case <-tick.C:
		}
		start := time.Now()
		err := b.get(ctx, hc, path, nil)
		if ctx.Err() != nil {
			return lat, errs
		}
		if err != nil {
			errs++
			continue
		}
		lat = append(lat, time.Since(start))
	}
}

// sampleMemory reads the gateway's /metrics (and /proc for --server-pid) until ctx ends
// and keeps the largest values.
func (b *bencher) sampleMemory(ctx context.Context) memory {
	return b.sampleMemoryEvery(ctx, b.o.memInterval)
}

// startMemory samples the server's memory every interval in the background; stop ends the
// sampling and answers the largest figures.
func (b *bencher) startMemory(ctx context.Context, interval time.Duration) (stop func() memory) {
	mctx, cancel := context.WithCancel(ctx)
	memc := make(chan memory, 1)
	go func() { memc <- b.sampleMemoryEvery(mctx, interval) }()
	return func() memory {
		cancel()
		return <-memc
	}
}

// sampleMemoryEvery is sampleMemory at another interval.
func (b *bencher) sampleMemoryEvery(ctx context.Context, interval time.Duration) memory {
	var m memory
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		if s, err := b.readMetrics(ctx); err == nil {
			m.Samples++
			m.HeapInuse = max(m.HeapInuse, s["go_memstats_heap_inuse_bytes"])
			m.StackInuse = max(m.StackInuse, s["go_memstats_stack_inuse_bytes"])
			m.GoSys = max(m.GoSys, s["go_memstats_sys_bytes"])
			m.RSS = max(m.RSS, s["process_resident_memory_bytes"])
			m.HeapPlusStack = max(m.HeapPlusStack, s["go_memstats_heap_inuse_bytes"]+s["go_memstats_stack_inuse_bytes"])
			m.GoMemory = max(m.GoMemory, s["go_memstats_sys_bytes"]-s["go_memstats_heap_released_bytes"])
		}
		if b.o.serverPID > 0 {
			if anon, err := rssAnon(b.o.serverPID); err == nil {
				m.RSSAnon = max(m.RSSAnon, anon)
			}
		}
		select {
		case <-ctx.Done():
			return m
		case <-tick.C:
		}
	}
}

var memoryMetrics = []string{"go_memstats_heap_inuse_bytes", "go_memstats_stack_inuse_bytes", "go_memstats_sys_bytes", "process_resident_memory_bytes",
	"go_memstats_heap_released_bytes"}

func (b *bencher) readMetrics(ctx context.Context) (map[string]int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.base+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := b.ctl.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("/metrics: HTTP %d", resp.StatusCode)
	}
	out := map[string]int64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		for _, name := range memoryMetrics {
			if v, ok := strings.CutPrefix(line, name+" "); ok {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					out[name] = int64(f)
				}
			}
		}
	}
	return out, sc.Err()
}

// rssAnon is the anonymous (not file-backed) resident memory of a process, from
// /proc/PID/status: the memory-mapped bbolt file is not in it.
func rssAnon(pid int) (int64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "RssAnon:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no RssAnon")
}

// lastSequence finds the last sequence of the feed (the number of stored events) by
// searching with after=N&page_size=1.
func (b *bencher) lastSequence(ctx context.Context) (int64, error) {
	exists := func(after int64) (bool, error) {
		var out struct {
			Events []json.RawMessage `json:"events"`
		}
		err := b.get(ctx, b.ctl, "/v1/dossier-events?page_size=1&after="+strconv.FormatInt(after, 10), &out)
		return len(out.Events) > 0, err
	}
	lo, hi := int64(0), int64(1024) // an event after lo exists; none after hi (once found)
	if ok, err := exists(0); err != nil || !ok {
		return 0, err
	}
	for {
		ok, err := exists(hi)
		if err != nil {
			return 0, err
		}
		if !ok {
			break
		}
		lo, hi = hi, hi*2
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		ok, err := exists(mid)
		if err != nil {
			return 0, err
		}
		if ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi, nil
}

// references are the places dossiers are filed: from --unit-agencies, or from the catalog
// through the gateway (active procedures, their agencies, and those agencies' units in
// force for the whole window), so every event passes the catalog checks.
func (b *bencher) references(ctx context.Context) ([]simulate.Ref, error) {
	if b.o.unitAgencies != "" {
		var out []simulate.Ref
		for _, item := range strings.Split(b.o.unitAgencies, ",") {
			f := strings.Split(strings.TrimSpace(item), ":")
			if len(f) < 3 || len(f) > 4 {
				return nil, fmt.Errorf("--unit-agencies %q: want UNIT:AGENCY:PROCEDURE[:DAYS]", item)
			}
			r := simulate.Ref{Unit: f[0], Agency: f[1], Procedure: f[2], ProcessingDays: 5}
			if len(f) == 4 {
				d, err := strconv.Atoi(f[3])
				if err != nil || d < 1 {
					return nil, fmt.Errorf("--unit-agencies %q: days must be a positive number", item)
				}
				r.ProcessingDays = d
			}
			out = append(out, r)
		}
		return out, nil
	}
	type procedure struct {
		Code           string   `json:"code"`
		AgencyCodes    []string `json:"agency_codes"`
		ProcessingDays int      `json:"processing_days"`
		Status         string   `json:"status"`
		ValidTo        string   `json:"valid_to"`
	}
	var procs []procedure
	token := ""
	for {
		var page struct {
			Procedures    []procedure `json:"procedures"`
			NextPageToken string      `json:"next_page_token"`
		}
		path := "/v1/procedures?page_size=1000"
		if token != "" {
			path += "&page_token=" + url.QueryEscape(token)
		}
		if err := b.get(ctx, b.ctl, path, &page); err != nil {
			return nil, fmt.Errorf("catalog: %w", err)
		}
		procs = append(procs, page.Procedures...)
		if token = page.NextPageToken; token == "" {
			break
		}
	}
	if len(procs) == 0 {
		return nil, errors.New("the catalog has no procedures to file dossiers under; start with `lienthong up --demo` (or import procedures), or give --unit-agencies")
	}
	today := time.Now().In(dossier.Vietnam)
	windowStart := today.Add(-benchWindow - 24*time.Hour).Format("2006-01-02")
	agencyUnit := map[string]string{}
	unitOK := map[string]bool{}
	var out []simulate.Ref
	for _, p := range procs {
		if (p.Status != "" && p.Status != "PROCEDURE_STATUS_ACTIVE") || (p.ValidTo != "" && p.ValidTo < today.Format("2006-01-02")) {
			continue
		}
		for _, a := range p.AgencyCodes {
			u, seen := agencyUnit[a]
			if !seen {
				var ag struct {
					UnitCode string `json:"unit_code"`
				}
				if err := b.get(ctx, b.ctl, "/v1/agencies/"+url.PathEscape(a), &ag); err == nil {
					u = ag.UnitCode
				}
				agencyUnit[a] = u
			}
			if u == "" {
				continue
			}
			ok, seen := unitOK[u]
			if !seen {
				var unit struct {
					ValidFrom string `json:"valid_from"`
					ValidTo   string `json:"valid_to"`
				}
				if err := b.get(ctx, b.ctl, "/v1/units/"+url.PathEscape(u), &unit); err == nil {
					ok = unit.ValidTo == "" && unit.ValidFrom <= windowStart
				}
				unitOK[u] = ok
			}
			if ok {
				out = append(out, simulate.Ref{Unit: u, Agency: a, Procedure: p.Code, ProcessingDays: p.ProcessingDays})
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("none of the catalog's %d procedures has an agency in a unit in force since %s; start with `lienthong up --demo`, or give --unit-agencies", len(procs), windowStart)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Procedure+out[i].Agency < out[j].Procedure+out[j].Agency
	})
	return out, nil
}

func mib(n int64) string { return fmt.Sprintf("%.0f", float64(n)/(1<<20)) }

func ms(v float64) string {
	if v < 10 {
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// printBenchTable prints one row per mode, then refusals.
func printBenchTable(w io.Writer, s *benchSummary) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "mode\tconc\tbatch\tsent\taccepted\tdup\trefused\tevents/s"
	if s.Reference > 0 {
		head += "\t× ref"
	}
	head += "\tp50 ms\tp90 ms\tp99 ms\tmax ms\tstats p50\tstats p99\theap MiB\tRSS MiB"
	if (s.Preload != nil && s.Preload.Memory.RSSAnon > 0) || (len(s.Modes) > 0 && s.Modes[0].Memory.RSSAnon > 0) {
		head += "\tanon MiB"
	}
	head += "\tstored\tB/event\t"
	fmt.Fprintln(tw, head)
	rows := s.Modes
	if s.Preload != nil {
		rows = append([]*modeResult{s.Preload}, rows...)
	}
	for _, r := range rows {
		line := fmt.Sprintf("%s\t%d\t%d\t%d\t%d\t%d\t%d\t%.0f", r.Mode, r.Concurrency, r.Batch, r.Sent, r.Accepted, r.Duplicates, r.Refused, r.EventsPerSecond)
		if s.Reference > 0 {
			line += fmt.Sprintf("\t%.2f", r.RatioToRef)
		}
		line += fmt.Sprintf("\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s", ms(r.Latency.P50), ms(r.Latency.P90), ms(r.Latency.P99), ms(r.Latency.Max),
			ms(r.Stats.P50), ms(r.Stats.P99), mib(r.Memory.HeapInuse), mib(r.Memory.RSS))
		if strings.Contains(head, "anon MiB") {
			line += "\t" + mib(r.Memory.RSSAnon)
		}
		line += fmt.Sprintf("\t%d\t%.0f\t", r.StoredEvents, r.BytesPerEvent)
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
	for _, r := range rows {
		if r.Refused == 0 && r.StatsErrors == 0 {
			continue
		}
		keys := make([]string, 0, len(r.RefusedByReason))
		for k := range r.RefusedByReason {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s %d", k, r.RefusedByReason[k]))
		}
		fmt.Fprintf(w, "%s: refused %s; failed requests %d; stats errors %d\n", r.Mode, strings.Join(parts, ", "), r.FailedRequests, r.StatsErrors)
	}
}

// printSoak compares, per mode, the first round of a soak with the last.
func printSoak(w io.Writer, rows []*modeResult) {
	first, last := map[string]*modeResult{}, map[string]*modeResult{}
	var order []string
	for _, r := range rows {
		m, _, _ := strings.Cut(r.Mode, " #")
		if first[m] == nil {
			first[m] = r
			order = append(order, m)
		}
		last[m] = r
	}
	fmt.Fprintln(w, "soak: first round → last round")
	for _, m := range order {
		a, z := first[m], last[m]
		fmt.Fprintf(w, "  %-12s events/s %.0f → %.0f; p99 %s → %s ms; stats p99 %s → %s ms; anon MiB %s → %s; heap MiB %s → %s\n", m,
			a.EventsPerSecond, z.EventsPerSecond, ms(a.Latency.P99), ms(z.Latency.P99), ms(a.Stats.P99), ms(z.Stats.P99),
			mib(a.Memory.RSSAnon), mib(z.Memory.RSSAnon), mib(a.Memory.HeapInuse), mib(z.Memory.HeapInuse))
	}
}
