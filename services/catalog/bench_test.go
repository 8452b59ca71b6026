package catalog

import (
	"context"
	"testing"

	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
)

// The catalog's reads are in memory; these show what a call costs in the part itself and
// over gRPC (in-memory connection), with the demo catalog loaded.

func BenchmarkSearchProcedures(b *testing.B) {
	f := newFixture(b, true)
	ctx := context.Background()
	req := &catalogv1.ListProceduresRequest{Q: "dang ky kinh doanh", PageSize: 50}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.cat.ListProcedures(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetProcedureGRPC(b *testing.B) {
	f := newFixture(b, true)
	ctx := context.Background()
	req := &catalogv1.GetProcedureRequest{Code: "1.000114"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.client.GetProcedure(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkListProvincesGRPC(b *testing.B) {
	f := newFixture(b, true)
	ctx := context.Background()
	req := &catalogv1.ListUnitsRequest{Level: "province", Date: "2025-06-30", PageSize: 100}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.client.ListUnits(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLookupReferences(b *testing.B) {
	f := newFixture(b, true)
	ctx := context.Background()
	req := &catalogv1.LookupReferencesRequest{ProcedureCodes: []string{"1.000114"}, AgencyCodes: []string{"000.00.00.H40"}, UnitCodes: []string{"36"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.cat.LookupReferences(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}
