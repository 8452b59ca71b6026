package dossier

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	"github.com/lienthong/lienthong/services/platform"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
)

// CatalogClient is what the dossier part asks the catalog.
type CatalogClient interface {
	LookupReferences(ctx context.Context, in *catalogv1.LookupReferencesRequest, opts ...grpc.CallOption) (*catalogv1.LookupReferencesResponse, error)
}

// refs caches the catalog's answers so that the catalog is asked once per code, not once
// per event. Entries found are kept for refsTTL, codes not found for missTTL (so a
// procedure added to the catalog is usable soon after).
type refs struct {
	client CatalogClient
	now    func() time.Time

	mu    sync.RWMutex // read by every request and statistics query; written after the catalog answers
	procs map[string]procRef
	ags   map[string]agencyRef
	units map[string]unitRef
}

const (
	refsTTL = 5 * time.Minute
	missTTL = 10 * time.Second
)

type procRef struct {
	found   bool
	days    uint32
	field   string
	expires time.Time
}

type agencyRef struct {
	found bool
	unit  string
	// The agency's life as the catalog's agency_references give it (docs/domain.md,
	// Agencies): its last day in force ("" while in force), the agency that took over and
	// the one in force today after following successors. Kept per agency, not per date:
	// whether an event's date is after validTo is decided here (closedOn).
	validTo, successor, current string
	expires                     time.Time
}

type unitRef struct {
	found    bool
	from, to string // validity, YYYY-MM-DD; to "" while in force
	parent   string // the province of a commune-level unit
	kind     catalogv1.UnitKind
	current  string // unit it rolls up to today
	// currents are all the units it rolls up to today (a unit split in two has two).
	currents []string
	expires  time.Time
}

func newRefs(client CatalogClient) *refs {
	return &refs{client: client, now: time.Now, procs: map[string]procRef{}, ags: map[string]agencyRef{}, units: map[string]unitRef{}}
}

// ensure asks the catalog, in one call, for every code not fresh in the cache. The codes
// are checked under the read lock, allocating nothing when all are fresh (a batch of a
// thousand events usually names a few codes, all cached).
func (r *refs) ensure(ctx context.Context, procs, agencies, units []string) error {
	now := r.now()
	r.mu.RLock()
	p := staleIn(r.procs, func(e procRef) time.Time { return e.expires }, now, procs)
	a := staleIn(r.ags, func(e agencyRef) time.Time { return e.expires }, now, agencies)
	u := staleIn(r.units, func(e unitRef) time.Time { return e.expires }, now, units)
	r.mu.RUnlock()
	if len(p)+len(a)+len(u) == 0 {
		return nil
	}
	req := &catalogv1.LookupReferencesRequest{ProcedureCodes: p, AgencyCodes: a, UnitCodes: u}
	if r.client == nil {
		return errCatalogDown
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	resp, err := r.client.LookupReferences(ctx, req)
	if err != nil {
		return fmt.Errorf("%w: %v", errCatalogDown, err)
	}
	hit, miss := now.Add(refsTTL), now.Add(missTTL)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range resp.GetProcedures() {
		r.procs[p.GetCode()] = procRef{found: true, days: p.GetProcessingDays(), field: p.GetField(), expires: hit}
	}
	for _, p := range resp.GetMissingProcedures() {
		r.procs[p] = procRef{expires: miss}
	}
	for _, a := range resp.GetAgencies() {
		r.ags[a.GetCode()] = agencyRef{found: true, unit: a.GetUnitCode(), expires: hit}
	}
	for _, ar := range resp.GetAgencyReferences() {
		if e, ok := r.ags[ar.GetAgency().GetCode()]; ok && e.found {
			e.validTo, e.successor, e.current = ar.GetAgency().GetValidTo(), ar.GetAgency().GetSuccessorCode(), ar.GetCurrentCode()
			r.ags[ar.GetAgency().GetCode()] = e
		}
	}
	for _, a := range resp.GetMissingAgencies() {
		r.ags[a] = agencyRef{expires: miss}
	}
	for _, u := range resp.GetUnits() {
		cur := u.GetUnit().GetCode()
		if cc := u.GetCurrentCodes(); len(cc) > 0 {
			cur = cc[0]
		}
		r.units[u.GetUnit().GetCode()] = unitRef{found: true, from: u.GetUnit().GetValidFrom(), to: u.GetUnit().GetValidTo(), current: cur,
			parent: u.GetUnit().GetParentCode(), kind: u.GetUnit().GetKind(),
			currents: slices.Clone(u.GetCurrentCodes()), expires: hit}
	}
	for _, u := range resp.GetMissingUnits() {
		r.units[u] = unitRef{expires: miss}
	}
	return nil
}

// staleIn is the codes missing from m or expired, each once.
func staleIn[V any](m map[string]V, expires func(V) time.Time, now time.Time, codes []string) []string {
	var out []string
	for _, c := range codes {
		if e, ok := m[c]; !ok || now.After(expires(e)) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// errCatalogDown is answered when a check needs the catalog and it does not answer.
var errCatalogDown = &platform.Error{
	Code: codes.Unavailable, Reason: "CATALOG_UNAVAILABLE",
	Message:   "the catalog cannot be reached to check the procedure, agency and unit; try again shortly",
	MessageVI: "Không kết nối được danh mục để kiểm tra thủ tục, cơ quan và đơn vị; vui lòng thử lại sau.",
}

func (r *refs) procedure(code string) procRef {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.procs[code]
}

func (r *refs) agency(code string) agencyRef {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.ags[code]
}

func (r *refs) unit(code string) unitRef {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.units[code]
}

// currentUnit is the unit a code rolls up to today; the code itself when unknown.
func (r *refs) currentUnit(code string) string {
	if u := r.unit(code); u.found && u.current != "" {
		return u.current
	}
	return code
}

// field is the procedure's field; "unknown" when the catalog has not said.
func (r *refs) field(code string) string {
	if p := r.procedure(code); p.found && p.field != "" {
		return p.field
	}
	return "unknown"
}
