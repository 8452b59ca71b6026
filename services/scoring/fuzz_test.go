package scoring

import (
	"bytes"
	"errors"
	"math"
	"testing"

	scoringv1 "github.com/lienthong/lienthong/proto/gen/lienthong/scoring/v1"
	"github.com/lienthong/lienthong/services/platform"
	"google.golang.org/protobuf/encoding/protojson"
)

func TestParsePeriod(t *testing.T) {
	tests := []struct {
		in, want, start, end, prev string
		ok                         bool
	}{
		{"2018", "2018", "2018-01-01", "2018-12-31", "2017", true},
		{"2026-Q3", "2026-Q3", "2026-07-01", "2026-09-30", "2026-Q2", true},
		{"2026-Q1", "2026-Q1", "2026-01-01", "2026-03-31", "2025-Q4", true},
		{"2024-02", "2024-02", "2024-02-01", "2024-02-29", "2024-01", true},
		{"2026-01", "2026-01", "2026-01-01", "2026-01-31", "2025-12", true},
		{"2026-13", "", "", "", "", false},
		{"2026-Q5", "", "", "", "", false},
		{"2026-q3", "", "", "", "", false},
		{"1999", "", "", "", "", false},
		{"26", "", "", "", "", false},
		{"", "", "", "", "", false},
	}
	for _, tt := range tests {
		p, err := ParsePeriod(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("%q: err %v, want ok %v", tt.in, err, tt.ok)
			continue
		}
		if !tt.ok {
			continue
		}
		if p.String() != tt.want || p.Start().Format(dateLayout) != tt.start || p.End().Format(dateLayout) != tt.end || p.Previous().String() != tt.prev {
			t.Errorf("%q: %s %s–%s previous %s", tt.in, p, p.Start().Format(dateLayout), p.End().Format(dateLayout), p.Previous())
		}
	}
}

func FuzzParsePeriod(f *testing.F) {
	for _, s := range []string{"2018", "2026-Q3", "2026-10", "2026-00", "9999", "2026-Q0", "20 26", "2026-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePeriod(s)
		if err != nil {
			return
		}
		// A period that parses is its own canonical form, and its bounds are in order.
		if p.String() != s {
			t.Fatalf("%q parses to %q", s, p)
		}
		if p.End().Before(p.Start()) || !p.Previous().End().Before(p.Start()) {
			t.Fatalf("%q: bounds %v–%v, previous ends %v", s, p.Start(), p.End(), p.Previous().End())
		}
	})
}

// FuzzMethodologyJSON feeds methodology JSON as the gateway decodes it: a methodology is
// either refused with field violations or accepted and then scores without NaN.
func FuzzMethodologyJSON(f *testing.F) {
	for _, name := range builtinFiles {
		raw, err := builtinFS.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add([]byte(goodMethodology))
	f.Add([]byte(`{"id":"X","name":"x","period_kinds":[1],"scale":2,"categories":[{"id":"a","name":"a","weight":100,"indicators":[{"id":"on_time_rate","weight":100,"normalization":2,"threshold":1e-300}]}]}`))
	f.Add([]byte(`{"id":"X","name":"x","period_kinds":[1],"scale":1,"categories":[{"id":"a","name":"a","weight":1,"indicators":[{"id":"a_b","name":"n","unit":3,"source":1,"weight":1,"normalization":1,"min":5,"max":2}]}]}`))
	f.Add([]byte(`{"categories":[{"weight":"NaN"}]}`))
	_, reg, err := loadBuiltins()
	if err != nil {
		f.Fatal(err)
	}
	before, _, _ := provinceTables(f)
	units := before[:5]
	f.Fuzz(func(t *testing.T, raw []byte) {
		m := &scoringv1.Methodology{}
		if protojson.Unmarshal(raw, m) != nil {
			return
		}
		r := registry{}
		for k, v := range reg {
			r[k] = v
		}
		out, err := checkMethodology(m, r)
		if err != nil {
			var ce *platform.Error
			if !errors.As(err, &ce) || len(ce.Violations) == 0 {
				t.Fatalf("refused without field violations: %v", err)
			}
			return
		}
		in := &inputs{units: units, values: map[string]map[string]value{}}
		for i, u := range units {
			in.values[u.Code] = map[string]value{}
			for _, c := range out.GetCategories() {
				for _, ind := range c.GetIndicators() {
					lo, hi := unitRange(ind.GetUnit())
					x := lo + float64(i)
					if hi < x {
						x = hi
					}
					in.values[u.Code][ind.GetId()] = value{ok: i > 0, v: x}
				}
			}
		}
		for _, u := range score(out, in) {
			if math.IsNaN(u.total) || math.IsInf(u.total, 0) || u.total < 0 || u.total > scaleTotal(out.GetScale())*(1+1e-6)+1e-6 {
				t.Fatalf("total %v out of 0–%v", u.total, scaleTotal(out.GetScale()))
			}
		}
	})
}

// FuzzMetricReportBody feeds PUT bodies: refused with violations, or accepted with every
// value finite, known, submitted and in range.
func FuzzMetricReportBody(f *testing.F) {
	for _, s := range []string{
		`{"values":{"online_dossier_pct":12.5,"online_services_level3":820}}`,
		`{"values":{"ict_rank":22}}`,
		`{"values":{"online_dossier_pct":"NaN"}}`,
		`{"values":{"online_dossier_pct":"Infinity","on_time_rate":0.5}}`,
		`{"values":{"online_services_level4":1.5},"note":"x"}`,
		`{"values":{}}`,
	} {
		f.Add([]byte(s), "36", "2019")
	}
	_, reg, err := loadBuiltins()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte, unit, period string) {
		r := &scoringv1.PutMetricReportRequest{}
		if protojson.Unmarshal(body, r) != nil {
			return
		}
		r.Unit, r.Period = unit, period
		p, err := checkReport(r, reg)
		if err != nil {
			var ce *platform.Error
			if !errors.As(err, &ce) || len(ce.Violations) == 0 {
				t.Fatalf("refused without field violations: %v", err)
			}
			return
		}
		if p.String() != period || len(r.GetValues()) == 0 {
			t.Fatalf("accepted %q with %d values", period, len(r.GetValues()))
		}
		for id, x := range r.GetValues() {
			def := reg[id]
			lo, hi := unitRange(def.GetUnit())
			if def == nil || def.GetSource() != scoringv1.IndicatorSource_INDICATOR_SOURCE_SUBMITTED || math.IsNaN(x) || x < lo || x > hi {
				t.Fatalf("accepted %s = %v", id, x)
			}
		}
	})
}

// FuzzSeedFigures feeds the articles' CSV format: rows kept are known submitted indicators
// with a valid period.
func FuzzSeedFigures(f *testing.F) {
	f.Add(seedFiguresCSV)
	f.Add([]byte("unit_code,unit_name_then,period,metric,value,note\n33,X,2018,one_stop_district_coverage,1/0,x\n"))
	f.Add([]byte("unit_code,unit_name_then,period,metric,value,note\n33,X,20189,online_dossier_pct,10,x\n"))
	_, reg, err := loadBuiltins()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		rows, err := ParseSeedFigures(bytes.NewReader(raw), reg)
		if err != nil {
			return
		}
		for _, r := range rows {
			if _, err := ParsePeriod(r.period); err != nil || reg[r.indicator] == nil {
				t.Fatalf("kept %v", r)
			}
		}
	})
}
