package catalog

import (
	"context"
	_ "embed"
	"fmt"

	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	"github.com/lienthong/lienthong/services/platform"
	"google.golang.org/protobuf/proto"
)

// Changes of name or kind on a unit's code between the province tables' dates: Thừa Thiên
// Huế province became the centrally governed city of Huế on 2025-01-01 (docs/domain.md,
// Administrative units).
//
//go:embed data/unit-changes.csv
var unitChangesCSV []byte

type unitChange struct {
	code, date, name string
	kind             catalogv1.UnitKind
}

func readUnitChanges(data []byte) ([]unitChange, error) {
	recs, err := readCSV(data, []string{"code", "date", "name", "kind", "source"})
	if err != nil {
		return nil, fmt.Errorf("unit changes: %w", err)
	}
	var out []unitChange
	for i, r := range recs {
		var v platform.Violations
		date := parseDate("date", r[1], "", &v)
		kind, ok := map[string]catalogv1.UnitKind{"province": catalogv1.UnitKind_UNIT_KIND_PROVINCE, "city": catalogv1.UnitKind_UNIT_KIND_CITY}[r[3]]
		if v.Err() != nil || date == "" || !ok || r[2] == "" {
			return nil, fmt.Errorf("unit changes row %d: bad date, name or kind", i+1)
		}
		out = append(out, unitChange{code: r[0], date: date, name: platform.NFC(r[2]), kind: kind})
	}
	return out, nil
}

// withChange returns a copy of u whose name and kind change on ch.date, or u itself when
// the change is there already. The name in force on the date ends the day before; a later
// name equal to the new one is merged into it.
func withChange(u *catalogv1.Unit, ch unitChange) (*catalogv1.Unit, error) {
	i := -1
	for j, n := range u.GetNames() {
		if inForce(n.GetValidFrom(), n.GetValidTo(), ch.date) {
			i = j
		}
	}
	if i < 0 {
		return nil, fmt.Errorf("unit %s has no name on %s", u.GetCode(), ch.date)
	}
	cur := u.GetNames()[i]
	if cur.GetName() == ch.name && cur.GetKind() == ch.kind {
		return u, nil
	}
	out := proto.Clone(u).(*catalogv1.Unit)
	names := out.GetNames()
	added := &catalogv1.UnitName{Name: ch.name, Kind: ch.kind, ValidFrom: ch.date, ValidTo: names[i].GetValidTo()}
	names[i].ValidTo = dayBefore(ch.date)
	rest := names[i+1:]
	if len(rest) > 0 && rest[0].GetName() == ch.name && rest[0].GetKind() == ch.kind {
		added.ValidTo = rest[0].GetValidTo()
		rest = rest[1:]
	}
	out.Names = append(append(append([]*catalogv1.UnitName{}, names[:i+1]...), added), rest...)
	return out, nil
}

// applyUnitChanges writes the shipped changes into the stored units that lack them.
func (c *Catalog) applyUnitChanges(_ context.Context) (int, error) {
	changes, err := readUnitChanges(unitChangesCSV)
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var changed []*catalogv1.Unit
	for _, ch := range changes {
		u, ok := c.units[ch.code]
		if !ok {
			return 0, fmt.Errorf("unit changes: unit %s does not exist", ch.code)
		}
		nu, err := withChange(u, ch)
		if err != nil {
			return 0, err
		}
		if nu != u {
			changed = append(changed, nu)
		}
	}
	if len(changed) == 0 {
		return 0, nil
	}
	return len(changed), c.putUnits(changed)
}
