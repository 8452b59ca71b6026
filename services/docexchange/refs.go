package docexchange

import (
	"context"
	"sync"
	"time"

	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	"github.com/lienthong/lienthong/services/platform"
	"google.golang.org/grpc/codes"
)

// refs caches the catalog's answers: agencies (their unit) and units (where they belong
// today). Found entries are kept for refsTTL, missing ones for missTTL.
type refs struct {
	client CatalogClient
	now    func() time.Time

	mu    sync.Mutex
	ags   map[string]cached
	units map[string]cached
}

type cached struct {
	found   bool
	value   string // province of an agency; current unit of a unit
	expires time.Time
	life    agencyLife // of an agency (agencyclosed.go)
}

const (
	refsTTL = 5 * time.Minute
	missTTL = 10 * time.Second
)

func newRefs(c CatalogClient, now func() time.Time) *refs {
	return &refs{client: c, now: now, ags: map[string]cached{}, units: map[string]cached{}}
}

var errCatalogDown = &platform.Error{Code: codes.Unavailable, Reason: "CATALOG_UNAVAILABLE",
	Message:   "the catalog part cannot be reached to check agency codes; try again shortly",
	MessageVI: "Không kiểm tra được mã cơ quan vì dịch vụ danh mục tạm thời không sẵn sàng."}

// agencyUnits returns the province of each agency: the catalog's province_code, which for
// a commune People's Committee (whose unit is its commune, docs/domain.md, Agencies) is the
// commune's province. Agencies the catalog does not know are missing from the map.
func (r *refs) agencyUnits(ctx context.Context, codes []string) (map[string]string, error) {
	if err := r.ensure(ctx, codes, nil); err != nil {
		return nil, err
	}
	out := map[string]string{}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range codes {
		if e := r.ags[c]; e.found {
			out[c] = e.value
		}
	}
	return out, nil
}

// currentUnit returns the unit in force today that a unit rolls up into (itself when it is
// in force or unknown).
func (r *refs) currentUnits(ctx context.Context, units []string) (map[string]string, error) {
	if err := r.ensure(ctx, nil, units); err != nil {
		return nil, err
	}
	out := map[string]string{}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, u := range units {
		if e := r.units[u]; e.found && e.value != "" {
			out[u] = e.value
		} else {
			out[u] = u
		}
	}
	return out, nil
}

func (r *refs) ensure(ctx context.Context, agencies, units []string) error {
	now := r.now()
	req := &catalogv1.LookupReferencesRequest{}
	r.mu.Lock()
	seen := map[string]bool{}
	for _, a := range agencies {
		if e, ok := r.ags[a]; (!ok || now.After(e.expires)) && !seen["a"+a] {
			req.AgencyCodes = append(req.AgencyCodes, a)
			seen["a"+a] = true
		}
	}
	for _, u := range units {
		if e, ok := r.units[u]; (!ok || now.After(e.expires)) && !seen["u"+u] {
			req.UnitCodes = append(req.UnitCodes, u)
			seen["u"+u] = true
		}
	}
	r.mu.Unlock()
	if len(req.AgencyCodes)+len(req.UnitCodes) == 0 {
		return nil
	}
	if r.client == nil {
		return errCatalogDown
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	resp, err := r.client.LookupReferences(ctx, req)
	if err != nil {
		return errCatalogDown
	}
	hit, miss := now.Add(refsTTL), now.Add(missTTL)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range resp.GetAgencies() {
		province := a.GetProvinceCode()
		if province == "" { // a catalog of an earlier version
			province = a.GetUnitCode()
		}
		r.ags[a.GetCode()] = cached{found: true, value: province, expires: hit}
	}
	for _, a := range resp.GetMissingAgencies() {
		r.ags[a] = cached{expires: miss}
	}
	for _, ar := range resp.GetAgencyReferences() {
		a := ar.GetAgency()
		if e, ok := r.ags[a.GetCode()]; ok && e.found {
			e.life = agencyLife{validTo: a.GetValidTo(), successor: a.GetSuccessorCode(), current: ar.GetCurrentCode()}
			r.ags[a.GetCode()] = e
		}
	}
	for _, u := range resp.GetUnits() {
		cur := u.GetUnit().GetCode()
		if cc := u.GetCurrentCodes(); len(cc) > 0 {
			cur = cc[0]
		}
		r.units[u.GetUnit().GetCode()] = cached{found: true, value: cur, expires: hit}
	}
	for _, u := range resp.GetMissingUnits() {
		r.units[u] = cached{expires: miss}
	}
	return nil
}
