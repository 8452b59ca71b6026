package catalog

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	"github.com/lienthong/lienthong/services/platform"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Whose is a token's system. A system id is AGENCY/subsystem (platform.Caller.Agency); the
// rule by role (docs/security.md):
//   - province: the agency is in the catalog and belongs to the token's unit, or to a unit
//     merged into it (an agency of Thái Bình, 34, for a token of Hưng Yên, 33, after the
//     merger; its record still names its old unit);
//   - agency: the agency is in the catalog;
//   - ministry: the agency code is a ministry's or another central body's (letter G,
//     NNN.NN.NN.GNN: they are not in the provincial catalog), or the system is one of
//     lienthong's own ("lienthong/…", e.g. lienthong/scoring);
//   - admin: not checked (an admin token may do everything; `lienthong up` writes one for
//     lienthong/admin).
//
// Every part checks it once per token (platform.TokenVerifier), and `lienthong token issue`
// before it signs.

// MinistryAgencyRE is the code of a ministry or central body.
var MinistryAgencyRE = regexp.MustCompile(`^\d{3}\.\d{2}\.\d{2}\.G\d{2}$`)

// internalSystem is the agency part of lienthong's own systems.
const internalSystem = "lienthong"

// systemLookup answers agencies and units for the rule; found is false for an unknown code,
// err is set only when the catalog cannot answer.
type systemLookup interface {
	agency(ctx context.Context, code string) (a *catalogv1.Agency, found bool, err error)
	unit(ctx context.Context, code string) (u *catalogv1.Unit, found bool, err error)
}

// checkTokenSystem applies the rule.
func checkTokenSystem(ctx context.Context, c *platform.Caller, l systemLookup) error {
	code := c.Agency()
	switch c.Role {
	case platform.RoleAdmin:
		return nil
	case platform.RoleMinistry:
		if MinistryAgencyRE.MatchString(code) || (code == internalSystem && strings.Contains(c.System, "/")) {
			return nil
		}
		return platform.SystemNotOwned(fmt.Sprintf(
			"a ministry token's system must start with a ministry's agency code NNN.NN.NN.GNN (or be lienthong/…), got %q", c.System))
	case platform.RoleProvince, platform.RoleAgency:
	default:
		return platform.SystemNotOwned(fmt.Sprintf("unknown role %q", c.Role))
	}
	if !platform.IsAgencyCode(code) {
		return platform.SystemNotOwned(fmt.Sprintf("a %s token's system must start with an agency code NNN.NN.NN.XNN or XNN.NN, got %q", c.Role, c.System))
	}
	a, found, err := l.agency(ctx, code)
	if err != nil {
		return err
	}
	if !found {
		return platform.SystemNotOwned(fmt.Sprintf(
			"the agency %s of system %s is not in the catalog; register it (POST /v1/agencies) before issuing its tokens", code, c.System))
	}
	if c.Role == platform.RoleAgency || a.GetUnitCode() == c.Unit {
		return nil
	}
	u, found, err := l.unit(ctx, a.GetUnitCode())
	if err != nil {
		return err
	}
	// A unit that merged into the token's unit, or a commune of the token's province (the
	// unit of a commune People's Committee is its commune, docs/domain.md, Agencies).
	if found && (slices.Contains(u.GetSuccessors(), c.Unit) || u.GetParentCode() == c.Unit) {
		return nil
	}
	return platform.SystemNotOwned(fmt.Sprintf("the agency %s of system %s belongs to unit %s, not to the token's unit %s",
		code, c.System, a.GetUnitCode(), c.Unit))
}

// CheckTokenSystem applies the rule with the catalog in memory (the catalog part itself,
// and every part of `lienthong up`).
func (c *Catalog) CheckTokenSystem(ctx context.Context, caller *platform.Caller) error {
	return checkTokenSystem(ctx, caller, memoryLookup{c})
}

type memoryLookup struct{ c *Catalog }

func (m memoryLookup) agency(_ context.Context, code string) (*catalogv1.Agency, bool, error) {
	m.c.mu.RLock()
	defer m.c.mu.RUnlock()
	a, ok := m.c.agencies[code]
	return a, ok, nil
}

func (m memoryLookup) unit(_ context.Context, code string) (*catalogv1.Unit, bool, error) {
	m.c.mu.RLock()
	defer m.c.mu.RUnlock()
	u, ok := m.c.units[code]
	return u, ok, nil
}

// RemoteSystemCheck applies the rule by asking a catalog part (the other parts under
// `lienthong serve`, and `lienthong token issue --catalog-addr`). Wrap it in
// platform.CachedSystemCheck for a part.
func RemoteSystemCheck(client catalogv1.CatalogServiceClient) platform.SystemCheck {
	l := remoteLookup{client}
	return func(ctx context.Context, c *platform.Caller) error { return checkTokenSystem(ctx, c, l) }
}

type remoteLookup struct {
	client catalogv1.CatalogServiceClient
}

func (r remoteLookup) agency(ctx context.Context, code string) (*catalogv1.Agency, bool, error) {
	a, err := r.client.GetAgency(ctx, &catalogv1.GetAgencyRequest{Code: code})
	return a, err == nil, remoteError(err)
}

func (r remoteLookup) unit(ctx context.Context, code string) (*catalogv1.Unit, bool, error) {
	u, err := r.client.GetUnit(ctx, &catalogv1.GetUnitRequest{Code: code})
	return u, err == nil, remoteError(err)
}

// remoteError is nil for an answer (found or not found), UNAVAILABLE for no answer.
func remoteError(err error) error {
	if err == nil || status.Code(err) == codes.NotFound {
		return nil
	}
	return platform.SystemUnavailable()
}
