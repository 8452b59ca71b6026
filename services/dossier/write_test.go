package dossier

import (
	"slices"
	"strings"
	"testing"
	"time"

	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	"github.com/lienthong/lienthong/services/platform"
	"golang.org/x/text/unicode/norm"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

// TestIdempotency: the idempotency key is (sending system, event_id); the same event again
// is a success that stores nothing, other content under the same id is ALREADY_EXISTS.
func TestIdempotency(t *testing.T) {
	f := newFixture(t)
	motcua := f.as("000.00.00.H31/motcua", platform.RoleProvince, "33")
	dvc := f.as("000.00.00.H31/dvc", platform.RoleProvince, "33")
	c := dcode(agency33a, "261022", 1)
	orig := mkFirst("e-1", c, sNew, vn(2026, 10, 22, 8, 0), "33", agency33a, procLand, chOnline)
	orig.Note = "Hồ sơ đất đai"
	first, err := f.create(motcua, orig)
	if err != nil {
		t.Fatal(err)
	}
	if first.GetDuplicate() || first.GetSequence() != 1 || first.GetDossierStatus() != sNew {
		t.Fatalf("first: got %v, want sequence 1, NEW, not duplicate", first)
	}

	dups := []struct {
		name   string
		mutate func(e *dossierv1.DossierEvent)
	}{
		{"identical", func(*dossierv1.DossierEvent) {}},
		{"same text in NFD with spaces around", func(e *dossierv1.DossierEvent) {
			e.Note = "  " + norm.NFD.String(e.Note) + " "
			e.EventId = " e-1"
		}},
		{"output-only fields set by the client", func(e *dossierv1.DossierEvent) {
			e.Sequence, e.StoredAt, e.System = 99, "2026-10-22T08:00:01+07:00", "someone/else"
		}},
	}
	for _, tc := range dups {
		t.Run("duplicate/"+tc.name, func(t *testing.T) {
			e := proto.Clone(orig).(*dossierv1.DossierEvent)
			tc.mutate(e)
			seq := f.lastSeq()
			resp, err := f.create(motcua, e)
			if err != nil {
				t.Fatalf("resend: got %v, want success", err)
			}
			if !resp.GetDuplicate() || resp.GetSequence() != first.GetSequence() || resp.GetEventId() != e.GetEventId() {
				t.Errorf("resend: got %v, want duplicate with sequence %d", resp, first.GetSequence())
			}
			f.wantNothingAfter(t, seq)
			if n := len(f.dossier(c).GetEvents()); n != 1 {
				t.Errorf("timeline: got %d events, want 1", n)
			}
		})
	}

	reuse := []struct {
		name   string
		mutate func(e *dossierv1.DossierEvent)
	}{
		{"other note", func(e *dossierv1.DossierEvent) { e.Note = "Hồ sơ khác" }},
		{"other status", func(e *dossierv1.DossierEvent) { e.Status = sAccepted }},
		{"other time", func(e *dossierv1.DossierEvent) { e.OccurredAt = vn(2026, 10, 22, 8, 1) }},
		{"flag added", func(e *dossierv1.DossierEvent) { e.Digitized = true }},
	}
	for _, tc := range reuse {
		t.Run("reused id/"+tc.name, func(t *testing.T) {
			e := proto.Clone(orig).(*dossierv1.DossierEvent)
			tc.mutate(e)
			seq := f.lastSeq()
			_, err := f.create(motcua, e)
			st := wantStatus(t, err, codes.AlreadyExists, "EVENT_ID_REUSED")
			if got := errorInfo(st).GetMetadata()["event_id"]; got != "e-1" {
				t.Errorf("ErrorInfo event_id: got %q, want e-1", got)
			}
			if errorInfo(st).GetMetadata()["request_id"] == "" {
				t.Errorf("ErrorInfo has no request_id: %v", errorInfo(st).GetMetadata())
			}
			f.wantNothingAfter(t, seq)
		})
	}

	t.Run("duplicate after later events keeps its sequence", func(t *testing.T) {
		f.mustCreate(motcua, mkEv("e-2", c, sAccepted, vn(2026, 10, 22, 9, 0)))
		seq := f.lastSeq()
		resp, err := f.create(motcua, orig)
		if err != nil || !resp.GetDuplicate() || resp.GetSequence() != first.GetSequence() {
			t.Fatalf("resend e-1: got %v, %v; want duplicate with sequence %d", resp, err, first.GetSequence())
		}
		f.wantNothingAfter(t, seq)
	})

	t.Run("same id from another system is another event", func(t *testing.T) {
		// The very event motcua sent, sent by dvc, is not a duplicate: it is judged
		// against the dossier (now ACCEPTED at 09:00) and refused as older than the last.
		seq := f.lastSeq()
		_, err := f.create(dvc, orig)
		wantStatus(t, err, codes.FailedPrecondition, "DOSSIER_OUT_OF_ORDER")
		f.wantNothingAfter(t, seq)
		// dvc's own e-1, for another dossier, is stored as a new event.
		c2 := dcode(agency33a, "261022", 2)
		other := mkFirst("e-1", c2, sNew, vn(2026, 10, 22, 8, 30), "33", agency33a, procLand, chDirect)
		resp, err := f.create(dvc, other)
		if err != nil {
			t.Fatalf("other system's e-1: %v", err)
		}
		if resp.GetDuplicate() || resp.GetSequence() != seq+1 {
			t.Errorf("other system's e-1: got %v, want a new event with sequence %d", resp, seq+1)
		}
		d := f.dossier(c2)
		if got := d.GetEvents()[0].GetSystem(); got != "000.00.00.H31/dvc" {
			t.Errorf("stored system: got %q, want 000.00.00.H31/dvc", got)
		}
		// Each system's e-1 is its own duplicate.
		resp, err = f.create(motcua, orig)
		if err != nil || !resp.GetDuplicate() || resp.GetSequence() != first.GetSequence() {
			t.Errorf("motcua's e-1 again: got %v, %v; want duplicate %d", resp, err, first.GetSequence())
		}
		resp, err = f.create(dvc, other)
		if err != nil || !resp.GetDuplicate() || resp.GetSequence() != seq+1 {
			t.Errorf("dvc's e-1 again: got %v, %v; want duplicate %d", resp, err, seq+1)
		}
	})
}

// TestEventOrder: within a dossier events apply in occurred_at order; an event older than
// the last applied one is DOSSIER_OUT_OF_ORDER, an equal time is accepted.
func TestEventOrder(t *testing.T) {
	f := newFixture(t)
	admin := f.admin()
	c := dcode(agency33a, "261022", 7)
	f.mustCreate(admin, mkFirst("o-1", c, sAccepted, vn(2026, 10, 22, 10, 0), "33", agency33a, procLand, chDirect))
	tests := []struct {
		name string
		at   string
		ok   bool
	}{
		{"one minute older", vn(2026, 10, 22, 9, 59), false},
		{"one second older in UTC", "2026-10-22T02:59:59Z", false},
		{"one millisecond older", "2026-10-22T09:59:59.999+07:00", false},
		{"equal time", vn(2026, 10, 22, 10, 0), true},
		{"equal time in UTC", "2026-10-22T03:00:00Z", true},
		{"later", vn(2026, 10, 22, 10, 1), true},
		{"older than the new last", vn(2026, 10, 22, 10, 0), false},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := f.dossier(c)
			seq := f.lastSeq()
			_, err := f.create(admin, mkEv("o-p"+string(rune('a'+i)), c, sProcessing, tc.at))
			if tc.ok {
				if err != nil {
					t.Fatalf("event at %s: got %v, want success", tc.at, err)
				}
				return
			}
			wantStatus(t, err, codes.FailedPrecondition, "DOSSIER_OUT_OF_ORDER")
			f.wantNothingAfter(t, seq)
			if got := f.dossier(c); len(got.GetEvents()) != len(before.GetEvents()) || got.GetLastEventAt() != before.GetLastEventAt() {
				t.Errorf("dossier changed: %d events, last %s; want %d, %s", len(got.GetEvents()), got.GetLastEventAt(), len(before.GetEvents()), before.GetLastEventAt())
			}
		})
	}
}

