package scoring

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"maps"
	"sync/atomic"

	scoringv1 "github.com/lienthong/lienthong/proto/gen/lienthong/scoring/v1"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"
)

// Buckets. Report keys are period 0x00 unit 0x00 revision (big-endian uint32), so one
// prefix scan reads every unit's reports of a period and the last key of a unit is its
// latest revision.
var (
	bucketMethodologies = []byte("methodologies")
	bucketReports       = []byte("reports")
	bucketPeriods       = []byte("periods")
	bucketHeartbeats    = []byte("heartbeats")
	// bucketReporting: system id → when it last submitted a metric report (RFC 3339).
	bucketReporting = []byte("reporting-activity")
	// oldBucketFeed held a checkpoint of the dossier feed, which scoring no longer reads
	// (the dossier part keeps each system's last stored event): removed at open.
	oldBucketFeed = []byte("dossier-feed")
)

// Store keeps scoring's data in its own bbolt file. Every write is one transaction,
// committed (fsynced) before it returns.
type Store struct {
	db *bolt.DB
	// version counts commits; cached rankings remember the version they were computed at.
	version atomic.Uint64
}

// OpenStore creates the buckets.
func OpenStore(db *bolt.DB) (*Store, error) {
	err := db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketMethodologies, bucketReports, bucketPeriods, bucketHeartbeats, bucketReporting} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		if tx.Bucket(oldBucketFeed) != nil {
			return tx.DeleteBucket(oldBucketFeed)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scoring store: %w", err)
	}
	return &Store{db: db}, nil
}

// Version changes after every commit.
func (s *Store) Version() uint64 { return s.version.Load() }

func (s *Store) update(fn func(tx *bolt.Tx) error) error {
	err := s.db.Update(fn)
	if err == nil {
		s.version.Add(1)
	}
	return err
}

func reportPrefix(period, unit string) []byte {
	k := make([]byte, 0, len(period)+len(unit)+2)
	k = append(k, period...)
	k = append(k, 0)
	if unit != "" {
		k = append(k, unit...)
		k = append(k, 0)
	}
	return k
}

func reportKey(period, unit string, rev int32) []byte {
	return binary.BigEndian.AppendUint32(reportPrefix(period, unit), uint32(rev))
}

// Methodologies are the stored (added) methodologies.
func (s *Store) Methodologies() ([]*scoringv1.Methodology, error) {
	var out []*scoringv1.Methodology
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMethodologies).ForEach(func(_, v []byte) error {
			m := &scoringv1.Methodology{}
			if err := proto.Unmarshal(v, m); err != nil {
				return fmt.Errorf("methodology record: %w", err)
			}
			out = append(out, m)
			return nil
		})
	})
	return out, err
}

// AddMethodology stores a new methodology. errExists when the id is taken.
func (s *Store) AddMethodology(m *scoringv1.Methodology) error {
	raw, err := proto.Marshal(m)
	if err != nil {
		return err
	}
	return s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMethodologies)
		if b.Get([]byte(m.GetId())) != nil {
			return platform.AlreadyExists("methodology", m.GetId())
		}
		return b.Put([]byte(m.GetId()), raw)
	})
}

// errPeriodClosed refuses a revision of a closed period.
func errPeriodClosed(period string) error {
	return platform.FailedPrecondition("PERIOD_CLOSED",
		fmt.Sprintf("reporting period %s is closed: reports can no longer be submitted or revised", period),
		fmt.Sprintf("Kỳ báo cáo %s đã khóa sổ: không thể nộp hoặc sửa báo cáo.", period))
}

// PutReport stores a new revision of a unit's report, unless the values and note equal the
// latest revision's (then the latest is returned and nothing is stored). created says
// whether a revision was added.
func (s *Store) PutReport(r *scoringv1.MetricReport) (out *scoringv1.MetricReport, created bool, err error) {
	err = s.update(func(tx *bolt.Tx) error {
		out, created, err = putReportTx(tx, r)
		return err
	})
	return out, created, err
}

// PutReports stores several reports in one transaction (the demo); all or nothing.
func (s *Store) PutReports(rs []*scoringv1.MetricReport) (created int, err error) {
	err = s.update(func(tx *bolt.Tx) error {
		for _, r := range rs {
			_, c, err := putReportTx(tx, r)
			if err != nil {
				return err
			}
			if c {
				created++
			}
		}
		return nil
	})
	return created, err
}

func putReportTx(tx *bolt.Tx, r *scoringv1.MetricReport) (*scoringv1.MetricReport, bool, error) {
	scope, unit := reportScope(r)
	if tx.Bucket(bucketPeriods).Get([]byte(periodKey(r.GetPeriod(), scope, unit))) != nil {
		return nil, false, errPeriodClosed(r.GetPeriod())
	}
	b := tx.Bucket(bucketReports)
	latest, err := latestReport(b, r.GetPeriod(), reportEntity(r))
	if err != nil {
		return nil, false, err
	}
	if latest != nil && maps.Equal(latest.GetValues(), r.GetValues()) && latest.GetNote() == r.GetNote() {
		return latest, false, nil
	}
	n := proto.Clone(r).(*scoringv1.MetricReport)
	n.Revision = 1
	if latest != nil {
		n.Revision = latest.GetRevision() + 1
	}
	raw, err := proto.Marshal(n)
	if err != nil {
		return nil, false, err
	}
	if err := tx.Bucket(bucketReporting).Put([]byte(n.GetSubmittedBy()), []byte(n.GetSubmittedAt())); err != nil {
		return nil, false, err
	}
	return n, true, b.Put(reportKey(n.GetPeriod(), reportEntity(n), n.GetRevision()), raw)
}

