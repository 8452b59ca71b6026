package docexchange

import (
	"context"
	"fmt"

	"github.com/lienthong/lienthong/services/platform"
)

// authoriseSend is the second stage of send: the caller may send for the document's
// sender, the sender and recipients are in the catalog and open. It runs before any
// attachment is hashed or signature verified (docs/security.md).
func (s *Service) authoriseSend(ctx context.Context, st *sendState) error {
	d, c := st.d, st.c
	if c.Role == platform.RoleAgency && d.GetFrom() != c.Agency() {
		return platform.PermissionDenied(
			fmt.Sprintf("a token of agency %s may not send as %s", c.Agency(), d.GetFrom()),
			fmt.Sprintf("Mã truy cập của cơ quan %s không được gửi văn bản thay cơ quan %s.", c.Agency(), d.GetFrom()))
	}
	normalizeUnsigned(d)
	agencies := append([]string{d.GetFrom()}, d.GetTo()...)
	units, err := s.refs.agencyUnits(ctx, agencies)
	if err != nil {
		return err
	}
	if err := knownAgencies(st, units); err != nil {
		return err
	}
	if c.Role == platform.RoleProvince && units[d.GetFrom()] != c.Unit {
		return platform.PermissionDenied(
			fmt.Sprintf("a token of unit %s may not send for agency %s of unit %s", c.Unit, d.GetFrom(), units[d.GetFrom()]),
			fmt.Sprintf("Mã truy cập của đơn vị %s không được gửi văn bản thay cơ quan %s.", c.Unit, d.GetFrom()))
	}
	if err := s.checkAgenciesOpen(ctx, d); err != nil {
		return err
	}
	st.units = units
	return nil
}

// knownAgencies refuses a sender or recipient the catalog does not know (units is the
// catalog's answer), naming each.
func knownAgencies(st *sendState, units map[string]string) error {
	var v platform.Violations
	if _, ok := units[st.d.GetFrom()]; !ok {
		v.Add("from", "agency %s is not in the catalog", st.d.GetFrom())
	}
	for i, t := range st.d.GetTo() {
		if _, ok := units[t]; !ok {
			v.Add(fmt.Sprintf("to[%d]", i), "agency %s is not in the catalog", t)
		}
	}
	if len(v) > 0 {
		e := platform.Invalid(v...)
		e.Reason = "UNKNOWN_REFERENCE"
		return e
	}
	return nil
}
