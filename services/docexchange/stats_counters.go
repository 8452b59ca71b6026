package docexchange

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"sort"
	"time"

	storev1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/store/v1"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"
)

// Document statistics are counters kept as documents and statuses arrive, so that
// GetDocumentStats reads a few rows instead of every stored document.
//
// One row per (promulgation month, agency, the agency's unit when the document was sent,
// i.e. historical geography): documents the agency sent and sent fully online, documents it
// received and received electronically, and a histogram of its times to acceptance. Current
// geography is applied when the rows are read (stats.go). A document adds one row for its
// sender and one per recipient.
//
// Every write of a document goes through putDoc, which calls countDocument in the same bbolt
// transaction: the document's contribution before the write is taken away and its
// contribution after is added, so the counters are always exactly the sum over the stored
// documents, a crash cannot separate them, and no write path can forget them.
//
// A median cannot be summed, so the times to acceptance are kept in fixed buckets of
// seconds: exact below 256 s, then 128 buckets per power of two (each at most 1/128 of its
// lower bound wide). Each bucket keeps its count and the sum of its values; the median is
// read from the bucket(s) holding the middle rank(s), as their mean. It is therefore within
// 1/128 (0.8%) of the exact median, and exact when the middle bucket(s) hold one distinct
// value (every value below 256 s; whole hours up to 72 hours, as in the demo).

// bucketStats holds the counters: month (4 bytes) | agency \x00 unit -> encoded counterRow.
var bucketStats = []byte("document_stats")

// statsCountersKey in the meta bucket names the layout of bucketStats; a file without it (or
// with another) has its counters rebuilt from the stored documents at start.
const (
	statsCountersKey     = "stats_counters"
	statsCountersVersion = "1"
)

const histSub = 128 // histogram buckets per power of two

// histBucket is one histogram bucket: how many values and their sum, in seconds.
type histBucket struct{ n, sum int64 }

// counterRow is the counters of one key, or a difference between two sets of counters.
type counterRow struct {
	sent, fullyOnline, received, electronic int64
	hist                                    map[uint32]histBucket
}

// histIndex is the bucket of a time to acceptance in seconds.
func histIndex(v int64) uint32 {
	if v < 2*histSub {
		return uint32(max(v, 0))
	}
	e := bits.Len64(uint64(v)) - 1 // v in [2^e, 2^(e+1)), e >= 8
	sub := (v >> (e - 7)) & (histSub - 1)
	return uint32(2*histSub + (e-8)*histSub + int(sub))
}

func (r *counterRow) addSeconds(v, n int64) {
	if r.hist == nil {
		r.hist = map[uint32]histBucket{}
	}
	i := histIndex(v)
	b := r.hist[i]
	b.n, b.sum = b.n+n, b.sum+n*v
	r.hist[i] = b
}

// add adds sign × o to r.
func (r *counterRow) add(o *counterRow, sign int64) {
	r.sent += sign * o.sent
	r.fullyOnline += sign * o.fullyOnline
	r.received += sign * o.received
	r.electronic += sign * o.electronic
	for i, b := range o.hist {
		if r.hist == nil {
			r.hist = map[uint32]histBucket{}
		}
		c := r.hist[i]
		c.n, c.sum = c.n+sign*b.n, c.sum+sign*b.sum
		if c.n == 0 && c.sum == 0 {
			delete(r.hist, i)
		} else {
			r.hist[i] = c
		}
	}
}

func (r *counterRow) zero() bool {
	return r.sent == 0 && r.fullyOnline == 0 && r.received == 0 && r.electronic == 0 && len(r.hist) == 0
}

