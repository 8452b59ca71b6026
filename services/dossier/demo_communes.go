package dossier

import (
	"context"
	"math/rand/v2"
	"sort"

	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
)

// Demo dossiers carry communes (docs/domain.md, Administrative units and Agencies): from
// 2025-07-01, when the catalog holds commune-level units, every demo dossier of a province
// names one of its communes, and a commune-level procedure, which the districts' committees
// carried out before they were abolished, is received by a commune People's Committee the
// catalog holds for the province (kind AGENCY_KIND_COMMUNE_PEOPLES_COMMITTEE), whose commune
// the dossier then carries. Where the catalog holds none for the province, such procedures
// get no dossiers from then on, as before. The choices come from a random stream of their
// own, so the rest of the history (and every figure before 2025-07-01) is the same as
// without them.

// demoCommuneStream is the stream of the commune choices (the others are 1, 2 and
// 1000 + the dossier's index).
const demoCommuneStream = 1 << 40

// demoCommittee is a commune People's Committee and its commune.
type demoCommittee struct{ agency, commune string }

// demoCommunes asks the catalog for the communes of the provinces the seed units are part
// of from 2025-07-01, and for the commune People's Committees among them.
func (s *Service) demoCommunes(ctx context.Context, cat catalogv1.CatalogServiceClient, w *demoWorld) error {
	w.communes = map[string][]string{}
	w.committees = map[string][]demoCommittee{}
	provinceOf := map[string]string{} // commune -> province
	for _, seed := range demoSeedUnits {
		unit := w.unitOn(seed, demoDistrictsAbolished)
		if _, done := w.communes[unit]; done {
			continue
		}
		w.communes[unit] = nil
		token := ""
		for {
			var resp *catalogv1.ListUnitsResponse
			err := s.demoCall(ctx, "ListUnits", func(ctx context.Context) (err error) {
				resp, err = cat.ListUnits(ctx, &catalogv1.ListUnitsRequest{Level: "commune", ParentCode: unit, Date: demoDistrictsAbolished, PageSize: demoCatalogPage, PageToken: token})
				return err
			})
			if err != nil {
				return err
			}
			for _, u := range resp.GetUnits() {
				if u.GetParentCode() == unit {
					w.communes[unit] = append(w.communes[unit], u.GetCode())
					provinceOf[u.GetCode()] = unit
				}
			}
			if token = resp.GetNextPageToken(); token == "" {
				break
			}
		}
		sort.Strings(w.communes[unit])
	}
	token := ""
	for {
		var resp *catalogv1.ListAgenciesResponse
		err := s.demoCall(ctx, "ListAgencies", func(ctx context.Context) (err error) {
			resp, err = cat.ListAgencies(ctx, &catalogv1.ListAgenciesRequest{Kind: catalogv1.AgencyKind_AGENCY_KIND_COMMUNE_PEOPLES_COMMITTEE, PageSize: demoCatalogPage, PageToken: token})
			return err
		})
		if err != nil {
			return err
		}
		for _, a := range resp.GetAgencies() {
			p, ok := provinceOf[a.GetUnitCode()]
			if ok && a.GetKind() == catalogv1.AgencyKind_AGENCY_KIND_COMMUNE_PEOPLES_COMMITTEE && a.GetValidTo() == "" {
				w.committees[p] = append(w.committees[p], demoCommittee{agency: a.GetCode(), commune: a.GetUnitCode()})
			}
		}
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	for _, cs := range w.committees {
		sort.Slice(cs, func(i, j int) bool { return cs[i].agency < cs[j].agency })
	}
	return nil
}

// atCommune reports whether a pair that is out of force on date only because the districts
// were abolished is received on date by a commune People's Committee: a commune-level
// procedure in force, in a province whose committees the catalog holds.
func (w *demoWorld) atCommune(p *demoPair, date string) bool {
	return p.communeLevel && p.district && date >= demoDistrictsAbolished &&
		(p.from == "" || p.from <= date) && (p.to == "" || date <= p.to) &&
		len(w.committees[w.unitOn(p.unit, date)]) > 0
}

// committeeFor is the commune People's Committee that receives a pair's dossier on date
// (zero when atCommune is false).
func (w *demoWorld) committeeFor(rng *rand.Rand, p *demoPair, date string) demoCommittee {
	if !w.atCommune(p, date) {
		return demoCommittee{}
	}
	cs := w.committees[w.unitOn(p.unit, date)]
	return cs[rng.IntN(len(cs))]
}

// communeOf is a commune of unit for a dossier received on date; "" before 2025-07-01 or
// when the catalog holds none for the unit.
func (w *demoWorld) communeOf(rng *rand.Rand, unit, date string) string {
	cs := w.communes[unit]
	if date < demoDistrictsAbolished || len(cs) == 0 {
		return ""
	}
	return cs[rng.IntN(len(cs))]
}
