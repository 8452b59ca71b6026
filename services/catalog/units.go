package catalog

import (
	"context"
	"regexp"
	"sort"
	"time"

	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"
)

const dateLayout = "2006-01-02"

var unitCodeRE = regexp.MustCompile(`^(\d{2}|\d{3}|\d{5})$`)

// parseDate checks a YYYY-MM-DD date; "" gives def.
func parseDate(field, s, def string, v *platform.Violations) string {
	if s == "" {
		return def
	}
	if _, err := time.Parse(dateLayout, s); err != nil {
		v.Add(field, "must be a date YYYY-MM-DD, got %q", s)
		return def
	}
	return s
}

func dayBefore(date string) string {
	t, _ := time.Parse(dateLayout, date)
	return t.AddDate(0, 0, -1).Format(dateLayout)
}

// inForce reports whether a period [from, to] (to "" = open) contains date.
func inForce(from, to, date string) bool {
	return from <= date && (to == "" || date <= to)
}

// unitAt returns a copy of u as it was on date: the name and kind then (for a date outside
// the unit's life, those of its first or last day), and whether it was in force. History
// fields (names, predecessors, successors) are always whole.
func unitAt(u *catalogv1.Unit, date string) *catalogv1.Unit {
	out := proto.Clone(u).(*catalogv1.Unit)
	out.InForce = inForce(u.GetValidFrom(), u.GetValidTo(), date)
	nameDate := date
	if u.GetValidTo() != "" && nameDate > u.GetValidTo() {
		nameDate = u.GetValidTo()
	}
	if nameDate < u.GetValidFrom() {
		nameDate = u.GetValidFrom()
	}
	for _, n := range u.GetNames() {
		if inForce(n.GetValidFrom(), n.GetValidTo(), nameDate) {
			out.Name, out.Kind = n.GetName(), n.GetKind()
		}
	}
	return out
}

// unitView is unitAt with the level-1 code of the unit's province on that date (the unit's
// last day for a date after it retired). Callers hold c.mu.
func (c *Catalog) unitView(u *catalogv1.Unit, date string) *catalogv1.Unit {
	out := unitAt(u, date)
	if to := u.GetValidTo(); to != "" && date > to {
		date = to
	}
	if p := c.provinceOf(u); p != nil && c.level1 != nil {
		out.Level1Code = c.level1.forUnit(p.GetCode(), 'H', date, false)
	}
	return out
}

// kindAt is the kind of u on date (that of its first or last day outside its life).
func kindAt(u *catalogv1.Unit, date string) catalogv1.UnitKind {
	if to := u.GetValidTo(); to != "" && date > to {
		date = to
	}
	if date < u.GetValidFrom() {
		date = u.GetValidFrom()
	}
	kind := u.GetKind()
	for _, n := range u.GetNames() {
		if inForce(n.GetValidFrom(), n.GetValidTo(), date) {
			kind = n.GetKind()
		}
	}
	return kind
}

// levelKinds maps the `level` filter to unit kinds.
var levelKinds = map[string][]catalogv1.UnitKind{
	"province": {catalogv1.UnitKind_UNIT_KIND_PROVINCE, catalogv1.UnitKind_UNIT_KIND_CITY},
	"district": {catalogv1.UnitKind_UNIT_KIND_DISTRICT},
	"commune":  {catalogv1.UnitKind_UNIT_KIND_COMMUNE, catalogv1.UnitKind_UNIT_KIND_WARD, catalogv1.UnitKind_UNIT_KIND_SPECIAL_ZONE},
}

