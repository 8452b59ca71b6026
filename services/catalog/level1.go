package catalog

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	"github.com/lienthong/lienthong/services/platform"
	"google.golang.org/protobuf/proto"
)

// The level-1 codes of agency identifiers (QCVN 102:2016; QĐ 20/2020/QĐ-TTg as amended by
// QĐ 09/2025/QĐ-TTg): H01–H63 for the provincial People's Committees in alphabetical order
// of the province names, G-codes for central bodies, each with its periods and how sure the
// row is; and the successors of the G-codes that closed in 2025. docs/domain.md, Identifiers,
// says where they come from and warns about the inferred rows.
var (
	//go:embed data/agency-level1-codes.csv
	level1CodesCSV []byte
	//go:embed data/level1-successors.csv
	level1SuccessorsCSV []byte
)

// level1Period is one period of a level-1 code.
type level1Period struct {
	code string
	p    *catalogv1.Level1CodePeriod
}

// level1Table holds the level-1 codes in memory; it is built once at Open and never changed.
type level1Table struct {
	codes   []string                   // sorted
	periods map[string][]*level1Period // by code, oldest first
	byUnit  map[string][]*level1Period // by province-level unit code, oldest first
}

// newLevel1Table reads the level-1 table and ties each provincial row to its unit: before
// 2025-07-01 the unit of `unit_code_before_2025`; from then the province that unit became
// part of (new Bắc Ninh, 24, holds H05, the code of old Bắc Ninh, 27). K-codes of the
// People's Councils are derived from the H-codes (same number, same province, same period).
func newLevel1Table(codesCSV, successorsCSV []byte, units map[string]*catalogv1.Unit) (*level1Table, error) {
	recs, err := readCSV(codesCSV, []string{"level1_code", "name", "kind", "unit_code_before_2025", "in_force_from", "in_force_to", "evidence"})
	if err != nil {
		return nil, fmt.Errorf("level-1 codes: %w", err)
	}
	t := &level1Table{periods: map[string][]*level1Period{}, byUnit: map[string][]*level1Period{}}
	for i, r := range recs {
		p, err := level1Row(r, units)
		if err != nil {
			return nil, fmt.Errorf("level-1 codes row %d: %w", i+1, err)
		}
		t.add(p)
		if p.code[0] == 'H' {
			t.add(councilOf(p))
		}
	}
	for code, ps := range t.periods {
		sort.Slice(ps, func(i, j int) bool { return ps[i].p.GetValidFrom() < ps[j].p.GetValidFrom() })
		for i := 1; i < len(ps); i++ {
			if prev := ps[i-1].p.GetValidTo(); prev == "" || prev >= ps[i].p.GetValidFrom() {
				return nil, fmt.Errorf("level-1 codes: periods of %s overlap", code)
			}
		}
	}
	for _, ps := range t.byUnit {
		sort.Slice(ps, func(i, j int) bool { return ps[i].p.GetValidFrom() < ps[j].p.GetValidFrom() })
	}
	t.codes = sortedKeys(t.periods)
	t.linkProvinceSuccessors(units)
	if err := t.linkRecordedSuccessors(successorsCSV); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *level1Table) add(p *level1Period) {
	t.periods[p.code] = append(t.periods[p.code], p)
	if u := p.p.GetUnitCode(); u != "" {
		t.byUnit[u] = append(t.byUnit[u], p)
	}
}

func level1Row(r []string, units map[string]*catalogv1.Unit) (*level1Period, error) {
	code, name, kind, before, from, to, evidence := r[0], platform.NFC(r[1]), r[2], r[3], r[4], r[5], platform.NFC(r[6])
	if len(code) != 3 || !strings.Contains("GHK", code[:1]) {
		return nil, fmt.Errorf("code %q is not a level-1 code", code)
	}
	var v platform.Violations
	parseDate("in_force_from", from, "", &v)
	parseDate("in_force_to", to, "", &v)
	if err := v.Err(); err != nil || from == "" || (to != "" && to < from) {
		return nil, fmt.Errorf("%s: bad period %q–%q", code, from, to)
	}
	p := &catalogv1.Level1CodePeriod{Name: name, Kind: kind, ValidFrom: from, ValidTo: to, EvidenceNote: evidence,
		Evidence: catalogv1.Level1Evidence_LEVEL1_EVIDENCE_INFERRED}
	if strings.HasPrefix(evidence, "CONFIRMED") {
		p.Evidence = catalogv1.Level1Evidence_LEVEL1_EVIDENCE_CONFIRMED
	}
	if kind == "province" || kind == "city" {
		unit, err := level1Unit(before, from, units)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", code, err)
		}
		p.UnitCode = unit
	}
	return &level1Period{code: code, p: p}, nil
}

