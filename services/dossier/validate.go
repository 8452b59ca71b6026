package dossier

import (
	"crypto/sha256"
	"regexp"
	"time"

	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	"github.com/lienthong/lienthong/services/platform"
	"google.golang.org/protobuf/proto"
)

var (
	// DossierCodeRE is the dossier code of TT 01/2018/TT-VPCP art. 19: AGENCY-YYMMDD-NNNN.
	DossierCodeRE = regexp.MustCompile(`^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}-\d{6}-\d{4}$`)
	// leftToRightCodeRE is the same form with the agency's code read left to right, as
	// commune People's Committees' one-stop systems issue it: H26.107-250715-0012
	// (docs/domain.md, Identifiers).
	leftToRightCodeRE = regexp.MustCompile(`^[A-Z]\d{2}(\.\d{2,3}){1,3}-\d{6}-\d{4}$`)
	// nationalCodeRE accepts the longer forms national portals issue, such as
	// G09.20-20260609-0092637.
	nationalCodeRE  = regexp.MustCompile(`^[0-9A-Z][0-9A-Z.]{1,39}-\d{6}(\d{2})?-\d{4,10}$`)
	procedureCodeRE = regexp.MustCompile(`^\d\.\d{6}$`)
	provinceCodeRE  = regexp.MustCompile(`^\d{2}$`)
	// maxFutureSkew is how far after the server's clock an occurred_at may lie: the clocks
	// of provincial servers drift, and NTP-less ones by minutes, but an event cannot have
	// happened later than it is sent. Five minutes passes any honest clock; an event dated
	// tomorrow (a typing slip, a wrong time zone) would otherwise fix a verdict in advance.
	maxFutureSkew = 5 * time.Minute
	// earliestAccepted is the earliest occurred_at and due_at: electronic one-stop records
	// begin in the 2000s (the demo's data from 2015), and a year like 0201 or 1926 is a
	// slip that would open statistics periods no one reports on.
	earliestAccepted = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
)

// ValidDossierCode reports whether a dossier code has the national form.
func ValidDossierCode(s string) bool {
	return len(s) <= 64 && (DossierCodeRE.MatchString(s) || nationalCodeRE.MatchString(s))
}

// checked is an event that passed the checks of its own fields, with its times parsed.
type checked struct {
	ev   *dossierv1.DossierEvent
	at   int64  // occurred_at, Unix ms
	due  int64  // due_at, Unix ms; 0 if not given
	hash []byte // SHA-256 of the normalised event as sent
	// body is the start of the event's StoredEvent encoding: the normalised event and its
	// hash. The writer appends what only it knows (sequence, time, system), which a decoder
	// merges into the same event, so the event is marshalled once, by the request's own
	// goroutine, and not again by the single writer.
	body []byte
	pre  *prefetched // what was read ahead of the writer (prefetch.go)
}

