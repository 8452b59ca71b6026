package docexchange

import (
	"context"
	"regexp"
	"sort"
	"strconv"
	"time"

	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"github.com/lienthong/lienthong/services/platform"
)

var periodRE = regexp.MustCompile(`^(\d{4})(?:-Q([1-4])|-(\d{2}))?$`)

// parsePeriod returns the first and last month (year*12 + month-1) of 2018, 2018-Q3 or 2018-10.
func parsePeriod(s string) (int, int, bool) {
	m := periodRE.FindStringSubmatch(s)
	if m == nil {
		return 0, 0, false
	}
	y, _ := strconv.Atoi(m[1])
	if y < 2000 || y > 2100 {
		return 0, 0, false
	}
	base := y * 12
	switch {
	case m[2] != "":
		q, _ := strconv.Atoi(m[2])
		return base + (q-1)*3, base + (q-1)*3 + 2, true
	case m[3] != "":
		mo, _ := strconv.Atoi(m[3])
		if mo < 1 || mo > 12 {
			return 0, 0, false
		}
		return base + mo - 1, base + mo - 1, true
	}
	return base, base + 11, true
}

func monthOfDate(date string) int {
	t, err := time.Parse("2006-01-02", date)
	if err != nil {
		return -1
	}
	return t.Year()*12 + int(t.Month()) - 1
}

// received is what the statistics need of one (document, recipient) pair.
type receivedPair struct {
	electronic bool  // reached 03 or beyond, never on paper
	seconds    int64 // delivery to first 03; -1 when not accepted
}

func judgeRecipient(rc *docv1.Recipient) receivedPair {
	out := receivedPair{seconds: -1}
	var arrived, accepted time.Time
	paper := false
	for i, h := range rc.GetHistory() {
		t, _ := time.Parse(time.RFC3339Nano, h.GetUpdatedAt())
		if i == 0 {
			arrived = t
		}
		if h.GetPaper() {
			paper = true
		}
		if atLeastAccepted(h.GetStatus()) && accepted.IsZero() {
			accepted = t
		}
	}
	if !accepted.IsZero() {
		out.seconds = max(0, int64(accepted.Sub(arrived)/time.Second))
		out.electronic = !paper
	}
	return out
}

// statsQuery is a GetDocumentStats request checked, with the caller's scope applied.
type statsQuery struct {
	group, geo   string
	fromM, toM   int    // months (year*12 + month-1), inclusive
	unit, agency string // only this unit (as asked by geo) or agency, when set
}

// GetDocumentStats answers the statistics of a period from the counters kept as documents
// and statuses arrive (stats_counters.go).
func (s *Service) GetDocumentStats(ctx context.Context, r *docv1.GetDocumentStatsRequest) (*docv1.DocumentStats, error) {
	q, err := checkStatsRequest(ctx, r)
	if err != nil {
		return nil, err
	}
	rows, err := s.readCounters(q.fromM, q.toM)
	if err != nil {
		return nil, err
	}
	// Units as asked: historical as stored, current rolled up into today's units.
	unitOf := func(u string) string { return u }
	if q.geo == "current" {
		set := map[string]bool{}
		for _, kr := range rows {
			set[kr.unit] = true
		}
		list := make([]string, 0, len(set))
		for u := range set {
			list = append(list, u)
		}
		cur, err := s.refs.currentUnits(ctx, list)
		if err != nil {
			return nil, err
		}
		unitOf = func(u string) string { return cur[u] }
	}
	byKey := map[string]*counterRow{}
	total := &counterRow{}
	for _, kr := range rows {
		if q.agency != "" && kr.agency != q.agency {
			continue
		}
		if q.unit != "" && unitOf(kr.unit) != q.unit {
			continue
		}
		key := kr.agency
		if q.group == "unit" {
			key = unitOf(kr.unit)
		}
		if byKey[key] == nil {
			byKey[key] = &counterRow{}
		}
		byKey[key].add(kr.row, 1)
		total.add(kr.row, 1)
	}
	out := &docv1.DocumentStats{Total: total.proto("")}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out.Rows = append(out.Rows, byKey[k].proto(k))
	}
	return out, nil
}

// checkStatsRequest checks a request and narrows it to the caller's scope.
func checkStatsRequest(ctx context.Context, r *docv1.GetDocumentStatsRequest) (statsQuery, error) {
	c, err := platform.RequireRole(ctx, platform.RoleAdmin, platform.RoleMinistry, platform.RoleProvince, platform.RoleAgency)
	if err != nil {
		return statsQuery{}, err
	}
	var v platform.Violations
	group := r.GetGroupBy()
	if group == "" {
		group = "agency"
	}
	if group != "agency" && group != "unit" {
		v.Add("group_by", "must be agency or unit, got %q", group)
	}
	geo := r.GetGeography()
	if geo == "" {
		geo = "current"
	}
	if geo != "current" && geo != "historical" {
		v.Add("geography", "must be current or historical, got %q", geo)
	}
	fromM, toM := 0, 1<<30
	if r.GetFrom() != "" {
		a, b, ok := parsePeriod(r.GetFrom())
		if !ok {
			v.Add("from", "must be 2018, 2018-Q3 or 2018-10")
		}
		fromM, toM = a, b
	}
	if r.GetTo() != "" {
		_, b, ok := parsePeriod(r.GetTo())
		if !ok {
			v.Add("to", "must be 2018, 2018-Q3 or 2018-10")
		}
		toM = b
	}
	if toM < fromM {
		v.Add("to", "ends before from")
	}
	if err := v.Err(); err != nil {
		return statsQuery{}, err
	}
	q := statsQuery{group: group, geo: geo, fromM: fromM, toM: toM, unit: r.GetUnit()}
	switch c.Role {
	case platform.RoleProvince:
		if q.unit != "" && q.unit != c.Unit {
			_, err := platform.MayReadUnit(ctx, q.unit)
			return statsQuery{}, err
		}
		q.unit = c.Unit
	case platform.RoleAgency:
		q.agency = c.Agency()
	}
	return q, nil
}

func (r *counterRow) proto(key string) *docv1.DocumentStatsRow {
	out := &docv1.DocumentStatsRow{Key: key, Sent: r.sent, Received: r.received, ReceivedElectronically: r.electronic, SentFullyOnline: r.fullyOnline}
	if r.received > 0 {
		out.ElectronicShare = float64(r.electronic) / float64(r.received)
	}
	if r.sent > 0 {
		out.FullyOnlineShare = float64(r.fullyOnline) / float64(r.sent)
	}
	out.MedianHoursToAcceptance = r.medianHours()
	return out
}
