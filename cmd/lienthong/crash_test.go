package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	"github.com/lienthong/lienthong/services/dossier"
	"github.com/lienthong/lienthong/services/dossier/simulate"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protojson"
)

// crashLoad sends dossier events to a running suite from several workers (REST batches and
// gRPC streams) and records every event id the suite acknowledged as stored.
type crashLoad struct {
	mu    sync.Mutex
	acked map[string]int // event id -> times acknowledged as new (not duplicate)
	refs  []simulate.Ref
}

func (l *crashLoad) ack(id string) {
	l.mu.Lock()
	l.acked[id]++
	l.mu.Unlock()
}

func (l *crashLoad) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked)
}

// batchFor makes a batch of whole dossier histories, received in the last 20 days.
func (l *crashLoad) batchFor(rng *rand.Rand, prefix string, n *int) []*dossierv1.DossierEvent {
	now := time.Now()
	var events []*dossierv1.DossierEvent
	for len(events) < 150 {
		ref := l.refs[rng.IntN(len(l.refs))]
		received := now.Add(-time.Duration(rng.Int64N(int64(20 * 24 * time.Hour))))
		*n++
		code := fmt.Sprintf("%s-%s-%04d", ref.Agency, prefix, *n%10000)
		events = append(events, simulate.Dossier(rng, code, ref, received, simulate.Typical, dossier.DefaultCalendar(), now)...)
	}
	return events
}

// restWorker posts batches until stop is closed or the suite goes away.
func (l *crashLoad) restWorker(base, token, prefix string, seed uint64, stop <-chan struct{}) {
	rng := rand.New(rand.NewPCG(seed, 1))
	client := &http.Client{Timeout: 10 * time.Second}
	n := 0
	for {
		select {
		case <-stop:
			return
		default:
		}
		events := l.batchFor(rng, prefix, &n)
		body, _ := protojson.Marshal(&dossierv1.BatchCreateDossierEventsRequest{Events: events})
		req, _ := http.NewRequest(http.MethodPost, base+"/v1/dossier-events:batchCreate", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			return
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return
		}
		var out dossierv1.BatchCreateDossierEventsResponse
		if protojson.Unmarshal(raw, &out) != nil {
			return
		}
		for _, r := range out.GetResults() {
			if r.GetError() == nil && !r.GetDuplicate() {
				l.ack(r.GetEventId())
			}
		}
	}
}

// streamWorker sends batches on one gRPC stream, several in flight.
func (l *crashLoad) streamWorker(s *suite, token, prefix string, seed uint64, stop <-chan struct{}) {
	rng := rand.New(rand.NewPCG(seed, 2))
	ctx, cancel := context.WithCancel(metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+token))
	defer cancel()
	stream, err := dossierv1.NewDossierServiceClient(s.grpcConn()).StreamDossierEvents(ctx)
	if err != nil {
		return
	}
	go func() {
		n := 0
		for i := 0; ; i++ {
			select {
			case <-stop:
				_ = stream.CloseSend()
				return
			default:
			}
			if err := stream.Send(&dossierv1.StreamDossierEventsRequest{BatchId: strconv.Itoa(i), Events: l.batchFor(rng, prefix, &n)}); err != nil {
				return
			}
		}
	}()
	for {
		resp, err := stream.Recv()
		if err != nil {
			return
		}
		for _, r := range resp.GetResults() {
			if r.GetError() == nil && !r.GetDuplicate() {
				l.ack(r.GetEventId())
			}
		}
	}
}

// TestDossierCrashLosesNothing kills `lienthong up` with SIGKILL three times while REST
// batches and gRPC streams write, restarts it each time, and then checks that every event
// acknowledged as stored is in the feed exactly once, no event is there twice, and
// `lienthong verify` finds the statistics equal to a replay of the log.
func TestDossierCrashLosesNothing(t *testing.T) {
	dir := t.TempDir()
	args := []string{"--demo", "--demo-dossiers", "0"}
	s := startUp(t, dir, args...)
	load := &crashLoad{acked: map[string]int{}, refs: unitRefs(t, s, "33")}
	const rounds = 3
	for round := 0; round < rounds; round++ {
		token := s.token()
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			prefix := fmt.Sprintf("2611%d%d", round, w) // unique codes per worker and round
			go func() {
				defer wg.Done()
				if w%2 == 0 {
					load.restWorker(s.base, token, prefix, uint64(round*10+w), stop)
				} else {
					load.streamWorker(s, token, prefix, uint64(round*10+w), stop)
				}
			}()
		}
		target := load.count() + 1500
		waitFor(t, 60*time.Second, "acknowledged events", func() bool { return load.count() >= target })
		s.kill9()
		close(stop)
		wg.Wait()
		s = startUp(t, dir)
	}
	s.stop()

	out, err := exec.Command(binary, "verify", "--part", "dossier", "--data-dir", filepath.Join(dir, "data")).CombinedOutput()
	if err != nil {
		t.Fatalf("verify after %d kills: %v\n%s", rounds, err, out)
	}
	if !strings.Contains(string(out), "no differences") {
		t.Errorf("verify: %s", out)
	}

	s = startUp(t, dir)
	seen := map[string]int{}
	after := "0"
	for {
		st, page := s.call(http.MethodGet, "/v1/dossier-events?page_size=1000&after="+after, s.token(), "")
		if st != http.StatusOK {
			t.Fatalf("feed: %d %v", st, page)
		}
		events, _ := page["events"].([]any)
		for _, e := range events {
			seen[e.(map[string]any)["event_id"].(string)]++
		}
		after = page["cursor"].(string)
		if page["next_page_token"] == "" {
			break
		}
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("event %s is in the feed %d times", id, n)
		}
	}
	lost := 0
	for id, n := range load.acked {
		if n != 1 {
			t.Errorf("event %s was acknowledged as new %d times", id, n)
		}
		if seen[id] != 1 {
			lost++
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d acknowledged events are not in the feed", lost, len(load.acked))
	}
	t.Logf("%d kills: %d events acknowledged, %d events stored, none lost, none twice; %s", rounds, len(load.acked), len(seen), strings.TrimSpace(string(out)))
}

// unitRefs lists (agency, procedure) pairs of a unit from the running catalog.
func unitRefs(t *testing.T, s *suite, unit string) []simulate.Ref {
	t.Helper()
	st, body := s.call(http.MethodGet, "/v1/procedures?page_size=200&unit="+unit, "", "")
	if st != http.StatusOK {
		t.Fatalf("procedures: %d", st)
	}
	var refs []simulate.Ref
	raw, _ := json.Marshal(body["procedures"])
	var procs []struct {
		Code           string   `json:"code"`
		AgencyCodes    []string `json:"agency_codes"`
		ProcessingDays int      `json:"processing_days"`
		Status         string   `json:"status"`
	}
	if err := json.Unmarshal(raw, &procs); err != nil {
		t.Fatal(err)
	}
	st, ub := s.call(http.MethodGet, "/v1/units/"+unit, "", "")
	level1, _ := ub["level1_code"].(string)
	if st != http.StatusOK || level1 == "" {
		t.Fatalf("unit %s: %d, level-1 code %q", unit, st, level1)
	}
	for _, p := range procs {
		for _, a := range p.AgencyCodes {
			if strings.HasSuffix(a, "."+level1) { // an agency of the unit (docs/domain.md, Identifiers)
				refs = append(refs, simulate.Ref{Unit: unit, Agency: a, Procedure: p.Code, ProcessingDays: p.ProcessingDays})
			}
		}
	}
	if len(refs) == 0 {
		t.Fatal("no procedures of unit " + unit + " in the demo catalog")
	}
	return refs
}