// level1Unit is the province-level unit that holds a provincial code from `from`: the unit
// `before` itself before the reorganisation, the province it became part of after.
func level1Unit(before, from string, units map[string]*catalogv1.Unit) (string, error) {
	u, ok := units[before]
	if !ok {
		return "", fmt.Errorf("unit %q does not exist", before)
	}
	if from < Reorganisation {
		return before, nil
	}
	if inForce(u.GetValidFrom(), u.GetValidTo(), from) {
		return before, nil
	}
	for _, s := range u.GetSuccessors() {
		if su, ok := units[s]; ok && inForce(su.GetValidFrom(), su.GetValidTo(), from) {
			return s, nil
		}
	}
	return "", fmt.Errorf("unit %s has no successor in force on %s", before, from)
}

// councilOf derives the People's Council's K-code from a People's Committee's H-code.
func councilOf(h *level1Period) *level1Period {
	p := proto.Clone(h.p).(*catalogv1.Level1CodePeriod)
	p.Name = "HĐND " + strings.TrimPrefix(p.GetName(), "UBND ")
	p.Kind += "_council"
	p.Evidence = catalogv1.Level1Evidence_LEVEL1_EVIDENCE_INFERRED
	p.EvidenceNote = "INFERRED: derived from " + h.code + " by the prefix rule (K is the People's Council of the province whose People's Committee is H with the same number; seen for K41, K54, K57). Evidence of " + h.code + ": " + h.p.GetEvidenceNote()
	return &level1Period{code: "K" + h.code[1:], p: p}
}

// linkProvinceSuccessors names, for each provincial code that closed (no later period), the
// code its province's successor holds the next day (H02 Bắc Giang → H05 Bắc Ninh).
func (t *level1Table) linkProvinceSuccessors(units map[string]*catalogv1.Unit) {
	for _, ps := range t.periods {
		last := ps[len(ps)-1]
		if last.p.GetValidTo() == "" || last.p.GetUnitCode() == "" {
			continue
		}
		next := dayAfter(last.p.GetValidTo())
		u := units[last.p.GetUnitCode()]
		candidates := []string{u.GetCode()}
		if !inForce(u.GetValidFrom(), u.GetValidTo(), next) {
			candidates = u.GetSuccessors()
		}
		for _, s := range candidates {
			if code := t.forUnit(s, last.code[0], next, false); code != "" {
				last.p.SuccessorCode = code
			}
		}
	}
}

// linkRecordedSuccessors reads the successors of central bodies' codes.
func (t *level1Table) linkRecordedSuccessors(data []byte) error {
	recs, err := readCSV(data, []string{"code", "valid_to", "successor_code", "source"})
	if err != nil {
		return fmt.Errorf("level-1 successors: %w", err)
	}
	for i, r := range recs {
		ps, ok := t.periods[r[0]]
		if !ok || t.periods[r[2]] == nil {
			return fmt.Errorf("level-1 successors row %d: unknown code %s or %s", i+1, r[0], r[2])
		}
		found := false
		for _, p := range ps {
			if p.p.GetValidTo() == r[1] {
				p.p.SuccessorCode, found = r[2], true
			}
		}
		if !found {
			return fmt.Errorf("level-1 successors row %d: %s has no period ending %s", i+1, r[0], r[1])
		}
	}
	return nil
}

// at answers the period of code in force on date, or the nearest one, and whether it is in
// force.
func (t *level1Table) at(code, date string) (*catalogv1.Level1CodePeriod, bool) {
	ps := t.periods[code]
	if len(ps) == 0 {
		return nil, false
	}
	nearest := ps[0]
	for _, p := range ps {
		if inForce(p.p.GetValidFrom(), p.p.GetValidTo(), date) {
			return p.p, true
		}
		if p.p.GetValidFrom() <= date {
			nearest = p
		}
	}
	return nearest.p, false
}

