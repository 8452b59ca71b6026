package dossier

import (
	"bytes"
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
// the bucket in key order:
//
//   - once flushAt keys are held, they are sealed as a group, sorted, and the writer writes
//     the group a chunk at a time whenever it has had nothing to do for a moment (a pause
//     of Options.IDPause); the last chunk moves ids_upto;
//   - in the transaction that brings the keys held to twice flushAt (a load so steady that
//     it leaves no pause), all of them are written at once: with 25 M events stored that
//     holds the writer for up to about two seconds;
//   - and all of them when the part stops.
//
// Why: the keys are chosen by the senders, so they fall on pages all over the index. Put
// in the transaction that stores their event, each event rewrote a page of the index of its
// own, and that was 40% of the writer's work. Written from a large sorted group, the keys
// of one dossier, and of the dossiers an agency filed on one day, share their pages, and a
// chunk of the group covers one stretch of the index.
//
// Nothing is lost on a crash: every stored event carries its system, event id and content
// hash, and at start the keys of the events after ids_upto are read back from the log into
// memory (fewer than twice flushAt events). An event is never acknowledged before the
// transaction holding it is on disk, so the log is the record; the index is a copy kept
// for lookups.
type idIndex struct {
	flushAt int
	upto    int64 // every event with a sequence up to this has its key in the bucket
	mem     map[string][]byte
	sealed  []idPair // the group being written, sorted by key; sealed[:pos] are written
	pos     int
	sealSeq int64 // the last event of the sealed group
}

type idPair struct{ key, val []byte }

// idFill is how full bbolt fills the index's pages when it splits them: keys are put in
// large ascending runs, so pages filled to 90% instead of half stay so until keys land
// between theirs (in process: 164 -> 102 bytes a key, 84% of page bytes used).
const idFill = 0.9

var metaIDsUpto = []byte("ids_upto") // 8 bytes, big-endian

// readIDsUpto is the meta key ids_upto of a transaction's view; ok is false on a file
// written before the index was kept this way (every key is then in the bucket).
func readIDsUpto(tx *bolt.Tx) (upto int64, ok bool) {
	if v := tx.Bucket(bucketMeta).Get(metaIDsUpto); len(v) == 8 {
		return int64(beUint64(v)), true
	}
	return 0, false
}

func newIDIndex(flushAt int) *idIndex {
	return &idIndex{flushAt: flushAt, mem: map[string][]byte{}}
}

// load reads ids_upto (a file written before the index was kept this way has every key in
// the bucket, up to lastSeq, its last event) and the keys of the events after it.
func (x *idIndex) load(tx *bolt.Tx, lastSeq int64) error {
	events := tx.Bucket(bucketEvents)
	var ok bool
	if x.upto, ok = readIDsUpto(tx); !ok {
		x.upto = lastSeq
		if err := tx.Bucket(bucketMeta).Put(metaIDsUpto, seqKey(x.upto)); err != nil {
			return err
		}
	}
	x.mem = map[string][]byte{}
	c := events.Cursor()
	var last int64
	for k, v := c.Seek(seqKey(x.upto + 1)); k != nil; k, v = c.Next() {
		key, val, err := idEntry(k, v)
		if err != nil {
			return err
		}
		x.mem[string(key)] = val
		last = int64(beUint64(k))
		// Far behind (a file last written by a version that kept no ids_upto): written
		// here, so that memory stays bounded. Puts in the transaction invalidate the
		// cursor, so it is sought again.
		if len(x.mem) >= 4*x.flushAt {
			if err := x.writeAll(tx, nil, last); err != nil {
				return err
			}
			x.wroteAll(last)
			c = events.Cursor()
			if k, _ = c.Seek(seqKey(last)); k == nil {
				break
			}
		}
	}
	x.maybeSeal(last)
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

// get finds a key among those of this transaction, those held in memory, then the bucket,
// or what a read ahead of the writer found in the bucket when that is still current: keys
// written from the sealed group stay held until the group is done, and that moves ids_upto.
func (x *idIndex) get(b *bolt.Bucket, pending pendingIDs, key []byte, pre *prefetched) []byte {
	if v := pending[string(key)]; v != nil {
		return v
	}
	if v := x.mem[string(key)]; v != nil {
		return v
	}
	if i, ok := slices.BinarySearchFunc(x.sealed, idPair{key: key}, byKey); ok {
		return x.sealed[i].val
	}
	if pre != nil && pre.idsUpto == x.upto {
		return pre.idVal
	}
	return b.Get(key)
}

func byKey(a, b idPair) int { return bytes.Compare(a.key, b.key) }

// sortedPairs is the entries of maps, sorted by key, after those of first (a key is in
// one place only: an event id is stored once).
func sortedPairs(first []idPair, maps ...map[string][]byte) []idPair {
	n := len(first)
	for _, m := range maps {
		n += len(m)
	}
	all := append(make([]idPair, 0, n), first...)
	for _, m := range maps {
		for k, v := range m {
			all = append(all, idPair{[]byte(k), v})
		}
	}
	slices.SortFunc(all, byKey)
	return all
}

// put writes entries, in key order, into the bucket.
func put(tx *bolt.Tx, entries []idPair) error {
	b := tx.Bucket(bucketIDs)
	b.FillPercent = idFill
	for _, p := range entries {
		if err := b.Put(p.key, p.val); err != nil {
			return err
		}
	}
	return nil
}

// held is how many keys are held in memory and not yet written.
func (x *idIndex) held() int { return len(x.mem) + len(x.sealed) - x.pos }

// due reports whether the keys held and those of a transaction must all be written in it.
func (x *idIndex) due(pending pendingIDs) bool {
	return x.held()+len(pending) >= 2*x.flushAt
}

// writeAll puts every key held, and those of a transaction, into the bucket in one pass in
// key order, and records that every event up to seq is there. Memory is cleared by wroteAll
// once the transaction is committed. (One ascending pass matters: bbolt splits its nodes
// only at the commit, so keys put out of order into one node move its entries each time.)
func (x *idIndex) writeAll(tx *bolt.Tx, pending pendingIDs, seq int64) error {
	if err := put(tx, sortedPairs(x.sealed[x.pos:], x.mem, pending)); err != nil {
		return err
	}
	return tx.Bucket(bucketMeta).Put(metaIDsUpto, seqKey(seq))
}

func (x *idIndex) wroteAll(seq int64) {
	x.upto, x.mem, x.sealed, x.pos = seq, map[string][]byte{}, nil, 0
}

// committed is told, after a transaction is on disk, the keys it added (its last event is
// seq) or that it wrote them all.
func (x *idIndex) committed(pending pendingIDs, all bool, seq int64) {
	if all {
		x.wroteAll(seq)
		return
	}
	maps.Copy(x.mem, pending)
	x.maybeSeal(seq)
}

// maybeSeal makes the keys in memory, those of the events after the last group up to seq,
// the next group, once there are enough and the last group is written.
func (x *idIndex) maybeSeal(seq int64) {
	if x.sealed != nil || len(x.mem) < x.flushAt {
		return
	}
	x.sealed = sortedPairs(nil, x.mem)
	x.pos, x.sealSeq = 0, seq
	x.mem = map[string][]byte{}
}

// chunkKeys is how many keys of the sealed group one pause writes: about 256 pages of a
// large index, a few milliseconds, about what a commit of 64 single events costs, so that
// a request arriving during it waits little longer than for a commit.
func (x *idIndex) chunkKeys() int { return min(256, max(x.flushAt/8, 16)) }

// writeChunk writes the next chunk of the sealed group; the last also moves ids_upto.
func (x *idIndex) writeChunk(tx *bolt.Tx) (n int, err error) {
	n = min(x.chunkKeys(), len(x.sealed)-x.pos)
	if err := put(tx, x.sealed[x.pos:x.pos+n]); err != nil {
		return 0, err
	}
	if x.pos+n == len(x.sealed) {
		err = tx.Bucket(bucketMeta).Put(metaIDsUpto, seqKey(x.sealSeq))
	}
	return n, err
}

// wroteChunk is told that a chunk of n keys is on disk; seq is the last event stored.
func (x *idIndex) wroteChunk(n int, seq int64) {
	x.pos += n
	if x.pos == len(x.sealed) {
		x.upto, x.sealed, x.pos = x.sealSeq, nil, 0
		x.maybeSeal(seq)
	}
}

// pendingIDs are the idempotency keys a transaction adds.
type pendingIDs map[string][]byte

func idKey(system, eventID string) []byte {
	k := make([]byte, 0, len(system)+1+len(eventID))
	k = append(k, system...)
	k = append(k, 0)
	return append(k, eventID...)
}
