package scoring

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	"github.com/lienthong/lienthong/services/platform"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// The other parts' figures reach scoring through the small interfaces below, so each can be
// a gRPC client in production and a fake in tests.

// UnitInfo is a province-level unit as it was on a date.
type UnitInfo struct {
	Code, Name string
}

// CatalogSource answers units and procedure figures (the catalog part).
type CatalogSource interface {
	// Provinces are the province-level units in force on a date, by code.
	Provinces(ctx context.Context, date string) ([]UnitInfo, error)
	// CurrentCodes maps unit codes to the units in force today that their territory
	// belongs to (one code after a merger). Unknown codes are left out.
	CurrentCodes(ctx context.Context, codes []string) (map[string][]string, error)
	// ProcedureShares is the share of a unit's active procedures offered online (fully or
	// partly) and fully online, as of today; ok is false when the unit has no procedures.
	ProcedureShares(ctx context.Context, unit string) (online, full float64, ok bool, err error)
	// OnlineProcedures are the codes of a unit's active procedures offered fully or partly
	// online, as of today.
	OnlineProcedures(ctx context.Context, unit string) ([]string, error)
	// Procedures are a unit's active procedures with their fee and result kind, as of today.
	Procedures(ctx context.Context, unit string) ([]ProcedureFacts, error)
	// AgencyUnit is the unit an agency belongs to; found is false when the catalog does not
	// know the agency.
	AgencyUnit(ctx context.Context, agency string) (unit string, found bool, err error)
}

// DossierSource answers dossier statistics (the dossier part).
type DossierSource interface {
	// UnitStats returns one statistics row per unit for the months from–to (`2026`,
	// `2026-Q3`, `2026-10`), in the historical or current geography.
	UnitStats(ctx context.Context, from, to, geography string) (map[string]*dossierv1.StatsRow, error)
	// OnlineByProcedure counts, per procedure, the dossiers of a unit received online in the
	// period from (`2026`, `2026-Q3`, `2026-10`), in the given geography.
	OnlineByProcedure(ctx context.Context, unit, from, geography string) (map[string]int64, error)
	// ByProcedure is a unit's statistics row per procedure for the period from, in the given
	// geography.
	ByProcedure(ctx context.Context, unit, from, geography string) (map[string]*dossierv1.StatsRow, error)
}

// DocumentStats are the document-exchange figures of a unit for a period.
type DocumentStats struct {
	Sent, Received          int64
	ElectronicShare         float64 // documents processed electronically / received
	FullyOnlineShare        float64 // exchanged entirely over the network / sent and received
	HasElectronic, HasFully bool
}

// DocExchangeSource answers document-exchange figures (the docexchange part; see
// GRPCDocExchange).
type DocExchangeSource interface {
	// DocumentStats of a unit for a period.
	DocumentStats(ctx context.Context, unit string, p Period) (DocumentStats, error)
	// WaitingDocuments counts documents addressed to an agency that have waited longer than
	// `older` for acceptance, and the oldest one's arrival.
	WaitingDocuments(ctx context.Context, agency string, older time.Duration) (n int, oldest time.Time, err error)
}

// UnavailableError says a part's figures cannot be had; Reason is shown to users.
type UnavailableError struct{ Reason string }

func (e *UnavailableError) Error() string { return e.Reason }

// unavailableReason returns the words to show for a failed figure fetch.
func unavailableReason(part string, err error) string {
	var u *UnavailableError
	if errors.As(err, &u) {
		return u.Reason
	}
	var pe *platform.Error
	if errors.As(err, &pe) {
		return fmt.Sprintf("the %s part refused the request: %s", part, pe.Message)
	}
	return fmt.Sprintf("the %s service is not reachable", part)
}

// NoDocExchange is the document-exchange source of a scoring part without the docexchange
// part: it reports every figure as unavailable, never a number.
type NoDocExchange struct{}

// errNoDocExchange is what NoDocExchange answers.
var errNoDocExchange = &UnavailableError{Reason: "the document-exchange service is not reachable (not connected to this scoring part)"}

// DocumentStats is unavailable.
func (NoDocExchange) DocumentStats(context.Context, string, Period) (DocumentStats, error) {
	return DocumentStats{}, errNoDocExchange
}

// WaitingDocuments is unavailable.
func (NoDocExchange) WaitingDocuments(context.Context, string, time.Duration) (int, time.Time, error) {
	return 0, time.Time{}, errNoDocExchange
}

// TokenFunc returns a bearer token for scoring's own calls to other parts.
type TokenFunc func() (string, error)

