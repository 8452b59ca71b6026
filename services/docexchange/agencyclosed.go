package docexchange

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"github.com/lienthong/lienthong/services/platform"
)

// A document promulgated after its sender or one of its recipients closed is refused
// (docs/domain.md, Agencies): on 2025-07-01 the agencies of the 29 provinces merged by NQ
// 202/2025/QH15 closed, and a document of theirs dated later names an agency that no longer
// exists; the successor the catalog names is the one to write to or from. Documents already
// stored stay readable: only sending is checked.

// agencyLife is what the catalog's agency_references say of an agency's life: its last day
// in force ("" while in force), the agency that took over, and the one in force today after
// following successors. Kept per agency, not per date.
type agencyLife struct {
	found                       bool
	validTo, successor, current string
	expires                     time.Time
}

// lifeCache caches the agencies' lives of one refs (one Service), like refs caches units.
type lifeCache struct {
	mu  sync.Mutex
	ags map[string]agencyLife
}

func (r *refs) lives() *lifeCache {
	r.lifeOnce.Do(func() { r.life = &lifeCache{ags: map[string]agencyLife{}} })
	return r.life
}

// agencyLives returns the lives of the agencies, asking the catalog for those not fresh in
// the cache.
func (r *refs) agencyLives(ctx context.Context, codes []string) (map[string]agencyLife, error) {
	lc := r.lives()
	now := r.now()
	var stale []string
	lc.mu.Lock()
	for _, c := range codes {
		if e, ok := lc.ags[c]; (!ok || now.After(e.expires)) && !contains(stale, c) {
			stale = append(stale, c)
		}
	}
	lc.mu.Unlock()
	if len(stale) > 0 {
		if r.client == nil {
			return nil, errCatalogDown
		}
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		resp, err := r.client.LookupReferences(cctx, &catalogv1.LookupReferencesRequest{AgencyCodes: stale})
		cancel()
		if err != nil {
			return nil, errCatalogDown
		}
		hit, miss := now.Add(refsTTL), now.Add(missTTL)
		lc.mu.Lock()
		for _, c := range stale {
			lc.ags[c] = agencyLife{expires: miss}
		}
		for _, ar := range resp.GetAgencyReferences() {
			a := ar.GetAgency()
			lc.ags[a.GetCode()] = agencyLife{found: true, validTo: a.GetValidTo(), successor: a.GetSuccessorCode(), current: ar.GetCurrentCode(), expires: hit}
		}
		lc.mu.Unlock()
	}
	out := make(map[string]agencyLife, len(codes))
	lc.mu.Lock()
	defer lc.mu.Unlock()
	for _, c := range codes {
		out[c] = lc.ags[c]
	}
	return out, nil
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// checkAgenciesOpen refuses a document whose sender (from) or a recipient (to) had closed
// before its promulgation date: FAILED_PRECONDITION AGENCY_CLOSED, naming each such agency,
// its last day and its successor; the metadata are of the first one named.
func (s *Service) checkAgenciesOpen(ctx context.Context, d *docv1.Document) error {
	fields := []string{"from"}
	codes := []string{d.GetFrom()}
	for i, t := range d.GetTo() {
		fields = append(fields, fmt.Sprintf("to[%d]", i))
		codes = append(codes, t)
	}
	lives, err := s.refs.agencyLives(ctx, codes)
	if err != nil {
		return err
	}
	date := d.GetPromulgationDate()
	var msgs, vis []string
	var md map[string]string
	for i, c := range codes {
		l := lives[c]
		if !l.found || l.validTo == "" || l.validTo >= date {
			continue
		}
		succ := l.current
		if succ == "" {
			succ = l.successor
		}
		m := fmt.Sprintf("%s agency %s closed on %s, before the promulgation date %s", fields[i], c, l.validTo, date)
		vi := fmt.Sprintf("cơ quan %s (%s) chỉ hoạt động đến hết ngày %s, trước ngày ban hành %s", c, fields[i], l.validTo, date)
		if succ != "" {
			m += fmt.Sprintf("; its successor is %s", succ)
			vi += fmt.Sprintf("; cơ quan kế thừa là %s", succ)
		} else {
			m += "; the catalog names no successor"
			vi += "; danh mục không ghi cơ quan kế thừa"
		}
		msgs, vis = append(msgs, m), append(vis, vi)
		if md == nil {
			md = map[string]string{"agency_code": c, "valid_to": l.validTo, "successor_code": succ, "field": fields[i]}
		}
	}
	if md == nil {
		return nil
	}
	e := platform.FailedPrecondition("AGENCY_CLOSED", strings.Join(msgs, "; also ")+": write from or to the agency in force",
		"Văn bản bị từ chối: "+strings.Join(vis, "; ")+".")
	e.Metadata = md
	return e
}
