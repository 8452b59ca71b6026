package dossier

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	storev1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/store/v1"
	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	"github.com/lienthong/lienthong/services/platform"
	"google.golang.org/protobuf/proto"
)

// FuzzCheckEvent: checkEvent never panics on any event; an event that passes has a valid
// dossier code and status, a time no later than now plus the allowed skew, NFC text, and
// checking it again (as stored) gives the same content hash.
func FuzzCheckEvent(f *testing.F) {
	type seed struct {
		id, code         string
		status           int32
		at, unit, agency string
		proc             string
		channel, kind    int32
		due              string
		resched          bool
		reason, note     string
	}
	for _, s := range []seed{
		{"e-1", "000.01.00.H31-261022-0001", 2, "2026-10-22T08:00:00+07:00", "33", "000.01.00.H31", "1.000001", 1, 1, "2026-10-29", false, "", "Hồ sơ"},
		{"e-2", "G09.20-20260609-0092637", 1, "2026-06-09T01:00:00Z", "", "", "", 0, 0, "", false, "", ""},
		{"e-3", "000.01.00.H31-261022-0001", 4, "2026-10-23T08:00:00+07:00", "", "", "", 0, 0, "2026-11-05T17:00:00+07:00", true, "Chờ ý kiến", ""},
		{" ", "x", 0, "", "3", "H33", "1", 9, 9, "30/10", true, "", strings.Repeat("n", 2001)},
		{"e-5", "000.01.00.H31-261022-0001\n", 11, "2099-01-01T00:00:00+07:00", "033", "000.01.00.H31", "1.000001", -1, -1, "", false, "", ""},
		{"e\xff", "000.01.00.H31-261022-0001", 1, "2026-10-22T08:00:00+07:00", "33", "000.01.00.H31", "1.000001", 1, 0, "", false, "", "\xc3"},
		{"e-7", "000.01.00.\u212a33-261022-0001", 1, "2026-10-22T08:00:00.123456789+07:00", "33", "", "", 2, 3, "1999-01-01", false, "", "e\u0301"},
		{"e-8", "000.01.00.H31-261022-0001", 1, "2026-11-23T10:05:00+07:00", "33", "000.01.00.H31", "1.000001", 3, 2, "2026-02-30", false, "", ""},
	} {
		f.Add(s.id, s.code, s.status, s.at, s.unit, s.agency, s.proc, s.channel, s.kind, s.due, s.resched, s.reason, s.note)
	}
	now := testNow
	f.Fuzz(func(t *testing.T, id, code string, status int32, at, unit, agency, proc string, channel, kind int32, due string, resched bool, reason, note string) {
		in := &dossierv1.DossierEvent{EventId: id, DossierCode: code, Status: dossierv1.DossierStatus(status), OccurredAt: at,
			UnitCode: unit, AgencyCode: agency, ProcedureCode: proc, Channel: dossierv1.Channel(channel),
			ApplicantKind: dossierv1.ApplicantKind(kind), DueAt: due, Rescheduled: resched, RescheduleReason: reason, Note: note}
		orig := proto.Clone(in)
		c, err := checkEvent(in, now)
		if !proto.Equal(in, orig) {
			t.Fatalf("checkEvent changed its input")
		}
		if err != nil {
			if _, ok := err.(*platform.Error); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		ev := c.ev
		if !ValidDossierCode(ev.GetDossierCode()) {
			t.Fatalf("accepted dossier code %q is not valid", ev.GetDossierCode())
		}
		if ev.GetDossierCode() != platform.NFC(code) || ev.GetEventId() != platform.NFC(id) || ev.GetEventId() == "" {
			t.Fatalf("stored code/id %q %q, want the NFC of %q %q", ev.GetDossierCode(), ev.GetEventId(), code, id)
		}
		if s := ev.GetStatus(); s < sNew || s > sReturned {
			t.Fatalf("accepted status %d", s)
		}
		if c.at == 0 || time.UnixMilli(c.at).After(now.Add(maxFutureSkew)) || time.UnixMilli(c.at).Before(earliestAccepted) {
			t.Fatalf("accepted occurred_at %q (%d)", at, c.at)
		}
		if (ev.GetDueAt() != "") != (c.due != 0) {
			t.Fatalf("due_at %q parsed as %d", ev.GetDueAt(), c.due)
		}
		if ev.GetRescheduled() && (ev.GetRescheduleReason() == "" || ev.GetDueAt() == "") {
			t.Fatalf("rescheduled without a reason or a due date accepted")
		}
		if len(c.hash) != 16 {
			t.Fatalf("hash of %d bytes", len(c.hash))
		}
		again, err := checkEvent(ev, now)
		if err != nil {
			t.Fatalf("the stored form of an accepted event is refused: %v", err)
		}
		if !bytes.Equal(again.hash, c.hash) {
			t.Fatalf("the stored form hashes differently: a resend would be EVENT_ID_REUSED")
		}
	})
}

// FuzzDossierCode: ValidDossierCode never panics; a valid code is at most 64 bytes of
// [0-9A-Z.-], in three parts split by '-': an identifier, a date of 6 or 8 digits and a
// sequence of 4–10 digits; it is its own NFC form, and an event carrying it passes the
// dossier_code check.
func FuzzDossierCode(f *testing.F) {
	for _, s := range []string{
		"000.00.33.H31-261015-0001", "G09.20-20260609-0092637", "000.01.00.H31-261022-0001\n", "000.01.00.h33-261022-0001",
		"", "-", "--", "A-123456-1234", "AB-123456-1234", "AB-1234567-1234", "AB-12345678-12345678901", ".A-123456-1234",
		"000.00.33.H31-261015-0001-0001", strings.Repeat("A", 41) + "-123456-1234", "ＡB-123456-1234", "000.00.33.Ｈ31-261015-0001",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !ValidDossierCode(s) {
			return
		}
		if len(s) > 64 {
			t.Fatalf("%q: valid with %d bytes", s, len(s))
		}
		for _, r := range s {
			if !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r == '.' || r == '-') {
				t.Fatalf("%q: valid with %q", s, r)
			}
		}
		parts := strings.Split(s, "-")
		if len(parts) != 3 {
			t.Fatalf("%q: %d parts", s, len(parts))
		}
		digits := func(p string) bool { return p != "" && strings.Trim(p, "0123456789") == "" }
		if id := parts[0]; len(id) < 2 || id[0] == '.' {
			t.Fatalf("%q: identifier %q", s, id)
		}
		if d := parts[1]; !digits(d) || (len(d) != 6 && len(d) != 8) {
			t.Fatalf("%q: date part %q", s, d)
		}
		if n := parts[2]; !digits(n) || len(n) < 4 || len(n) > 10 {
			t.Fatalf("%q: sequence part %q", s, n)
		}
		if platform.NFC(s) != s {
			t.Fatalf("%q: not its own NFC form", s)
		}
		_, err := checkEvent(&dossierv1.DossierEvent{EventId: "e", DossierCode: s, Status: sNew, OccurredAt: "2026-10-22T08:00:00+07:00"}, testNow)
		if err != nil {
			t.Fatalf("%q: valid code, event refused: %v", s, err)
		}
	})
}

