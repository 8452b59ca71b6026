package scoring

import (
	"slices"
	"testing"

	scoringv1 "github.com/lienthong/lienthong/proto/gen/lienthong/scoring/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// badFields are the fields of an error's BadRequest detail.
func badFields(err error) []string {
	var out []string
	for _, d := range status.Convert(err).Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				out = append(out, v.GetField())
			}
		}
	}
	return out
}

// TestReportValueBounds: a submitted value lies in the range of its unit (a count at most
// maxCount, days at most maxDays) and of its indicator; outside it is refused naming
// values.<id>. The fixture's clock is 2026-11-20.
func TestReportValueBounds(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name   string
		values map[string]float64
		field  string // "": stored
	}{
		{"a count of a billion", map[string]float64{"procedures_level2": 1e9}, ""},
		{"a count over a billion", map[string]float64{"procedures_level2": 1e9 + 1}, "values.procedures_level2"},
		{"a count of 1e300", map[string]float64{"procedures_level2": 1e300}, "values.procedures_level2"},
		{"a negative count", map[string]float64{"procedures_level2": -1}, "values.procedures_level2"},
		{"a fractional count", map[string]float64{"procedures_level2": 2.5}, "values.procedures_level2"},
		{"a count over its indicator's max", map[string]float64{"online_services_level3": 100001}, "values.online_services_level3"},
		{"a percent over 100", map[string]float64{"online_dossier_pct": 100.5}, "values.online_dossier_pct"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.PutMetricReport(hungyen, &scoringv1.PutMetricReportRequest{Unit: "33", Period: "2026-10", Values: tc.values})
			if tc.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if status.Code(err) != codes.InvalidArgument || !slices.Equal(badFields(err), []string{tc.field}) {
				t.Fatalf("got %v (fields %v), want INVALID_ARGUMENT on %s", err, badFields(err), tc.field)
			}
		})
	}

	// Days: no built-in indicator submits days, so a registry with one does.
	reg := registry{"delay_days": {Id: "delay_days", Unit: scoringv1.MeasureUnit_MEASURE_UNIT_DAYS, Source: scoringv1.IndicatorSource_INDICATOR_SOURCE_SUBMITTED}}
	for _, tc := range []struct {
		days  float64
		field string
	}{{maxDays, ""}, {maxDays + 1, "values.delay_days"}, {-0.5, "values.delay_days"}} {
		_, err := checkReport(&scoringv1.PutMetricReportRequest{Unit: "33", Period: "2026", Values: map[string]float64{"delay_days": tc.days}}, reg)
		if got := badFields(err); (tc.field == "" && err != nil) || (tc.field != "" && !slices.Equal(got, []string{tc.field})) {
			t.Errorf("%v days: got %v (fields %v), want field %q", tc.days, err, got, tc.field)
		}
	}
}

// TestClosePeriodNotBegun: a period that has not begun cannot be closed (nothing could
// ever be reported for it); one that has can.
func TestClosePeriodNotBegun(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		period string
		code   codes.Code
	}{{"2062", codes.InvalidArgument}, {"2026-12", codes.InvalidArgument}, {"2027-Q1", codes.InvalidArgument}, {"2026-11", codes.OK}, {"2025", codes.OK}} {
		_, err := f.svc.CloseReportingPeriod(ministry, &scoringv1.CloseReportingPeriodRequest{Period: tc.period})
		if status.Code(err) != tc.code {
			t.Errorf("close %s: got %v, want %v", tc.period, err, tc.code)
		}
		if tc.code == codes.InvalidArgument && !slices.Equal(badFields(err), []string{"period"}) {
			t.Errorf("close %s: fields %v, want [period]", tc.period, badFields(err))
		}
	}
}

// TestAdminHeartbeatAgencyOfUnit: an admin, too, files a system only under the unit of its
// agency (or the unit that agency's unit rolled into).
func TestAdminHeartbeatAgencyOfUnit(t *testing.T) {
	f := newFixture(t)
	if _, err := f.svc.SendHeartbeat(admin, &scoringv1.SendHeartbeatRequest{System: "000.00.00.H40/cong", UnitCode: "33"}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("admin, a system of 36 under 33: got %v, want PERMISSION_DENIED", err)
	}
	hbs, err := f.svc.store.Heartbeats()
	if err != nil || len(hbs) != 0 {
		t.Errorf("stored after the refusal: %v %v", hbs, err)
	}
	if _, err := f.svc.SendHeartbeat(admin, &scoringv1.SendHeartbeatRequest{System: "000.00.00.H31/motcua", UnitCode: "33"}); err != nil {
		t.Errorf("admin, a system of 33 under 33: %v", err)
	}
}