// ListUnits answers the units in force on a date.
func (c *Catalog) ListUnits(_ context.Context, r *catalogv1.ListUnitsRequest) (*catalogv1.ListUnitsResponse, error) {
	var v platform.Violations
	date := parseDate("date", r.GetDate(), c.today(), &v)
	kinds, ok := levelKinds[r.GetLevel()]
	if r.GetLevel() != "" && !ok {
		v.Add("level", "must be province, district or commune, got %q", r.GetLevel())
	}
	size, err := platform.PageSize(r.GetPageSize())
	if err != nil {
		return nil, err
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	query := "units|" + r.GetLevel() + "|" + date + "|" + r.GetParentCode()
	after, err := platform.DecodePageToken(query, r.GetPageToken())
	if err != nil {
		return nil, err
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	units, next, total := page(c.unitCodes, after, size, query, func(code string) (*catalogv1.Unit, bool) {
		u := c.units[code]
		if !inForce(u.GetValidFrom(), u.GetValidTo(), date) {
			return nil, false
		}
		if r.GetParentCode() != "" && u.GetParentCode() != r.GetParentCode() {
			return nil, false
		}
		if kinds != nil && !kindIn(kindAt(u, date), kinds) {
			return nil, false
		}
		return u, true
	})
	for i, u := range units {
		units[i] = c.unitView(u, date)
	}
	return &catalogv1.ListUnitsResponse{Units: units, NextPageToken: next, TotalSize: int32(total)}, nil
}

func kindIn(k catalogv1.UnitKind, ks []catalogv1.UnitKind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

// GetUnit answers one unit with its history.
func (c *Catalog) GetUnit(_ context.Context, r *catalogv1.GetUnitRequest) (*catalogv1.Unit, error) {
	var v platform.Violations
	date := parseDate("date", r.GetDate(), c.today(), &v)
	if err := v.Err(); err != nil {
		return nil, err
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	u, ok := c.units[r.GetCode()]
	if !ok {
		return nil, platform.NotFound("unit", r.GetCode())
	}
	return c.unitView(u, date), nil
}

// resolve follows successor links from code until the units in force on target.
func (c *Catalog) resolve(code, target string) []string {
	seen := map[string]bool{}
	var out []string
	var walk func(string)
	walk = func(code string) {
		if seen[code] {
			return
		}
		seen[code] = true
		u := c.units[code]
		if u == nil {
			return
		}
		if inForce(u.GetValidFrom(), u.GetValidTo(), target) {
			out = append(out, code)
			return
		}
		if u.GetValidTo() != "" && u.GetValidTo() < target {
			for _, s := range u.GetSuccessors() {
				walk(s)
			}
		}
	}
	walk(code)
	sort.Strings(out)
	return out
}

// ResolveUnit rolls a unit code up to the units in force on a target date.
func (c *Catalog) ResolveUnit(_ context.Context, r *catalogv1.ResolveUnitRequest) (*catalogv1.ResolveUnitResponse, error) {
	var v platform.Violations
	today := c.today()
	date := parseDate("date", r.GetDate(), today, &v)
	target := parseDate("target_date", r.GetTargetDate(), today, &v)
	if err := v.Err(); err != nil {
		return nil, err
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	u, ok := c.units[r.GetCode()]
	if !ok {
		return nil, platform.NotFound("unit", r.GetCode())
	}
	return &catalogv1.ResolveUnitResponse{Unit: c.unitView(u, date), CurrentCodes: c.resolve(r.GetCode(), target)}, nil
}

// codeLen is the code length of each kind of unit.
func codeLen(k catalogv1.UnitKind) int {
	switch k {
	case catalogv1.UnitKind_UNIT_KIND_PROVINCE, catalogv1.UnitKind_UNIT_KIND_CITY:
		return 2
	case catalogv1.UnitKind_UNIT_KIND_DISTRICT:
		return 3
	case catalogv1.UnitKind_UNIT_KIND_COMMUNE, catalogv1.UnitKind_UNIT_KIND_WARD, catalogv1.UnitKind_UNIT_KIND_SPECIAL_ZONE:
		return 5
	}
	return 0
}

// CreateUnit adds a unit; its predecessors retire the day before it starts.
func (c *Catalog) CreateUnit(ctx context.Context, r *catalogv1.CreateUnitRequest) (*catalogv1.Unit, error) {
	if _, err := platform.RequireRole(ctx, platform.RoleAdmin); err != nil {
		return nil, err
	}
	in := r.GetUnit()
	var v platform.Violations
	if in == nil {
		v.Add("unit", "is required")
		return nil, v.Err()
	}
	code, name, parent := platform.NFC(in.GetCode()), platform.NFC(in.GetName()), platform.NFC(in.GetParentCode())
	if !unitCodeRE.MatchString(code) {
		v.Add("unit.code", "must be 2 digits (province), 3 (district) or 5 (commune or ward), got %q", code)
	}
	if name == "" || len(name) > 200 {
		v.Add("unit.name", "is required, at most 200 bytes")
	}
	if _, ok := catalogv1.UnitKind_name[int32(in.GetKind())]; !ok || in.GetKind() == catalogv1.UnitKind_UNIT_KIND_UNSPECIFIED {
		v.Add("unit.kind", "is required")
	} else if unitCodeRE.MatchString(code) && codeLen(in.GetKind()) != len(code) {
		v.Add("unit.code", "a %s has a %d-digit code", in.GetKind(), codeLen(in.GetKind()))
	}
	from := parseDate("unit.valid_from", in.GetValidFrom(), "", &v)
	if in.GetValidFrom() == "" {
		v.Add("unit.valid_from", "is required")
	}
	if in.GetValidTo() != "" {
		v.Add("unit.valid_to", "is set when the unit retires, not on creation")
	}
	if len(in.GetSuccessors()) > 0 || len(in.GetNames()) > 0 {
		v.Add("unit.successors", "successors and names are kept by the catalog and cannot be given")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.units[code]; ok && code != "" {
		return nil, platform.AlreadyExists("unit", code)
	}
	if len(code) == 5 || len(code) == 3 {
		if parent == "" {
			v.Add("unit.parent_code", "is required for a district, commune or ward")
		}
	}
	if parent != "" {
		if p, ok := c.units[parent]; !ok {
			v.Add("unit.parent_code", "unit %q does not exist", parent)
		} else if from != "" && !inForce(p.GetValidFrom(), p.GetValidTo(), from) {
			v.Add("unit.parent_code", "unit %q is not in force on %s", parent, from)
		}
	}
	preds := make([]string, 0, len(in.GetPredecessors()))
	for i, p := range in.GetPredecessors() {
		pu, ok := c.units[p]
		switch {
		case !ok:
			v.Add("unit.predecessors", "[%d] unit %q does not exist", i, p)
		case from != "" && !inForce(pu.GetValidFrom(), pu.GetValidTo(), dayBefore(from)):
			v.Add("unit.predecessors", "[%d] unit %q is not in force on %s", i, p, dayBefore(from))
		default:
			preds = append(preds, p)
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	u := &catalogv1.Unit{
		Code: code, Name: name, Kind: in.GetKind(), ParentCode: parent, ValidFrom: from,
		Predecessors: preds,
		Names:        []*catalogv1.UnitName{{Name: name, ValidFrom: from, Kind: in.GetKind()}},
	}
	changed := []*catalogv1.Unit{u}
	for _, p := range preds {
		changed = append(changed, retire(c.units[p], dayBefore(from), code))
	}
	if err := c.putUnits(changed); err != nil {
		return nil, err
	}
	return c.unitView(u, from), nil
}

// retire returns a copy of u that ends on last, with a successor.
func retire(u *catalogv1.Unit, last, successor string) *catalogv1.Unit {
	out := proto.Clone(u).(*catalogv1.Unit)
	out.ValidTo = last
	out.InForce = false
	for _, n := range out.GetNames() {
		if n.GetValidTo() == "" {
			n.ValidTo = last
		}
	}
	out.Successors = appendUnique(out.Successors, successor)
	return out
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// putUnits stores units in one transaction and then in memory. Callers hold c.mu.
func (c *Catalog) putUnits(units []*catalogv1.Unit) error {
	err := c.db.Update(func(tx *bolt.Tx) error {
		for _, u := range units {
			if err := putRecord(tx, bucketUnits, u.GetCode(), u); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, u := range units {
		c.units[u.GetCode()] = u
		c.unitCodes = insertSorted(c.unitCodes, u.GetCode())
	}
	return nil
}
