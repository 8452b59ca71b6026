package dossier_test

import (
	"encoding/binary"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	"github.com/lienthong/lienthong/services/dossier"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// openFlushing opens the part with idempotency keys written to the index at 2*flush keys
// held, or at flush after a pause of idle.
func openFlushing(t *testing.T, path string, flush int, idle time.Duration) (*bolt.DB, *dossier.Service) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := dossier.Open(db, dossier.Options{Catalog: dossier.NewFakeCatalog(), Calendar: dossier.DefaultCalendar(),
		Now: func() time.Time { return simNow }, IDFlushEvents: flush, IDPause: idle})
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	return db, svc
}

func idsUpto(t *testing.T, db *bolt.DB) (upto int64, keys int) {
	t.Helper()
	if err := db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket([]byte("meta")).Get([]byte("ids_upto"))
		if len(v) != 8 {
			return fmt.Errorf("ids_upto is %x", v)
		}
		upto = int64(binary.BigEndian.Uint64(v))
		keys = tx.Bucket([]byte("event_ids")).Stats().KeyN
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return upto, keys
}

// resend sends events again as they were (each must be a duplicate of its first sequence)
// and with other content under the same id (each must be refused ALREADY_EXISTS).
func resend(t *testing.T, svc *dossier.Service, events []*dossierv1.DossierEvent, seqs map[string]int64) {
	t.Helper()
	for _, ev := range events {
		r, err := svc.CreateDossierEvent(admin, &dossierv1.CreateDossierEventRequest{Event: ev})
		if err != nil || !r.GetDuplicate() || r.GetSequence() != seqs[ev.GetEventId()] {
			t.Fatalf("%s sent again: %v %v, want a duplicate of %d", ev.GetEventId(), r, err, seqs[ev.GetEventId()])
		}
		other := proto.Clone(ev).(*dossierv1.DossierEvent)
		other.Note = "other content"
		_, err = svc.CreateDossierEvent(admin, &dossierv1.CreateDossierEventRequest{Event: other})
		if status.Code(err) != codes.AlreadyExists {
			t.Fatalf("%s with other content: %v, want ALREADY_EXISTS", ev.GetEventId(), err)
		}
	}
}

// TestIdempotencyKeysWrittenInAPause: keys held, fewer than twice the group, are written a
// chunk at a time (16 keys for a group of 50) whenever the writer has had nothing to do
// for the pause.
func TestIdempotencyKeysWrittenInAPause(t *testing.T) {
	dir := t.TempDir()
	db, svc := openFlushing(t, filepath.Join(dir, "dossier.db"), 50, 50*time.Millisecond)
	defer db.Close()
	defer svc.Close()
	events := simulated()[:60]
	resp, err := svc.BatchCreateDossierEvents(admin, &dossierv1.BatchCreateDossierEventsRequest{Events: events})
	if err != nil {
		t.Fatal(err)
	}
	seqs := map[string]int64{}
	for i, r := range resp.GetResults() {
		if r.GetError() != nil {
			t.Fatalf("%s: %v", events[i].GetEventId(), r.GetError())
		}
		seqs[events[i].GetEventId()] = r.GetSequence()
	}
	crashed := filepath.Join(dir, "crashed.db")
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	partial := false
	for {
		upto, keys := idsUpto(t, db)
		if upto == 0 && keys > 0 && keys < 60 && !partial {
			partial = true // a chunk written, the group not done: ids_upto still behind
			// What a crash would leave now.
			if err := db.View(func(tx *bolt.Tx) error { return tx.CopyFile(crashed, 0o600) }); err != nil {
				t.Fatal(err)
			}
		}
		if upto == 60 && keys == 60 {
			if !partial {
				t.Fatal("the group was never seen part written")
			}
			break
		}
		select {
		case <-tick.C:
		case <-deadline:
			upto, keys := idsUpto(t, db)
			t.Fatalf("after a pause: ids_upto %d, %d keys; want 60, 60", upto, keys)
		}
	}
	// A start from the file as it was part way: keys written and not, all answer.
	cdb, csvc := openFlushing(t, crashed, 50, time.Hour)
	defer cdb.Close()
	if rep, err := dossier.Verify(cdb, nil); err != nil || !rep.OK() {
		t.Errorf("Verify of the file part way: %+v %v", rep, err)
	}
	resend(t, csvc, events, seqs)
	csvc.Close()
}

