package docexchange

import (
	"context"
	"fmt"
	"strings"

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
// following successors. Kept per agency with its unit (refs.go), not per date.
type agencyLife struct {
	validTo, successor, current string
}

// agencyLives returns the lives of the agencies the catalog knows, from the same cached
// look-up as their units.
func (r *refs) agencyLives(ctx context.Context, codes []string) (map[string]agencyLife, error) {
	if err := r.ensure(ctx, codes, nil); err != nil {
		return nil, err
	}
	out := make(map[string]agencyLife, len(codes))
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range codes {
		if e := r.ags[c]; e.found {
			out[c] = e.life
		}
	}
	return out, nil
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
		l, ok := lives[c]
		if !ok || l.validTo == "" || l.validTo >= date {
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
