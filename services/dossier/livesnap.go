package dossier

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"math"
	"os"
	"slices"

	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
)

// At start the part rebuilds the live index (the open dossiers behind "overdue now") from
// the open-dossier bucket: one entry per open dossier, on pages scattered in the file. With
// 1.56 M open dossiers that walk is most of a start, and after a reboot (the file out of
// the page cache) it is seconds of random reads.
//
// So when the part stops cleanly it also writes the live index's entries (without dossier
// codes, made from memory) to a file next to the database (dossier.db.live, written
// through a synced temporary file and a rename), read whole at the next start. The file
// is only a copy: it names the last stored event it covers (sequence and a hash of its stored bytes), and a start uses it only when that is
// still the last event of the database, the file is whole (CRC-32C) and of this format;
// otherwise (a crash, a backup restored, a damaged file) the bucket is walked as before.
// The open entries change only with stored events, so "same last event" means "same
// entries".
//
// Layout: magic, then the last sequence (8 bytes, big-endian) and the SHA-256 of that
// event's stored bytes (32), then the entries' distinct cell keys as a dictionary (count,
// then length-prefixed keys), then the entries (count, then per entry the key's index,
// the kind and the overdue instant, varints), then the CRC-32C of all before it.

const liveSnapMagic = "lienthong dossier live 1\n"

var errLiveSnap = errors.New("live snapshot unusable")

// liveSnapPath is where the snapshot of db lives.
func liveSnapPath(db *bolt.DB) string { return db.Path() + ".live" }

// lastEvent names the last stored event: its sequence and the hash of its stored bytes.
func lastEvent(tx *bolt.Tx) (int64, [32]byte) {
	k, v := tx.Bucket(bucketEvents).Cursor().Last()
	if k == nil {
		return 0, [32]byte{}
	}
	return int64(binary.BigEndian.Uint64(k)), sha256.Sum256(v)
}

