package scoring

import (
	"strings"
	"testing"

	scoringv1 "github.com/lienthong/lienthong/proto/gen/lienthong/scoring/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestMetricReportRevisionsAndClosing(t *testing.T) {
	f := newFixture(t)
	req := func(v float64) *scoringv1.PutMetricReportRequest {
		return &scoringv1.PutMetricReportRequest{Unit: "36", Period: "2019", Values: map[string]float64{"online_dossier_pct": v, "online_services_level3": 820}}
	}
	r1, err := f.svc.PutMetricReport(namdinh, req(12.5))
	if err != nil {
		t.Fatal(err)
	}
	if r1.GetRevision() != 1 || r1.GetSubmittedBy() != "000.00.00.H40/cong" || r1.GetSubmittedAt() == "" {
		t.Fatalf("first report: %v", r1)
	}
	// The same values again store nothing.
	same, err := f.svc.PutMetricReport(namdinh, req(12.5))
	if err != nil || same.GetRevision() != 1 {
		t.Fatalf("same again: revision %d, %v", same.GetRevision(), err)
	}
	f.clock.advance(3600e9)
	r2, err := f.svc.PutMetricReport(namdinh, req(14))
	if err != nil || r2.GetRevision() != 2 {
		t.Fatalf("revision: %v %v", r2, err)
	}
	// Another province cannot submit for Nam Định, and nothing is stored.
	if _, err := f.svc.PutMetricReport(hungyen, req(99)); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("other province: got %v, want PERMISSION_DENIED", err)
	}
	if _, err := f.svc.PutMetricReport(ministry, req(99)); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("ministry: got %v, want PERMISSION_DENIED", err)
	}
	// Close the period: revisions are refused, the report stays.
	if _, err := f.svc.CloseReportingPeriod(namdinh, &scoringv1.CloseReportingPeriodRequest{Period: "2019"}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("province closing: got %v", err)
	}
	closed, err := f.svc.CloseReportingPeriod(ministry, &scoringv1.CloseReportingPeriodRequest{Period: "2019"})
	if err != nil || !closed.GetClosed() || closed.GetClosedBy() != "000.00.00.G22/bo" {
		t.Fatalf("close: %v %v", closed, err)
	}
	if _, err := f.svc.PutMetricReport(namdinh, req(15)); status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("after closing: got %v, want FAILED_PRECONDITION", err)
	}
	// Everything survives a restart.
	f.reopen(t)
	got, err := f.svc.GetMetricReport(namdinh, &scoringv1.GetMetricReportRequest{Unit: "36", Period: "2019"})
	if err != nil {
		t.Fatal(err)
	}
	if got.GetRevision() != 2 || got.GetValues()["online_dossier_pct"] != 14 || !got.GetPeriodClosed() {
		t.Errorf("latest after restart: %v", got)
	}
	old, err := f.svc.GetMetricReport(ministry, &scoringv1.GetMetricReportRequest{Unit: "36", Period: "2019", Revision: 1})
	if err != nil || old.GetValues()["online_dossier_pct"] != 12.5 {
		t.Errorf("revision 1: %v %v", old, err)
	}
	if _, err := f.svc.GetMetricReport(hungyen, &scoringv1.GetMetricReportRequest{Unit: "36", Period: "2019"}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("other province reading: got %v", err)
	}
	if _, err := f.svc.GetMetricReport(ministry, &scoringv1.GetMetricReportRequest{Unit: "36", Period: "2019", Revision: 3}); status.Code(err) != codes.NotFound {
		t.Errorf("revision 3: got %v, want NOT_FOUND", err)
	}
	if _, err := f.svc.PutMetricReport(namdinh, req(15)); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("after restart, still closed: got %v", err)
	}
	p1, err := f.svc.ListMetricReportRevisions(ministry, &scoringv1.ListMetricReportRevisionsRequest{Unit: "36", Period: "2019", PageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	if p1.GetTotalSize() != 2 || len(p1.GetRevisions()) != 1 || p1.GetRevisions()[0].GetRevision() != 2 || p1.GetNextPageToken() == "" {
		t.Fatalf("revisions page 1: %v", p1)
	}
	p2, err := f.svc.ListMetricReportRevisions(ministry, &scoringv1.ListMetricReportRevisionsRequest{Unit: "36", Period: "2019", PageSize: 1, PageToken: p1.GetNextPageToken()})
	if err != nil || len(p2.GetRevisions()) != 1 || p2.GetRevisions()[0].GetRevision() != 1 || p2.GetNextPageToken() != "" {
		t.Fatalf("revisions page 2: %v %v", p2, err)
	}
	if _, err := f.svc.ListMetricReportRevisions(ministry, &scoringv1.ListMetricReportRevisionsRequest{Unit: "33", Period: "2019", PageToken: p1.GetNextPageToken()}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("token of another list: got %v, want INVALID_ARGUMENT", err)
	}
}

func TestMetricReportValidation(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name   string
		unit   string
		period string
		values map[string]float64
		fields map[string]string // field → part of its description
	}{
		{"unknown and computed indicators, range, whole counts", "36", "2018",
			map[string]float64{"ict_rank": 22, "on_time_rate": 0.9, "online_dossier_pct": 140, "online_services_level3": 2.5, "ict_policy_score": -0.1},
			map[string]string{
				"values.ict_rank":               "unknown indicator",
				"values.on_time_rate":           "computed from live data",
				"values.online_dossier_pct":     "out of range",
				"values.online_services_level3": "whole number",
				"values.ict_policy_score":       "out of range",
			}},
		{"bad unit and period", "3", "2019-13", map[string]float64{"online_dossier_pct": 1},
			map[string]string{"unit": "2-digit", "period": "month"}},
		{"no values", "36", "2019", nil, map[string]string{"values": "at least one"}},
		{"unit not in force in the period", "36", "2026", map[string]float64{"online_dossier_pct": 1},
			map[string]string{"unit": "not a province-level unit in force during 2026"}},
		{"period not begun", "37", "2030", map[string]float64{"online_dossier_pct": 1},
			map[string]string{"period": "has not begun"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.PutMetricReport(admin, &scoringv1.PutMetricReportRequest{Unit: tt.unit, Period: tt.period, Values: tt.values})
			got := violations(t, err)
			for field, part := range tt.fields {
				if !strings.Contains(got[field], part) {
					t.Errorf("%s: got %q, want it to mention %q (all: %v)", field, got[field], part, got)
				}
			}
		})
	}
	revs, err := f.svc.ListMetricReportRevisions(admin, &scoringv1.ListMetricReportRevisionsRequest{Unit: "36", Period: "2018"})
	if err != nil || revs.GetTotalSize() != 0 {
		t.Errorf("refused reports stored something: %v %v", revs, err)
	}
	// Nam Định reported for 2025: it was in force for half of it.
	if _, err := f.svc.PutMetricReport(namdinh, &scoringv1.PutMetricReportRequest{Unit: "36", Period: "2025-Q1", Values: map[string]float64{"online_dossier_pct": 5}}); err != nil {
		t.Errorf("2025-Q1 for Nam Định: %v", err)
	}
}
