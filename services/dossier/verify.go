package dossier

import (
	"bytes"
	"fmt"

	storev1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/store/v1"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"
)

// VerifyReport is what Verify found.
type VerifyReport struct {
	Events       int64    // events replayed
	Dossiers     int      // dossiers rebuilt
	Cells        int      // statistics cells compared
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

// Verify replays the event log of a dossier database from the start, with the same rules,
// and compares what it rebuilds with what is stored: every dossier's state, every
// statistics cell, every open dossier's live entry and every idempotency key.
func Verify(db *bolt.DB, cal *Calendar) (*VerifyReport, error) {
	if cal == nil {
		cal = DefaultCalendar()
	}
	rep := &VerifyReport{}
	err := db.View(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketEvents, bucketIDs, bucketDossiers, bucketCells, bucketOpen} {
			if tx.Bucket(b) == nil {
				return fmt.Errorf("bucket %s missing: not a dossier database", b)
			}
		}
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
		var indexed int64
		var prev int64
		err := tx.Bucket(bucketEvents).ForEach(func(k, v []byte) error {
			se := &storev1.StoredEvent{}
			if err := proto.Unmarshal(v, se); err != nil {
				return fmt.Errorf("event %x: %w", k, err)
			}
			ev := se.GetEvent()
			seq := int64(beUint64(k))
			rep.Events++
			if seq != prev+1 {
				rep.diff("event sequence jumps from %d to %d", prev, seq)
			}
			prev = seq
			if ev.GetSequence() != seq {
				rep.diff("event %d records sequence %d", seq, ev.GetSequence())
			}
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
			applyEvent(st, ev, at.UnixMilli(), due, seq, se.GetProcessingDays(), cal)
			return nil
		})
		if err != nil {
			return err
		}
		if n := ids.Stats().KeyN; int64(n) != indexed {
			rep.diff("%d idempotency keys in the index for %d events whose key should be there", n, indexed)
		}
		rep.Dossiers = len(states)
		return compareStored(tx, states, rep)
	})
	return rep, err
}

func compareStored(tx *bolt.Tx, states map[string]*storev1.DossierState, rep *VerifyReport) error {
	stored := 0
	err := tx.Bucket(bucketDossiers).ForEach(func(k, v []byte) error {
		stored++
		want := states[string(k)]
		if want == nil {
			rep.diff("dossier %s is stored but has no events", k)
			return nil
		}
		got := &storev1.DossierState{}
		if err := proto.Unmarshal(v, got); err != nil {
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
	if stored != len(states) {
		rep.diff("%d dossiers stored, %d rebuilt from events", stored, len(states))
	}
	// Statistics.
	d := newDelta()
	for _, st := range states {
		d.change(nil, st)
	}
	want := map[string]counters{}
	for k, c := range d.cells {
		if !c.zero() {
			want[string(encodeCellKey(k))] = *c
		}
	}
	err = tx.Bucket(bucketCells).ForEach(func(k, v []byte) error {
		rep.Cells++
		got, err := decodeCounters(v)
		if err != nil {
			return fmt.Errorf("cell %x: %w", k, err)
		}
		w, ok := want[string(k)]
		if !ok {
			rep.diff("statistics cell %s is stored but nothing contributes to it", describeCell(k))
			return nil
		}
		if got != w {
			rep.diff("statistics cell %s: stored %v, recomputed %v", describeCell(k), got, w)
		}
		delete(want, string(k))
		return nil
	})
	if err != nil {
		return err
	}
	for k := range want {
		rep.diff("statistics cell %s is missing", describeCell([]byte(k)))
	}
	// Open dossiers.
	open := tx.Bucket(bucketOpen)
	openStored := open.Stats().KeyN
	openWant := 0
	for code, st := range states {
		e, ok := liveOf(st)
		if !ok {
			continue
		}
		openWant++
		if got, err := decodeLive(open.Get([]byte(code))); err != nil || normalizeLive(got) != e {
			rep.diff("open dossier %s: live entry missing or wrong", code)
		}
	}
	if openStored != openWant {
		rep.diff("%d open entries stored, %d open dossiers", openStored, openWant)
	}
	return nil
}

func describeCell(k []byte) string {
	ck, err := decodeCellKey(k)
	if err != nil {
		return fmt.Sprintf("%x", k)
	}
	return fmt.Sprintf("%s/%s/%s/%s/%s", monthString(ck.month), channelName(ck.channel), ck.unit, ck.agency, ck.procedure)
}