// medianHours is the median time to acceptance read from the histogram (see above).
func (r *counterRow) medianHours() float64 {
	var n int64
	idx := make([]uint32, 0, len(r.hist))
	for i, b := range r.hist {
		n += b.n
		idx = append(idx, i)
	}
	if n <= 0 {
		return 0
	}
	sort.Slice(idx, func(a, b int) bool { return idx[a] < idx[b] })
	// at answers the value of rank k (0-based): the mean of its bucket.
	at := func(k int64) float64 {
		for _, i := range idx {
			b := r.hist[i]
			if k < b.n {
				if b.sum%b.n == 0 { // one value, or values whose mean is whole: as Duration.Hours writes it
					return (time.Duration(b.sum/b.n) * time.Second).Hours()
				}
				return float64(b.sum) / float64(b.n) / 3600
			}
			k -= b.n
		}
		return 0
	}
	if n%2 == 1 {
		return at(n / 2)
	}
	return (at(n/2-1) + at(n/2)) / 2
}

func statsKey(month int, agency, unit string) string {
	k := make([]byte, 4, 4+len(agency)+1+len(unit))
	binary.BigEndian.PutUint32(k, uint32(month))
	k = append(k, agency...)
	k = append(k, 0)
	return string(append(k, unit...))
}

// splitStatsKey answers the month, agency and unit of a key of bucketStats.
func splitStatsKey(k []byte) (int, string, string, bool) {
	if len(k) < 5 {
		return 0, "", "", false
	}
	rest := k[4:]
	for i, c := range rest {
		if c == 0 {
			return int(binary.BigEndian.Uint32(k)), string(rest[:i]), string(rest[i+1:]), true
		}
	}
	return 0, "", "", false
}

func (r *counterRow) encode() []byte {
	b := make([]byte, 0, 16+len(r.hist)*8)
	for _, v := range []int64{r.sent, r.fullyOnline, r.received, r.electronic, int64(len(r.hist))} {
		b = binary.AppendVarint(b, v)
	}
	idx := make([]uint32, 0, len(r.hist))
	for i := range r.hist {
		idx = append(idx, i)
	}
	sort.Slice(idx, func(a, b int) bool { return idx[a] < idx[b] })
	for _, i := range idx {
		b = binary.AppendUvarint(b, uint64(i))
		b = binary.AppendVarint(b, r.hist[i].n)
		b = binary.AppendVarint(b, r.hist[i].sum)
	}
	return b
}

var errBadCounters = errors.New("docexchange: malformed statistics counters")

func decodeCounterRow(b []byte) (*counterRow, error) {
	next := func() int64 {
		if b == nil {
			return 0
		}
		v, n := binary.Varint(b)
		if n <= 0 {
			b = nil
			return 0
		}
		b = b[n:]
		return v
	}
	r := &counterRow{}
	r.sent, r.fullyOnline, r.received, r.electronic = next(), next(), next(), next()
	nb := next()
	if b == nil || nb < 0 || nb > int64(len(b)) {
		return nil, errBadCounters
	}
	if nb > 0 {
		r.hist = make(map[uint32]histBucket, nb)
	}
	for j := int64(0); j < nb; j++ {
		i, n := binary.Uvarint(b)
		if n <= 0 {
			return nil, errBadCounters
		}
		b = b[n:]
		c, s := next(), next()
		if b == nil {
			return nil, errBadCounters
		}
		r.hist[uint32(i)] = histBucket{n: c, sum: s}
	}
	return r, nil
}

// contribution is what one stored document adds to the counters, by key (none when its
// promulgation date is not a date: no period holds it).
func contribution(sd *storev1.StoredDocument, into map[string]*counterRow, sign int64) {
	if sd == nil {
		return
	}
	d := sd.GetDocument()
	m := monthOfDate(d.GetPromulgationDate())
	if m < 0 {
		return
	}
	row := func(agency, unit string) *counterRow {
		k := statsKey(m, agency, unit)
		if into[k] == nil {
			into[k] = &counterRow{}
		}
		return into[k]
	}
	allElectronic := true
	for i, rc := range d.GetRecipients() {
		p := judgeRecipient(rc)
		allElectronic = allElectronic && p.electronic
		ru := ""
		if i < len(sd.GetRecipientUnits()) {
			ru = sd.GetRecipientUnits()[i]
		}
		r := row(rc.GetAgencyCode(), ru)
		r.received += sign
		if p.electronic {
			r.electronic += sign
		}
		if p.seconds >= 0 {
			r.addSeconds(p.seconds, sign)
		}
	}
	r := row(d.GetFrom(), sd.GetFromUnit())
	r.sent += sign
	if allElectronic && !d.GetBusiness().GetPaper() {
		r.fullyOnline += sign
	}
}

