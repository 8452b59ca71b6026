package docexchange

import (
	"context"
	"regexp"
	"sort"
	"strconv"
	"time"

	storev1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/store/v1"
	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"
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
	electronic bool    // reached 03 or beyond, never on paper
	hours      float64 // delivery to first 03; -1 when not accepted
}

func judgeRecipient(rc *docv1.Recipient) receivedPair {
	out := receivedPair{hours: -1}
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
		out.hours = max(0, accepted.Sub(arrived).Hours())
		out.electronic = !paper
	}
	return out
}

type statsRow struct {
	sent, received, electronic, fullyOnline int64
	hours                                   []float64
}

// GetDocumentStats computes the statistics from the stored documents of the period.
func (s *Service) GetDocumentStats(ctx context.Context, r *docv1.GetDocumentStatsRequest) (*docv1.DocumentStats, error) {
	c, err := platform.RequireRole(ctx, platform.RoleAdmin, platform.RoleMinistry, platform.RoleProvince, platform.RoleAgency)
	if err != nil {
		return nil, err
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
		return nil, err
	}
	unit, agency := r.GetUnit(), ""
	switch c.Role {
	case platform.RoleProvince:
		if unit != "" && unit != c.Unit {
			_, err := platform.MayReadUnit(ctx, unit)
			return nil, err
		}
		unit = c.Unit
	case platform.RoleAgency:
		agency = c.Agency()
	}
	var docs []*storev1.StoredDocument
	err = s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketDocs).ForEach(func(_, raw []byte) error {
			var sd storev1.StoredDocument
			if err := proto.Unmarshal(raw, &sd); err != nil {
				return err
			}
			if m := monthOfDate(sd.GetDocument().GetPromulgationDate()); m >= fromM && m <= toM {
				docs = append(docs, &sd)
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	// Units as asked: historical as stored, current rolled up into today's units.
	unitOf := func(u string) string { return u }
	if geo == "current" {
		set := map[string]bool{}
		for _, sd := range docs {
			set[sd.GetFromUnit()] = true
			for _, u := range sd.GetRecipientUnits() {
				set[u] = true
			}
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
	rows := map[string]*statsRow{}
	total := &statsRow{}
	row := func(key string) *statsRow {
		if rows[key] == nil {
			rows[key] = &statsRow{}
		}
		return rows[key]
	}
	keep := func(ag, u string) (string, bool) {
		if agency != "" && ag != agency {
			return "", false
		}
		if unit != "" && unitOf(u) != unit {
			return "", false
		}
		if group == "unit" {
			return unitOf(u), true
		}
		return ag, true
	}
	for _, sd := range docs {
		d := sd.GetDocument()
		allElectronic := true
		for i, rc := range d.GetRecipients() {
			p := judgeRecipient(rc)
			allElectronic = allElectronic && p.electronic
			ru := ""
			if i < len(sd.GetRecipientUnits()) {
				ru = sd.GetRecipientUnits()[i]
			}
			if key, ok := keep(rc.GetAgencyCode(), ru); ok {
				for _, r := range []*statsRow{row(key), total} {
					r.received++
					if p.electronic {
						r.electronic++
					}
					if p.hours >= 0 {
						r.hours = append(r.hours, p.hours)
					}
				}
			}
		}
		if key, ok := keep(d.GetFrom(), sd.GetFromUnit()); ok {
			for _, r := range []*statsRow{row(key), total} {
				r.sent++
				if allElectronic && !d.GetBusiness().GetPaper() {
					r.fullyOnline++
				}
			}
		}
	}
	out := &docv1.DocumentStats{Total: total.proto("")}
	keys := make([]string, 0, len(rows))
	for k := range rows {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out.Rows = append(out.Rows, rows[k].proto(k))
	}
	return out, nil
}

func (r *statsRow) proto(key string) *docv1.DocumentStatsRow {
	out := &docv1.DocumentStatsRow{Key: key, Sent: r.sent, Received: r.received, ReceivedElectronically: r.electronic, SentFullyOnline: r.fullyOnline}
	if r.received > 0 {
		out.ElectronicShare = float64(r.electronic) / float64(r.received)
	}
	if r.sent > 0 {
		out.FullyOnlineShare = float64(r.fullyOnline) / float64(r.sent)
	}
	if n := len(r.hours); n > 0 {
		sort.Float64s(r.hours)
		if n%2 == 1 {
			out.MedianHoursToAcceptance = r.hours[n/2]
		} else {
			out.MedianHoursToAcceptance = (r.hours[n/2-1] + r.hours[n/2]) / 2
		}
	}
	return out
}