// FuzzStoredEventDossier: verify's shortcut to a stored event's dossier code must agree
// with a full decode whenever both succeed.
func FuzzStoredEventDossier(f *testing.F) {
	se := &storev1.StoredEvent{Event: &dossierv1.DossierEvent{EventId: "e1", DossierCode: "000.01.00.H31-261123-0001", Status: 2},
		ProcessingDays: 5, ContentHash: []byte{1, 2, 3}}
	b, err := proto.Marshal(se)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0x03, 0x12, 0x01, 'x'})
	f.Add(storedForm(f))
	f.Fuzz(func(t *testing.T, b []byte) {
		code, ok := storedEventDossier(b)
		var full storev1.StoredEvent
		if err := proto.Unmarshal(b, &full); err != nil || !ok {
			return
		}
		if string(code) != full.GetEvent().GetDossierCode() {
			t.Fatalf("shortcut %q, full decode %q", code, full.GetEvent().GetDossierCode())
		}
	})
}

// FuzzLiveSnapshot: a snapshot file is read at start; whatever its bytes, reading it must
// not panic, and it either fails before handing over any entry or hands over all it counted.
func FuzzLiveSnapshot(f *testing.F) {
	var sum [32]byte
	good := []byte(liveSnapMagic)
	good = binary.BigEndian.AppendUint64(good, 7)
	good = append(good, sum[:]...)
	k := encodeCellKey(cellKey{channel: 1, unit: "33", agency: "000.01.00.H31", procedure: "1.000001"})
	good = binary.AppendUvarint(good, 1)
	good = binary.AppendUvarint(good, uint64(len(k)))
	good = append(good, k...)
	good = binary.AppendUvarint(good, 2)
	good = append(good, 0, 4, 2, 0, 10, 0x80, 0x01)
	f.Add(good)
	f.Add([]byte(liveSnapMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := parseLiveSnapshot(bytes.NewReader(b), 7, sum, nil)
		calls := 0
		m, err2 := parseLiveSnapshot(bytes.NewReader(b), 7, sum, func(int, liveEntry) { calls++ })
		if (err == nil) != (err2 == nil) || n != m {
			t.Fatalf("two reads disagree: %d %v, %d %v", n, err, m, err2)
		}
		if err == nil && calls != n {
			t.Fatalf("%d entries counted, %d handed over", n, calls)
		}
	})
}

// storedForm is a stored event as the writer builds it: the event field twice (encoding.go).
func storedForm(tb testing.TB) []byte {
	ev, err := proto.Marshal(&dossierv1.DossierEvent{EventId: "e1", DossierCode: "000.01.00.H31-261123-0001", Status: 2})
	if err != nil {
		tb.Fatal(err)
	}
	return appendStoredExtras(storedEventPrefix(ev, []byte{1, 2, 3}), 9, "2026-11-23T10:00:00+07:00", "sys", "33", 5)
}

// TestStoredEventDossier: verify's shortcut finds the dossier code of a stored event as
// the part stores it (its later reads skip other shares' events by it).
func TestStoredEventDossier(t *testing.T) {
	code, ok := storedEventDossier(storedForm(t))
	if !ok || string(code) != "000.01.00.H31-261123-0001" {
		t.Fatalf("storedEventDossier = %q, %v; want the dossier code", code, ok)
	}
}
