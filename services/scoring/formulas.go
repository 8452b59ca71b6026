package scoring

import (
	"sort"

	scoringv1 "github.com/lienthong/lienthong/proto/gen/lienthong/scoring/v1"
)

// A formula computes a COMPUTED indicator from live figures of another part. The list is
// closed: a methodology naming another formula is refused.
type formula struct {
	unit scoringv1.MeasureUnit
	part string // dossier, procedures, docexchange, catalog, usage or interconnection
	text string // how it is computed, in words, for the score explanation
}

var formulas = map[string]formula{
	"dossier.on_time_rate": {ratio, "dossier",
		"QĐ 766 2.1: accepted dossiers resolved, stopped or withdrawn by their due date, open within due, or waiting on a first supplement asked by the due date / accepted dossiers resolved, stopped or withdrawn in the period, open, or waiting on a supplement (financial waits left out)"},
	"dossier.online_rate": {ratio, "dossier", "received online / received"},
	"dossier.online_payment_share": {ratio, "procedures",
		"resolved dossiers of procedures with a fee, paid online / resolved dossiers of procedures with a fee (QĐ 766)"},
	"dossier.electronic_result_share": {ratio, "procedures",
		"resolved dossiers of procedures whose result is a paper, with an electronic result / resolved dossiers of those procedures (QĐ 766)"},
	"dossier.digitized_share": {ratio, "dossier", "received with digitised papers / received"},
	"dossier.satisfaction":    {ratio, "dossier", "1 − resolved late / resolved − complaint rate (not reported: 0)"},
	"dossier.avg_processing_days": {scoringv1.MeasureUnit_MEASURE_UNIT_DAYS, "dossier",
		"QĐ 766 2.2: mean working days from acceptance to resolution, less supplement waits, of the dossiers accepted in the period and resolved"},
	"dossier.received_total": {scoringv1.MeasureUnit_MEASURE_UNIT_COUNT, "dossier", "dossiers received"},

	"catalog.online_procedure_share":      {ratio, "catalog", "active procedures offered fully or partly online / active procedures (catalog as of today)"},
	"catalog.full_online_procedure_share": {ratio, "catalog", "active procedures offered fully online / active procedures (catalog as of today)"},

	"usage.online_services_used_share": {ratio, "usage",
		"the unit's procedures offered online (catalog as of today) that received at least one dossier online in the period / the unit's procedures offered online"},

	"docexchange.electronic_share":   {ratio, "docexchange", "documents processed electronically / documents received"},
	"docexchange.fully_online_share": {ratio, "docexchange", "documents exchanged entirely over the network / documents sent and received"},
	"docexchange.documents_sent":     {scoringv1.MeasureUnit_MEASURE_UNIT_COUNT, "docexchange", "documents sent"},

	"interconnection.connected_share": {ratio, "interconnection",
		"systems of the unit with every channel CONNECTED / systems of the unit (status now)"},
	"interconnection.dossier_push_connected_share": {ratio, "interconnection",
		"systems of the unit whose dossier push channel is CONNECTED / systems of the unit (status now)"},
}

const ratio = scoringv1.MeasureUnit_MEASURE_UNIT_RATIO

// formulaNames lists the formulas, sorted, for error messages.
func formulaNames() []string {
	out := make([]string, 0, len(formulas))
	for k := range formulas {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
