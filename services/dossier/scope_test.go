package dossier

import (
	"context"
	"slices"
	"testing"

	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	"github.com/lienthong/lienthong/services/platform"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
)

// scopeFixture has a dossier of unit 33 (2026), one of 36 (2024) and one of 37 (2026).
func scopeFixture(t *testing.T) (f *fixture, c33, c36, c37 string) {
	f = newFixture(t)
	c33 = dcode(agency33a, "261022", 1)
	c36 = dcode(agency36, "240304", 1)
	c37 = dcode(agency37, "261022", 1)
	f.mustCreate(f.admin(),
		mkFirst("s-33-1", c33, sAccepted, vn(2026, 10, 22, 8, 0), "33", agency33a, procLand, chOnline),
		mkEv("s-33-2", c33, sProcessing, vn(2026, 10, 22, 9, 0)),
		mkFirst("s-36-1", c36, sAccepted, vn(2024, 3, 4, 8, 0), "36", agency36, procCivil, chDirect),
		mkEv("s-36-2", c36, sProcessing, vn(2024, 3, 5, 8, 0)),
		mkFirst("s-37-1", c37, sNew, vn(2026, 10, 22, 8, 0), "37", agency37, procLand, chPostal),
	)
	return f, c33, c36, c37
}

func TestScopeWrites(t *testing.T) {
	f, c33, c36, _ := scopeFixture(t)
	p33 := f.province("33")
	agencyTok := f.as("000.01.00.H31/qlvb", platform.RoleAgency, "")
	newC36 := dcode(agency36, "240305", 9)
	tests := []struct {
		name   string
		ctx    context.Context
		e      *dossierv1.DossierEvent
		code   codes.Code
		check  string // dossier whose timeline must be unchanged ("" none)
		absent bool   // the dossier must not exist afterwards
	}{
		{"province 33 creates a dossier of unit 36", p33,
			mkFirst("w-1", newC36, sAccepted, vn(2024, 3, 5, 8, 0), "36", agency36, procCivil, chDirect), codes.PermissionDenied, "", true},
		{"province 33 moves a dossier of unit 36", p33, mkEv("w-2", c36, sResolved, vn(2024, 3, 6, 8, 0)), codes.PermissionDenied, c36, false},
		{"province 33 names unit 36 on its own dossier", p33, func() *dossierv1.DossierEvent {
			e := mkEv("w-3", c33, sResolved, vn(2026, 10, 23, 8, 0))
			e.UnitCode = "36"
			return e
		}(), codes.InvalidArgument, c33, false},
		{"ministry writes", f.ministry(), mkEv("w-4", c33, sResolved, vn(2026, 10, 23, 8, 0)), codes.PermissionDenied, c33, false},
		{"agency token writes", agencyTok, mkEv("w-5", c33, sResolved, vn(2026, 10, 23, 8, 0)), codes.PermissionDenied, c33, false},
		{"no token", context.Background(), mkEv("w-6", c33, sResolved, vn(2026, 10, 23, 8, 0)), codes.Unauthenticated, c33, false},
		{"malformed token", metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer not-a-token"),
			mkEv("w-7", c33, sResolved, vn(2026, 10, 23, 8, 0)), codes.Unauthenticated, c33, false},
		{"province 33 moves its own dossier", p33, mkEv("w-8", c33, sResolved, vn(2026, 10, 23, 8, 0)), codes.OK, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var before []string
			if tc.check != "" {
				before = eventIDs(f.dossier(tc.check).GetEvents())
			}
			seq := f.lastSeq()
			_, err := f.create(tc.ctx, tc.e)
			if tc.code == codes.OK {
				if err != nil {
					t.Fatalf("got %v, want success", err)
				}
				return
			}
			wantStatus(t, err, tc.code, "")
			f.wantNothingAfter(t, seq)
			if tc.check != "" {
				if got := eventIDs(f.dossier(tc.check).GetEvents()); !slices.Equal(got, before) {
					t.Errorf("timeline of %s: got %v, want %v", tc.check, got, before)
				}
			}
			if tc.absent {
				_, err := f.client.GetDossier(f.admin(), &dossierv1.GetDossierRequest{Code: tc.e.GetDossierCode()})
				wantStatus(t, err, codes.NotFound, "DOSSIER_NOT_FOUND")
			}
		})
	}

	t.Run("ministry batch and stream", func(t *testing.T) {
		_, err := f.client.BatchCreateDossierEvents(f.ministry(), &dossierv1.BatchCreateDossierEventsRequest{
			Events: []*dossierv1.DossierEvent{mkEv("w-9", c33, sReturned, vn(2026, 10, 24, 8, 0))}})
		wantStatus(t, err, codes.PermissionDenied, "PERMISSION_DENIED")
		stream, err := f.client.StreamDossierEvents(f.ministry())
		if err != nil {
			t.Fatal(err)
		}
		_ = stream.Send(&dossierv1.StreamDossierEventsRequest{BatchId: "b", Events: []*dossierv1.DossierEvent{mkEv("w-10", c33, sReturned, vn(2026, 10, 24, 8, 0))}})
		_, err = stream.Recv()
		wantStatus(t, err, codes.PermissionDenied, "PERMISSION_DENIED")
	})

	t.Run("province batch: own unit stored, other unit refused", func(t *testing.T) {
		resp, err := f.client.BatchCreateDossierEvents(p33, &dossierv1.BatchCreateDossierEventsRequest{Events: []*dossierv1.DossierEvent{
			mkEv("w-11", c33, sReturned, vn(2026, 10, 24, 8, 0)),
			mkEv("w-12", c36, sResolved, vn(2024, 3, 6, 8, 0)),
		}})
		if err != nil {
			t.Fatal(err)
		}
		if r := resp.GetResults()[0]; r.GetError() != nil || r.GetDossierStatus() != sReturned {
			t.Errorf("own unit: got %v, want RESULT_RETURNED", r)
		}
		if r := resp.GetResults()[1]; codes.Code(r.GetError().GetCode()) != codes.PermissionDenied {
			t.Errorf("unit 36: got %v, want PERMISSION_DENIED", r)
		}
		if got := f.dossier(c36).GetStatus(); got != sProcessing {
			t.Errorf("dossier of 36: got %v, want PROCESSING", got)
		}
	})
}

