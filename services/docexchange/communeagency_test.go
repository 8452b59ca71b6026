package docexchange

import (
	"testing"

	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"github.com/lienthong/lienthong/services/platform"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// agCommune33 is a commune People's Committee of Hưng Yên named by a left-to-right code; the
// catalog's unit of such an agency is its commune (11953), whose province is 33
// (docs/domain.md, Agencies and Identifiers: QĐ 20/2020/QĐ-TTg allows both code forms).
const agCommune33 = "H31.901"

// TestCommunePeoplesCommitteeExchangesDocuments: a commune People's Committee sends and
// receives documents under its left-to-right code; it belongs to its commune's province for
// a province token, and to no other province.
func TestCommunePeoplesCommitteeExchangesDocuments(t *testing.T) {
	f := newFixture(t)
	f.cat.mu.Lock()
	f.cat.agencies[agCommune33] = "11953"
	f.cat.current["11953"] = "11953"
	f.cat.parents = map[string]string{"11953": "33"}
	f.cat.mu.Unlock()

	up := letter("7/UBND")
	up.From, up.To = agCommune33, []string{agUBND33}
	sent, err := f.client.SendDocument(f.agency(agCommune33), &docv1.SendDocumentRequest{Document: up})
	if err != nil {
		t.Fatalf("a commune committee sends: %v", err)
	}
	down := letter("8/UBND")
	down.From, down.To = agUBND33, []string{agCommune33}
	got, err := f.client.SendDocument(f.agency(agUBND33), &docv1.SendDocumentRequest{Document: down})
	if err != nil {
		t.Fatalf("a commune committee receives: %v", err)
	}
	if ids := f.inboxIDs(agCommune33); len(ids) != 1 || ids[0] != got.GetId() {
		t.Fatalf("commune committee's inbox: got %v, want [%s]", ids, got.GetId())
	}
	if ids := f.inboxIDs(agUBND33); len(ids) != 1 || ids[0] != sent.GetId() {
		t.Fatalf("province committee's inbox: got %v, want [%s]", ids, sent.GetId())
	}

	// Hưng Yên's province token may read the commune committee's mailbox and send for it;
	// Nam Định's may not.
	if _, err := f.client.ListInbox(f.as("motcua-33", platform.RoleProvince, "33"), &docv1.ListInboxRequest{AgencyCode: agCommune33}); err != nil {
		t.Fatalf("province 33 reads its commune committee's inbox: %v", err)
	}
	_, err = f.client.ListInbox(f.as("motcua-36", platform.RoleProvince, "36"), &docv1.ListInboxRequest{AgencyCode: agCommune33})
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("province 36 reads a commune committee of 33: got %v, want PERMISSION_DENIED", err)
	}
	again := letter("9/UBND")
	again.From, again.To = agCommune33, []string{agUBND33}
	if _, err := f.client.SendDocument(f.as("motcua-33", platform.RoleProvince, "33"), &docv1.SendDocumentRequest{Document: again}); err != nil {
		t.Fatalf("province 33 sends for its commune committee: %v", err)
	}
}
