package dossier

import (
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	"google.golang.org/grpc/codes"
)

// contractNext is the table of allowed transitions (docs/domain.md, "Dossier statuses and
// transitions"), written out here independently of transitions.go: 1→2,3,5,7;
// 2→4,5,6,7,8,9; 4→4,5,6,7,8,9; 5→4,7,8 (accepted); 6→4,7,8,9; 7→8; 9→10; 3, 8, 10 final.
// 1→5 (a supplement asked for at the desk before acceptance) and 7→8 (a withdrawal request,
// then the stop) are what one-stop systems record: the Thanh Hóa public service system keeps
// a supplement state of the one-stop desk ("Yêu cầu một cửa bổ sung") beside the citizen's,
// and citizen portals set 7 on the applicant's request for the officer to set 8 after.
var contractNext = map[dossierv1.DossierStatus][]dossierv1.DossierStatus{
	sNew:        {sAccepted, sNotAccepted, sSupplement, sWithdrawn},
	sAccepted:   {sProcessing, sSupplement, sFinancial, sWithdrawn, sStopped, sResolved},
	sProcessing: {sProcessing, sSupplement, sFinancial, sWithdrawn, sStopped, sResolved},
	sSupplement: {sProcessing, sWithdrawn, sStopped},
	sFinancial:  {sProcessing, sWithdrawn, sStopped, sResolved},
	sWithdrawn:  {sStopped},
	sResolved:   {sReturned},
}

// pathTo are the statuses of events that bring a new dossier to a status.
var pathTo = map[dossierv1.DossierStatus][]dossierv1.DossierStatus{
	sNew:         {sNew},
	sAccepted:    {sAccepted},
	sNotAccepted: {sNew, sNotAccepted},
	sProcessing:  {sAccepted, sProcessing},
	sSupplement:  {sAccepted, sSupplement},
	sFinancial:   {sAccepted, sFinancial},
	sWithdrawn:   {sNew, sWithdrawn},
	sStopped:     {sAccepted, sStopped},
	sResolved:    {sAccepted, sResolved},
	sReturned:    {sAccepted, sResolved, sReturned},
}

// lastSeq is the sequence of the last event of the feed (0 if none).
func (f *fixture) lastSeq() int64 {
	f.t.Helper()
	evs := f.feed()
	if len(evs) == 0 {
		return 0
	}
	return evs[len(evs)-1].GetSequence()
}

// wantNothingAfter checks that no event was stored after sequence seq.
func (f *fixture) wantNothingAfter(t *testing.T, seq int64) {
	t.Helper()
	resp, err := f.client.ListDossierEvents(f.admin(), &dossierv1.ListDossierEventsRequest{After: strconv.FormatInt(seq, 10)})
	if err != nil {
		t.Fatalf("ListDossierEvents: %v", err)
	}
	if n := len(resp.GetEvents()); n != 0 {
		t.Fatalf("feed: got %d new events after %d, want none (first %v)", n, seq, resp.GetEvents()[0])
	}
}

