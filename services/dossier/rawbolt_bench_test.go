package dossier

// The physical reference of the dossier ingest figures (docs/benchmarks.md): the same
// events written straight into bbolt in 1000-event transactions, against the service's own
// write path. Run both in one session, on the same disk:
//
//	go test -run xxx -bench 'RawBolt|ServiceIngest' -benchtime 1x ./services/dossier/

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	storev1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/store/v1"
	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	"github.com/lienthong/lienthong/services/dossier/simulate"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

const (
	ingestEvents  = 200_000 // about; whole dossiers
	ingestBatch   = 1000    // events per transaction (reference) or request (service)
	ingestWorkers = 4       // goroutines pushing into the service
	ingestWindow  = 20 * 24 * time.Hour
)

// ingestWorld is where the generated dossiers are filed: 5 provinces, 8 agencies each,
// 25 procedures run by every agency.
type ingestWorld struct {
	refs  []simulate.Ref
	procs map[string]uint32 // procedure -> processing days
	ags   map[string]string // agency -> unit
	units map[string]bool
}

func newIngestWorld() *ingestWorld {
	w := &ingestWorld{procs: map[string]uint32{}, ags: map[string]string{}, units: map[string]bool{}}
	for p := range 25 {
		w.procs[fmt.Sprintf("1.%06d", 1000+p)] = uint32(3 + p%13)
	}
	// The units' level-1 codes of agency identifiers (docs/domain.md, Identifiers).
	level1 := map[string]string{"01": "H26", "31": "H24", "33": "H31", "48": "H17", "79": "H29"}
	for _, u := range []string{"01", "31", "33", "48", "79"} {
		w.units[u] = true
		for a := range 8 {
			ag := fmt.Sprintf("000.%02d.00.%s", a+1, level1[u])
			w.ags[ag] = u
			for p, days := range w.procs {
				w.refs = append(w.refs, simulate.Ref{Unit: u, Agency: ag, Procedure: p, ProcessingDays: int(days)})
			}
		}
	}
	return w
}

// ingestCatalog answers LookupReferences from an ingestWorld.
type ingestCatalog struct{ w *ingestWorld }

func (c ingestCatalog) LookupReferences(_ context.Context, in *catalogv1.LookupReferencesRequest, _ ...grpc.CallOption) (*catalogv1.LookupReferencesResponse, error) {
	out := &catalogv1.LookupReferencesResponse{}
	for _, p := range in.GetProcedureCodes() {
		if days, ok := c.w.procs[p]; ok {
			out.Procedures = append(out.Procedures, &catalogv1.Procedure{Code: p, ProcessingDays: days, Field: "Bench"})
		} else {
			out.MissingProcedures = append(out.MissingProcedures, p)
		}
	}
	for _, a := range in.GetAgencyCodes() {
		if u, ok := c.w.ags[a]; ok {
			out.Agencies = append(out.Agencies, &catalogv1.Agency{Code: a, UnitCode: u})
		} else {
			out.MissingAgencies = append(out.MissingAgencies, a)
		}
	}
	for _, u := range in.GetUnitCodes() {
		if c.w.units[u] {
			out.Units = append(out.Units, &catalogv1.UnitReference{Unit: &catalogv1.Unit{Code: u, ValidFrom: "2008-08-01", InForce: true}, CurrentCodes: []string{u}})
		} else {
			out.MissingUnits = append(out.MissingUnits, u)
		}
	}
	return out, nil
}

// ingestSet is the generated load: whole dossiers, each dossier's events in order, dealt
// to the workers by dossier so that one worker sends all of a dossier.
type ingestSet struct {
	world   *ingestWorld
	events  int
	workers [ingestWorkers][]*dossierv1.DossierEvent
	hashes  map[*dossierv1.DossierEvent][]byte
}

var (
	ingestOnce sync.Once
	ingestData *ingestSet
	// rawReference is the last BenchmarkRawBoltReference figure, for the ratio.
	rawReference float64
)

