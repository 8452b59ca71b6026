package dossier

import (
	"testing"

	"google.golang.org/grpc/codes"
)

// TestLaterDueAtBounds: a later event's due_at (a rescheduled one) is bounded by the
// dossier's receipt, not by the event's own time; a refused event stores nothing.
func TestLaterDueAtBounds(t *testing.T) {
	f := newFixture(t)
	ctx := f.province("33")
	code := dcode(agency33a, "261022", 1)
	first := mkFirst("d-1", code, sAccepted, vn(2026, 10, 22, 8, 0), "33", agency33a, procLand, chDirect)
	first.DueAt = "2026-10-30"
	f.mustCreate(ctx, first)
	tests := []struct {
		name string
		due  string
		code codes.Code
	}{
		{"rescheduled to before the receipt", "2026-10-21", codes.InvalidArgument},
		{"rescheduled to more than 5 years after the receipt", "2031-10-23", codes.InvalidArgument},
		{"rescheduled to a week later", "2026-11-06", codes.OK},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := mkEv("d-"+string(rune('a'+i)), code, sProcessing, vn(2026, 11, 2, 8, 0))
			e.DueAt, e.Rescheduled, e.RescheduleReason = tc.due, true, "Chờ xác minh"
			seq := f.lastSeq()
			_, err := f.create(ctx, e)
			if tc.code == codes.OK {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			wantFields(t, wantStatus(t, err, tc.code, "INVALID_ARGUMENT"), "due_at")
			f.wantNothingAfter(t, seq)
		})
	}
}