// TestValidation: each bad field is one BadRequest violation; catalog references are
// checked at the event's date; nothing of a refused event is stored.
func TestValidation(t *testing.T) {
	f := newFixture(t)
	admin := f.admin()
	n := 0
	next := func() string { n++; return dcode(agency33a, "261022", 100+n) }
	good := func(c string) *dossierv1.DossierEvent {
		return mkFirst(c+"/1", c, sAccepted, vn(2026, 10, 22, 8, 0), "33", agency33a, procLand, chDirect)
	}
	long := func(k int) string { return strings.Repeat("x", k) }
	tests := []struct {
		name   string
		mutate func(e *dossierv1.DossierEvent)
		code   codes.Code // OK: accepted
		reason string
		fields []string
	}{
		{"bad dossier code", func(e *dossierv1.DossierEvent) { e.DossierCode = "HS-2026-1" }, codes.InvalidArgument, "INVALID_ARGUMENT", []string{"dossier_code"}},
		{"dossier code in lower case", func(e *dossierv1.DossierEvent) { e.DossierCode = "000.01.00.h33-261022-0001" }, codes.InvalidArgument, "INVALID_ARGUMENT", []string{"dossier_code"}},
		{"dossier code with a short sequence", func(e *dossierv1.DossierEvent) { e.DossierCode = "000.01.00.H31-261022-001" }, codes.InvalidArgument, "INVALID_ARGUMENT", []string{"dossier_code"}},
		{"dossier code empty", func(e *dossierv1.DossierEvent) { e.DossierCode = "" }, codes.InvalidArgument, "INVALID_ARGUMENT", []string{"dossier_code"}},
		{"missing event_id", func(e *dossierv1.DossierEvent) { e.EventId = "" }, codes.InvalidArgument, "INVALID_ARGUMENT", []string{"event_id"}},
		{"blank event_id", func(e *dossierv1.DossierEvent) { e.EventId = "   " }, codes.InvalidArgument, "INVALID_ARGUMENT", []string{"event_id"}},
		{"event_id over 128 bytes", func(e *dossierv1.DossierEvent) { e.EventId = long(129) }, codes.InvalidArgument, "INVALID_ARGUMENT", []string{"event_id"}},
		{"missing occurred_at", func(e *dossierv1.DossierEvent) { e.OccurredAt = "" }, codes.InvalidArgument, "INVALID_ARGUMENT", []string{"occurred_at"}},
		{"occurred_at without offset", func(e *dossierv1.DossierEvent) { e.OccurredAt = "2026-10-22T08:00:00" }, codes.InvalidArgument, "INVALID_ARGUMENT", []string{"occurred_at"}},
		{"occurred_at a date", func(e *dossierv1.DossierEvent) { e.OccurredAt = "2026-10-22" }, codes.InvalidArgument, "INVALID_ARGUMENT", []string{"occurred_at"}},
		{"occurred_at text", func(e *dossierv1.DossierEvent) { e.OccurredAt = "hôm qua" }, codes.InvalidArgument, "INVALID_ARGUMENT", []string{"occurred_at"}},
		{"occurred_at 10 minutes ahead", func(e *dossierv1.DossierEvent) {
			e.OccurredAt = testNow.Add(10 * time.Minute).Format(time.RFC3339)
		}, codes.InvalidArgument, "INVALID_ARGUMENT", []string{"occurred_at"}},
		{"occurred_at next year", func(e *dossierv1.DossierEvent) { e.OccurredAt = vn(2027, 1, 4, 8, 0) }, codes.InvalidArgument, "INVALID_ARGUMENT", []string{"occurred_at"}},
		{"occurred_at before 2000", func(e *dossierv1.DossierEvent) { e.OccurredAt = "1999-12-31T08:00:00+07:00" }, codes.InvalidArgument, "INVALID_ARGUMENT", []string{"occurred_at"}},
		{"status missing", func(e *dossierv1.DossierEvent) { e.Status = 0 }, codes.InvalidArgument, "INVALID_ARGUMENT", []string{"status"}},
		{"status 11", func(e *dossierv1.DossierEvent) { e.Status = 11 }, codes.InvalidArgument, "INVALID_ARGUMENT", []string{"status"}},
		{"channel 4", func(e *dossierv1.DossierEvent) { e.Channel = 4 }, codes.InvalidArgument, "INVALID_ARGUMENT", []string{"channel"}},
		{"applicant kind 9", func(e *dossierv1.DossierEvent) { e.ApplicantKind = 9 }, codes.InvalidArgument, "INVALID_ARGUMENT", []string{"applicant_kind"}},
		{"unit of 3 digits", func(e *dossierv1.DossierEvent) { e.UnitCode = "033" }, codes.InvalidArgument, "INVALID_ARGUMENT", []string{"unit_code"}},
		{"agency malformed", func(e *dossierv1.DossierEvent) { e.AgencyCode = "H33" }, codes.InvalidArgument, "INVALID_ARGUMENT", []string{"agency_code"}},
		{"procedure malformed", func(e *dossierv1.DossierEvent) { e.ProcedureCode = "1000001" }, codes.InvalidArgument, "INVALID_ARGUMENT", []string{"procedure_code"}},
		{"due_at malformed", func(e *dossierv1.DossierEvent) { e.DueAt = "30/10/2026" }, codes.InvalidArgument, "INVALID_ARGUMENT", []string{"due_at"}},
		{"note over 2000 bytes", func(e *dossierv1.DossierEvent) { e.Note = long(2001) }, codes.InvalidArgument, "INVALID_ARGUMENT", []string{"note"}},
		{"step over 500 bytes", func(e *dossierv1.DossierEvent) { e.Step = long(501) }, codes.InvalidArgument, "INVALID_ARGUMENT", []string{"step"}},
		{"rescheduled without reason", func(e *dossierv1.DossierEvent) {
			e.Rescheduled, e.DueAt = true, "2026-10-30"
		}, codes.InvalidArgument, "INVALID_ARGUMENT", []string{"reschedule_reason"}},
		{"rescheduled without due_at", func(e *dossierv1.DossierEvent) {
			e.Rescheduled, e.RescheduleReason = true, "Chờ xác minh"
		}, codes.InvalidArgument, "INVALID_ARGUMENT", []string{"reschedule_reason"}},
		{"three bad fields at once", func(e *dossierv1.DossierEvent) {
			e.EventId, e.DossierCode, e.OccurredAt = "", "x", "y"
		}, codes.InvalidArgument, "INVALID_ARGUMENT", []string{"event_id", "dossier_code", "occurred_at"}},
		{"first event without unit, agency, procedure and channel", func(e *dossierv1.DossierEvent) {
			e.UnitCode, e.AgencyCode, e.ProcedureCode, e.Channel = "", "", "", 0
		}, codes.InvalidArgument, "INVALID_ARGUMENT", []string{"unit_code", "agency_code", "procedure_code", "channel"}},
		{"first event without channel", func(e *dossierv1.DossierEvent) { e.Channel = 0 }, codes.InvalidArgument, "INVALID_ARGUMENT", []string{"channel"}},
		{"unknown procedure", func(e *dossierv1.DossierEvent) { e.ProcedureCode = "1.999999" }, codes.InvalidArgument, "UNKNOWN_REFERENCE", []string{"procedure_code"}},
		{"unknown agency", func(e *dossierv1.DossierEvent) { e.AgencyCode = "000.09.00.H31" }, codes.InvalidArgument, "UNKNOWN_REFERENCE", []string{"agency_code"}},
		{"unknown unit", func(e *dossierv1.DossierEvent) { e.UnitCode = "99" }, codes.InvalidArgument, "UNKNOWN_REFERENCE", []string{"unit_code"}},
		{"unknown procedure and agency", func(e *dossierv1.DossierEvent) {
			e.ProcedureCode, e.AgencyCode = "2.000404", "000.09.00.H31"
		}, codes.InvalidArgument, "UNKNOWN_REFERENCE", []string{"procedure_code", "agency_code"}},
		{"unit 36 in 2026, after its merger", func(e *dossierv1.DossierEvent) {
			e.UnitCode, e.AgencyCode = "36", agency36
		}, codes.InvalidArgument, "UNKNOWN_REFERENCE", []string{"unit_code"}},
		{"unit 36 on 2025-07-01, its first day out of force", func(e *dossierv1.DossierEvent) {
			e.UnitCode, e.AgencyCode, e.OccurredAt = "36", agency36, vn(2025, 7, 1, 8, 0)
		}, codes.InvalidArgument, "UNKNOWN_REFERENCE", []string{"unit_code"}},
		{"unit 36 on 2025-06-30, its last day", func(e *dossierv1.DossierEvent) {
			e.UnitCode, e.AgencyCode, e.OccurredAt = "36", agency36, vn(2025, 6, 30, 16, 0)
			e.DossierCode = dcode(agency36, "250630", 1)
		}, codes.OK, "", nil},
		{"unit 36 in 2024", func(e *dossierv1.DossierEvent) {
			e.UnitCode, e.AgencyCode, e.OccurredAt = "36", agency36, vn(2024, 3, 4, 8, 0)
			e.DossierCode = dcode(agency36, "240304", 1)
		}, codes.OK, "", nil},
		{"national long code", func(e *dossierv1.DossierEvent) {
			e.DossierCode, e.OccurredAt = "G09.20-20260609-0092637", vn(2026, 6, 9, 8, 0)
		}, codes.OK, "", nil},
		{"occurred_at 4 minutes ahead (clock skew)", func(e *dossierv1.DossierEvent) {
			e.OccurredAt = testNow.Add(4 * time.Minute).Format(time.RFC3339)
		}, codes.OK, "", nil},
		{"occurred_at in UTC with fraction", func(e *dossierv1.DossierEvent) { e.OccurredAt = "2026-10-22T01:00:00.250Z" }, codes.OK, "", nil},
		{"due_at as a date", func(e *dossierv1.DossierEvent) { e.DueAt = "2026-10-30" }, codes.OK, "", nil},
		{"due_at the day before the receipt", func(e *dossierv1.DossierEvent) { e.DueAt = "2026-10-21" }, codes.InvalidArgument, "INVALID_ARGUMENT", []string{"due_at"}},
		{"due_at the receipt's day, an hour before it", func(e *dossierv1.DossierEvent) { e.DueAt = "2026-10-22T07:00:00+07:00" }, codes.OK, "", nil},
		{"due_at 5 years after the receipt", func(e *dossierv1.DossierEvent) { e.DueAt = "2031-10-22" }, codes.OK, "", nil},
		{"due_at 5 years and a day after the receipt", func(e *dossierv1.DossierEvent) { e.DueAt = "2031-10-23" }, codes.InvalidArgument, "INVALID_ARGUMENT", []string{"due_at"}},
		{"due_at 2062 for 2026", func(e *dossierv1.DossierEvent) { e.DueAt = "2062-10-30" }, codes.InvalidArgument, "INVALID_ARGUMENT", []string{"due_at"}},
		{"due_at before 2000", func(e *dossierv1.DossierEvent) { e.DueAt = "1999-12-31" }, codes.InvalidArgument, "INVALID_ARGUMENT", []string{"due_at"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := good(next())
			tc.mutate(e)
			seq := f.lastSeq()
			resp, err := f.create(admin, e)
			if tc.code == codes.OK {
				if err != nil {
					t.Fatalf("got %v, want success", err)
				}
				d := f.dossier(e.GetDossierCode())
				if d.GetStatus() != sAccepted || resp.GetSequence() != seq+1 {
					t.Errorf("stored: status %v sequence %d; want ACCEPTED %d", d.GetStatus(), resp.GetSequence(), seq+1)
				}
				return
			}
			st := wantStatus(t, err, tc.code, tc.reason)
			wantFields(t, st, tc.fields...)
			f.wantNothingAfter(t, seq)
			if ValidDossierCode(e.GetDossierCode()) {
				_, err := f.client.GetDossier(admin, &dossierv1.GetDossierRequest{Code: e.GetDossierCode()})
				wantStatus(t, err, codes.NotFound, "")
			}
		})
	}

	t.Run("due_at as a date is 17:00 that day", func(t *testing.T) {
		c := next()
		e := good(c)
		e.DueAt = "2026-10-30"
		f.mustCreate(admin, e)
		d := f.dossier(c)
		if d.GetDueAt() != "2026-10-30T17:00:00+07:00" || d.GetDueSource() != "source" {
			t.Errorf("due: got %s (%s), want 2026-10-30T17:00:00+07:00 (source)", d.GetDueAt(), d.GetDueSource())
		}
	})
}

