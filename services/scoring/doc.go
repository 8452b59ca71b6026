// Package scoring is lienthong's scoring part (lienthong.scoring.v1): provinces' metric
// reports, methodologies kept as data, tie-aware rankings whose every score explains
// itself, heartbeats and the interconnection status of provincial systems.
//
// Where things are decided:
//
//   - methodology.go and methodologies/*.json: the built-in methodologies (ICT-2018,
//     QD766-2022), the registry of indicators legacy portals report, and the checks a new
//     methodology must pass (every problem listed in one INVALID_ARGUMENT).
//   - formulas.go: the closed list of formulas of COMPUTED indicators.
//   - reports.go: the checks of a submitted metric report; store.go keeps every revision
//     (key period/unit/revision) and closed periods.
//   - engine.go: the values of a period (submitted, rolled up for merged units, and the
//     other parts' live figures), normalisation, points, competition ranks (1, 2, 2, 4),
//     the previous period in this period's geography, and the cache (dropped on any
//     write; results that use live figures are also recomputed after Options.LiveTTL).
//   - scope.go: methodologies of the agencies or communes of one province (their scope),
//     reports of agencies and communes, a province's rights over its own scope, reporting
//     periods closed per scope (docs/domain.md, "Scoring inside a province").
//   - interconnection.go: channel states from the heartbeat's age and real activity
//     (each system's last stored dossier event and refusals, from the dossier part's
//     ListSystemActivity; documents waiting, from docexchange).
//   - figures.go: the small interfaces through which the other parts' figures arrive
//     (CatalogSource, DossierSource, DocExchangeSource, DossierActivitySource) and their
//     gRPC implementations.
//
// Document-exchange figures come through DocExchangeSource: GRPCDocExchange
// (docexchange_source.go) asks the docexchange part; NoDocExchange answers every figure as
// unavailable (for a scoring part run without it), and indicators then say "no data" with
// the reason, never a number.
//
// Demo data: demo.go, demo_province.go and demo/ (see the README, "Scoring demo data"); the
// synthetic values are labelled as such in the file and in each report's note.
package scoring
