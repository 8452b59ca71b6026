package scoring

import (
	"context"
	"fmt"

	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	scoringv1 "github.com/lienthong/lienthong/proto/gen/lienthong/scoring/v1"
)

// ProcedureFacts are what the QĐ 766 shares need to know of a procedure (docs/domain.md,
// "QĐ 766 service-quality index"): whether it charges a fee and what its result is.
type ProcedureFacts struct {
	Code       string
	HasFee     bool
	ResultKind catalogv1.ResultKind
}

// paperResult says whether a procedure's result is a document issued on paper, the
// denominator of the electronic-result share: PAPER or BOTH, and a procedure whose kind
// the catalog does not give (most procedures' results are papers; docs/domain.md).
func paperResult(k catalogv1.ResultKind) bool {
	switch k {
	case catalogv1.ResultKind_RESULT_KIND_PAPER, catalogv1.ResultKind_RESULT_KIND_BOTH, catalogv1.ResultKind_RESULT_KIND_UNSPECIFIED:
		return true
	}
	return false
}

// procedureValues computes the shares whose denominators are the dossiers of some
// procedures only (QĐ 766): online payment over the resolved dossiers of procedures with a
// fee, electronic results over the resolved dossiers of procedures whose result is a paper.
// The catalog says which procedures those are (as of today); the dossier part gives each
// procedure's figures of the period.
func (e *Engine) procedureValues(ctx context.Context, m *scoringv1.Methodology, p Period, in *inputs) {
	geo := e.geography(ctx, p, in.units)
	type unitData struct {
		facts map[string]ProcedureFacts
		rows  map[string]*dossierv1.StatsRow
		why   string
	}
	data := map[string]*unitData{}
	get := func(unit string) *unitData {
		if d := data[unit]; d != nil {
			return d
		}
		d := &unitData{}
		data[unit] = d
		facts, err := e.catalog.Procedures(ctx, unit)
		if err != nil {
			d.why = "no data: " + unavailableReason("catalog", err)
			return d
		}
		d.facts = map[string]ProcedureFacts{}
		for _, f := range facts {
			d.facts[f.Code] = f
		}
		if d.rows, err = e.dossier.ByProcedure(ctx, unit, p.String(), geo); err != nil {
			d.why = "no data: " + unavailableReason("dossier", err)
		}
		return d
	}
	eachComputed(m, "procedures", func(ind *scoringv1.Indicator) {
		for _, u := range in.units {
			d := get(u.Code)
			if d.why != "" {
				in.values[u.Code][ind.GetId()] = value{why: d.why}
				continue
			}
			in.values[u.Code][ind.GetId()] = procedureShare(ind.GetFormula(), d.facts, d.rows, p, geo)
		}
	})
}

// procedureShare sums a unit's per-procedure rows over the procedures that belong to the
// formula's denominator.
func procedureShare(f string, facts map[string]ProcedureFacts, rows map[string]*dossierv1.StatsRow, p Period, geo string) value {
	var num, den, unknown int64
	var what, kind string
	for code, r := range rows {
		resolved := r.GetResolvedEarly() + r.GetResolvedOnTime() + r.GetResolvedLate()
		pf, known := facts[code]
		if !known {
			unknown += resolved
			continue
		}
		switch f {
		case "dossier.online_payment_share":
			if pf.HasFee {
				num, den = num+r.GetResolvedPaidOnline(), den+resolved
			}
		case "dossier.electronic_result_share":
			if paperResult(pf.ResultKind) {
				num, den = num+r.GetResolvedElectronicResult(), den+resolved
			}
		}
	}
	switch f {
	case "dossier.online_payment_share":
		what, kind = "paid online", "procedures with a fee"
	default:
		what, kind = "with an electronic result", "procedures whose result is a paper"
	}
	skipped := ""
	if unknown > 0 {
		skipped = fmt.Sprintf("; %d resolved dossiers of procedures the catalog does not list are left out", unknown)
	}
	if den == 0 {
		return value{why: fmt.Sprintf("no data: no resolved dossiers of %s in %s%s", kind, p, skipped)}
	}
	return value{ok: true, v: float64(num) / float64(den),
		why: fmt.Sprintf("%d / %d resolved dossiers of %s, %s (QĐ 766), from the dossier part's statistics by procedure for %s (%s) and the catalog as of today%s",
			num, den, kind, what, p, geographyNote(geo), skipped)}
}
