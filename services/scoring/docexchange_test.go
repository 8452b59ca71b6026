package scoring

import (
	"context"
	"testing"
	"time"

	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	scoringv1 "github.com/lienthong/lienthong/proto/gen/lienthong/scoring/v1"
	"google.golang.org/grpc"
)

type fakeDocs struct {
	statsReq []*docv1.GetDocumentStatsRequest
	pages    map[string]*docv1.ListInboxResponse // page token -> page
}

func (f *fakeDocs) GetDocumentStats(_ context.Context, in *docv1.GetDocumentStatsRequest, _ ...grpc.CallOption) (*docv1.DocumentStats, error) {
	f.statsReq = append(f.statsReq, in)
	return &docv1.DocumentStats{Rows: []*docv1.DocumentStatsRow{{Key: "33", Sent: 200, Received: 200, ElectronicShare: 0.89, FullyOnlineShare: 0.45}}}, nil
}

func (f *fakeDocs) ListInbox(_ context.Context, in *docv1.ListInboxRequest, _ ...grpc.CallOption) (*docv1.ListInboxResponse, error) {
	return f.pages[in.GetPageToken()], nil
}

func waiting(id, agency, at string) *docv1.Document {
	return &docv1.Document{Id: id, Recipients: []*docv1.Recipient{
		{AgencyCode: "000.09.00.H33", Status: docv1.DocumentStatus_DOCUMENT_STATUS_ARRIVED, UpdatedAt: "2018-01-01T08:00:00+07:00"},
		{AgencyCode: agency, Status: docv1.DocumentStatus_DOCUMENT_STATUS_ARRIVED, UpdatedAt: at}}}
}

func TestGRPCDocExchange(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, vietnam)
	f := &fakeDocs{pages: map[string]*docv1.ListInboxResponse{
		"":   {Documents: []*docv1.Document{waiting("a", "000.00.00.H33", "2026-11-20T08:00:00+07:00")}, NextPageToken: "p2"},
		"p2": {Documents: []*docv1.Document{waiting("b", "000.00.00.H33", "2026-11-23T09:00:00+07:00"), waiting("c", "000.00.00.H33", "2018-05-02T08:00:00+07:00")}},
	}}
	g := GRPCDocExchange{Client: f, Now: func() time.Time { return now }}
	st, err := g.DocumentStats(context.Background(), "33", Period{Kind: scoringv1.PeriodKind_PERIOD_KIND_YEAR, Year: 2018})
	if err != nil || st.Sent != 200 || st.ElectronicShare != 0.89 || !st.HasFully || f.statsReq[0].GetGeography() != "historical" || f.statsReq[0].GetFrom() != "2018" {
		t.Fatalf("2018 stats %+v %v (asked %v)", st, err, f.statsReq)
	}
	if _, err := g.DocumentStats(context.Background(), "33", Period{Kind: scoringv1.PeriodKind_PERIOD_KIND_YEAR, Year: 2026}); err != nil || f.statsReq[1].GetGeography() != "current" {
		t.Fatalf("2026 asked %v (%v)", f.statsReq[1], err)
	}
	if st, _ := g.DocumentStats(context.Background(), "36", Period{Kind: scoringv1.PeriodKind_PERIOD_KIND_YEAR, Year: 2018}); st.HasElectronic || st.HasFully {
		t.Fatalf("a unit without documents: %+v", st)
	}
	n, oldest, err := g.WaitingDocuments(context.Background(), "000.00.00.H33", 24*time.Hour)
	if err != nil || n != 2 || !oldest.Equal(time.Date(2018, 5, 2, 8, 0, 0, 0, vietnam)) {
		t.Fatalf("waiting: %d %v %v", n, oldest, err)
	}
}