// ingestLoad makes the events once: dossiers received in the last 20 days, 30% online,
// with the typical shares of supplements, late resolution and withdrawals.
func ingestLoad() *ingestSet {
	ingestOnce.Do(func() {
		s := &ingestSet{world: newIngestWorld(), hashes: map[*dossierv1.DossierEvent][]byte{}}
		rng := rand.New(rand.NewPCG(1, 2))
		prof := simulate.Typical
		prof.Online = 0.3
		cal := DefaultCalendar()
		now := time.Now()
		counters := map[string]int{}
		for n := 0; s.events < ingestEvents; n++ {
			ref := s.world.refs[rng.IntN(len(s.world.refs))]
			received := now.Add(-time.Duration(rng.Int64N(int64(ingestWindow))))
			key := ref.Agency + received.In(Vietnam).Format("060102")
			counters[key]++
			evs := simulate.Dossier(rng, simulate.Code(ref.Agency, received, counters[key]), ref, received, prof, cal, now)
			s.workers[n%ingestWorkers] = append(s.workers[n%ingestWorkers], evs...)
			s.events += len(evs)
			for _, ev := range evs {
				c, err := checkEvent(ev, now)
				if err != nil {
					panic(err)
				}
				s.hashes[ev] = c.hash
			}
		}
		ingestData = s
	})
	return ingestData
}

// BenchmarkRawBoltReference writes the events as the service stores them (StoredEvent,
// key the 8-byte big-endian sequence, FillPercent 1.0) into a new bbolt file, 1000 events
// per transaction, each commit fsynced: the physical ceiling of the disk for this log.
func BenchmarkRawBoltReference(b *testing.B) { rawBolt(b, false) }

// BenchmarkRawBoltWithState is the reference plus the least a store must add to keep each
// dossier's state in bbolt: in the same transaction, one put per dossier changed, of a
// value the size of an event, under its code. Nothing is judged, indexed or counted; it
// bounds what any write path that keeps the states in bbolt with the events can reach
// against the reference.
func BenchmarkRawBoltWithState(b *testing.B) { rawBolt(b, true) }

