package scoring

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/csv"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	scoringv1 "github.com/lienthong/lienthong/proto/gen/lienthong/scoring/v1"
	"go.uber.org/zap"
)

// The demo data (lienthong up --demo):
//
//   - demo/seed-figures.csv: the figures quoted by the source articles (inspections in Hưng
//     Yên 2018, Bình Thuận 2015, Nam Định 2019, Hà Giang 2015), loaded as they are. Rows that
//     are outcomes rather than indicators (the ICT ranks of Nam Định) or have no number are
//     left out; "10/10" is the share 1 for a RATIO indicator.
//   - demo/ict-2017-2018.csv: SYNTHETIC indicator values of ICT-2018 for all 63 provinces in
//     2017 and 2018. They are made up (by TestDemoGenerate) so that the ICT-2018 methodology,
//     computed by this service, ranks Nam Định (36) 52nd of 63 in 2017 and 22nd in 2018 (up
//     30 places), 6th in online public services in 2018 (49th in 2017) and 26th in human
//     resources (45th in 2017), as the articles report, and two provinces share 17th place in
//     2017 (as two did, at 0.633, in the real ranking). No value in it is a real figure;
//     Hưng Yên's 2018 values quoted by the articles replace the synthetic ones.

//go:embed demo/seed-figures.csv
var seedFiguresCSV []byte

//go:embed demo/ict-2017-2018.csv
var ictDemoCSV []byte

// DemoSystem is the submitter recorded on demo reports.
const DemoSystem = "lienthong/demo"

const (
	syntheticNote = "SYNTHETIC demo values (made up so that the ICT-2018 ranking reproduces the ranks the source articles report; not real figures)"
	seedNote      = "figures quoted by the source articles (seed-figures.csv)"
)

// demoReports builds the demo reports: the synthetic ICT values, with the articles' figures
// merged over them.
func demoReports(reg registry) ([]*scoringv1.MetricReport, error) {
	type key struct{ unit, period string }
	values := map[key]map[string]float64{}
	notes := map[key][]string{}
	synthetic, err := parseDemoCSV(bytes.NewReader(ictDemoCSV))
	if err != nil {
		return nil, fmt.Errorf("demo/ict-2017-2018.csv: %w", err)
	}
	for _, r := range synthetic {
		k := key{r.unit, r.period}
		if values[k] == nil {
			values[k] = map[string]float64{}
			notes[k] = []string{syntheticNote}
		}
		values[k][r.indicator] = r.value
	}
	seed, err := ParseSeedFigures(bytes.NewReader(seedFiguresCSV), reg)
	if err != nil {
		return nil, fmt.Errorf("demo/seed-figures.csv: %w", err)
	}
	for _, r := range seed {
		k := key{r.unit, r.period}
		if values[k] == nil {
			values[k] = map[string]float64{}
		}
		values[k][r.indicator] = r.value
		notes[k] = append(notes[k], r.indicator+": "+seedNote)
	}
	keys := slices.Collect(maps.Keys(values))
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].period != keys[j].period {
			return keys[i].period < keys[j].period
		}
		return keys[i].unit < keys[j].unit
	})
	out := make([]*scoringv1.MetricReport, 0, len(keys))
	for _, k := range keys {
		req := &scoringv1.PutMetricReportRequest{Unit: k.unit, Period: k.period, Values: values[k], Note: strings.Join(notes[k], "; ")}
		if _, err := checkReport(req, reg); err != nil {
			return nil, fmt.Errorf("demo report %s/%s: %w", k.unit, k.period, err)
		}
		out = append(out, &scoringv1.MetricReport{UnitCode: k.unit, Period: k.period, Values: req.GetValues(), Note: req.GetNote(), SubmittedBy: DemoSystem})
	}
	return out, nil
}

