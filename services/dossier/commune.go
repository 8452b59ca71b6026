package dossier

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	storev1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/store/v1"
	"github.com/lienthong/lienthong/services/platform"
)

// A dossier may carry the commune-level unit (commune, ward or special zone) it belongs to
// (docs/domain.md, Administrative units). The catalog holds these units only from the
// reorganisation of 2025-07-01; older communes are not modelled, so a commune_code dated
// before it is refused. The commune is given on the dossier's first event; a later event may
// repeat it but never change or add it, like the other identity fields.

var communeCodeRE = regexp.MustCompile(`^\d{5}$`)

// communesFrom is the first day the catalog holds commune-level units.
const communesFrom = "2025-07-01"

var communeKinds = map[catalogv1.UnitKind]bool{
	catalogv1.UnitKind_UNIT_KIND_COMMUNE:      true,
	catalogv1.UnitKind_UNIT_KIND_WARD:         true,
	catalogv1.UnitKind_UNIT_KIND_SPECIAL_ZONE: true,
}

// checkCommuneCode checks a commune_code's form and date (at: the event's time, 0 when
// occurred_at was not valid).
func checkCommuneCode(v *platform.Violations, code string, at int64) {
	if code == "" {
		return
	}
	if !communeCodeRE.MatchString(code) {
		v.Add("commune_code", "must be a 5-digit commune-level unit code, got %q", code)
		return
	}
	if at != 0 {
		if date := time.UnixMilli(at).In(Vietnam).Format("2006-01-02"); date < communesFrom {
			v.Add("commune_code", "communes are known from %s (the reorganisation of commune-level units); an event of %s cannot carry one", communesFrom, date)
		}
	}
}

// laterCommune refuses a commune_code on a later event that differs from the dossier's.
func laterCommune(v *platform.Violations, code string, st *storev1.DossierState) {
	switch {
	case code == "" || code == st.GetCommuneCode():
	case st.GetCommuneCode() == "":
		v.Add("commune_code", "dossier %s has no commune; a commune is given on the dossier's first event only", st.GetCode())
	default:
		v.Add("commune_code", "dossier %s belongs to commune %s", st.GetCode(), st.GetCommuneCode())
	}
}

// checkCommune checks a first event's commune against the catalog (already in the cache):
// a commune-level unit in force on the event's date whose province is the event's unit.
func (s *Service) checkCommune(j *job, c *checked) error {
	ev := c.ev
	if ev.CommuneCode == "" {
		return nil
	}
	u := s.refs.unit(ev.CommuneCode)
	if j.catalogErr != nil && !u.found {
		var ce *platform.Error
		if errors.As(j.catalogErr, &ce) {
			return ce
		}
		return errCatalogDown
	}
	date := time.UnixMilli(c.at).In(Vietnam).Format("2006-01-02")
	var v platform.Violations
	switch {
	case !u.found:
		v.Add("commune_code", "commune %s is not in the catalog", ev.CommuneCode)
	case !communeKinds[u.kind]:
		v.Add("commune_code", "unit %s is not a commune-level unit (commune, ward or special zone)", ev.CommuneCode)
	case date < u.from || (u.to != "" && date > u.to):
		v.Add("commune_code", "commune %s is not in force on %s (in force %s to %s)", ev.CommuneCode, date, u.from, orNow(u.to))
	}
	if err := v.Err(); err != nil {
		e := err.(*platform.Error)
		e.Reason = "UNKNOWN_REFERENCE"
		return e
	}
	if u.parent != ev.UnitCode {
		return refuse("COMMUNE_NOT_OF_UNIT",
			fmt.Sprintf("commune %s belongs to unit %s, not to the event's unit %s", ev.CommuneCode, u.parent, ev.UnitCode),
			fmt.Sprintf("Xã/phường %s thuộc tỉnh/thành phố %s, không thuộc đơn vị %s của sự kiện.", ev.CommuneCode, u.parent, ev.UnitCode))
	}
	return nil
}
