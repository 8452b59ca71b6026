package dossier

import (
	"fmt"
	"io"
	"testing"

	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// wantResult checks one per-event result: want OK means accepted (or duplicate), else the
// error's code and reason, with the request id in the ErrorInfo.
func wantResult(t *testing.T, i int, r *dossierv1.EventResult, id string, code codes.Code, reason, reqID string) {
	t.Helper()
	if r.GetEventId() != id {
		t.Errorf("result %d: event_id %q, want %q", i, r.GetEventId(), id)
	}
	if code == codes.OK {
		if r.GetError() != nil {
			t.Errorf("result %d (%s): got error %v, want success", i, id, r.GetError())
		}
		return
	}
	if r.GetError() == nil {
		t.Errorf("result %d (%s): got success %v, want %v %s", i, id, r, code, reason)
		return
	}
	if r.GetSequence() != 0 || r.GetDossierStatus() != 0 {
		t.Errorf("result %d (%s): a refused event has sequence %d status %v", i, id, r.GetSequence(), r.GetDossierStatus())
	}
	st := status.FromProto(r.GetError())
	if st.Code() != code {
		t.Errorf("result %d (%s): code %v, want %v (%s)", i, id, st.Code(), code, st.Message())
		return
	}
	info := errorInfo(st)
	if info.GetReason() != reason || info.GetDomain() != "lienthong.vn" {
		t.Errorf("result %d (%s): ErrorInfo %v, want reason %s", i, id, info, reason)
	}
	if reqID != "" && info.GetMetadata()["request_id"] != reqID {
		t.Errorf("result %d (%s): request_id %q, want %q", i, id, info.GetMetadata()["request_id"], reqID)
	}
}

func TestBatchCreate(t *testing.T) {
	f := newFixture(t)
	a := dcode(agency33a, "261116", 1)
	b := dcode(agency33a, "261116", 2)
	first := mkFirst("b-1", a, sNew, vn(2026, 11, 16, 8, 0), "33", agency33a, procLand, chOnline)
	reused := mkFirst("b-1", a, sNew, vn(2026, 11, 16, 8, 0), "33", agency33a, procLand, chDirect)
	events := []*dossierv1.DossierEvent{
		first,
		mkEv("b-2", "not-a-code", sAccepted, vn(2026, 11, 16, 9, 0)),
		mkEv("b-3", a, sAccepted, vn(2026, 11, 16, 9, 0)), // depends on b-1, in the same batch
		mkEv("b-4", a, sNew, vn(2026, 11, 16, 10, 0)),
		mkFirst("b-5", b, sNew, vn(2026, 11, 16, 8, 0), "33", agency33a, "1.999999", chOnline),
		first,  // the same event again
		reused, // its id with other content
		mkEv("b-8", a, sProcessing, vn(2026, 11, 16, 8, 30)),
		{},
		mkEv("b-10", a, sProcessing, vn(2026, 11, 16, 11, 0)),
	}
	ctx := metadata.AppendToOutgoingContext(f.admin(), "x-request-id", "req-batch-1")
	resp, err := f.client.BatchCreateDossierEvents(ctx, &dossierv1.BatchCreateDossierEventsRequest{Events: events})
	if err != nil {
		t.Fatal(err)
	}
	res := resp.GetResults()
	if len(res) != len(events) {
		t.Fatalf("got %d results for %d events", len(res), len(events))
	}
	want := []struct {
		code   codes.Code
		reason string
	}{
		{codes.OK, ""},
		{codes.InvalidArgument, "INVALID_ARGUMENT"},
		{codes.OK, ""},
		{codes.FailedPrecondition, "TRANSITION_NOT_ALLOWED"},
		{codes.InvalidArgument, "UNKNOWN_REFERENCE"},
		{codes.OK, ""},
		{codes.AlreadyExists, "EVENT_ID_REUSED"},
		{codes.FailedPrecondition, "DOSSIER_OUT_OF_ORDER"},
		{codes.InvalidArgument, "INVALID_ARGUMENT"},
		{codes.OK, ""},
	}
	for i, w := range want {
		wantResult(t, i, res[i], events[i].GetEventId(), w.code, w.reason, "req-batch-1")
	}
	// Accepted: b-1 (1), b-3 (2), b-10 (3); b-1 again is a duplicate of 1.
	for i, w := range map[int]struct {
		seq int64
		dup bool
	}{0: {1, false}, 2: {2, false}, 5: {1, true}, 9: {3, false}} {
		if r := res[i]; r.GetSequence() != w.seq || r.GetDuplicate() != w.dup {
			t.Errorf("result %d: sequence %d duplicate %v, want %d %v", i, r.GetSequence(), r.GetDuplicate(), w.seq, w.dup)
		}
	}
	if res[0].GetDossierStatus() != sNew || res[2].GetDossierStatus() != sAccepted || res[9].GetDossierStatus() != sProcessing {
		t.Errorf("statuses: got %v %v %v, want NEW ACCEPTED PROCESSING", res[0].GetDossierStatus(), res[2].GetDossierStatus(), res[9].GetDossierStatus())
	}
	// The empty event names every required field.
	wantFields(t, status.FromProto(res[8].GetError()), "event_id", "dossier_code", "status", "occurred_at")
	if got := eventIDs(f.feed()); fmt.Sprint(got) != "[b-1 b-3 b-10]" {
		t.Errorf("feed: got %v, want [b-1 b-3 b-10]", got)
	}
	if _, err := f.client.GetDossier(f.admin(), &dossierv1.GetDossierRequest{Code: b}); status.Code(err) != codes.NotFound {
		t.Errorf("dossier with the unknown procedure: got %v, want NOT_FOUND", err)
	}

	t.Run("1001 events", func(t *testing.T) {
		seq := f.lastSeq()
		evs := make([]*dossierv1.DossierEvent, 1001)
		for i := range evs {
			c := dcode(agency33b, "261117", i)
			evs[i] = mkFirst(c, c, sNew, vn(2026, 11, 17, 8, 0), "33", agency33b, procLand, chDirect)
		}
		_, err := f.client.BatchCreateDossierEvents(f.admin(), &dossierv1.BatchCreateDossierEventsRequest{Events: evs})
		wantStatus(t, err, codes.ResourceExhausted, "BATCH_TOO_LARGE")
		f.wantNothingAfter(t, seq)
		// 1000 is the limit, not over it.
		resp := f.mustBatch(f.admin(), evs[:1000]...)
		if got := resp.GetResults()[999].GetSequence(); got != seq+1000 {
			t.Errorf("last of 1000: sequence %d, want %d", got, seq+1000)
		}
	})
	t.Run("no events", func(t *testing.T) {
		_, err := f.client.BatchCreateDossierEvents(f.admin(), &dossierv1.BatchCreateDossierEventsRequest{})
		wantStatus(t, err, codes.InvalidArgument, "INVALID_ARGUMENT")
	})
}

func TestStreamDossierEvents(t *testing.T) {
	f := newFixture(t)
	x := dcode(agency33a, "261118", 1)
	ctx := metadata.AppendToOutgoingContext(f.admin(), "x-request-id", "req-stream-1")
	stream, err := f.client.StreamDossierEvents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	big := make([]*dossierv1.DossierEvent, 1001)
	for i := range big {
		big[i] = mkEv(fmt.Sprintf("big-%d", i), x, sProcessing, vn(2026, 11, 18, 12, 0))
	}
	batches := []*dossierv1.StreamDossierEventsRequest{
		{BatchId: "b1", Events: []*dossierv1.DossierEvent{
			mkFirst("x-1", x, sNew, vn(2026, 11, 18, 8, 0), "33", agency33a, procLand, chOnline),
			mkEv("x-2", x, sAccepted, vn(2026, 11, 18, 9, 0)), // depends on x-1 of the same batch
		}},
		{BatchId: "b2", Events: []*dossierv1.DossierEvent{
			mkEv("x-3", x, sProcessing, vn(2026, 11, 18, 10, 0)),
			mkEv("x-4", x, sReturned, vn(2026, 11, 18, 10, 30)), // 4→10 not allowed
		}},
		{BatchId: "b3", Events: []*dossierv1.DossierEvent{mkEv("x-5", x, sResolved, vn(2026, 11, 18, 11, 0))}},
		{BatchId: "too-big", Events: big},
		{BatchId: "empty"},
	}
	// Every batch is sent before any answer is read.
	for _, b := range batches {
		if err := stream.Send(b); err != nil {
			t.Fatalf("send %s: %v", b.GetBatchId(), err)
		}
	}
	if err := stream.CloseSend(); err != nil {
		t.Fatal(err)
	}
	var answers []*dossierv1.StreamDossierEventsResponse
	for {
		a, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Recv after %d answers: %v", len(answers), err)
		}
		answers = append(answers, a)
	}
	if len(answers) != len(batches) {
		t.Fatalf("got %d answers, want %d", len(answers), len(batches))
	}
	for i, a := range answers {
		if a.GetBatchId() != batches[i].GetBatchId() || len(a.GetResults()) != len(batches[i].GetEvents()) {
			t.Errorf("answer %d: batch %q with %d results, want %q with %d", i, a.GetBatchId(), len(a.GetResults()), batches[i].GetBatchId(), len(batches[i].GetEvents()))
		}
	}
	r := func(b, i int) *dossierv1.EventResult { return answers[b].GetResults()[i] }
	wantResult(t, 0, r(0, 0), "x-1", codes.OK, "", "")
	wantResult(t, 1, r(0, 1), "x-2", codes.OK, "", "")
	wantResult(t, 2, r(1, 0), "x-3", codes.OK, "", "")
	wantResult(t, 3, r(1, 1), "x-4", codes.FailedPrecondition, "TRANSITION_NOT_ALLOWED", "req-stream-1")
	wantResult(t, 4, r(2, 0), "x-5", codes.OK, "", "")
	if r(0, 1).GetDossierStatus() != sAccepted || r(2, 0).GetDossierStatus() != sResolved {
		t.Errorf("statuses: got %v and %v, want ACCEPTED and RESOLVED", r(0, 1).GetDossierStatus(), r(2, 0).GetDossierStatus())
	}
	if s := []int64{r(0, 0).GetSequence(), r(0, 1).GetSequence(), r(1, 0).GetSequence(), r(2, 0).GetSequence()}; fmt.Sprint(s) != "[1 2 3 4]" {
		t.Errorf("sequences: got %v, want [1 2 3 4]", s)
	}
	for i, res := range answers[3].GetResults() {
		if res.GetError() == nil || codes.Code(res.GetError().GetCode()) != codes.ResourceExhausted {
			t.Fatalf("too-big batch, event %d: got %v, want RESOURCE_EXHAUSTED", i, res)
		}
	}
	// Acknowledged means stored.
	if d := f.dossier(x); d.GetStatus() != sResolved || len(d.GetEvents()) != 4 {
		t.Errorf("dossier: got %v with %d events, want RESOLVED with 4", d.GetStatus(), len(d.GetEvents()))
	}
	var _ *statuspb.Status = r(1, 1).GetError() // per-event errors are google.rpc.Status
}
