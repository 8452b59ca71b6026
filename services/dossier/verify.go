package dossier

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"maps"
	"runtime"
	"slices"

	storev1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/store/v1"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"
)

// VerifyReport is what Verify found.
type VerifyReport struct {
	Events       int64    // events replayed
	Dossiers     int      // dossiers rebuilt
	Cells        int      // statistics cells compared
	Passes       int      // reads of the log (one per share of the dossiers)
	Largest      int      // most dossiers held at once (the largest share)
	Differences  []string // each difference found (at most maxDiffs)
	MoreDiffered int      // differences beyond those listed
}

const maxDiffs = 50

func (r *VerifyReport) diff(format string, args ...any) {
	if len(r.Differences) < maxDiffs {
		r.Differences = append(r.Differences, fmt.Sprintf(format, args...))
	} else {
		r.MoreDiffered++
	}
}

// OK reports whether nothing differed.
func (r *VerifyReport) OK() bool { return len(r.Differences) == 0 }

// VerifyOptions tune Verify.
type VerifyOptions struct {
	// Calendar is the working-day calendar the part runs with (nil: the default).
	Calendar *Calendar
	// MemoryMiB bounds the memory of the dossiers rebuilt at once (0:
	// DefaultVerifyMemoryMiB). Verify rebuilds every dossier from its events; when they
	// would not fit, it reads the log once per share of the dossiers (by a hash of the
	// code), rebuilding one share at a time.
	MemoryMiB int
	// Passes, when more than the memory asks for, is the number of shares (at most 64).
	Passes int
}

// DefaultVerifyMemoryMiB keeps verify within a small machine's memory: about 700,000
// dossiers a pass.
const DefaultVerifyMemoryMiB = 1536

// verifyBytesPerDossier is what one rebuilt dossier costs in memory, garbage collection's
// headroom and the process's own included (measured: 1,444 MiB of anonymous memory at
// most while 642,856 dossiers of 4–5 events were held).
const verifyBytesPerDossier = 2304

// Verify replays the event log of a dossier database from the start, with the same rules,
// and compares what it rebuilds with what is stored: every dossier's state, every
// statistics cell, every open dossier's live entry, every idempotency key and the feed's
// index by unit (feedindex.go).
func Verify(db *bolt.DB, cal *Calendar) (*VerifyReport, error) {
	return VerifyWith(db, VerifyOptions{Calendar: cal})
}

// VerifyWith is Verify with options.
func VerifyWith(db *bolt.DB, o VerifyOptions) (*VerifyReport, error) {
	if o.Calendar == nil {
		o.Calendar = DefaultCalendar()
	}
	if o.MemoryMiB <= 0 {
		o.MemoryMiB = DefaultVerifyMemoryMiB
	}
	rep := &VerifyReport{}
	err := db.View(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketEvents, bucketIDs, bucketDossiers, bucketCells, bucketOpen} {
			if tx.Bucket(b) == nil {
				return fmt.Errorf("bucket %s missing: not a dossier database", b)
			}
		}
		v := &verifier{tx: tx, rep: rep, cal: o.Calendar, cells: newDelta()}
		stored := tx.Bucket(bucketDossiers).Stats().KeyN
		rep.Passes = max(1, min(o.Passes, 64), int((int64(stored)*verifyBytesPerDossier+int64(o.MemoryMiB)<<20-1)/(int64(o.MemoryMiB)<<20)))
		for pass := range rep.Passes {
			if err := v.pass(pass); err != nil {
				return err
			}
			runtime.GC() // the share's dossiers are no longer needed
		}
		v.compareCells()
		if n := tx.Bucket(bucketOpen).Stats().KeyN; n != v.openWant {
			rep.diff("%d open entries stored, %d open dossiers", n, v.openWant)
		}
		if stored != rep.Dossiers {
			rep.diff("%d dossiers stored, %d rebuilt from events", stored, rep.Dossiers)
		}
		return nil
	})
	return rep, err
}

// verifier is one Verify run.
type verifier struct {
	tx       *bolt.Tx
	rep      *VerifyReport
	cal      *Calendar
	cells    *delta // what the dossiers rebuilt so far contribute
	openWant int    // open dossiers among them
}

