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
// and whether the end of the stored feed was reached.
func (s *Service) scanFeed(after int64, unit string, limit int, fn func(*dossierv1.DossierEvent) bool) (int64, bool, error) {
	last := after
	end := false
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketEvents).Cursor()
		read := 0
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
			if unit == "" || ev.GetUnitCode() == unit {
				if !fn(ev) {
					return nil
				}
			}
			last = ev.GetSequence()
		}
	})
	return last, end, err
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
		var sendErr error
		last, end, err := s.scanFeed(after, unit, 1000, func(ev *dossierv1.DossierEvent) bool {
			sendErr = stream.Send(ev)
			return sendErr == nil
		})
		if err != nil {
			return err
		}
		if sendErr != nil {
			return sendErr
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