// writeLiveSnapshot writes the live index's entries to the snapshot file, taken from
// memory: the part stops after its writer, so nothing changes them any more, and a stop
// reads nothing from the disk. It returns how many entries it wrote.
func writeLiveSnapshot(db *bolt.DB, st *Stats) (int, error) {
	var seq int64
	var sum [32]byte
	if err := db.View(func(tx *bolt.Tx) error {
		seq, sum = lastEvent(tx)
		return nil
	}); err != nil {
		return 0, err
	}
	b := append([]byte(nil), liveSnapMagic...)
	b = binary.BigEndian.AppendUint64(b, uint64(seq))
	b = append(b, sum[:]...)
	b, n, err := st.appendLive(b)
	if err != nil {
		return 0, err
	}
	b = binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
	return n, platform.WriteFileAtomic(liveSnapPath(db), b, 0o600)
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// appendLive appends the live index as snapshot entries: the keys of the sets of
// dimensions with open dossiers, then per open dossier its key's index, kind and overdue
// instant. The index keeps counts and due instants, not dossiers, so the entries are made
// back from them: per set, its paused (of each kind: qd766.go), waiting and not yet
// accepted dossiers, one running dossier per due instant in the heaps (those cancelled
// left out), and the rest running and never overdue. The commune series keep their own
// (communes.go): each entry of a set gets a commune of the set's unit that has an entry
// of the same kind and instant, so that loading the entries gives the same figures and
// instants to both, though not always the dossier's own pairing of set and commune.
func (s *Stats) appendLive(b []byte) ([]byte, int, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	type pairKey struct {
		unit string
		kind int32
		at   int64
	}
	pool := map[pairKey]map[string]int64{}
	if _, err := liveRuns(&s.comLive, 0, func(cid, kind int32, at, n int64) error {
		k := s.communes.keys[cid]
		pk := pairKey{k.unit, kind, at}
		if pool[pk] == nil {
			pool[pk] = map[string]int64{}
		}
		pool[pk][k.commune] += n
		return nil
	}); err != nil {
		return nil, 0, fmt.Errorf("commune series: %w", err)
	}
	type run struct {
		key  int
		kind int32
		at   int64
		n    int64
	}
	var runs []run
	dict := map[cellKey]int{}
	var keys []cellKey
	base := s.base().keys
	total, err := liveRuns(&s.liveIdx, len(s.rollups)-1, func(id, kind int32, at, n int64) error {
		k := base[id]
		p := pool[pairKey{k.unit, kind, at}]
		for n > 0 {
			if len(p) == 0 {
				return fmt.Errorf("set %d has more open dossiers of kind %d due %d than the communes of its unit", id, kind, at)
			}
			for c, m := range p {
				m = min(m, n)
				k.commune = c
				ki, ok := dict[k]
				if !ok {
					ki = len(keys)
					dict[k] = ki
					keys = append(keys, k)
				}
				runs = append(runs, run{ki, kind, at, m})
				if p[c] -= m; p[c] == 0 {
					delete(p, c)
				}
				n -= m
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	for _, p := range pool {
		if len(p) > 0 {
			return nil, 0, fmt.Errorf("the commune series have open dossiers the sets do not")
		}
	}
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		kb := encodeCellKey(k)
		b = binary.AppendUvarint(b, uint64(len(kb)))
		b = append(b, kb...)
	}
	b = binary.AppendUvarint(b, uint64(total))
	for _, r := range runs {
		for range r.n {
			b = binary.AppendUvarint(b, uint64(r.key))
			b = binary.AppendVarint(b, int64(r.kind))
			b = binary.AppendVarint(b, r.at)
		}
	}
	return b, total, nil
}

// liveRuns calls emit with the open dossiers of the live index l (its figures agg[ri]) as
// runs of n dossiers of one set, kind and overdue instant, sets in ascending order, and
// returns how many there are.
func liveRuns(l *liveIndex, ri int, emit func(id, kind int32, at, n int64) error) (int, error) {
	aggs := l.agg[ri]
	// The due instants in force, grouped by set.
	var due []dueItem
	for _, d := range []*dueSet{l.ahead, l.passed} {
		left := maps.Clone(d.cancelled)
		for _, it := range d.h.items {
			if left[it] > 0 {
				left[it]--
				continue
			}
			due = append(due, it)
		}
	}
	slices.SortFunc(due, func(a, b dueItem) int { return cmp.Compare(a.id, b.id) })
	total := 0
	next := 0 // due[next:] are the instants of the sets still to come (ids and due ascend)
	for id := range aggs {
		a := aggs[id]
		if a.open <= 0 {
			continue
		}
		total += int(a.open)
		if next < len(due) && due[next].id < int32(id) {
			return 0, fmt.Errorf("a due instant of set %d, which has no open dossier", due[next].id)
		}
		end := next
		for end < len(due) && due[end].id == int32(id) {
			end++
		}
		filed := a.unaccepted - a.supBefore // not yet accepted, not paused
		supLate := a.supplement - a.supBefore - a.supOnTime
		running := a.open - a.supplement - a.financial - filed - int64(end-next)
		if running < 0 || supLate < 0 || filed < 0 || a.supBefore < 0 || a.supOnTime < 0 || a.financial < 0 {
			return 0, fmt.Errorf("live index of set %d does not add up: %+v with %d due instants", id, a, end-next)
		}
		for _, r := range []struct {
			kind int32
			n    int64
		}{{stSupplement, supLate}, {kindSupBefore, a.supBefore}, {kindSupOnTime, a.supOnTime}, {stNew, filed}, {stFinancial, a.financial}} {
			if r.n > 0 {
				if err := emit(int32(id), r.kind, math.MaxInt64, r.n); err != nil {
					return 0, err
				}
			}
		}
		for _, it := range due[next:end] {
			if err := emit(int32(id), stAccepted, it.at, 1); err != nil {
				return 0, err
			}
		}
		if running > 0 {
			if err := emit(int32(id), stAccepted, math.MaxInt64, running); err != nil {
				return 0, err
			}
		}
		next = end
	}
	if next != len(due) {
		return 0, fmt.Errorf("a due instant of set %d, which has no open dossier", due[next].id)
	}
	return total, nil
}

// readLiveSnapshot calls fn with every entry of the snapshot, and the index of its key in
// the snapshot's dictionary (entries of one key share its strings), if it covers exactly
// the events up to seq (whose stored bytes hash to sum) and is whole. It returns the number
// of entries, or errLiveSnap (wrapped) when the snapshot cannot be used and fn was not
// called.
func readLiveSnapshot(path string, seq int64, sum [32]byte, fn func(key int, e liveEntry)) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", errLiveSnap, err)
	}
	if len(b) < len(liveSnapMagic)+8+32+4 {
		return 0, fmt.Errorf("%w: too short", errLiveSnap)
	}
	body := b[:len(b)-4]
	if binary.BigEndian.Uint32(b[len(body):]) != crc32.Checksum(body, castagnoli) {
		return 0, fmt.Errorf("%w: checksum", errLiveSnap)
	}
	// Parsed once to check it, then again to hand the entries over, so that a file that
	// passed the checksum but does not parse changes nothing (and no copy of 1.5 M
	// entries is held in memory).
	if _, err := parseLiveSnapshot(bytes.NewReader(body), seq, sum, nil); err != nil {
		return 0, err
	}
	return parseLiveSnapshot(bytes.NewReader(body), seq, sum, fn)
}

// parseLiveSnapshot reads a snapshot's body, calling fn (if not nil) with each entry and
// its key's index.
func parseLiveSnapshot(r *bytes.Reader, seq int64, sum [32]byte, fn func(key int, e liveEntry)) (int, error) {
	head := make([]byte, len(liveSnapMagic)+8+32)
	if _, err := io.ReadFull(r, head); err != nil || string(head[:len(liveSnapMagic)]) != liveSnapMagic {
		return 0, fmt.Errorf("%w: not a snapshot of this format", errLiveSnap)
	}
	head = head[len(liveSnapMagic):]
	if int64(binary.BigEndian.Uint64(head)) != seq || !bytes.Equal(head[8:], sum[:]) {
		return 0, fmt.Errorf("%w: made before the last stored event", errLiveSnap)
	}
	nkeys, err := binary.ReadUvarint(r)
	if err != nil || nkeys > 1<<24 {
		return 0, fmt.Errorf("%w: key count", errLiveSnap)
	}
	keys := make([]cellKey, 0, min(nkeys, 1<<16))
	for range nkeys {
		l, err := binary.ReadUvarint(r)
		if err != nil || l > 1<<10 {
			return 0, fmt.Errorf("%w: key length", errLiveSnap)
		}
		kb := make([]byte, l)
		if _, err := io.ReadFull(r, kb); err != nil {
			return 0, fmt.Errorf("%w: key", errLiveSnap)
		}
		k, err := decodeCellKey(kb)
		if err != nil {
			return 0, fmt.Errorf("%w: key: %v", errLiveSnap, err)
		}
		keys = append(keys, k)
	}
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return 0, fmt.Errorf("%w: entry count", errLiveSnap)
	}
	for i := range n {
		ki, err1 := binary.ReadUvarint(r)
		kind, err2 := binary.ReadVarint(r)
		at, err3 := binary.ReadVarint(r)
		if err := errors.Join(err1, err2, err3); err != nil || ki >= nkeys {
			return 0, fmt.Errorf("%w: entry %d", errLiveSnap, i)
		}
		if fn != nil {
			fn(int(ki), liveEntry{key: keys[ki], status: int32(kind), overdueAt: at})
		}
	}
	if _, err := r.ReadByte(); err != io.EOF {
		return 0, fmt.Errorf("%w: bytes after the entries", errLiveSnap)
	}
	return int(n), nil
}