// ServiceToken issues scoring's own ministry token, renewing it an hour before it expires.
func ServiceToken(issuer *platform.TokenIssuer, now func() time.Time) TokenFunc {
	var mu sync.Mutex
	var tok string
	var exp time.Time
	return func() (string, error) {
		mu.Lock()
		defer mu.Unlock()
		t := now()
		if tok != "" && t.Before(exp.Add(-time.Hour)) {
			return tok, nil
		}
		const ttl = 24 * time.Hour
		s, err := issuer.Issue(platform.Caller{System: "lienthong/scoring", Role: platform.RoleMinistry}, ttl, t)
		if err != nil {
			return "", err
		}
		tok, exp = s, t.Add(ttl)
		return tok, nil
	}
}

func withToken(ctx context.Context, token TokenFunc) (context.Context, error) {
	if token == nil {
		return ctx, nil
	}
	t, err := token()
	if err != nil {
		return nil, &UnavailableError{Reason: "scoring has no token to call the other parts"}
	}
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+t), nil
}

// GRPCCatalog is CatalogSource over the catalog part's gRPC API.
type GRPCCatalog struct {
	Client catalogv1.CatalogServiceClient
}

// Provinces lists the province-level units in force on date.
func (g GRPCCatalog) Provinces(ctx context.Context, date string) ([]UnitInfo, error) {
	var out []UnitInfo
	token := ""
	for {
		resp, err := g.Client.ListUnits(ctx, &catalogv1.ListUnitsRequest{Level: "province", Date: date, PageSize: 1000, PageToken: token})
		if err != nil {
			return nil, err
		}
		for _, u := range resp.GetUnits() {
			out = append(out, UnitInfo{Code: u.GetCode(), Name: u.GetName()})
		}
		if token = resp.GetNextPageToken(); token == "" {
			return out, nil
		}
	}
}

// CurrentCodes resolves codes to today's units.
func (g GRPCCatalog) CurrentCodes(ctx context.Context, codes []string) (map[string][]string, error) {
	resp, err := g.Client.LookupReferences(ctx, &catalogv1.LookupReferencesRequest{UnitCodes: codes})
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, u := range resp.GetUnits() {
		out[u.GetUnit().GetCode()] = u.GetCurrentCodes()
	}
	return out, nil
}

// ProcedureShares reads the catalog statistics of a unit.
func (g GRPCCatalog) ProcedureShares(ctx context.Context, unit string) (float64, float64, bool, error) {
	st, err := g.Client.GetCatalogStats(ctx, &catalogv1.GetCatalogStatsRequest{Unit: unit})
	if err != nil {
		return 0, 0, false, err
	}
	if st.GetTotal() == 0 {
		return 0, 0, false, nil
	}
	return st.GetOnlineShare(), st.GetFullShare(), true, nil
}

// AgencyUnit asks the catalog which province-level unit an agency belongs to.
func (g GRPCCatalog) AgencyUnit(ctx context.Context, agency string) (string, bool, error) {
	resp, err := g.Client.LookupReferences(ctx, &catalogv1.LookupReferencesRequest{AgencyCodes: []string{agency}})
	if err != nil {
		return "", false, err
	}
	for _, a := range resp.GetAgencies() {
		if a.GetCode() == agency {
			// The province: of a commune People's Committee, its commune's (docs/domain.md,
			// Agencies); a catalog of an earlier version gives only the unit.
			if p := a.GetProvinceCode(); p != "" {
				return p, true, nil
			}
			return a.GetUnitCode(), true, nil
		}
	}
	return "", false, nil
}

// OnlineProcedures lists a unit's active procedures offered fully or partly online.
func (g GRPCCatalog) OnlineProcedures(ctx context.Context, unit string) ([]string, error) {
	var out []string
	for _, level := range []catalogv1.OnlineLevel{catalogv1.OnlineLevel_ONLINE_LEVEL_FULL, catalogv1.OnlineLevel_ONLINE_LEVEL_PARTIAL} {
		token := ""
		for {
			resp, err := g.Client.ListProcedures(ctx, &catalogv1.ListProceduresRequest{Unit: unit, OnlineLevel: level, PageSize: 1000, PageToken: token})
			if err != nil {
				return nil, err
			}
			for _, p := range resp.GetProcedures() {
				if st := p.GetStatus(); st == catalogv1.ProcedureStatus_PROCEDURE_STATUS_ACTIVE || st == catalogv1.ProcedureStatus_PROCEDURE_STATUS_UNSPECIFIED {
					out = append(out, p.GetCode())
				}
			}
			if token = resp.GetNextPageToken(); token == "" {
				break
			}
		}
	}
	return out, nil
}