// share is the pass in which a dossier is rebuilt.
func (v *verifier) share(code []byte) int {
	if v.rep.Passes == 1 {
		return 0
	}
	h := fnv.New32a()
	h.Write(code)
	return int(h.Sum32() % uint32(v.rep.Passes))
}

// pass reads the whole log and rebuilds the dossiers of share pass; the first pass also
// checks the log's order and the idempotency keys.
func (v *verifier) pass(pass int) error {
	tx, rep := v.tx, v.rep
	states := map[string]*storev1.DossierState{}
	ids := tx.Bucket(bucketIDs)
	// Keys of events after ids_upto may not be in the index yet: the part reads them
	// back from the log at start (idindex.go). Those already written must name their
	// own event, and no two events may share one.
	upto := int64(-1) // a file without ids_upto has every key in the index
	if tx.Bucket(bucketMeta) != nil {
		if u, ok := readIDsUpto(tx); ok {
			upto = u
		}
	}
	later := map[string]int64{}
	lastBy := map[string]string{} // system -> stored_at of its last event
	var indexed int64
	var prev int64
	first := pass == 0
	var feed *feedIndexCheck
	if first {
		feed = newFeedIndexCheck(tx)
	}
	err := tx.Bucket(bucketEvents).ForEach(func(k, val []byte) error {
		if !first {
			// Later passes skip, without decoding them, the events of other shares.
			if code, ok := storedEventDossier(val); ok && v.share(code) != pass {
				return nil
			}
		}
		se := &storev1.StoredEvent{}
		if err := proto.Unmarshal(val, se); err != nil {
			return fmt.Errorf("event %x: %w", k, err)
		}
		ev := se.GetEvent()
		seq := int64(beUint64(k))
		if first {
			rep.Events++
			if seq != prev+1 {
				rep.diff("event sequence jumps from %d to %d", prev, seq)
			}
			prev = seq
			if ev.GetSequence() != seq {
				rep.diff("event %d records sequence %d", seq, ev.GetSequence())
			}
			if sys := ev.GetSystem(); sys != "" {
				lastBy[sys] = ev.GetStoredAt()
			}
			feed.event(rep, seq, ev.GetUnitCode())
			key := idKey(ev.GetSystem(), ev.GetEventId())
			idv := ids.Get(key)
			good := len(idv) == 24 && int64(beUint64(idv[:8])) == seq && bytes.Equal(idv[8:], se.GetContentHash())
			switch {
			case upto < 0 || seq <= upto:
				indexed++
				if !good {
					rep.diff("event %d (%s): idempotency key missing or wrong", seq, ev.GetEventId())
				}
			case later[string(key)] != 0:
				rep.diff("event %d (%s): the same event id as event %d", seq, ev.GetEventId(), later[string(key)])
			case idv != nil && !good:
				rep.diff("event %d (%s): its event id is in the index for another event", seq, ev.GetEventId())
			default:
				later[string(key)] = seq
				if idv != nil {
					indexed++ // written already; the part reads it back from the log anyway
				}
			}
		}
		if v.share([]byte(ev.GetDossierCode())) != pass {
			return nil
		}
		at, ok := parseTime(ev.GetOccurredAt())
		if !ok {
			rep.diff("event %d: occurred_at %q unreadable", seq, ev.GetOccurredAt())
			return nil
		}
		var due int64
		if ev.GetDueAt() != "" {
			if d, ok := parseDue(ev.GetDueAt()); ok {
				due = d.UnixMilli()
			}
		}
		st := states[ev.GetDossierCode()]
		if st == nil {
			st = &storev1.DossierState{}
			states[ev.GetDossierCode()] = st
		}
		applyEvent(st, ev, at.UnixMilli(), due, seq, se.GetProcessingDays(), v.cal)
		return nil
	})
	if err != nil {
		return err
	}
	if first {
		if n := ids.Stats().KeyN; int64(n) != indexed {
			rep.diff("%d idempotency keys in the index for %d events whose key should be there", n, indexed)
		}
		v.compareSystems(lastBy)
		feed.done(rep)
	}
	rep.Dossiers += len(states)
	rep.Largest = max(rep.Largest, len(states))
	return v.compareShare(pass, states)
}

