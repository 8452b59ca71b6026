package catalog

import (
	"context"

	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	"github.com/lienthong/lienthong/services/platform"
	"google.golang.org/protobuf/proto"
)

// An agency's life (docs/domain.md, Agencies): it is in force from valid_from (open when not
// recorded) to valid_to, and names the agency that took over when it closed. An agency of a
// unit that retired ends with its unit at the latest; with no successor recorded, the
// People's Committee (or Council, for a K-code) of the unit it merged into answers for it.

// maxSuccessorHops bounds a walk along successor links.
const maxSuccessorHops = 32

// indexRoot records a level-1 agency (000.00.00.XNN or XNN.…, level 1) by unit and letter.
// Callers hold c.mu for writing.
func (c *Catalog) indexRoot(a *catalogv1.Agency) {
	code, err := platform.ParseAgencyCode(a.GetCode())
	if err != nil || code.Level != 1 {
		return
	}
	key := a.GetUnitCode() + "|" + string(code.Letter())
	for _, x := range c.rootAgencies[key] {
		if x == a.GetCode() {
			return
		}
	}
	c.rootAgencies[key] = append(c.rootAgencies[key], a.GetCode())
}

// agencyLife is an agency's effective end and successor. Callers hold c.mu.
func (c *Catalog) agencyLife(a *catalogv1.Agency) (validTo, successor string, source catalogv1.SuccessorSource) {
	validTo, successor = a.GetValidTo(), a.GetSuccessorCode()
	if successor != "" {
		source = catalogv1.SuccessorSource_SUCCESSOR_SOURCE_RECORDED
	}
	u := c.units[a.GetUnitCode()]
	if u.GetValidTo() == "" || (validTo != "" && validTo <= u.GetValidTo()) {
		return validTo, successor, source
	}
	validTo = u.GetValidTo()
	if successor == "" {
		if s := c.mergerSuccessor(a, u); s != "" {
			successor, source = s, catalogv1.SuccessorSource_SUCCESSOR_SOURCE_UNIT_MERGER
		}
	}
	return validTo, successor, source
}

// mergerSuccessor is the level-1 agency with the same letter of the unit u merged into, in
// force the day after u retired; "" when there is not exactly one.
func (c *Catalog) mergerSuccessor(a *catalogv1.Agency, u *catalogv1.Unit) string {
	code, err := platform.ParseAgencyCode(a.GetCode())
	if err != nil {
		return ""
	}
	next := dayAfter(u.GetValidTo())
	var found []string
	for _, s := range u.GetSuccessors() {
		for _, cand := range c.rootAgencies[s+"|"+string(code.Letter())] {
			b := c.agencies[cand]
			if cand != a.GetCode() && inForce(b.GetValidFrom(), b.GetValidTo(), next) {
				found = append(found, cand)
			}
		}
	}
	if len(found) != 1 {
		return ""
	}
	return found[0]
}

// agencyAt returns a copy of a as the API shows it on date: its effective end and
// successor, its level-1 code and whether it is in force. Callers hold c.mu.
func (c *Catalog) agencyAt(a *catalogv1.Agency, date string) *catalogv1.Agency {
	out := proto.Clone(a).(*catalogv1.Agency)
	out.ValidTo, out.SuccessorCode, out.SuccessorSource = c.agencyLife(a)
	if code, err := platform.ParseAgencyCode(a.GetCode()); err == nil {
		out.Level1Code = code.Level1
	}
	out.InForce = inForce(out.GetValidFrom(), out.GetValidTo(), date)
	out.ProvinceCode = c.provinceCodeOf(a.GetUnitCode())
	return out
}

// provinceCodeOf is the code of a unit's province-level unit (provinceOf), or the code
// itself for a unit the catalog does not hold. Callers hold c.mu.
func (c *Catalog) provinceCodeOf(unit string) string {
	if p := c.provinceOf(c.units[unit]); p != nil {
		return p.GetCode()
	}
	return unit
}

// resolveAgency follows successors from code to the agency in force on date. It answers the
// agency asked for, the one in force (nil when none is) and the codes followed. Callers
// hold c.mu.
func (c *Catalog) resolveAgency(code, date string) (asked, current *catalogv1.Agency, path []string) {
	seen := map[string]bool{}
	for hop := 0; hop < maxSuccessorHops; hop++ {
		a, ok := c.agencies[code]
		if !ok || seen[code] {
			return asked, nil, path
		}
		seen[code] = true
		path = append(path, code)
		view := c.agencyAt(a, date)
		if asked == nil {
			asked = view
		}
		if view.GetInForce() {
			return asked, view, path
		}
		if view.GetValidFrom() > date || view.GetSuccessorCode() == "" {
			return asked, nil, path // not yet in force, or closed with no one named
		}
		code = view.GetSuccessorCode()
	}
	return asked, nil, path
}