// countDocument brings the counters from the stored version of sd (if any) to sd, in the
// transaction that stores sd (putDoc).
func countDocument(tx *bolt.Tx, sd *storev1.StoredDocument) error {
	b := tx.Bucket(bucketStats)
	if b == nil {
		return fmt.Errorf("docexchange: the statistics counters are not set up")
	}
	delta := map[string]*counterRow{}
	if raw := tx.Bucket(bucketDocs).Get([]byte(sd.GetDocument().GetId())); raw != nil {
		var old storev1.StoredDocument
		if err := proto.Unmarshal(raw, &old); err != nil {
			return fmt.Errorf("document %s: %w", sd.GetDocument().GetId(), err)
		}
		contribution(&old, delta, -1)
	}
	contribution(sd, delta, 1)
	return addCounters(b, delta)
}

// addCounters adds rows to the stored counters; a row that comes to nothing is removed.
func addCounters(b *bolt.Bucket, delta map[string]*counterRow) error {
	for k, d := range delta {
		if d.zero() {
			continue
		}
		cur := &counterRow{}
		if raw := b.Get([]byte(k)); raw != nil {
			var err error
			if cur, err = decodeCounterRow(raw); err != nil {
				return err
			}
		}
		cur.add(d, 1)
		var err error
		if cur.zero() {
			err = b.Delete([]byte(k))
		} else {
			err = b.Put([]byte(k), cur.encode())
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// ensureCounters builds the counters from the stored documents once, for a file written
// before they were kept (or with another layout), in one transaction with the mark that
// says they are built: a start interrupted midway builds them again.
func (s *Service) ensureCounters() error {
	built := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if string(meta.Get([]byte(statsCountersKey))) == statsCountersVersion && tx.Bucket(bucketStats) != nil {
			return nil
		}
		if tx.Bucket(bucketStats) != nil {
			if err := tx.DeleteBucket(bucketStats); err != nil {
				return err
			}
		}
		b, err := tx.CreateBucket(bucketStats)
		if err != nil {
			return err
		}
		all := map[string]*counterRow{}
		err = tx.Bucket(bucketDocs).ForEach(func(id, raw []byte) error {
			var sd storev1.StoredDocument
			if err := proto.Unmarshal(raw, &sd); err != nil {
				return fmt.Errorf("document %s: %w", id, err)
			}
			contribution(&sd, all, 1)
			built++
			return nil
		})
		if err != nil {
			return err
		}
		if err := addCounters(b, all); err != nil {
			return err
		}
		return meta.Put([]byte(statsCountersKey), []byte(statsCountersVersion))
	})
	if err == nil && built > 0 {
		s.lg.Info("document statistics counters built from the stored documents")
	}
	return err
}

// keyedRow is one stored row of counters.
type keyedRow struct {
	agency, unit string
	row          *counterRow
}

// readCounters answers the rows of the months fromM to toM.
func (s *Service) readCounters(fromM, toM int) ([]keyedRow, error) {
	var out []keyedRow
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketStats)
		if b == nil {
			return fmt.Errorf("docexchange: the statistics counters are not set up")
		}
		var start [4]byte
		binary.BigEndian.PutUint32(start[:], uint32(max(fromM, 0)))
		c := b.Cursor()
		for k, v := c.Seek(start[:]); k != nil; k, v = c.Next() {
			m, agency, unit, ok := splitStatsKey(k)
			if !ok {
				return errBadCounters
			}
			if m > toM {
				break
			}
			r, err := decodeCounterRow(v)
			if err != nil {
				return err
			}
			out = append(out, keyedRow{agency: agency, unit: unit, row: r})
		}
		return nil
	})
	return out, err
}