// compareSystems compares each system's last stored event (laststored.go) with the log. A
// file written before that bucket existed has none yet: the part builds it at its next start.
func (v *verifier) compareSystems(want map[string]string) {
	if v.tx.Bucket(bucketSystems) == nil {
		return
	}
	got := readSystems(v.tx)
	for _, sys := range slices.Sorted(maps.Keys(got)) {
		if w, ok := want[sys]; !ok {
			v.rep.diff("system %s: last stored event at %s recorded, but the log has none of it", sys, got[sys])
		} else if got[sys] != w {
			v.rep.diff("system %s: last stored event recorded at %s, the log says %s", sys, got[sys], w)
		}
	}
	for _, sys := range slices.Sorted(maps.Keys(want)) {
		if _, ok := got[sys]; !ok {
			v.rep.diff("system %s: last stored event (%s) not recorded", sys, want[sys])
		}
	}
}

// compareShare compares the dossiers of share pass, rebuilt in states, with the stored
// ones and their open entries, and adds what they contribute to the statistics.
func (v *verifier) compareShare(pass int, states map[string]*storev1.DossierState) error {
	tx, rep := v.tx, v.rep
	err := tx.Bucket(bucketDossiers).ForEach(func(k, val []byte) error {
		if v.share(k) != pass {
			return nil
		}
		want := states[string(k)]
		if want == nil {
			rep.diff("dossier %s is stored but has no events", k)
			return nil
		}
		got := &storev1.DossierState{}
		if err := proto.Unmarshal(val, got); err != nil {
			return fmt.Errorf("dossier %s: %w", k, err)
		}
		if !proto.Equal(got, want) {
			rep.diff("dossier %s: stored state differs from the replayed events", k)
		}
		return nil
	})
	if err != nil {
		return err
	}
	open := tx.Bucket(bucketOpen)
	for code, st := range states {
		v.cells.change(nil, st)
		e, ok := liveOf(st)
		if !ok {
			continue
		}
		v.openWant++
		if got, err := decodeLive(open.Get([]byte(code))); err != nil || normalizeLive(got) != e {
			rep.diff("open dossier %s: live entry missing or wrong", code)
		}
	}
	return nil
}

// compareCells compares the stored statistics cells and commune series (communes.go)
// with what every dossier contributes. A file of an earlier version, not yet opened by
// this one, holds the commune in its cells' keys: its cells are read as the part converts
// them.
func (v *verifier) compareCells() {
	rep := v.rep
	cb := v.tx.Bucket(bucketCommuneCells)
	var communes map[cellKey]*counters
	if cb == nil {
		communes = map[cellKey]*counters{}
	}
	cells, err := foldCells(v.tx.Bucket(bucketCells), communes)
	if err != nil {
		rep.diff("statistics cells unreadable: %v", err)
		return
	}
	rep.Cells += v.tx.Bucket(bucketCells).Stats().KeyN
	compareSeries(rep, "statistics cell", cells, v.cells.cells)
	if cb != nil {
		communes = map[cellKey]*counters{}
		if err := eachCell(cb, func(k cellKey, c *counters) { rep.Cells++; communes[k] = c }); err != nil {
			rep.diff("commune statistics unreadable: %v", err)
			return
		}
	}
	compareSeries(rep, "commune statistics", communes, v.cells.communes)
}

// compareSeries reports the differences between stored and recomputed counters.
func compareSeries(rep *VerifyReport, what string, stored, want map[cellKey]*counters) {
	for k, got := range stored {
		w := want[k]
		switch {
		case w == nil || w.zero():
			if !got.zero() {
				rep.diff("%s %s is stored but nothing contributes to it", what, describeKey(k))
			}
		case *got != *w:
			rep.diff("%s %s: stored %v, recomputed %v", what, describeKey(k), *got, *w)
		}
	}
	for k, w := range want {
		if stored[k] == nil && !w.zero() {
			rep.diff("%s %s is missing", what, describeKey(k))
		}
	}
}

func describeKey(ck cellKey) string {
	if ck.commune != "" || (ck.agency == "" && ck.procedure == "") {
		return fmt.Sprintf("%s/%s/commune %q", monthString(ck.month), ck.unit, ck.commune)
	}
	return fmt.Sprintf("%s/%s/%s/%s/%s", monthString(ck.month), channelName(ck.channel), ck.unit, ck.agency, ck.procedure)
}