// LoadDemo stores the demo reports once: a unit and period that already has a report keeps
// it (so later starts and closed periods are left alone).
func (s *Service) LoadDemo(context.Context) error {
	s.mu.RLock()
	reports, err := demoReports(s.reg)
	s.mu.RUnlock()
	if err != nil {
		return err
	}
	if err := s.demoHeartbeat(); err != nil {
		return err
	}
	if err := s.loadProvinceDemo(); err != nil {
		return err
	}
	var fresh []*scoringv1.MetricReport
	for _, r := range reports {
		have, err := s.store.Report(r.GetPeriod(), r.GetUnitCode(), 0)
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
	s.lg.Info("demo metric reports loaded", zap.Int("reports", n))
	return nil
}

// demoRow is one value of a demo file.
type demoRow struct {
	unit, period, indicator string
	value                   float64
}

// parseDemoCSV reads `unit_code,period,indicator,value` rows; lines starting with # are
// comments.
func parseDemoCSV(r io.Reader) ([]demoRow, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = 4
	recs, err := cr.ReadAll()
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 || strings.Join(recs[0], ",") != "unit_code,period,indicator,value" {
		return nil, fmt.Errorf("the header must be unit_code,period,indicator,value")
	}
	out := make([]demoRow, 0, len(recs)-1)
	for i, rec := range recs[1:] {
		x, err := strconv.ParseFloat(rec[3], 64)
		if err != nil {
			return nil, fmt.Errorf("row %d: value %q is not a number", i+1, rec[3])
		}
		out = append(out, demoRow{unit: rec[0], period: rec[1], indicator: rec[2], value: x})
	}
	return out, nil
}

// ParseSeedFigures reads the source articles' figures
// (`unit_code,unit_name_then,period,metric,value,note`) and keeps the rows whose metric is a
// known SUBMITTED indicator with a numeric value: a number, or `a/b` for a RATIO indicator.
// Other rows (ranks, inspections without a figure) are outcomes, not indicators.
func ParseSeedFigures(r io.Reader, reg registry) ([]demoRow, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = 6
	recs, err := cr.ReadAll()
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 || strings.Join(recs[0], ",") != "unit_code,unit_name_then,period,metric,value,note" {
		return nil, fmt.Errorf("the header must be unit_code,unit_name_then,period,metric,value,note")
	}
	var out []demoRow
	for i, rec := range recs[1:] {
		def := reg[rec[3]]
		if def == nil || def.GetSource() != scoringv1.IndicatorSource_INDICATOR_SOURCE_SUBMITTED {
			continue
		}
		if _, err := ParsePeriod(rec[2]); err != nil {
			return nil, fmt.Errorf("row %d: %w", i+1, err)
		}
		raw := strings.TrimSpace(rec[4])
		var x float64
		if a, b, ok := strings.Cut(raw, "/"); ok {
			if def.GetUnit() != scoringv1.MeasureUnit_MEASURE_UNIT_RATIO {
				continue
			}
			num, err1 := strconv.ParseFloat(a, 64)
			den, err2 := strconv.ParseFloat(b, 64)
			if err1 != nil || err2 != nil || den == 0 {
				return nil, fmt.Errorf("row %d: value %q is not a fraction", i+1, raw)
			}
			x = num / den
		} else {
			v, err := strconv.ParseFloat(raw, 64)
			if err != nil {
				continue // no figure (an inspection note)
			}
			x = v
		}
		out = append(out, demoRow{unit: rec[0], period: rec[2], indicator: rec[3], value: x})
	}
	return out, nil
}

// DemoSilentSystem is a demo one-stop system whose last heartbeat is three hours old when
// the demo is first loaded, so the interconnection status shows a DISCONNECTED system.
const DemoSilentSystem = "000.00.00.H60/motcua"

func (s *Service) demoHeartbeat() error {
	hbs, err := s.store.Heartbeats()
	if err != nil {
		return err
	}
	for _, h := range hbs {
		if h.GetSystem() == DemoSilentSystem {
			return nil
		}
	}
	return s.store.PutHeartbeat(&scoringv1.Heartbeat{System: DemoSilentSystem, UnitCode: "08",
		Channels: []string{ChannelDossierPush}, Software: "demo: a synthetic one-stop system that went silent",
		ReceivedAt: s.now().Add(-3 * time.Hour).In(vietnam).Format(time.RFC3339), SentBy: DemoSystem})
}