// TestDueDateChanges: a different due date needs rescheduled or due_change and a reason,
// and the reason is kept; rescheduled alone is an apology, which does not move the due date.
func TestDueDateChanges(t *testing.T) {
	f := newFixture(t)
	admin := f.admin()
	c := dcode(agency33a, "261022", 500)
	acc := mkFirst("d-1", c, sAccepted, vn(2026, 10, 22, 8, 0), "33", agency33a, procLand, chDirect)
	acc.DueAt = "2026-10-29T17:00:00+07:00"
	f.mustCreate(admin, acc)

	seq := f.lastSeq()
	moved := mkEv("d-2", c, sProcessing, vn(2026, 10, 23, 8, 0))
	moved.DueAt = "2026-10-30T17:00:00+07:00"
	_, err := f.create(admin, moved)
	wantStatus(t, err, codes.FailedPrecondition, "DUE_DATE_CHANGED")
	f.wantNothingAfter(t, seq)

	// The same due date, written another way, is no change.
	same := mkEv("d-3", c, sProcessing, vn(2026, 10, 23, 9, 0))
	same.DueAt = "2026-10-29"
	f.mustCreate(admin, same)
	if d := f.dossier(c); len(d.GetRescheduleReasons()) != 0 || d.GetDueAt() != "2026-10-29T17:00:00+07:00" {
		t.Fatalf("after the same due date: due %s reasons %v", d.GetDueAt(), d.GetRescheduleReasons())
	}

	const reason = "Chờ ý kiến của cơ quan phối hợp"
	resched := mkEv("d-4", c, sProcessing, vn(2026, 10, 28, 15, 0))
	resched.DueAt, resched.Rescheduled, resched.RescheduleReason = "2026-11-05T17:00:00+07:00", true, reason
	f.mustCreate(admin, resched)
	d := f.dossier(c)
	// rescheduled alone is an apology slip: it records the new appointment and leaves the
	// due date the verdict uses (docs/domain.md, "An apology is not an extension").
	if d.GetDueAt() != "2026-10-29T17:00:00+07:00" || d.GetEffectiveDueAt() != "2026-10-29T17:00:00+07:00" ||
		d.GetApologyDueAt() != "2026-11-05T17:00:00+07:00" || d.GetApologyCount() != 1 {
		t.Errorf("rescheduled: got due %s (effective %s), apology %s ×%d; want the due date kept and the apology 2026-11-05T17:00:00+07:00 ×1",
			d.GetDueAt(), d.GetEffectiveDueAt(), d.GetApologyDueAt(), d.GetApologyCount())
	}
	if !slices.Equal(d.GetRescheduleReasons(), []string{reason}) {
		t.Errorf("reschedule_reasons: got %q, want [%q]", d.GetRescheduleReasons(), reason)
	}

	// A due date from the calendar is as binding as one sent.
	c2 := dcode(agency33a, "261022", 501)
	f.mustCreate(admin, mkFirst("d2-1", c2, sAccepted, vn(2026, 10, 22, 8, 0), "33", agency33a, procLand, chDirect))
	late := mkEv("d2-2", c2, sProcessing, vn(2026, 10, 23, 8, 0))
	late.DueAt = "2026-11-30"
	_, err = f.create(admin, late)
	wantStatus(t, err, codes.FailedPrecondition, "DUE_DATE_CHANGED")
}