// parseTime reads an RFC 3339 time with offset.
func parseTime(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

// parseDue reads a due date: RFC 3339, or a date (17:00 Vietnam time that day).
func parseDue(s string) (time.Time, bool) {
	if t, ok := parseTime(s); ok {
		return t, true
	}
	d, err := time.ParseInLocation("2006-01-02", s, Vietnam)
	if err != nil {
		return time.Time{}, false
	}
	return d.Add(17 * time.Hour), true
}

// checkEvent normalises an event (NFC text, output-only fields cleared) and checks its own
// fields. Checks that need the catalog or the dossier's state come later.
func checkEvent(in *dossierv1.DossierEvent, now time.Time) (*checked, error) {
	if in == nil {
		return nil, platform.Invalid(platform.FieldViolation{Field: "event", Description: "is required"})
	}
	ev := proto.Clone(in).(*dossierv1.DossierEvent)
	ev.Sequence, ev.StoredAt, ev.System = 0, "", ""
	for _, f := range []*string{&ev.EventId, &ev.DossierCode, &ev.UnitCode, &ev.CommuneCode, &ev.AgencyCode, &ev.ProcedureCode,
		&ev.OccurredAt, &ev.DueAt, &ev.RescheduleReason, &ev.Step, &ev.Handler, &ev.Department, &ev.Note} {
		*f = platform.NFC(*f)
	}
	var v platform.Violations
	if ev.EventId == "" || len(ev.EventId) > 128 {
		v.Add("event_id", "is required, at most 128 bytes")
	}
	if !ValidDossierCode(ev.DossierCode) {
		v.Add("dossier_code", "must be AGENCY-YYMMDD-NNNN (e.g. 000.00.33.H31-261015-0001) or a national form, got %q", ev.DossierCode)
	}
	if _, ok := dossierv1.DossierStatus_name[int32(ev.Status)]; !ok || ev.Status == 0 {
		v.Add("status", "is required: a national status code 1–10")
	}
	c := &checked{ev: ev}
	at, ok := parseTime(ev.OccurredAt)
	switch {
	case ev.OccurredAt == "":
		v.Add("occurred_at", "is required (RFC 3339 with offset)")
	case !ok:
		v.Add("occurred_at", "must be RFC 3339 with offset, e.g. 2026-10-15T08:30:00+07:00, got %q", ev.OccurredAt)
	case at.After(now.Add(maxFutureSkew)):
		v.Add("occurred_at", "is in the future")
	case at.Before(earliestAccepted):
		v.Add("occurred_at", "is before 2000")
	default:
		c.at = at.UnixMilli()
	}
	if ev.UnitCode != "" && !provinceCodeRE.MatchString(ev.UnitCode) {
		v.Add("unit_code", "must be a 2-digit province code, got %q", ev.UnitCode)
	}
	checkCommuneCode(&v, ev.CommuneCode, c.at)
	if _, err := platform.ParseAgencyCode(ev.AgencyCode); ev.AgencyCode != "" && err != nil {
		// Both forms (docs/domain.md, Identifiers): commune People's Committees have codes
		// such as H26.107.
		v.Add("agency_code", "must be an electronic identifier NNN.NN.NN.XNN (e.g. 000.00.00.H31) or XNN.NN (e.g. H26.107), got %q", ev.AgencyCode)
	}
	if ev.ProcedureCode != "" && !procedureCodeRE.MatchString(ev.ProcedureCode) {
		v.Add("procedure_code", "must be a national procedure code like 1.004227, got %q", ev.ProcedureCode)
	}
	if _, ok := dossierv1.Channel_name[int32(ev.Channel)]; !ok {
		v.Add("channel", "must be 1 (direct), 2 (online) or 3 (postal)")
	}
	if _, ok := dossierv1.ApplicantKind_name[int32(ev.ApplicantKind)]; !ok {
		v.Add("applicant_kind", "must be CITIZEN, BUSINESS or ORGANIZATION")
	}
	if ev.DueAt != "" {
		due, ok := parseDue(ev.DueAt)
		if !ok || due.Before(earliestAccepted) {
			v.Add("due_at", "must be RFC 3339 or YYYY-MM-DD, got %q", ev.DueAt)
		} else {
			c.due = due.UnixMilli()
		}
	}
	checkDueChange(&v, ev)
	for name, s := range map[string]string{"reschedule_reason": ev.RescheduleReason, "step": ev.Step, "handler": ev.Handler, "department": ev.Department} {
		if len(s) > 500 {
			v.Add(name, "at most 500 bytes")
		}
	}
	if len(ev.Note) > 2000 {
		v.Add("note", "at most 2000 bytes")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(ev)
	if err != nil {
		return nil, platform.Invalid(platform.FieldViolation{Field: "event", Description: "cannot be encoded"})
	}
	sum := sha256.Sum256(b)
	c.hash = sum[:16]
	c.body = storedEventPrefix(b, c.hash)
	return c, nil
}
