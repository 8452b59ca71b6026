package dossier

import (
	"encoding/binary"
	"fmt"
	"maps"
	"slices"

	storev1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/store/v1"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"
)

// The idempotency index (system + event id -> sequence + content hash) is kept in two
// places. The event_ids bucket holds the key of every event up to the sequence in the meta
// key ids_upto; the keys of later events are held in memory by the writer and written into
// the bucket in one pass, in key order: once there are flushAt of them and the writer has
// had nothing to do for a moment (idleFlush), or in the transaction that brings them to
// twice that whatever the load (and when the part stops). A write of 100,000 keys into an
// index of 10 M takes the writer about two seconds: under a steady load every request
// in flight then waits for it; with the bursts of real one-stop traffic it falls in a pause.
//
// Why: the keys are chosen by the senders, so they fall on pages all over the index. Put
// in the transaction that stores their event, each event rewrote a page of the index of its
// own, and that was 40% of the writer's work. Written in large sorted groups, the keys of
// one dossier, and of the dossiers an agency filed on one day, share their pages.
//
// Nothing is lost on a crash: every stored event carries its system, event id and content
// hash, and at start the keys of the events after ids_upto are read back from the log into
// memory (fewer than twice flushAt events). An event is never acknowledged before the transaction
// holding it is on disk, so the log is the record; the index is a copy kept for lookups.
type idIndex struct {
	flushAt int
	upto    int64 // every event with a sequence up to this has its key in the bucket
	mem     map[string][]byte
}

var metaIDsUpto = []byte("ids_upto") // 8 bytes, big-endian

func newIDIndex(flushAt int) *idIndex {
	return &idIndex{flushAt: flushAt, mem: map[string][]byte{}}
}

// load reads ids_upto (a file written before the index was kept this way has every key in
// the bucket) and the keys of the events after it.
func (x *idIndex) load(tx *bolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	events := tx.Bucket(bucketEvents)
	if v := meta.Get(metaIDsUpto); len(v) == 8 {
		x.upto = int64(binary.BigEndian.Uint64(v))
	} else {
		x.upto = 0
		if k, _ := events.Cursor().Last(); k != nil {
			x.upto = int64(binary.BigEndian.Uint64(k))
		}
		if err := meta.Put(metaIDsUpto, seqKey(x.upto)); err != nil {
			return err
		}
	}
	x.mem = map[string][]byte{}
	none := &pendingIDs{m: map[string][]byte{}}
	c := events.Cursor()
	for k, v := c.Seek(seqKey(x.upto + 1)); k != nil; k, v = c.Next() {
		key, val, err := idEntry(k, v)
		if err != nil {
			return err
		}
		x.mem[string(key)] = val
		// Far behind (a file last written by a version that kept no ids_upto): written
		// here, so that memory stays bounded. Puts in the transaction invalidate the
		// cursor, so it is sought again.
		if len(x.mem) >= 4*x.flushAt {
			last := int64(beUint64(k))
			if err := x.write(tx, none, last); err != nil {
				return err
			}
			x.committed(none, true, last)
			c = events.Cursor()
			if k, _ = c.Seek(seqKey(last)); k == nil {
				break
			}
		}
	}
	return nil
}

// idEntry is the index entry of a stored event.
func idEntry(k, v []byte) (key, val []byte, err error) {
	se := &storev1.StoredEvent{}
	if err := proto.Unmarshal(v, se); err != nil {
		return nil, nil, fmt.Errorf("event %x: %w", k, err)
	}
	ev := se.GetEvent()
	return idKey(ev.GetSystem(), ev.GetEventId()), idValue(int64(beUint64(k)), se.GetContentHash()), nil
}

func idValue(seq int64, hash []byte) []byte {
	v := make([]byte, 24)
	binary.BigEndian.PutUint64(v, uint64(seq))
	copy(v[8:], hash)
	return v
}

// get finds a key among those of this transaction, those in memory, then the bucket, or
// what a read ahead of the writer found in the bucket when the bucket has not changed since.
func (x *idIndex) get(b *bolt.Bucket, pending *pendingIDs, key []byte, pre *prefetched) []byte {
	if v := pending.m[string(key)]; v != nil {
		return v
	}
	if v := x.mem[string(key)]; v != nil {
		return v
	}
	if pre != nil && pre.idsUpto == x.upto {
		return pre.idVal
	}
	return b.Get(key)
}

// due reports whether the keys in memory and those of a transaction must be written now.
func (x *idIndex) due(pending *pendingIDs) bool {
	return len(x.mem)+len(pending.m) >= 2*x.flushAt
}

// idle reports whether the keys in memory are worth writing in a pause.
func (x *idIndex) idle() bool { return len(x.mem) >= x.flushAt }

// write puts the keys in memory and those of a transaction into the bucket, in key order,
// and records that every event up to seq is there. The memory is left as it is until the
// transaction is committed (committed).
func (x *idIndex) write(tx *bolt.Tx, pending *pendingIDs, seq int64) error {
	b := tx.Bucket(bucketIDs)
	keys := slices.AppendSeq(slices.Collect(maps.Keys(x.mem)), maps.Keys(pending.m))
	slices.Sort(keys)
	for _, k := range keys {
		v := pending.m[k]
		if v == nil {
			v = x.mem[k]
		}
		if err := b.Put([]byte(k), v); err != nil {
			return err
		}
	}
	return tx.Bucket(bucketMeta).Put(metaIDsUpto, seqKey(seq))
}

// committed is told, after a transaction is on disk, what it did: wrote the group up to
// seq, or added the keys pending.
func (x *idIndex) committed(pending *pendingIDs, wrote bool, seq int64) {
	if wrote {
		x.mem = map[string][]byte{}
		x.upto = seq
		return
	}
	maps.Copy(x.mem, pending.m)
}

// pendingIDs are the event ids a transaction adds.
type pendingIDs struct {
	m map[string][]byte
}

func (p *pendingIDs) add(key, v []byte) { p.m[string(key)] = v }

func idKey(system, eventID string) []byte {
	k := make([]byte, 0, len(system)+1+len(eventID))
	k = append(k, system...)
	k = append(k, 0)
	return append(k, eventID...)
}
