package dossier

import (
	storev1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/store/v1"
	bolt "go.etcd.io/bbolt"
)

// Reads done ahead of the writer. The writer is one goroutine and every event waits for
// it, so what can be read before it (an event id's index entry, a dossier's stored state)
// is read by the request's own goroutine, in a read transaction, while the writer commits
// earlier requests. The writer uses those reads only when nothing it wrote since could
// have changed them, and reads again otherwise:
//
//   - an index entry read while ids_upto was what it still is: the index changes only when
//     the keys held in memory are written (idindex.go), and that moves ids_upto;
//   - a state read in a transaction that began after sequence snap was committed, of a
//     dossier the writer has not changed after snap (touched).
type prefetched struct {
	snap    int64  // every event up to this sequence was committed before the read
	idsUpto int64  // ids_upto as the read saw it
	idVal   []byte // the event id's index entry then (nil: absent)
	state   *storev1.DossierState
	bad     bool // the stored state could not be read: the writer reads it itself
}

// prefetch reads, for the events of a job that passed their checks, what the writer will
// look up. A failure leaves them unread; the writer reads them then.
func (s *Service) prefetch(j *job) {
	system := j.system()
	snap := s.lastSeq.Load() // loaded before the read begins: the read sees at least this
	_ = s.db.View(func(tx *bolt.Tx) error {
		upto, ok := readIDsUpto(tx)
		if !ok {
			upto = -1 // never the writer's: not used
		}
		ids := tx.Bucket(bucketIDs)
		seen := map[string]bool{}
		for _, c := range j.items {
			if c == nil {
				continue
			}
			p := &prefetched{snap: snap, idsUpto: upto}
			if v := ids.Get(idKey(system, c.ev.EventId)); v != nil {
				p.idVal = append([]byte(nil), v...)
			}
			// Only the first event of a dossier in the job needs its state: the writer
			// keeps it for the rest of the transaction.
			if !seen[c.ev.DossierCode] {
				seen[c.ev.DossierCode] = true
				st, err := loadState(tx, c.ev.DossierCode)
				p.state, p.bad = st, err != nil
			} else {
				p.bad = true
			}
			c.pre = p
		}
		return nil
	})
}

// touched is, for the writer, which dossiers it changed after since: code -> the last
// sequence of the commit that changed it. It starts again when it grows large; reads begun
// before that are then not used.
type touched struct {
	since int64
	m     map[string]int64
}

const maxTouched = 100_000

// committed records the dossiers a commit ending at seq changed.
func (t *touched) committed(codes []string, seq int64) {
	for _, c := range codes {
		t.m[c] = seq
	}
	if len(t.m) > maxTouched {
		t.since, t.m = seq, map[string]int64{}
	}
}

// stateCurrent reports whether a state read ahead is still the dossier's state.
func (t *touched) stateCurrent(p *prefetched, code string) bool {
	return p != nil && !p.bad && p.snap >= t.since && t.m[code] <= p.snap
}
