package docexchange

import (
	"context"
	"strings"
	"testing"

	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// agUBND37 is the People's Committee of Ninh Bình, which the catalog names as the successor
// of Nam Định's agencies.
const agUBND37 = "000.00.00.H42"

// lifeCatalog is the fake catalog with the agencies' lives of agency_references
// (docs/domain.md, Agencies): Sở Tư pháp Nam Định closed with its province on 2025-06-30
// (NQ 202/2025/QH15 merged Nam Định into Ninh Bình from 2025-07-01).
type lifeCatalog struct{ *fakeCatalog }

func (c lifeCatalog) LookupReferences(ctx context.Context, in *catalogv1.LookupReferencesRequest, opts ...grpc.CallOption) (*catalogv1.LookupReferencesResponse, error) {
	out, err := c.fakeCatalog.LookupReferences(ctx, in, opts...)
	if err != nil {
		return nil, err
	}
	for _, a := range out.GetAgencies() {
		ref := &catalogv1.AgencyReference{Agency: &catalogv1.Agency{Code: a.GetCode(), UnitCode: a.GetUnitCode(), InForce: true}, CurrentCode: a.GetCode()}
		if a.GetCode() == agTuPhap36 {
			ref.Agency.InForce, ref.Agency.ValidTo, ref.Agency.SuccessorCode = false, "2025-06-30", agUBND37
			ref.CurrentCode = agUBND37
		}
		out.AgencyReferences = append(out.AgencyReferences, ref)
	}
	return out, nil
}

// TestDocumentOfClosedAgencyRefused: a document promulgated after its sender or a recipient
// closed is refused as AGENCY_CLOSED naming the agency, its last day and its successor,
// and nothing is stored; promulgated on the agency's last day it is accepted and stays
// readable (docs/domain.md, Agencies; NQ 202/2025/QH15).
func TestDocumentOfClosedAgencyRefused(t *testing.T) {
	f := newFixture(t)
	f.svc.refs = newRefs(lifeCatalog{f.cat}, f.svc.refs.now) // nothing cached from the plain fake

	from36 := letter("101/STP")
	from36.From, from36.To, from36.PromulgationDate = agTuPhap36, []string{agUBND33}, "2025-07-02"
	to36 := letter("102/STP")
	to36.To, to36.PromulgationDate = []string{agUBND33, agTuPhap36}, "2025-07-02"
	for _, tc := range []struct {
		name  string
		d     *docv1.Document
		field string
	}{{"from a closed agency", from36, "from"}, {"to a closed agency", to36, "to[1]"}} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.client.SendDocument(f.agency(tc.d.From), &docv1.SendDocumentRequest{Document: tc.d})
			st := status.Convert(err)
			if st.Code() != codes.FailedPrecondition || reason(err) != "AGENCY_CLOSED" {
				t.Fatalf("got %v %q (%v), want FAILED_PRECONDITION AGENCY_CLOSED", st.Code(), reason(err), err)
			}
			for _, w := range []string{agTuPhap36, "2025-06-30", agUBND37, tc.field} {
				if !strings.Contains(st.Message(), w) {
					t.Errorf("message %q does not name %s", st.Message(), w)
				}
			}
			var md map[string]string
			for _, d := range st.Details() {
				if info, ok := d.(*errdetails.ErrorInfo); ok {
					md = info.GetMetadata()
				}
			}
			if md["agency_code"] != agTuPhap36 || md["valid_to"] != "2025-06-30" || md["successor_code"] != agUBND37 {
				t.Errorf("metadata: got %v", md)
			}
		})
	}
	if ids := f.inboxIDs(agUBND33); len(ids) != 0 {
		t.Fatalf("refused documents delivered: %v", ids)
	}

	// On its last day in force the agency still sends, and the document stays readable.
	last := letter("100/STP")
	last.From, last.To, last.PromulgationDate = agTuPhap36, []string{agUBND33}, "2025-06-30"
	id := f.send(last).GetId()
	got, err := f.client.GetDocument(f.agency(agUBND33), &docv1.GetDocumentRequest{Id: id})
	if err != nil || got.GetFrom() != agTuPhap36 {
		t.Fatalf("GetDocument %s: %v from %q", id, err, got.GetFrom())
	}
}
