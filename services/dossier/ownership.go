package dossier

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	"github.com/lienthong/lienthong/services/platform"
)

// Whose a dossier is. On its first event four things must name the same unit: the
// token (a province token its own unit; checked by platform.MayWriteUnit), the event's
// unit_code, the unit the catalog gives for the event's agency_code, and the unit of the
// agency named in the dossier code (AGENCY-YYMMDD-NNNN). Later events keep the dossier's
// unit and agency (judge). Without this, a province could open dossiers of another
// province's agencies under its own unit, or take a dossier code another province will
// use, and the code would be the squatter's for good.

// codeAgency is the agency named in a dossier code of the form AGENCY-YYMMDD-NNNN, its code
// in either form (000.00.00.H31 or H26.107); "" for the longer national forms (an 8-digit
// date), whose prefix is a portal's code, not an agency's.
func codeAgency(code string) string {
	if !DossierCodeRE.MatchString(code) && !leftToRightCodeRE.MatchString(code) {
		return ""
	}
	a, _, _ := strings.Cut(code, "-")
	return a
}

// ownerAgencies is the agency a first event names besides its agency_code: the one in
// its dossier code, when it differs ("" otherwise).
func ownerAgencies(ev *dossierv1.DossierEvent) string {
	if ev.GetAgencyCode() == "" {
		return ""
	}
	if a := codeAgency(ev.GetDossierCode()); a != "" && a != ev.GetAgencyCode() {
		return a
	}
	return ""
}

// agencyUnits are the units the catalog gave for the agencies found (one read lock).
func (r *refs) agencyUnits(agencies []string) []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []string
	for _, a := range agencies {
		if e, ok := r.ags[a]; ok && e.found && e.unit != "" {
			out = append(out, e.unit)
		}
	}
	return out
}

// ensureAgencyUnits asks the catalog for the units of the agencies (after ensure has
// asked for the agencies): a merged province's agency still names its old unit, and
// whether that unit rolls up to the event's is in the unit's record. Cached like the rest,
// so a steady writer asks nothing.
func (s *Service) ensureAgencyUnits(ctx context.Context, agencies []string) error {
	units := s.refs.agencyUnits(agencies)
	if len(units) == 0 {
		return nil
	}
	return s.refs.ensure(ctx, nil, nil, units)
}

// agencyOfUnit reports whether an agency whose catalog unit is agencyUnit may act for
// unit on date (YYYY-MM-DD): the same unit, a commune-level unit of that province (a
// commune People's Committee, docs/domain.md, Agencies), or agencyUnit retired before date
// into unit.
// An agency closes with its unit at the latest (docs/domain.md, Agencies), so an agency of
// Nam Định (36) that the catalog gives a life is refused as AGENCY_CLOSED after 2025-06-30
// before this is asked (checkOwner); the second case remains for an agency whose life the
// catalog did not give.
func (r *refs) agencyOfUnit(agencyUnit, unit, date string) bool {
	if agencyUnit == unit {
		return true
	}
	au := r.unit(agencyUnit)
	if au.found && communeKinds[au.kind] && au.parent == unit {
		return true
	}
	return au.found && au.to != "" && au.to < date && slices.Contains(au.currents, unit)
}

// checkOwner checks that a first event's agency and the agency of its dossier code belong
// to its unit. Called after checkCatalog found the agency and the unit.
func (s *Service) checkOwner(j *job, c *checked) error {
	ev := c.ev
	date := time.UnixMilli(c.at).In(Vietnam).Format("2006-01-02")
	a := s.refs.agency(ev.AgencyCode)
	if a.closedOn(date) {
		return agencyClosed("agency_code", ev.AgencyCode, a, date)
	}
	if !s.refs.unit(a.unit).found && j.catalogErr != nil {
		return errCatalogDown
	}
	if !s.refs.agencyOfUnit(a.unit, ev.UnitCode, date) {
		return ownerMismatch("AGENCY_NOT_OF_UNIT",
			fmt.Sprintf("agency %s belongs to unit %s in the catalog, not to unit %s named by the event", ev.AgencyCode, a.unit, ev.UnitCode),
			fmt.Sprintf("Cơ quan %s thuộc đơn vị %s theo danh mục, không thuộc đơn vị %s của sự kiện.", ev.AgencyCode, a.unit, ev.UnitCode),
			ev.AgencyCode, a.unit, ev.UnitCode)
	}
	ca := ownerAgencies(ev)
	if ca == "" {
		return nil
	}
	cr := s.refs.agency(ca)
	if !cr.found {
		if j.catalogErr != nil {
			return errCatalogDown
		}
		e := platform.Invalid(platform.FieldViolation{Field: "dossier_code",
			Description: fmt.Sprintf("agency %s named by the code is not in the catalog", ca)})
		e.Reason = "UNKNOWN_REFERENCE"
		return e
	}
	if cr.closedOn(date) {
		return agencyClosed("dossier_code", ca, cr, date)
	}
	if !s.refs.unit(cr.unit).found && j.catalogErr != nil {
		return errCatalogDown
	}
	if !s.refs.agencyOfUnit(cr.unit, ev.UnitCode, date) {
		return ownerMismatch("DOSSIER_CODE_NOT_OF_UNIT",
			fmt.Sprintf("dossier code %s names agency %s of unit %s, not an agency of unit %s", ev.DossierCode, ca, cr.unit, ev.UnitCode),
			fmt.Sprintf("Mã hồ sơ %s thuộc cơ quan %s của đơn vị %s, không thuộc đơn vị %s.", ev.DossierCode, ca, cr.unit, ev.UnitCode),
			ca, cr.unit, ev.UnitCode)
	}
	return nil
}

func ownerMismatch(reason, msg, vi, agency, agencyUnit, unit string) error {
	e := platform.FailedPrecondition(reason, msg, vi)
	e.Metadata = map[string]string{"agency_code": agency, "agency_unit": agencyUnit, "unit_code": unit}
	return e
}

// closedOn reports whether the agency had closed before date (YYYY-MM-DD, in Vietnam): its
// last day in force is before date. An event on its last day is accepted.
func (a agencyRef) closedOn(date string) bool {
	return a.found && a.validTo != "" && a.validTo < date
}

// agencyClosed refuses a dossier's first event dated after the agency named by field
// (agency_code, or the agency of the dossier code) closed, naming the agency in force that
// answers for it (docs/domain.md, Agencies: on 2025-07-01 the agencies of the merged
// provinces closed, NQ 202/2025/QH15). Later events of a dossier opened while the agency
// was in force are not checked: a dossier received in June 2025 may be resolved in August.
func agencyClosed(field, agency string, a agencyRef, date string) error {
	succ := a.current
	if succ == "" {
		succ = a.successor
	}
	msg := fmt.Sprintf("agency %s (%s) closed on %s, before the event's date %s", agency, field, a.validTo, date)
	vi := fmt.Sprintf("Cơ quan %s chỉ hoạt động đến hết ngày %s, trước ngày %s của sự kiện", agency, a.validTo, date)
	if succ != "" {
		msg += fmt.Sprintf("; its successor is %s: file the dossier there", succ)
		vi += fmt.Sprintf("; cơ quan kế thừa là %s.", succ)
	} else {
		msg += "; the catalog names no successor"
		vi += "; danh mục không ghi cơ quan kế thừa."
	}
	e := platform.FailedPrecondition("AGENCY_CLOSED", msg, vi)
	e.Metadata = map[string]string{"agency_code": agency, "valid_to": a.validTo, "successor_code": succ, "field": field}
	return e
}