func TestScopeReads(t *testing.T) {
	f, c33, c36, c37 := scopeFixture(t)
	p33 := f.province("33")

	t.Run("GetDossier", func(t *testing.T) {
		if _, err := f.client.GetDossier(p33, &dossierv1.GetDossierRequest{Code: c33}); err != nil {
			t.Errorf("own dossier: %v", err)
		}
		_, err := f.client.GetDossier(p33, &dossierv1.GetDossierRequest{Code: c36})
		wantStatus(t, err, codes.PermissionDenied, "PERMISSION_DENIED")
		if _, err := f.client.GetDossier(f.ministry(), &dossierv1.GetDossierRequest{Code: c36}); err != nil {
			t.Errorf("ministry: %v", err)
		}
		_, err = f.client.GetDossier(context.Background(), &dossierv1.GetDossierRequest{Code: c33})
		wantStatus(t, err, codes.Unauthenticated, "UNAUTHENTICATED")
		_, err = f.client.GetDossier(f.admin(), &dossierv1.GetDossierRequest{Code: dcode(agency33a, "261022", 9999)})
		wantStatus(t, err, codes.NotFound, "DOSSIER_NOT_FOUND")
	})

	t.Run("ListDossierEvents", func(t *testing.T) {
		_, err := f.client.ListDossierEvents(p33, &dossierv1.ListDossierEventsRequest{Unit: "36"})
		wantStatus(t, err, codes.PermissionDenied, "PERMISSION_DENIED")
		for _, unit := range []string{"", "33"} {
			resp, err := f.client.ListDossierEvents(p33, &dossierv1.ListDossierEventsRequest{Unit: unit})
			if err != nil {
				t.Fatal(err)
			}
			if got := eventIDs(resp.GetEvents()); !slices.Equal(got, []string{"s-33-1", "s-33-2"}) {
				t.Errorf("province 33, unit %q: got %v, want [s-33-1 s-33-2]", unit, got)
			}
			for _, e := range resp.GetEvents() {
				if e.GetUnitCode() != "33" {
					t.Errorf("event %s of unit %s in 33's feed", e.GetEventId(), e.GetUnitCode())
				}
			}
		}
		resp, err := f.client.ListDossierEvents(f.ministry(), &dossierv1.ListDossierEventsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(resp.GetEvents()); n != 5 {
			t.Errorf("ministry: got %d events, want 5", n)
		}
		resp, err = f.client.ListDossierEvents(f.ministry(), &dossierv1.ListDossierEventsRequest{Unit: "36"})
		if err != nil {
			t.Fatal(err)
		}
		// The second event of the 36 dossier carried no unit: the feed fills it in.
		if got := eventIDs(resp.GetEvents()); !slices.Equal(got, []string{"s-36-1", "s-36-2"}) {
			t.Errorf("ministry, unit 36: got %v, want [s-36-1 s-36-2]", got)
		}
	})

	t.Run("WatchDossierEvents of another unit", func(t *testing.T) {
		stream, err := f.client.WatchDossierEvents(p33, &dossierv1.WatchDossierEventsRequest{Unit: "36"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = stream.Recv()
		wantStatus(t, err, codes.PermissionDenied, "PERMISSION_DENIED")
	})

	t.Run("ListDossiers", func(t *testing.T) {
		_, err := f.client.ListDossiers(p33, &dossierv1.ListDossiersRequest{Unit: "37"})
		wantStatus(t, err, codes.PermissionDenied, "PERMISSION_DENIED")
		resp, err := f.client.ListDossiers(p33, &dossierv1.ListDossiersRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.GetDossiers()) != 1 || resp.GetDossiers()[0].GetCode() != c33 {
			t.Errorf("province 33: got %v, want only %s", resp.GetDossiers(), c33)
		}
		resp, err = f.client.ListDossiers(f.ministry(), &dossierv1.ListDossiersRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.GetDossiers()) != 3 {
			t.Errorf("ministry: got %d dossiers, want 3", len(resp.GetDossiers()))
		}
	})

	t.Run("GetDossierStats", func(t *testing.T) {
		_, err := f.client.GetDossierStats(p33, &dossierv1.GetDossierStatsRequest{Unit: "37", From: "2026-10"})
		wantStatus(t, err, codes.PermissionDenied, "PERMISSION_DENIED")
		st, err := f.client.GetDossierStats(p33, &dossierv1.GetDossierStatsRequest{From: "2024", To: "2026", GroupBy: "unit", Geography: "historical"})
		if err != nil {
			t.Fatal(err)
		}
		if len(st.GetRows()) != 1 || st.GetRows()[0].GetKey() != "33" || st.GetRows()[0].GetReceivedTotal() != 1 {
			t.Errorf("province 33 statistics: got %v, want one row 33 with 1 received", st.GetRows())
		}
		_, err = f.client.GetDossierStats(context.Background(), &dossierv1.GetDossierStatsRequest{})
		wantStatus(t, err, codes.Unauthenticated, "")
	})

	t.Run("TrackDossier without a token", func(t *testing.T) {
		for _, c := range []string{c33, c36, c37} {
			tr, err := f.client.TrackDossier(context.Background(), &dossierv1.TrackDossierRequest{Code: c})
			if err != nil {
				t.Fatalf("track %s: %v", c, err)
			}
			d := f.dossier(c)
			want := &dossierv1.DossierTrack{Code: d.GetCode(), Status: d.GetStatus(), ReceivedAt: d.GetReceivedAt(),
				EffectiveDueAt: d.GetEffectiveDueAt(), FinishedAt: d.GetFinishedAt(), Timeliness: d.GetTimeliness()}
			if !proto.Equal(tr, want) {
				t.Errorf("track %s: got %v, want %v", c, tr, want)
			}
		}
		// The public answer has only code, status, dates and verdict: no agency, no
		// timeline, no handler or note.
		fields := dossierv1.File_lienthong_dossier_v1_dossier_proto.Messages().ByName("DossierTrack").Fields()
		var names []string
		for i := 0; i < fields.Len(); i++ {
			names = append(names, string(fields.Get(i).Name()))
		}
		if want := []string{"code", "status", "received_at", "effective_due_at", "finished_at", "timeliness"}; !slices.Equal(names, want) {
			t.Errorf("DossierTrack fields: got %v, want %v", names, want)
		}
		_, err := f.client.TrackDossier(context.Background(), &dossierv1.TrackDossierRequest{Code: dcode(agency33a, "261022", 9999)})
		wantStatus(t, err, codes.NotFound, "DOSSIER_NOT_FOUND")
		// A token that is present must still be valid.
		bad := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer nope")
		_, err = f.client.TrackDossier(bad, &dossierv1.TrackDossierRequest{Code: c33})
		wantStatus(t, err, codes.Unauthenticated, "UNAUTHENTICATED")
	})
}
