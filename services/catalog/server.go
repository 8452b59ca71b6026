package catalog

import (
	adminv1 "github.com/lienthong/lienthong/proto/gen/lienthong/admin/v1"
	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	"github.com/lienthong/lienthong/services/platform"
)

// Policy: catalog reads are public (docs/api.md, "Auth: tokens and roles"); writes need a token and check the admin
// role in the method.
var Policy = platform.Policy{
	catalogv1.CatalogService_ListUnits_FullMethodName:        platform.Public,
	catalogv1.CatalogService_GetUnit_FullMethodName:          platform.Public,
	catalogv1.CatalogService_ResolveUnit_FullMethodName:      platform.Public,
	catalogv1.CatalogService_ListAgencies_FullMethodName:     platform.Public,
	catalogv1.CatalogService_GetAgency_FullMethodName:        platform.Public,
	catalogv1.CatalogService_ListProcedures_FullMethodName:   platform.Public,
	catalogv1.CatalogService_GetProcedure_FullMethodName:     platform.Public,
	catalogv1.CatalogService_GetCatalogStats_FullMethodName:  platform.Public,
	catalogv1.CatalogService_LookupReferences_FullMethodName: platform.Public,
	catalogv1.CatalogService_ResolveAgency_FullMethodName:    platform.Public,
	catalogv1.CatalogService_ListLevel1Codes_FullMethodName:  platform.Public,
	catalogv1.CatalogService_GetLevel1Code_FullMethodName:    platform.Public,
	// The parts follow the revocations without a token (revocations.go).
	adminv1.TokenRevocationService_WatchTokenRevocations_FullMethodName: platform.Public,
}

// Register adds the catalog service to a part's server.
func Register(s *platform.Server, c *Catalog) {
	catalogv1.RegisterCatalogServiceServer(s, c)
}