// ResolveAgency answers the agency in force on a date that answers for an agency.
func (c *Catalog) ResolveAgency(_ context.Context, r *catalogv1.ResolveAgencyRequest) (*catalogv1.ResolveAgencyResponse, error) {
	var v platform.Violations
	date := parseDate("date", r.GetDate(), c.today(), &v)
	if err := v.Err(); err != nil {
		return nil, err
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	asked, current, path := c.resolveAgency(r.GetCode(), date)
	if asked == nil {
		return nil, platform.NotFound("agency", r.GetCode())
	}
	return &catalogv1.ResolveAgencyResponse{Agency: asked, Current: current, Path: path}, nil
}

// agencyReference is what LookupReferences answers for an agency found. Callers hold c.mu.
func (c *Catalog) agencyReference(code, date string) *catalogv1.AgencyReference {
	asked, current, _ := c.resolveAgency(code, date)
	return &catalogv1.AgencyReference{Agency: asked, CurrentCode: current.GetCode()}
}

// checkAgencyLife checks an agency's dates and successor, and that its code carries the
// level-1 code of its province during its life. Callers hold c.mu.
func (c *Catalog) checkAgencyLife(a *catalogv1.Agency, code platform.AgencyCode, prefix string, known map[string]*catalogv1.Agency, v *platform.Violations) {
	from := parseDate(prefix+"valid_from", a.GetValidFrom(), "", v)
	to := parseDate(prefix+"valid_to", a.GetValidTo(), "", v)
	if from != "" && to != "" && to < from {
		v.Add(prefix+"valid_to", "is before valid_from (%s < %s)", to, from)
	}
	if s := a.GetSuccessorCode(); s != "" {
		_, inCatalog := c.agencies[s]
		_, inBatch := known[s]
		switch {
		case a.GetValidTo() == "":
			v.Add(prefix+"successor_code", "needs valid_to: only an agency that closes has a successor")
		case s == a.GetCode():
			v.Add(prefix+"successor_code", "an agency cannot succeed itself")
		case !inCatalog && !inBatch:
			v.Add(prefix+"successor_code", "agency %q does not exist", s)
		}
	}
	if u, ok := c.units[a.GetUnitCode()]; ok && code.Level1 != "" {
		c.checkLevel1(a, code, u, from, to, prefix, v)
	}
}

// checkLevel1 applies the level-1 rule (docs/domain.md, Agencies): an H or K code carries
// the level-1 code of the agency's province on its first day (when recorded) and on its last
// (valid_to, or today, or the day its province retired); a G code known to the table is in
// force on those days.
func (c *Catalog) checkLevel1(a *catalogv1.Agency, code platform.AgencyCode, u *catalogv1.Unit, from, to, prefix string, v *platform.Violations) {
	province := c.provinceOf(u)
	last := to
	if last == "" {
		last = c.today()
	}
	if pt := province.GetValidTo(); pt != "" && last > pt {
		last = pt
	}
	dates := []string{last}
	if from != "" && from < last {
		dates = []string{from, last}
	}
	letter := code.Letter()
	for _, d := range dates {
		switch letter {
		case 'H', 'K':
			want := c.level1.forUnit(province.GetCode(), letter, d, true)
			if want == "" || code.Level1 == want {
				continue
			}
			v.Add(prefix+"code", "must carry %s, the level-1 code of %s (unit %s) on %s, got %s",
				want, unitAt(province, d).GetName(), province.GetCode(), d, code.Level1)
			return
		case 'G':
			p, in := c.level1.at(code.Level1, d)
			if p == nil || in || d < p.GetValidFrom() { // earlier use of a newer code is not known
				continue
			}
			if p.GetSuccessorCode() != "" {
				v.Add(prefix+"code", "level-1 code %s is not in force on %s (it closed on %s; its successor is %s)", code.Level1, d, p.GetValidTo(), p.GetSuccessorCode())
			} else {
				v.Add(prefix+"code", "level-1 code %s is not in force on %s", code.Level1, d)
			}
			return
		}
	}
}
