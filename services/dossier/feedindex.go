package dossier

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"
)

// bucketFeedUnits indexes the feed by unit: a unit's page of the feed (ListDossierEvents,
// WatchDossierEvents with a unit, and every call of a province) reads only that unit's
// events instead of the whole country's. The writer puts the key in the transaction that
// stores the event, so the index is exactly as durable as the log. The values are empty.
var bucketFeedUnits = []byte("feed_units") // unit code \x00 seq (8, big-endian) -> ""

// metaFeedUnitsUpto, while present, says the index of an older file is still being built:
// it covers the events up to that sequence. The part finishes the build at start.
var metaFeedUnitsUpto = []byte("feed_units_upto") // 8 bytes, big-endian

// feedBuildChunk is how many events of the log one transaction of the index's build reads:
// a bounded transaction (its dirty pages are held in memory until it commits).
const feedBuildChunk = 200_000

// feedUnitKey is the index key of event seq of unit.
func feedUnitKey(unit string, seq int64) []byte {
	k := make([]byte, len(unit)+1+8)
	copy(k, unit)
	binary.BigEndian.PutUint64(k[len(unit)+1:], uint64(seq))
	return k
}

// feedUnitPrefix is the prefix of every key of unit.
func feedUnitPrefix(unit string) []byte { return append([]byte(unit), 0) }

// putFeedUnit indexes event seq under unit; an event with no unit is in no unit's feed.
func putFeedUnit(b *bolt.Bucket, unit string, seq int64) error {
	if unit == "" {
		return nil
	}
	return b.Put(feedUnitKey(unit, seq), []byte{})
}

// loadFeedIndex creates the index; for a file written before it existed (events stored,
// no index) it marks the build as started from nothing.
func loadFeedIndex(tx *bolt.Tx, seq int64) error {
	if tx.Bucket(bucketFeedUnits) != nil {
		return nil
	}
	b, err := tx.CreateBucket(bucketFeedUnits)
	if err != nil {
		return err
	}
	b.FillPercent = 1.0
	if seq == 0 {
		return nil
	}
	return tx.Bucket(bucketMeta).Put(metaFeedUnitsUpto, seqKey(0))
}

// buildFeedIndex finishes the index of an older file from the log, in transactions of
// feedBuildChunk events, before the writer starts (so nothing else writes meanwhile). A
// build cut short (a crash, a stop) resumes where its last transaction ended.
func (s *Service) buildFeedIndex() error {
	var upto int64
	building := false
	if err := s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(metaFeedUnitsUpto); len(v) == 8 {
			upto, building = int64(beUint64(v)), true
		}
		return nil
	}); err != nil || !building {
		return err
	}
	began := time.Now()
	from := upto
	for done := false; !done; {
		err := s.db.Update(func(tx *bolt.Tx) error {
			idx := tx.Bucket(bucketFeedUnits)
			idx.FillPercent = 1.0
			c := tx.Bucket(bucketEvents).Cursor()
			n := 0
			k, v := c.Seek(seqKey(upto + 1))
			for ; k != nil && n < feedBuildChunk; k, v = c.Next() {
				seq := int64(beUint64(k))
				unit, _ := storedEventField(v, fEventUnitCode)
				if err := putFeedUnit(idx, string(unit), seq); err != nil {
					return err
				}
				upto = seq
				n++
			}
			if k == nil {
				done = true
				return tx.Bucket(bucketMeta).Delete(metaFeedUnitsUpto)
			}
			return tx.Bucket(bucketMeta).Put(metaFeedUnitsUpto, seqKey(upto))
		})
		if err != nil {
			return fmt.Errorf("dossier feed index: %w", err)
		}
	}
	s.lg.Info("dossier: feed index by unit built from the log, once", zap.Int64("from", from), zap.Int64("upto", upto),
		zap.Duration("took", time.Since(began).Round(time.Millisecond)))
	return nil
}

// feedUnitSeq returns the sequence of an index key of prefix (false past the unit's keys).
func feedUnitSeq(k, prefix []byte) (int64, bool) {
	if k == nil || !bytes.HasPrefix(k, prefix) || len(k) != len(prefix)+8 {
		return 0, false
	}
	return int64(beUint64(k[len(prefix):])), true
}

// feedIndexCheck compares the index with the log in verify's first pass: every event of
// a unit has its key, and there is no other key.
type feedIndexCheck struct {
	b    *bolt.Bucket
	c    *bolt.Cursor
	want int
}

// newFeedIndexCheck returns nil when there is nothing to compare: a file written before
// the index existed, or whose build is unfinished (the part finishes it at its next start).
func newFeedIndexCheck(tx *bolt.Tx) *feedIndexCheck {
	b := tx.Bucket(bucketFeedUnits)
	if b == nil || tx.Bucket(bucketMeta) == nil || tx.Bucket(bucketMeta).Get(metaFeedUnitsUpto) != nil {
		return nil
	}
	return &feedIndexCheck{b: b, c: b.Cursor()}
}

// event checks the key of event seq of unit.
func (f *feedIndexCheck) event(rep *VerifyReport, seq int64, unit string) {
	if f == nil || unit == "" {
		return
	}
	f.want++
	// By the key, not the value: the values are empty.
	if key := feedUnitKey(unit, seq); !bytes.Equal(firstKey(f.c.Seek(key)), key) {
		rep.diff("event %d of unit %s: missing from the feed index by unit", seq, unit)
	}
}

// done checks that the index has no key beyond those of the events.
func (f *feedIndexCheck) done(rep *VerifyReport) {
	if f == nil {
		return
	}
	if n := f.b.Stats().KeyN; n != f.want {
		rep.diff("%d keys in the feed index by unit for %d events of a unit", n, f.want)
	}
}

func firstKey(k, _ []byte) []byte { return k }