func latestReport(b *bolt.Bucket, period, unit string) (*scoringv1.MetricReport, error) {
	prefix := reportPrefix(period, unit)
	c := b.Cursor()
	k, v := c.Seek(binary.BigEndian.AppendUint32(bytes.Clone(prefix), ^uint32(0)))
	if k == nil {
		k, v = c.Last()
	} else if !bytes.Equal(k, reportKey(period, unit, -1)) {
		k, v = c.Prev()
	}
	if k == nil || !bytes.HasPrefix(k, prefix) || len(k) != len(prefix)+4 {
		return nil, nil
	}
	r := &scoringv1.MetricReport{}
	if err := proto.Unmarshal(v, r); err != nil {
		return nil, fmt.Errorf("report record: %w", err)
	}
	return r, nil
}

// Report returns a revision (0: the latest) or nil. unit is what the report is of: a unit's
// code, or an agency's (reportEntity).
func (s *Store) Report(period, unit string, rev int32) (*scoringv1.MetricReport, error) {
	var out *scoringv1.MetricReport
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketReports)
		if rev == 0 {
			var err error
			out, err = latestReport(b, period, unit)
			return err
		}
		v := b.Get(reportKey(period, unit, rev))
		if v == nil {
			return nil
		}
		out = &scoringv1.MetricReport{}
		return proto.Unmarshal(v, out)
	})
	return out, err
}

// Revisions returns every revision of a unit's report, newest first.
func (s *Store) Revisions(period, unit string) ([]*scoringv1.MetricReport, error) {
	var out []*scoringv1.MetricReport
	prefix := reportPrefix(period, unit)
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketReports).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if len(k) != len(prefix)+4 {
				continue
			}
			r := &scoringv1.MetricReport{}
			if err := proto.Unmarshal(v, r); err != nil {
				return fmt.Errorf("report record: %w", err)
			}
			out = append(out, r)
		}
		return nil
	})
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, err
}

// PeriodReports returns the latest report of every unit (and agency) for a period, by
// reportEntity.
func (s *Store) PeriodReports(period string) (map[string]*scoringv1.MetricReport, error) {
	out := map[string]*scoringv1.MetricReport{}
	prefix := reportPrefix(period, "")
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketReports).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			r := &scoringv1.MetricReport{}
			if err := proto.Unmarshal(v, r); err != nil {
				return fmt.Errorf("report record: %w", err)
			}
			out[reportEntity(r)] = r // keys ascend by revision: the last one wins
		}
		return nil
	})
	return out, err
}

// ClosePeriod closes a period under its key (periodKey); closing a closed period returns it
// unchanged.
func (s *Store) ClosePeriod(key string, p *scoringv1.ReportingPeriod) (*scoringv1.ReportingPeriod, error) {
	out := p
	err := s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPeriods)
		if v := b.Get([]byte(key)); v != nil {
			out = &scoringv1.ReportingPeriod{}
			return proto.Unmarshal(v, out)
		}
		raw, err := proto.Marshal(p)
		if err != nil {
			return err
		}
		return b.Put([]byte(key), raw)
	})
	return out, err
}

// Period returns a period's state under its key (periodKey; open when never closed).
func (s *Store) Period(key string) (*scoringv1.ReportingPeriod, error) {
	out := &scoringv1.ReportingPeriod{Period: key}
	err := s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketPeriods).Get([]byte(key)); v != nil {
			return proto.Unmarshal(v, out)
		}
		return nil
	})
	return out, err
}

// PutHeartbeat stores a system's last heartbeat.
func (s *Store) PutHeartbeat(h *scoringv1.Heartbeat) error {
	raw, err := proto.Marshal(h)
	if err != nil {
		return err
	}
	return s.update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketHeartbeats).Put([]byte(h.GetSystem()), raw)
	})
}

// Heartbeats returns the last heartbeat of every system, by system id.
func (s *Store) Heartbeats() ([]*scoringv1.Heartbeat, error) {
	var out []*scoringv1.Heartbeat
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketHeartbeats).ForEach(func(_, v []byte) error {
			h := &scoringv1.Heartbeat{}
			if err := proto.Unmarshal(v, h); err != nil {
				return fmt.Errorf("heartbeat record: %w", err)
			}
			out = append(out, h)
			return nil
		})
	})
	return out, err
}

// ReportingActivity returns when each system last submitted a metric report.
func (s *Store) ReportingActivity() (map[string]string, error) {
	out := map[string]string{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketReporting).ForEach(func(k, v []byte) error {
			out[string(k)] = string(v)
			return nil
		})
	})
	return out, err
}