// forUnit answers the level-1 code with the letter (H or K) of a province-level unit on a
// date; "" when none is in force then. With nearest, a date before the unit's first period
// or after its last takes that period's code.
func (t *level1Table) forUnit(unit string, letter byte, date string, nearest bool) string {
	var first, last *level1Period
	for _, p := range t.byUnit[unit] {
		if p.code[0] != letter {
			continue
		}
		if inForce(p.p.GetValidFrom(), p.p.GetValidTo(), date) {
			return p.code
		}
		if first == nil {
			first = p
		}
		last = p
	}
	switch {
	case !nearest || first == nil:
		return ""
	case date < first.p.GetValidFrom():
		return first.code
	case last.p.GetValidTo() != "" && date > last.p.GetValidTo():
		return last.code
	}
	return ""
}

// view answers a code as the API shows it on date.
func (t *level1Table) view(code, date string) *catalogv1.Level1Code {
	p, in := t.at(code, date)
	out := &catalogv1.Level1Code{Code: code, Period: p, InForce: in}
	for _, x := range t.periods[code] {
		out.Periods = append(out.Periods, x.p)
	}
	return out
}

// provinceOf answers the province-level unit of a unit (itself, or its parent's).
func (c *Catalog) provinceOf(u *catalogv1.Unit) *catalogv1.Unit {
	for i := 0; i < 3 && u != nil && len(u.GetCode()) != 2; i++ {
		u = c.units[u.GetParentCode()]
	}
	return u
}

// GetLevel1Code answers one level-1 code with its periods.
func (c *Catalog) GetLevel1Code(_ context.Context, r *catalogv1.GetLevel1CodeRequest) (*catalogv1.Level1Code, error) {
	var v platform.Violations
	date := parseDate("date", r.GetDate(), c.today(), &v)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if _, ok := c.level1.periods[r.GetCode()]; !ok {
		return nil, platform.NotFound("level-1 code", r.GetCode())
	}
	return c.level1.view(r.GetCode(), date), nil
}

// ListLevel1Codes answers the level-1 codes in force on a date.
func (c *Catalog) ListLevel1Codes(_ context.Context, r *catalogv1.ListLevel1CodesRequest) (*catalogv1.ListLevel1CodesResponse, error) {
	var v platform.Violations
	date := parseDate("date", r.GetDate(), c.today(), &v)
	if p := r.GetPrefix(); p != "" && p != "H" && p != "K" && p != "G" {
		v.Add("prefix", "must be H, K or G, got %q", p)
	}
	size, err := platform.PageSize(r.GetPageSize())
	if err != nil {
		return nil, err
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	province := ""
	if r.GetUnit() != "" {
		c.mu.RLock()
		u, ok := c.units[r.GetUnit()]
		province = c.provinceOf(u).GetCode()
		c.mu.RUnlock()
		if !ok {
			return nil, platform.NotFound("unit", r.GetUnit())
		}
	}
	query := "level1|" + date + "|" + r.GetPrefix() + "|" + r.GetUnit()
	after, err := platform.DecodePageToken(query, r.GetPageToken())
	if err != nil {
		return nil, err
	}
	out, next, total := page(c.level1.codes, after, size, query, func(code string) (string, bool) {
		if r.GetPrefix() != "" && code[:1] != r.GetPrefix() {
			return "", false
		}
		p, in := c.level1.at(code, date)
		if !in || (province != "" && p.GetUnitCode() != province) {
			return "", false
		}
		return code, true
	})
	resp := &catalogv1.ListLevel1CodesResponse{NextPageToken: next, TotalSize: int32(total)}
	for _, code := range out {
		resp.Level1Codes = append(resp.Level1Codes, c.level1.view(code, date))
	}
	return resp, nil
}

// readCSV reads a CSV file with the given header and returns its rows.
func readCSV(data []byte, header []string) ([][]string, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = len(header)
	h, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	for i := range header {
		if h[i] != header[i] {
			return nil, fmt.Errorf("header: column %d is %q, want %q", i+1, h[i], header[i])
		}
	}
	var rows [][]string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return nil, err
		}
		rows = append(rows, rec)
	}
}

func dayAfter(date string) string {
	t, _ := time.Parse(dateLayout, date)
	return t.AddDate(0, 0, 1).Format(dateLayout)
}
