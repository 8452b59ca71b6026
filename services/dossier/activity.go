package dossier

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	"github.com/lienthong/lienthong/services/platform"
	"google.golang.org/grpc/codes"
)

// activity counts, per sending system, the events accepted and refused in the last 24
// hours, in hourly buckets, so that interconnection status can say a system sends mostly
// events that are refused. Refused events are not stored anywhere, so these counts live in
// memory and begin again when the part starts.
type activity struct {
	mu      sync.Mutex
	started time.Time
	systems map[string]*sysActivity
}

const activityHours = 24

type sysActivity struct {
	hours          [activityHours]hourCount
	lastRefusedAt  time.Time
	lastRefusedWhy string
}

type hourCount struct {
	hour              int64 // hours since the Unix epoch
	accepted, refused int64
}

func newActivity(now time.Time) *activity {
	return &activity{started: now, systems: map[string]*sysActivity{}}
}

// refusedBySender says whether an error is about what the sender sent (counted), not about
// this service or the catalog being unable to answer (not counted).
func refusedBySender(err error) (string, bool) {
	var pe *platform.Error
	if !errors.As(err, &pe) {
		return "", false
	}
	switch pe.Code {
	case codes.InvalidArgument, codes.FailedPrecondition, codes.AlreadyExists, codes.PermissionDenied, codes.NotFound:
		return pe.Reason, true
	}
	return "", false
}

// record counts a finished job's results under its caller's system.
func (a *activity) record(j *job, now time.Time) {
	system := j.system()
	if system == "" {
		return
	}
	var acc, ref int64
	why := ""
	for _, r := range j.results {
		if r.err == nil {
			acc++
			continue
		}
		if reason, ok := refusedBySender(r.err); ok {
			ref++
			why = reason
		}
	}
	if acc+ref == 0 {
		return
	}
	h := now.Unix() / 3600
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.systems[system]
	if s == nil {
		s = &sysActivity{}
		a.systems[system] = s
	}
	b := &s.hours[h%activityHours]
	if b.hour != h {
		*b = hourCount{hour: h}
	}
	b.accepted += acc
	b.refused += ref
	if ref > 0 {
		s.lastRefusedAt, s.lastRefusedWhy = now, why
	}
}

// list sums the last 24 hours per system.
func (a *activity) list(now time.Time) *dossierv1.ListSystemActivityResponse {
	h := now.Unix() / 3600
	since := now.Add(-activityHours * time.Hour)
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.started.After(since) {
		since = a.started
	}
	out := &dossierv1.ListSystemActivityResponse{CountedSince: since.In(Vietnam).Format(time.RFC3339)}
	for sys, s := range a.systems {
		sa := &dossierv1.SystemActivity{System: sys}
		for _, b := range s.hours {
			if b.hour > h-activityHours && b.hour <= h {
				sa.Accepted += b.accepted
				sa.Refused += b.refused
			}
		}
		if !s.lastRefusedAt.IsZero() && s.lastRefusedAt.After(now.Add(-activityHours*time.Hour)) {
			sa.LastRefusedAt = s.lastRefusedAt.In(Vietnam).Format(time.RFC3339)
			sa.LastRefusedReason = s.lastRefusedWhy
		}
		if sa.Accepted+sa.Refused > 0 {
			out.Systems = append(out.Systems, sa)
		}
	}
	slices.SortFunc(out.Systems, func(x, y *dossierv1.SystemActivity) int { return strings.Compare(x.System, y.System) })
	return out
}

// ListSystemActivity answers what each sending system pushed in the last 24 hours, and
// when each had its last event stored.
func (s *Service) ListSystemActivity(ctx context.Context, _ *dossierv1.ListSystemActivityRequest) (*dossierv1.ListSystemActivityResponse, error) {
	if _, err := platform.RequireRole(ctx, platform.RoleAdmin, platform.RoleMinistry); err != nil {
		return nil, err
	}
	out := s.activity.list(s.now())
	addLastStored(out, s.last.all())
	return out, nil
}

// addLastStored sets each system's last stored event on the list, adding the systems
// that sent nothing in the window.
func addLastStored(out *dossierv1.ListSystemActivityResponse, last map[string]string) {
	for _, sa := range out.Systems {
		if at, ok := last[sa.System]; ok {
			sa.LastAcceptedAt = at
			delete(last, sa.System)
		}
	}
	if len(last) == 0 {
		return
	}
	for sys, at := range last {
		out.Systems = append(out.Systems, &dossierv1.SystemActivity{System: sys, LastAcceptedAt: at})
	}
	slices.SortFunc(out.Systems, func(x, y *dossierv1.SystemActivity) int { return strings.Compare(x.System, y.System) })
}
