package scoring

import (
	"strings"
	"testing"

	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	scoringv1 "github.com/lienthong/lienthong/proto/gen/lienthong/scoring/v1"
)

// TestQD766ProcedureDenominators: the QĐ 766 formula description ("Mô tả công thức tính chỉ
// số 766", indicators 3.6 and 4.1; docs/domain.md, "QĐ 766 service-quality index") counts
// online payments over the dossiers of procedures with a fee, and electronic results over
// the dossiers of procedures whose result is a paper, not over every resolved dossier.
func TestQD766ProcedureDenominators(t *testing.T) {
	f := newFixture(t)
	f.dossier.rows["2024|historical"] = map[string]*dossierv1.StatsRow{"36": row("36", 100, 40, 90, 10)}
	f.catalog.procs = map[string][]ProcedureFacts{"36": {
		{Code: "1.000001", HasFee: true, ResultKind: catalogv1.ResultKind_RESULT_KIND_PAPER},
		{Code: "1.000002", HasFee: false, ResultKind: catalogv1.ResultKind_RESULT_KIND_NONE},
		{Code: "1.000003", HasFee: true, ResultKind: catalogv1.ResultKind_RESULT_KIND_UNSPECIFIED},
	}}
	f.dossier.procRows = map[string]map[string]*dossierv1.StatsRow{"36|2024|historical": {
		// A fee, a paper result: 30 resolved, 12 paid online, 15 electronic results.
		"1.000001": {ResolvedOnTime: 25, ResolvedLate: 5, ResolvedPaidOnline: 12, ResolvedElectronicResult: 15},
		// No fee, no paper: 60 resolved, in neither denominator.
		"1.000002": {ResolvedEarly: 60, ResolvedElectronicResult: 60},
		// A fee, result kind not given (counted as a paper): 10 resolved, 8 paid, 5 electronic.
		"1.000003": {ResolvedOnTime: 10, ResolvedPaidOnline: 8, ResolvedElectronicResult: 5},
		// Not in the catalog: left out, and said so.
		"9.999999": {ResolvedOnTime: 4, ResolvedPaidOnline: 4},
	}}
	sc, err := f.svc.GetUnitScore(namdinh, &scoringv1.GetUnitScoreRequest{Unit: "36", Methodology: "QD766-2022", Period: "2024"})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]*scoringv1.IndicatorScore{}
	for _, in := range sc.GetIndicators() {
		byID[in.GetId()] = in
	}
	// Before: 24 / 104 resolved and 80 / 104; now 20 / 40 and 20 / 40.
	for id, want := range map[string]string{
		"online_payment_share":    "20 / 40 resolved dossiers of procedures with a fee",
		"electronic_result_share": "20 / 40 resolved dossiers of procedures whose result is a paper",
	} {
		got := byID[id]
		if !got.GetHasValue() || got.GetRawValue() != 0.5 || !strings.Contains(got.GetExplanation(), want) ||
			!strings.Contains(got.GetExplanation(), "4 resolved dossiers of procedures the catalog does not list are left out") {
			t.Errorf("%s: %v, want 0.5 explained %q", id, got, want)
		}
	}
	// A unit without dossiers of such procedures has no value, and the reason.
	f.dossier.procRows["36|2024|historical"] = map[string]*dossierv1.StatsRow{"1.000002": {ResolvedEarly: 3}}
	f.svc.engine.invalidate()
	sc, err = f.svc.GetUnitScore(namdinh, &scoringv1.GetUnitScoreRequest{Unit: "36", Methodology: "QD766-2022", Period: "2024"})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range sc.GetIndicators() {
		if in.GetId() == "online_payment_share" && (in.GetHasValue() || !strings.Contains(in.GetExplanation(), "no resolved dossiers of procedures with a fee in 2024")) {
			t.Errorf("no fee-charging dossiers: %v", in)
		}
	}
}