// TestIdempotencyKeysAcrossFlushes: the keys held in memory and those written to the index
// answer alike; a copy taken between two writes of the index (what a crash leaves) reads
// the later keys back from the log; a clean stop writes them all; Verify checks both sides.
func TestIdempotencyKeysAcrossFlushes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "dossier.db")
	const flush = 500 // written at 1,000 keys held; no pause in this test
	db, svc := openFlushing(t, path, flush, time.Hour)
	events := simulated()
	seqs := map[string]int64{}
	for start := 0; start < len(events); start += 40 {
		chunk := events[start:min(start+40, len(events))]
		resp, err := svc.BatchCreateDossierEvents(admin, &dossierv1.BatchCreateDossierEventsRequest{Events: chunk})
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range resp.GetResults() {
			if r.GetError() != nil || r.GetDuplicate() {
				t.Fatalf("%s: %v", chunk[i].GetEventId(), r)
			}
			seqs[chunk[i].GetEventId()] = r.GetSequence()
		}
		// Keys of this batch (in memory) and of the first batches (in the index by now).
		resend(t, svc, []*dossierv1.DossierEvent{chunk[0], chunk[len(chunk)-1], events[start/2]}, seqs)
	}
	last := int64(len(events))
	upto, keys := idsUpto(t, db)
	if upto >= last || upto < last-2*flush || int64(keys) != upto {
		t.Fatalf("ids_upto %d with %d keys indexed, %d events: want the index behind the log by less than %d", upto, keys, last, 2*flush)
	}
	if rep, err := dossier.Verify(db, nil); err != nil || !rep.OK() || rep.Events != last {
		t.Fatalf("Verify with keys in memory: %+v %v", rep, err)
	}

	// What a crash leaves: the file as of the last commit, keys after ids_upto only in the log.
	crashed := filepath.Join(dir, "crashed.db")
	if err := db.View(func(tx *bolt.Tx) error { return tx.CopyFile(crashed, 0o600) }); err != nil {
		t.Fatal(err)
	}
	cdb, csvc := openFlushing(t, crashed, flush, time.Hour)
	var later []*dossierv1.DossierEvent
	for _, ev := range events {
		if seqs[ev.GetEventId()] > upto {
			later = append(later, ev)
		}
	}
	if len(later) == 0 {
		t.Fatal("no event after ids_upto")
	}
	resend(t, csvc, later, seqs)
	csvc.Close()
	if u, k := idsUpto(t, cdb); u != last || int64(k) != last {
		t.Errorf("after a clean stop: ids_upto %d, %d keys; want %d", u, k, last)
	}
	if rep, err := dossier.Verify(cdb, nil); err != nil || !rep.OK() {
		t.Errorf("Verify after the restart: %+v %v", rep, err)
	}
	cdb.Close()

	t.Run("verify names a missing key", func(t *testing.T) {
		svc.Close()
		first := events[0]
		key := append(append([]byte("000.00.00.G22/sim"), 0), first.GetEventId()...)
		var orig []byte
		if err := db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket([]byte("event_ids"))
			orig = append([]byte(nil), b.Get(key)...)
			return b.Delete(key)
		}); err != nil || len(orig) != 24 {
			t.Fatalf("delete key: %v (value %x)", err, orig)
		}
		wantDifference(t, db, fmt.Sprintf("event 1 (%s): idempotency key missing or wrong", first.GetEventId()))
		// A key of an event after ids_upto that names another event.
		wrong := append(binary.BigEndian.AppendUint64(nil, 2), orig[8:]...)
		if err := db.Update(func(tx *bolt.Tx) error {
			if err := tx.Bucket([]byte("event_ids")).Put(key, wrong); err != nil {
				return err
			}
			return tx.Bucket([]byte("meta")).Put([]byte("ids_upto"), binary.BigEndian.AppendUint64(nil, 0))
		}); err != nil {
			t.Fatal(err)
		}
		wantDifference(t, db, fmt.Sprintf("event 1 (%s): its event id is in the index for another event", first.GetEventId()))
		if err := db.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("event_ids")).Put(key, orig) }); err != nil {
			t.Fatal(err)
		}
		db.Close()
		// ids_upto far behind the log (as a version that kept none leaves it): the start
		// writes the keys in groups instead of holding them all.
		const small = 100
		db, svc := openFlushing(t, path, small, time.Hour)
		defer db.Close()
		if u, k := idsUpto(t, db); u < last-4*small || int64(k) != last {
			t.Errorf("after a start %d events behind: ids_upto %d, %d keys; want at least %d, %d keys", last, u, k, last-4*small, last)
		}
		resend(t, svc, events[:3], seqs)
		svc.Close()
		if rep, err := dossier.Verify(db, nil); err != nil || !rep.OK() {
			t.Errorf("Verify: %+v %v", rep, err)
		}
	})
}