// TestTransitions tries every pair (from, to) of statuses 1–10 on its own dossier: the
// allowed ones of §7 succeed, every other one is FAILED_PRECONDITION
// TRANSITION_NOT_ALLOWED and stores nothing.
func TestTransitions(t *testing.T) {
	f := newFixture(t)
	admin := f.admin()
	statuses := []dossierv1.DossierStatus{sNew, sAccepted, sNotAccepted, sProcessing, sSupplement, sFinancial, sWithdrawn, sStopped, sResolved, sReturned}
	codeOf := func(from, to dossierv1.DossierStatus) string {
		return dcode(agency33a, "261020", int(from)*100+int(to))
	}
	// Bring the 100 dossiers to their starting status in one batch.
	base := time.Date(2026, 10, 20, 8, 0, 0, 0, Vietnam)
	var setup []*dossierv1.DossierEvent
	for _, from := range statuses {
		for _, to := range statuses {
			c := codeOf(from, to)
			for i, st := range pathTo[from] {
				at := base.Add(time.Duration(i) * time.Hour).Format(time.RFC3339)
				id := fmt.Sprintf("%s/%d", c, i+1)
				if i == 0 {
					setup = append(setup, mkFirst(id, c, st, at, "33", agency33a, procLand, chDirect))
				} else {
					setup = append(setup, mkEv(id, c, st, at))
				}
			}
		}
	}
	f.mustBatch(admin, setup...)

	at := vn(2026, 10, 21, 9, 0)
	allowedCount := 0
	for _, from := range statuses {
		for _, to := range statuses {
			allowed := slices.Contains(contractNext[from], to)
			name := fmt.Sprintf("%d→%d", from, to)
			if allowed {
				name += "/allowed"
				allowedCount++
			} else {
				name += "/forbidden"
			}
			t.Run(name, func(t *testing.T) {
				c := codeOf(from, to)
				before := f.dossier(c)
				if before.GetStatus() != from {
					t.Fatalf("setup: dossier %s is %v, want %v", c, before.GetStatus(), from)
				}
				seq := f.lastSeq()
				resp, err := f.create(admin, mkEv(c+"/move", c, to, at))
				after := f.dossier(c)
				if allowed {
					if err != nil {
						t.Fatalf("%v → %v: got %v, want success", from, to, err)
					}
					if resp.GetDossierStatus() != to || resp.GetDuplicate() {
						t.Errorf("response: got status %v duplicate %v, want %v false", resp.GetDossierStatus(), resp.GetDuplicate(), to)
					}
					if resp.GetSequence() != seq+1 {
						t.Errorf("sequence: got %d, want %d", resp.GetSequence(), seq+1)
					}
					if after.GetStatus() != to || len(after.GetEvents()) != len(before.GetEvents())+1 {
						t.Errorf("dossier: got status %v with %d events, want %v with %d", after.GetStatus(), len(after.GetEvents()), to, len(before.GetEvents())+1)
					}
					return
				}
				wantStatus(t, err, codes.FailedPrecondition, "TRANSITION_NOT_ALLOWED")
				if after.GetStatus() != from || !slices.Equal(eventIDs(after.GetEvents()), eventIDs(before.GetEvents())) {
					t.Errorf("dossier changed: got %v %v, want %v %v", after.GetStatus(), eventIDs(after.GetEvents()), from, eventIDs(before.GetEvents()))
				}
				f.wantNothingAfter(t, seq)
			})
		}
	}
	if allowedCount != 25 {
		t.Errorf("the table has 25 allowed transitions (4+6+6+3+4+1+1), counted %d", allowedCount)
	}
}

// TestFirstEventStatus: a dossier starts at NEW or ACCEPTED; any other first status is
// FAILED_PRECONDITION DOSSIER_FIRST_STATUS and stores nothing.
func TestFirstEventStatus(t *testing.T) {
	f := newFixture(t)
	admin := f.admin()
	for _, st := range []dossierv1.DossierStatus{sNew, sAccepted, sNotAccepted, sProcessing, sSupplement, sFinancial, sWithdrawn, sStopped, sResolved, sReturned} {
		t.Run(st.String(), func(t *testing.T) {
			c := dcode(agency33a, "261021", int(st))
			seq := f.lastSeq()
			resp, err := f.create(admin, mkFirst(c+"/1", c, st, vn(2026, 10, 21, 8, 0), "33", agency33a, procLand, chOnline))
			if st == sNew || st == sAccepted {
				if err != nil {
					t.Fatalf("first event %v: %v", st, err)
				}
				if resp.GetDossierStatus() != st {
					t.Errorf("status: got %v, want %v", resp.GetDossierStatus(), st)
				}
				return
			}
			wantStatus(t, err, codes.FailedPrecondition, "DOSSIER_FIRST_STATUS")
			_, err = f.client.GetDossier(admin, &dossierv1.GetDossierRequest{Code: c})
			wantStatus(t, err, codes.NotFound, "DOSSIER_NOT_FOUND")
			f.wantNothingAfter(t, seq)
		})
	}
}