func rawBolt(b *testing.B, withState bool) {
	set := ingestLoad()
	var all []*dossierv1.DossierEvent
	for _, w := range set.workers {
		all = append(all, w...)
	}
	var total time.Duration
	var size int64
	for range b.N {
		b.StopTimer()
		dir := b.TempDir()
		db, err := bolt.Open(filepath.Join(dir, "raw.db"), 0o600, &bolt.Options{Timeout: time.Second, FreelistType: bolt.FreelistMapType})
		if err != nil {
			b.Fatal(err)
		}
		if err := db.Update(func(tx *bolt.Tx) error {
			if _, err := tx.CreateBucketIfNotExists(bucketDossiers); err != nil {
				return err
			}
			_, err := tx.CreateBucketIfNotExists(bucketEvents)
			return err
		}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		seq := int64(0)
		states := map[string]*dossierv1.DossierEvent{}
		for lo := 0; lo < len(all); lo += ingestBatch {
			chunk := all[lo:min(lo+ingestBatch, len(all))]
			err := db.Update(func(tx *bolt.Tx) error {
				bk := tx.Bucket(bucketEvents)
				bk.FillPercent = 1.0
				stamp := time.Now().In(Vietnam).Format(time.RFC3339Nano)
				for _, ev := range chunk {
					seq++
					stored := proto.Clone(ev).(*dossierv1.DossierEvent)
					stored.Sequence, stored.StoredAt, stored.System = seq, stamp, "lienthong/bench"
					v, err := proto.Marshal(&storev1.StoredEvent{Event: stored, ProcessingDays: 10, ContentHash: set.hashes[ev]})
					if err != nil {
						return err
					}
					if err := bk.Put(seqKey(seq), v); err != nil {
						return err
					}
					if withState {
						states[ev.GetDossierCode()] = ev
					}
				}
				// Each dossier changed in the transaction once, in key order.
				for _, code := range slices.Sorted(maps.Keys(states)) {
					st, err := proto.Marshal(states[code])
					if err != nil {
						return err
					}
					if err := tx.Bucket(bucketDossiers).Put([]byte(code), st); err != nil {
						return err
					}
				}
				clear(states)
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		total += time.Since(start)
		b.StopTimer()
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		if fi, err := os.Stat(filepath.Join(dir, "raw.db")); err == nil {
			size = fi.Size()
		}
		b.StartTimer()
	}
	rate := float64(b.N*set.events) / total.Seconds()
	what := "raw bbolt"
	if withState {
		what = "raw bbolt with a state put per event"
		if rawReference > 0 {
			b.ReportMetric(rate/rawReference, "x-reference")
		}
	} else {
		rawReference = rate
	}
	b.ReportMetric(rate, "events/s")
	b.ReportMetric(float64(size)/float64(set.events), "file-B/event")
	b.Logf("%s: %d events in %d-event transactions: %.0f events/s, file %d bytes (%.0f B/event)",
		what, set.events, ingestBatch, rate, size, float64(size)/float64(set.events))
}

// BenchmarkServiceIngest pushes the same events through the service's write path (checks,
// catalog cache, group commit, dossier state, statistics cells, open index), from 4
// goroutines in batches of 1000 with up to 4 batches queued each, as 4 gRPC streams with
// --stream-inflight 4 would.
func BenchmarkServiceIngest(b *testing.B) {
	set := ingestLoad()
	admin := platform.WithCaller(context.Background(), &platform.Caller{System: "lienthong/bench", Role: platform.RoleAdmin})
	var total time.Duration
	var size int64
	var layout string
	for range b.N {
		b.StopTimer()
		dir := b.TempDir()
		db, err := platform.OpenDB(dir, Part)
		if err != nil {
			b.Fatal(err)
		}
		svc, err := Open(db, Options{Catalog: ingestCatalog{set.world}})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		var wg sync.WaitGroup
		errs := make(chan error, ingestWorkers)
		for _, evs := range set.workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				queued := make(chan *job, 4)
				done := make(chan error, 1)
				go func() {
					var first error
					for j := range queued {
						<-j.done
						for _, r := range j.results {
							if r.err != nil && first == nil {
								first = r.err
							}
						}
					}
					done <- first
				}()
				for lo := 0; lo < len(evs); lo += ingestBatch {
					j := svc.prepare(admin, evs[lo:min(lo+ingestBatch, len(evs))])
					svc.enqueue(admin, j)
					queued <- j
				}
				close(queued)
				if err := <-done; err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		total += time.Since(start)
		b.StopTimer()
		close(errs)
		if err := <-errs; err != nil {
			b.Fatalf("an event was refused: %v", err)
		}
		svc.Close()
		layout = bucketLayout(db, set.events)
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		if fi, err := os.Stat(platform.DBPath(dir, Part)); err == nil {
			size = fi.Size()
		}
		b.StartTimer()
	}
	rate := float64(b.N*set.events) / total.Seconds()
	b.ReportMetric(rate, "events/s")
	b.ReportMetric(float64(size)/float64(set.events), "file-B/event")
	msg := fmt.Sprintf("service: %d events from %d goroutines in %d-event batches: %.0f events/s, file %d bytes (%.0f B/event, aggregates included)",
		set.events, ingestWorkers, ingestBatch, rate, size, float64(size)/float64(set.events))
	if rawReference > 0 {
		msg += fmt.Sprintf("; %.2f× the raw bbolt reference (%.0f events/s)", rate/rawReference, rawReference)
	} else {
		msg += "; run with -bench 'RawBolt|ServiceIngest' for the ratio to the raw bbolt reference"
	}
	b.Logf("%s", msg)
	b.Logf("storage by bucket: %s", layout)
}

// bucketLayout tells where the bytes of a dossier file are: per bucket, the pages
// allocated and in use per event, then the file's used and free pages.
func bucketLayout(db *bolt.DB, events int) string {
	var out []string
	_ = db.View(func(tx *bolt.Tx) error {
		var alloc int
		_ = tx.ForEach(func(name []byte, bk *bolt.Bucket) error {
			st := bk.Stats()
			a := st.BranchAlloc + st.LeafAlloc
			alloc += a
			out = append(out, fmt.Sprintf("%s %d keys, %.0f B/event allocated (%.0f%% used)", name, st.KeyN,
				float64(a)/float64(events), 100*float64(st.BranchInuse+st.LeafInuse)/float64(max(a, 1))))
			return nil
		})
		free := db.Stats().FreePageN + db.Stats().PendingPageN
		out = append(out, fmt.Sprintf("buckets %.0f B/event; file high-water mark %.0f B/event, %d free pages",
			float64(alloc)/float64(events), float64(tx.Size())/float64(events), free))
		return nil
	})
	return strings.Join(out, "; ")
}
