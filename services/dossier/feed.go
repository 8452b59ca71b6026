package dossier

import (
	"context"
	"strconv"

	storev1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/store/v1"
	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// The feed is the events bucket in sequence order. A cursor is the sequence of the last
// event a reader has (decimal, opaque to clients); reading resumes after it.

func parseCursor(field, s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, platform.Invalid(platform.FieldViolation{Field: field, Description: "not a cursor of this feed"})
	}
	return n, nil
}

// scanFeed calls fn for the events after `after` of a unit (all units if ""), in order,
// until fn returns false or limit records were read. It returns the last sequence read
// and whether the end of the stored feed was reached. A unit's events are read through its
// index (feedindex.go), so a unit's page costs what it returns, however many events other
// units have. fn runs inside the read transaction: it copies, it never sends (a reader
// that stops reading would keep the transaction open, and bbolt's writer waits for open
// transactions whenever the file must grow).
func (s *Service) scanFeed(after int64, unit string, limit int, fn func(*dossierv1.DossierEvent) bool) (int64, bool, error) {
	last := after
	end := false
	read := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		if unit != "" {
			var err error
			last, end, read, err = scanUnitFeed(tx, after, unit, limit, fn)
			return err
		}
		c := tx.Bucket(bucketEvents).Cursor()
		for k, v := c.Seek(seqKey(after + 1)); ; k, v = c.Next() {
			if k == nil {
				end = true
				return nil
			}
			if read == limit {
				return nil
			}
			read++
			se := &storev1.StoredEvent{}
			if err := proto.Unmarshal(v, se); err != nil {
				return err
			}
			ev := se.GetEvent()
			if !fn(ev) {
				return nil
			}
			last = ev.GetSequence()
		}
	})
	s.feedRead.Add(int64(read))
	return last, end, err
}

// scanUnitFeed is scanFeed for one unit, through the index; it also returns the number of
// events it read. At the end of the unit's events the last sequence read is the last
// stored event: the unit has nothing up to there, so a reader's cursor moves past it.
func scanUnitFeed(tx *bolt.Tx, after int64, unit string, limit int, fn func(*dossierv1.DossierEvent) bool) (last int64, end bool, read int, err error) {
	last = after
	prefix := feedUnitPrefix(unit)
	c := tx.Bucket(bucketFeedUnits).Cursor()
	for k, _ := c.Seek(feedUnitKey(unit, after+1)); ; k, _ = c.Next() {
		seq, ok := feedUnitSeq(k, prefix)
		if !ok {
			if lk, _ := tx.Bucket(bucketEvents).Cursor().Last(); lk != nil {
				last = max(last, int64(beUint64(lk)))
			}
			return last, true, read, nil
		}
		if read == limit {
			return last, false, read, nil
		}
		read++
		se, err := loadEvent(tx, seq)
		if err != nil {
			return last, false, read, err
		}
		if !fn(se.GetEvent()) {
			return last, false, read, nil
		}
		last = seq
	}
}

// ListDossierEvents answers a page of the feed.
func (s *Service) ListDossierEvents(ctx context.Context, r *dossierv1.ListDossierEventsRequest) (*dossierv1.ListDossierEventsResponse, error) {
	unit, err := readScope(ctx, r.GetUnit())
	if err != nil {
		return nil, err
	}
	size, err := platform.PageSize(r.GetPageSize())
	if err != nil {
		return nil, err
	}
	after, err := parseCursor("after", r.GetAfter())
	if err != nil {
		return nil, err
	}
	if r.GetPageToken() != "" {
		key, err := platform.DecodePageToken("feed|"+unit, r.GetPageToken())
		if err != nil {
			return nil, err
		}
		if after, err = parseCursor("page_token", key); err != nil {
			return nil, err
		}
	}
	out := &dossierv1.ListDossierEventsResponse{}
	last, end, err := s.scanFeed(after, unit, maxScan, func(ev *dossierv1.DossierEvent) bool {
		if len(out.Events) == size {
			return false
		}
		out.Events = append(out.Events, ev)
		return true
	})
	if err != nil {
		return nil, err
	}
	cursor := last
	if n := len(out.Events); n == size {
		cursor = out.Events[n-1].GetSequence()
	}
	out.Cursor = strconv.FormatInt(cursor, 10)
	if !end {
		out.NextPageToken = platform.EncodePageToken("feed|"+unit, out.Cursor)
	}
	return out, nil
}

// WatchDossierEvents sends the stored events after the cursor, then new ones as they are
// committed, until the client goes away.
func (s *Service) WatchDossierEvents(r *dossierv1.WatchDossierEventsRequest, stream grpc.ServerStreamingServer[dossierv1.DossierEvent]) error {
	ctx := stream.Context()
	unit, err := readScope(ctx, r.GetUnit())
	if err != nil {
		return err
	}
	after, err := parseCursor("after", r.GetAfter())
	if err != nil {
		return err
	}
	for {
		changed := s.changed() // taken before reading, so no commit is missed
		// Copied out of the transaction, then sent with it closed, each within the send
		// timeout: a client that stops reading holds neither the writer nor a goroutine.
		batch := make([]*dossierv1.DossierEvent, 0, 16)
		last, end, err := s.scanFeed(after, unit, watchBatch, func(ev *dossierv1.DossierEvent) bool {
			batch = append(batch, ev)
			return true
		})
		if err != nil {
			return err
		}
		for _, ev := range batch {
			if err := platform.SendWithTimeout(ctx, s.sendTimeout, func() error { return stream.Send(ev) }); err != nil {
				return err
			}
		}
		after = last
		if !end {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		case <-s.stop:
			return errStopped
		}
	}
}

// watchBatch is how many events a watch copies out of one read transaction.
const watchBatch = 256
