package scoring

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"fmt"
	"slices"
	"strconv"
	"strings"

	scoringv1 "github.com/lienthong/lienthong/proto/gen/lienthong/scoring/v1"
	"go.uber.org/zap"
)

// The demo of scoring inside a province (docs/domain.md, "Scoring inside a province"):
// Hà Giang (02) ranks its departments and district People's Committees for 2015-Q1 with the
// methodology demo/ha-giang-agencies-2015.json, from the SYNTHETIC agency reports of
// demo/ha-giang-agencies-2015-q1.csv (the article gives no per-department figure; both
// files say so).

//go:embed demo/ha-giang-agencies-2015.json
var demoProvinceMethodologyJSON []byte

//go:embed demo/ha-giang-agencies-2015-q1.csv
var demoProvinceReportsCSV []byte

// DemoProvinceMethodology is the id of the demo methodology of Hà Giang's agencies.
const DemoProvinceMethodology = "HG-CNTT-2015"

const provinceSyntheticNote = "SYNTHETIC demo values (made up: the Hà Giang article describes quarterly scoring of each department and district but gives no figure per agency; not real figures)"

// demoProvinceMethodology reads and checks the demo methodology.
func demoProvinceMethodology(reg registry) (*scoringv1.Methodology, error) {
	m := &scoringv1.Methodology{}
	if err := jsonIn.Unmarshal(demoProvinceMethodologyJSON, m); err != nil {
		return nil, fmt.Errorf("demo/ha-giang-agencies-2015.json: %w", err)
	}
	checked, err := checkMethodology(m, reg)
	if err != nil {
		return nil, fmt.Errorf("demo/ha-giang-agencies-2015.json: %w", err)
	}
	checked.CreatedBy = DemoSystem
	return checked, nil
}

// demoProvinceReports builds one report per agency from the synthetic values, each checked
// as a submitted report is.
func demoProvinceReports(reg registry, province string) ([]*scoringv1.MetricReport, error) {
	cr := csv.NewReader(bytes.NewReader(demoProvinceReportsCSV))
	cr.Comment = '#'
	cr.FieldsPerRecord = 4
	recs, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("demo/ha-giang-agencies-2015-q1.csv: %w", err)
	}
	if len(recs) == 0 || strings.Join(recs[0], ",") != "agency_code,period,indicator,value" {
		return nil, fmt.Errorf("demo/ha-giang-agencies-2015-q1.csv: the header must be agency_code,period,indicator,value")
	}
	type key struct{ agency, period string }
	values := map[key]map[string]float64{}
	var keys []key
	for i, rec := range recs[1:] {
		x, err := strconv.ParseFloat(rec[3], 64)
		if err != nil {
			return nil, fmt.Errorf("demo/ha-giang-agencies-2015-q1.csv row %d: value %q is not a number", i+1, rec[3])
		}
		k := key{rec[0], rec[1]}
		if values[k] == nil {
			values[k] = map[string]float64{}
			keys = append(keys, k)
		}
		values[k][rec[2]] = x
	}
	slices.SortFunc(keys, func(a, b key) int { return strings.Compare(a.period+a.agency, b.period+b.agency) })
	out := make([]*scoringv1.MetricReport, 0, len(keys))
	for _, k := range keys {
		req := &scoringv1.PutMetricReportRequest{Agency: k.agency, Period: k.period, Values: values[k], Note: provinceSyntheticNote}
		if _, err := checkReport(req, reg); err != nil {
			return nil, fmt.Errorf("demo report %s/%s: %w", k.agency, k.period, err)
		}
		out = append(out, &scoringv1.MetricReport{UnitCode: province, AgencyCode: k.agency, ScopeUnit: province, Period: k.period,
			Values: req.GetValues(), Note: req.GetNote(), SubmittedBy: DemoSystem})
	}
	return out, nil
}

// loadProvinceDemo stores the demo methodology of Hà Giang's agencies and their reports
// once, leaving what is already stored alone.
func (s *Service) loadProvinceDemo() error {
	s.mu.Lock()
	m, err := demoProvinceMethodology(s.reg)
	if err == nil && s.methodologies[m.GetId()] == nil {
		m.CreatedAt = s.stamp()
		if err = s.store.AddMethodology(m); err == nil {
			s.methodologies[m.GetId()] = m
			s.reg.add(m)
			s.engine.invalidate()
		}
	}
	var reports []*scoringv1.MetricReport
	if err == nil {
		reports, err = demoProvinceReports(s.reg, m.GetScopeUnit())
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	var fresh []*scoringv1.MetricReport
	for _, r := range reports {
		have, err := s.store.Report(r.GetPeriod(), r.GetAgencyCode(), 0)
		if err != nil {
			return err
		}
		if have == nil {
			r.SubmittedAt = s.stamp()
			fresh = append(fresh, r)
		}
	}
	if len(fresh) == 0 {
		return nil
	}
	n, err := s.store.PutReports(fresh)
	if err != nil {
		return err
	}
	s.lg.Info("demo agency metric reports loaded", zap.String("methodology", DemoProvinceMethodology), zap.Int("reports", n))
	return nil
}
