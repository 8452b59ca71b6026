package scoring

import (
	"context"
	"time"

	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"google.golang.org/grpc"
)

// DocumentClient is what scoring asks the docexchange part.
type DocumentClient interface {
	GetDocumentStats(ctx context.Context, in *docv1.GetDocumentStatsRequest, opts ...grpc.CallOption) (*docv1.DocumentStats, error)
	ListInbox(ctx context.Context, in *docv1.ListInboxRequest, opts ...grpc.CallOption) (*docv1.ListInboxResponse, error)
}

// GRPCDocExchange is DocExchangeSource over the docexchange part's gRPC API.
type GRPCDocExchange struct {
	Client DocumentClient
	Token  TokenFunc
	Now    func() time.Time
}

// reorganisation is when the 63 provinces became 34: a period that starts before it is
// asked in the units of its time (historical), a later one in today's (current).
var reorganisation = time.Date(2025, 7, 1, 0, 0, 0, 0, vietnam)

// DocumentStats asks for one unit's document figures of a period.
func (g GRPCDocExchange) DocumentStats(ctx context.Context, unit string, p Period) (DocumentStats, error) {
	ctx, err := withToken(ctx, g.Token)
	if err != nil {
		return DocumentStats{}, err
	}
	geo := "current"
	if p.Start().Before(reorganisation) {
		geo = "historical"
	}
	st, err := g.Client.GetDocumentStats(ctx, &docv1.GetDocumentStatsRequest{Unit: unit, From: p.String(), GroupBy: "unit", Geography: geo})
	if err != nil {
		return DocumentStats{}, err
	}
	for _, r := range st.GetRows() {
		if r.GetKey() == unit {
			return DocumentStats{Sent: r.GetSent(), Received: r.GetReceived(), ElectronicShare: r.GetElectronicShare(),
				FullyOnlineShare: r.GetFullyOnlineShare(), HasElectronic: r.GetReceived() > 0, HasFully: r.GetSent() > 0}, nil
		}
	}
	return DocumentStats{}, nil
}

// WaitingDocuments pages through the agency's mailbox for documents still at 01 (arrived,
// not yet accepted or rejected) that arrived longer than older ago.
func (g GRPCDocExchange) WaitingDocuments(ctx context.Context, agency string, older time.Duration) (int, time.Time, error) {
	ctx, err := withToken(ctx, g.Token)
	if err != nil {
		return 0, time.Time{}, err
	}
	now := time.Now
	if g.Now != nil {
		now = g.Now
	}
	cutoff := now().Add(-older)
	var n int
	var oldest time.Time
	token := ""
	for {
		resp, err := g.Client.ListInbox(ctx, &docv1.ListInboxRequest{AgencyCode: agency, Status: docv1.DocumentStatus_DOCUMENT_STATUS_ARRIVED,
			PageSize: 1000, PageToken: token})
		if err != nil {
			return 0, time.Time{}, err
		}
		for _, d := range resp.GetDocuments() {
			for _, r := range d.GetRecipients() {
				if r.GetAgencyCode() != agency {
					continue
				}
				at, err := time.Parse(time.RFC3339, r.GetUpdatedAt())
				if err != nil || !at.Before(cutoff) {
					continue
				}
				n++
				if oldest.IsZero() || at.Before(oldest) {
					oldest = at
				}
			}
		}
		if token = resp.GetNextPageToken(); token == "" {
			return n, oldest, nil
		}
	}
}
