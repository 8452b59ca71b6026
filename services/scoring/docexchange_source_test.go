package scoring

import (
	"context"
	"testing"
	"time"

	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	scoringv1 "github.com/lienthong/lienthong/proto/gen/lienthong/scoring/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

type fakeDocs struct {
	statsCalls []*docv1.GetDocumentStatsRequest
	auth       []string
	pages      map[string]*docv1.ListInboxResponse
}

func (f *fakeDocs) GetDocumentStats(ctx context.Context, in *docv1.GetDocumentStatsRequest, _ ...grpc.CallOption) (*docv1.DocumentStats, error) {
	md, _ := metadata.FromOutgoingContext(ctx)
	f.auth = append(f.auth, md.Get("authorization")...)
	f.statsCalls = append(f.statsCalls, in)
	return &docv1.DocumentStats{Rows: []*docv1.DocumentStatsRow{
		{Key: "33", Sent: 100, Received: 80, ElectronicShare: 0.89, FullyOnlineShare: 0.45},
		{Key: "36", Sent: 0, Received: 0},
	}}, nil
}

func (f *fakeDocs) ListInbox(_ context.Context, in *docv1.ListInboxRequest, _ ...grpc.CallOption) (*docv1.ListInboxResponse, error) {
	return f.pages[in.GetPageToken()], nil
}

func TestGRPCDocExchange(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	arrived := func(id, agency, at string) *docv1.Document {
		return &docv1.Document{Id: id, Recipients: []*docv1.Recipient{
			{AgencyCode: "000.00.33.H41", Status: docv1.DocumentStatus_DOCUMENT_STATUS_ACCEPTED, UpdatedAt: "2026-11-01T00:00:00Z"},
			{AgencyCode: agency, Status: docv1.DocumentStatus_DOCUMENT_STATUS_ARRIVED, UpdatedAt: at},
		}}
	}
	f := &fakeDocs{pages: map[string]*docv1.ListInboxResponse{
		"":   {Documents: []*docv1.Document{arrived("a", "000.00.33.H31", "2026-11-18T08:00:00Z"), arrived("b", "000.00.33.H31", "2026-11-20T11:00:00Z")}, NextPageToken: "p2"},
		"p2": {Documents: []*docv1.Document{arrived("c", "000.00.33.H31", "2026-11-17T08:00:00Z")}},
	}}
	g := &GRPCDocExchange{Client: f, Token: func() (string, error) { return "tok", nil }, Now: func() time.Time { return now }}
	ctx := context.Background()
	p := Period{Kind: scoringv1.PeriodKind_PERIOD_KIND_YEAR, Year: 2018}

	st, err := g.DocumentStats(ctx, "33", p)
	if err != nil || st.Sent != 100 || st.Received != 80 || st.ElectronicShare != 0.89 || !st.HasElectronic || st.FullyOnlineShare != 0.45 || !st.HasFully {
		t.Fatalf("unit 33: %+v, %v", st, err)
	}
	if st, _ := g.DocumentStats(ctx, "36", p); st.HasElectronic || st.HasFully {
		t.Errorf("unit without documents: %+v, want no shares", st)
	}
	if st, _ := g.DocumentStats(ctx, "01", p); st != (DocumentStats{}) {
		t.Errorf("unit not in the answer: %+v, want zeros", st)
	}
	if len(f.statsCalls) != 1 {
		t.Errorf("%d calls for three units of one period, want 1", len(f.statsCalls))
	}
	if r := f.statsCalls[0]; r.GetFrom() != "2018" || r.GetGroupBy() != "unit" || r.GetGeography() != "historical" {
		t.Errorf("request %v, want 2018 by unit in the units of the time", r)
	}
	if _, err := g.DocumentStats(ctx, "33", Period{Kind: scoringv1.PeriodKind_PERIOD_KIND_YEAR, Year: 2026}); err != nil || f.statsCalls[1].GetGeography() != "current" {
		t.Errorf("2026: %v, geography %q; want today's units", err, f.statsCalls[1].GetGeography())
	}
	if len(f.auth) == 0 || f.auth[0] != "Bearer tok" {
		t.Errorf("calls carried %v, want scoring's token", f.auth)
	}
	now = now.Add(docCacheTTL + time.Second)
	if _, err := g.DocumentStats(ctx, "33", p); err != nil || len(f.statsCalls) != 3 {
		t.Errorf("after the cache time: %d calls (%v), want a new one", len(f.statsCalls), err)
	}

	n, oldest, err := g.WaitingDocuments(ctx, "000.00.33.H31", 24*time.Hour)
	if err != nil || n != 2 || !oldest.Equal(time.Date(2026, 11, 17, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("waiting: %d, oldest %v, %v; want 2 (a and c, over both pages), oldest c", n, oldest, err)
	}
}
