package dossier

import (
	"context"
	"strings"

	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	"github.com/lienthong/lienthong/services/platform"
)

// The demo's agencies after their province merged (docs/domain.md, Agencies): an agency of a
// retired province closed with it, so its dossiers received after it closed are filed at
// the agency of the same rank in the province it merged into (Sở Tư pháp Nam Định,
// 000.02.00.H40, is followed by Sở Tư pháp Ninh Bình, 000.02.00.H42) when the catalog has
// one, else at the successor the catalog names (the People's Committee of that province).

// demoAgencyLife is what the demo keeps of an agency's life.
type demoAgencyLife struct {
	validTo   string // last day in force, YYYY-MM-DD; "" while in force
	successor string // agency that takes its dossiers after validTo; "" when none
}

// agencyOn is the agency that receives on date the dossiers of a pair's agency.
func (w *demoWorld) agencyOn(agency, date string) string {
	l, ok := w.life[agency]
	if !ok || l.validTo == "" || date <= l.validTo || l.successor == "" {
		return agency
	}
	return l.successor
}

// demoSuccessors fills w.life for the agencies of the seed units (whose life the catalog
// gave in ListAgencies as lives), after the units' successors are known.
func (s *Service) demoSuccessors(ctx context.Context, cat catalogv1.CatalogServiceClient, w *demoWorld, lives map[string]*catalogv1.Agency) error {
	w.life = map[string]demoAgencyLife{}
	inSuccessor := map[string]map[string]bool{} // successor unit -> its agencies
	for _, a := range lives {
		if a.GetValidTo() == "" {
			continue
		}
		next := w.successor[a.GetUnitCode()]
		if next == "" || inSuccessor[next] != nil {
			continue
		}
		codes := map[string]bool{}
		token := ""
		for {
			var resp *catalogv1.ListAgenciesResponse
			err := s.demoCall(ctx, "ListAgencies", func(ctx context.Context) (err error) {
				resp, err = cat.ListAgencies(ctx, &catalogv1.ListAgenciesRequest{Unit: next, PageSize: demoCatalogPage, PageToken: token})
				return err
			})
			if err != nil {
				return err
			}
			for _, b := range resp.GetAgencies() {
				if b.GetUnitCode() == next && b.GetValidTo() == "" {
					codes[b.GetCode()] = true
				}
			}
			if token = resp.GetNextPageToken(); token == "" {
				break
			}
		}
		inSuccessor[next] = codes
	}
	for code, a := range lives {
		if a.GetValidTo() == "" {
			continue
		}
		l := demoAgencyLife{validTo: a.GetValidTo(), successor: a.GetSuccessorCode()}
		if same := sameRankIn(code, inSuccessor[w.successor[a.GetUnitCode()]]); same != "" {
			l.successor = same
		}
		w.life[code] = l
	}
	return nil
}

// sameRankIn is the agency among codes whose identifier differs from code only in its
// level-1 code (000.02.00.H40 → 000.02.00.H42); "" when there is not exactly one.
func sameRankIn(code string, codes map[string]bool) string {
	c, err := platform.ParseAgencyCode(code)
	if err != nil || c.Form != platform.AgencyCodeRightToLeft {
		return ""
	}
	below := strings.TrimSuffix(code, c.Level1)
	found := ""
	for other := range codes {
		o, err := platform.ParseAgencyCode(other)
		if err != nil || o.Form != platform.AgencyCodeRightToLeft || strings.TrimSuffix(other, o.Level1) != below {
			continue
		}
		if found != "" {
			return ""
		}
		found = other
	}
	return found
}
