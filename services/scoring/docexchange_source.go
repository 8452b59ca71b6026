package scoring

import (
	"context"
	"fmt"
	"sync"
	"time"

	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"google.golang.org/grpc"
)

// DocExchangeClient is the part of the docexchange client scoring uses.
type DocExchangeClient interface {
	GetDocumentStats(ctx context.Context, in *docv1.GetDocumentStatsRequest, opts ...grpc.CallOption) (*docv1.DocumentStats, error)
	ListInbox(ctx context.Context, in *docv1.ListInboxRequest, opts ...grpc.CallOption) (*docv1.ListInboxResponse, error)
}

// GRPCDocExchange is DocExchangeSource over the docexchange part's gRPC API, called with
// scoring's own ministry token. One period's statistics come in one call (grouped by unit,
// in the geography of the period) and are kept for a few seconds, so a ranking of 63 units
// asks once, not 63 times.
type GRPCDocExchange struct {
	Client DocExchangeClient
	Token  TokenFunc
	Now    func() time.Time

	mu    sync.Mutex
	cache map[string]docCache
}

type docCache struct {
	rows map[string]*docv1.DocumentStatsRow
	at   time.Time
}

// reorganisation is when the 63 provinces became 34.
var reorganisation = time.Date(2025, 7, 1, 0, 0, 0, 0, vietnam)

// docCacheTTL is how long one period's document statistics are reused.
const docCacheTTL = 10 * time.Second

// waitingPages bounds how much of a mailbox WaitingDocuments reads (pages of 1000).
const waitingPages = 20

func (g *GRPCDocExchange) now() time.Time {
	if g.Now != nil {
		return g.Now()
	}
	return time.Now()
}

func (g *GRPCDocExchange) periodRows(ctx context.Context, p Period) (map[string]*docv1.DocumentStatsRow, error) {
	key := p.String()
	g.mu.Lock()
	c, ok := g.cache[key]
	g.mu.Unlock()
	if ok && g.now().Sub(c.at) < docCacheTTL {
		return c.rows, nil
	}
	ctx, err := withToken(ctx, g.Token)
	if err != nil {
		return nil, err
	}
	// A period before the 2025 reorganisation is asked in the units of its time, a later
	// one in today's: the units a ranking of that period lists.
	geo := "current"
	if p.Start().Before(reorganisation) {
		geo = "historical"
	}
	st, err := g.Client.GetDocumentStats(ctx, &docv1.GetDocumentStatsRequest{From: key, GroupBy: "unit", Geography: geo})
	if err != nil {
		return nil, err
	}
	rows := make(map[string]*docv1.DocumentStatsRow, len(st.GetRows()))
	for _, r := range st.GetRows() {
		rows[r.GetKey()] = r
	}
	g.mu.Lock()
	if g.cache == nil {
		g.cache = map[string]docCache{}
	}
	g.cache[key] = docCache{rows: rows, at: g.now()}
	g.mu.Unlock()
	return rows, nil
}

// DocumentStats of a unit for a period; a unit without documents has zero figures and no
// shares.
func (g *GRPCDocExchange) DocumentStats(ctx context.Context, unit string, p Period) (DocumentStats, error) {
	rows, err := g.periodRows(ctx, p)
	if err != nil {
		return DocumentStats{}, err
	}
	r := rows[unit]
	if r == nil {
		return DocumentStats{}, nil
	}
	return DocumentStats{
		Sent: r.GetSent(), Received: r.GetReceived(),
		ElectronicShare: r.GetElectronicShare(), HasElectronic: r.GetReceived() > 0,
		FullyOnlineShare: r.GetFullyOnlineShare(), HasFully: r.GetSent() > 0,
	}, nil
}

// WaitingDocuments counts the documents in an agency's mailbox still at 01 (arrived, not
// accepted) since before now − older, and the oldest arrival.
func (g *GRPCDocExchange) WaitingDocuments(ctx context.Context, agency string, older time.Duration) (int, time.Time, error) {
	ctx, err := withToken(ctx, g.Token)
	if err != nil {
		return 0, time.Time{}, err
	}
	cutoff := g.now().Add(-older)
	n, oldest, token := 0, time.Time{}, ""
	for range waitingPages {
		resp, err := g.Client.ListInbox(ctx, &docv1.ListInboxRequest{AgencyCode: agency, Status: docv1.DocumentStatus_DOCUMENT_STATUS_ARRIVED, PageSize: 1000, PageToken: token})
		if err != nil {
			return 0, time.Time{}, err
		}
		for _, d := range resp.GetDocuments() {
			for _, r := range d.GetRecipients() {
				if r.GetAgencyCode() != agency || r.GetStatus() != docv1.DocumentStatus_DOCUMENT_STATUS_ARRIVED {
					continue
				}
				at, err := time.Parse(time.RFC3339Nano, r.GetUpdatedAt())
				if err != nil {
					return 0, time.Time{}, fmt.Errorf("document %s: arrival time %q: %w", d.GetId(), r.GetUpdatedAt(), err)
				}
				if at.Before(cutoff) {
					n++
					if oldest.IsZero() || at.Before(oldest) {
						oldest = at
					}
				}
			}
		}
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	return n, oldest, nil
}