// Procedures lists a unit's active procedures with their fee and result kind. A procedure
// stored before has_fee existed counts as charging a fee when its fee text is not empty.
func (g GRPCCatalog) Procedures(ctx context.Context, unit string) ([]ProcedureFacts, error) {
	var out []ProcedureFacts
	token := ""
	for {
		resp, err := g.Client.ListProcedures(ctx, &catalogv1.ListProceduresRequest{Unit: unit, PageSize: 1000, PageToken: token})
		if err != nil {
			return nil, err
		}
		for _, p := range resp.GetProcedures() {
			if st := p.GetStatus(); st != catalogv1.ProcedureStatus_PROCEDURE_STATUS_ACTIVE && st != catalogv1.ProcedureStatus_PROCEDURE_STATUS_UNSPECIFIED {
				continue
			}
			hasFee := p.GetFee() != ""
			if p.HasFee != nil {
				hasFee = p.GetHasFee()
			}
			out = append(out, ProcedureFacts{Code: p.GetCode(), HasFee: hasFee, ResultKind: p.GetResultKind()})
		}
		if token = resp.GetNextPageToken(); token == "" {
			return out, nil
		}
	}
}

// ByProcedure asks for a unit's statistics grouped by procedure.
func (g GRPCDossier) ByProcedure(ctx context.Context, unit, from, geography string) (map[string]*dossierv1.StatsRow, error) {
	ctx, err := withToken(ctx, g.Token)
	if err != nil {
		return nil, err
	}
	st, err := g.Client.GetDossierStats(ctx, &dossierv1.GetDossierStatsRequest{Unit: unit, From: from, GroupBy: "procedure", Geography: geography})
	if err != nil {
		return nil, err
	}
	out := make(map[string]*dossierv1.StatsRow, len(st.GetRows()))
	for _, r := range st.GetRows() {
		out[r.GetKey()] = r
	}
	return out, nil
}

// DossierStatsClient is the part of the dossier client scoring uses.
type DossierStatsClient interface {
	GetDossierStats(ctx context.Context, in *dossierv1.GetDossierStatsRequest, opts ...grpc.CallOption) (*dossierv1.DossierStats, error)
	ListSystemActivity(ctx context.Context, in *dossierv1.ListSystemActivityRequest, opts ...grpc.CallOption) (*dossierv1.ListSystemActivityResponse, error)
}

// GRPCDossier is DossierSource over the dossier part's gRPC API, with scoring's own token.
type GRPCDossier struct {
	Client DossierStatsClient
	Token  TokenFunc
}

// Activity asks the dossier part, in one call, when each system's last event was stored
// (kept by the dossier part in the transaction that stores the events) and what it pushed
// in the last 24 hours.
func (g GRPCDossier) Activity(ctx context.Context) (map[string]SystemActivity, error) {
	ctx, err := withToken(ctx, g.Token)
	if err != nil {
		return nil, err
	}
	resp, err := g.Client.ListSystemActivity(ctx, &dossierv1.ListSystemActivityRequest{})
	if err != nil {
		return nil, &UnavailableError{Reason: unavailableReason("dossier", err)}
	}
	out := make(map[string]SystemActivity, len(resp.GetSystems()))
	for _, sa := range resp.GetSystems() {
		a := SystemActivity{RefusalCount: RefusalCount{Accepted: sa.GetAccepted(), Refused: sa.GetRefused(), LastReason: sa.GetLastRefusedReason()}}
		if at := sa.GetLastAcceptedAt(); at != "" {
			if a.LastAccepted, err = time.Parse(time.RFC3339Nano, at); err != nil {
				return nil, fmt.Errorf("dossier part: last_accepted_at %q of %s: %w", at, sa.GetSystem(), err)
			}
		}
		out[sa.GetSystem()] = a
	}
	return out, nil
}

// OnlineByProcedure asks for a unit's statistics grouped by procedure.
func (g GRPCDossier) OnlineByProcedure(ctx context.Context, unit, from, geography string) (map[string]int64, error) {
	ctx, err := withToken(ctx, g.Token)
	if err != nil {
		return nil, err
	}
	st, err := g.Client.GetDossierStats(ctx, &dossierv1.GetDossierStatsRequest{Unit: unit, From: from, GroupBy: "procedure", Geography: geography})
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(st.GetRows()))
	for _, r := range st.GetRows() {
		out[r.GetKey()] = r.GetReceivedOnline()
	}
	return out, nil
}

// UnitStats asks for the statistics grouped by unit.
func (g GRPCDossier) UnitStats(ctx context.Context, from, to, geography string) (map[string]*dossierv1.StatsRow, error) {
	ctx, err := withToken(ctx, g.Token)
	if err != nil {
		return nil, err
	}
	st, err := g.Client.GetDossierStats(ctx, &dossierv1.GetDossierStatsRequest{From: from, To: to, GroupBy: "unit", Geography: geography})
	if err != nil {
		return nil, err
	}
	out := make(map[string]*dossierv1.StatsRow, len(st.GetRows()))
	for _, r := range st.GetRows() {
		out[r.GetKey()] = r
	}
	return out, nil
}
