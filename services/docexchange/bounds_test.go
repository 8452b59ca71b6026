package docexchange

import (
	"slices"
	"testing"
	"time"

	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// violations are the fields of an error's BadRequest detail.
func violations(err error) []string {
	var out []string
	for _, d := range status.Convert(err).Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				out = append(out, v.GetField())
			}
		}
	}
	return out
}

// TestDocumentDateBounds: a document's dates lie within bounds that follow from their
// meaning; a date outside them is refused with the field named and nothing is stored. The
// fixture's clock is 2026-11-23; letter() is promulgated on 2026-11-02.
func TestDocumentDateBounds(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name   string
		mutate func(d *docv1.Document)
		field  string // "": accepted
	}{
		{"promulgated before 2000", func(d *docv1.Document) { d.PromulgationDate = "1999-12-31" }, "promulgation_date"},
		{"promulgated in 0202", func(d *docv1.Document) { d.PromulgationDate = "0202-11-02" }, "promulgation_date"},
		{"promulgated tomorrow", func(d *docv1.Document) { d.PromulgationDate = "2026-11-24" }, "promulgation_date"},
		{"promulgated today", func(d *docv1.Document) { d.PromulgationDate = "2026-11-23" }, ""},
		{"promulgated in 2000", func(d *docv1.Document) { d.PromulgationDate = "2000-01-01" }, ""},
		{"due before its promulgation", func(d *docv1.Document) { d.DueDate = "2026-11-01" }, "due_date"},
		{"due on its promulgation day", func(d *docv1.Document) { d.DueDate = "2026-11-02" }, ""},
		{"due 5 years after", func(d *docv1.Document) { d.DueDate = "2031-11-02" }, ""},
		{"due 5 years and a day after", func(d *docv1.Document) { d.DueDate = "2031-11-03" }, "due_date"},
		{"due in 2062", func(d *docv1.Document) { d.DueDate = "2062-11-02" }, "due_date"},
		{"answers a later document", func(d *docv1.Document) {
			d.ResponseFor = &docv1.ResponseFor{Code: "12/UBND-VP", PromulgationDate: "2026-11-03"}
		}, "response_for.promulgation_date"},
		{"answers a document of 1998", func(d *docv1.Document) {
			d.ResponseFor = &docv1.ResponseFor{Code: "12/UBND-VP", PromulgationDate: "1998-05-04"}
		}, ""},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := letter(string(rune('A' + i)))
			tc.mutate(d)
			before := len(f.inboxIDs(agUBND33))
			_, err := f.client.SendDocument(f.agency(d.From), &docv1.SendDocumentRequest{Document: d})
			if tc.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if status.Code(err) != codes.InvalidArgument || !slices.Equal(violations(err), []string{tc.field}) {
				t.Fatalf("got %v (fields %v), want INVALID_ARGUMENT on %s", err, violations(err), tc.field)
			}
			if after := len(f.inboxIDs(agUBND33)); after != before {
				t.Errorf("inbox grew from %d to %d after a refusal", before, after)
			}
		})
	}
}

// TestStatusTimeBounds: a status report's updated_at is neither in the future (beyond the
// clock skew) nor before 2000.
func TestStatusTimeBounds(t *testing.T) {
	f := newFixture(t)
	resp := f.send(letter("1"))
	id := resp.GetId()
	sent, err := time.Parse(time.RFC3339Nano, resp.GetDocument().GetSentAt())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, at string
		code     codes.Code
	}{
		{"before 2000", "1999-12-31T08:00:00+07:00", codes.InvalidArgument},
		{"tomorrow", "2026-11-24T08:00:00+07:00", codes.InvalidArgument},
		{"before the document was sent", "2026-11-02T08:00:00+07:00", codes.FailedPrecondition},
		{"a minute after sending", sent.Add(time.Minute).Format(time.RFC3339), codes.OK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.client.ReportStatus(f.agency(agUBND33), &docv1.ReportStatusRequest{Id: id, Status: stAccepted, UpdatedAt: tc.at})
			if status.Code(err) != tc.code {
				t.Fatalf("got %v, want %v", err, tc.code)
			}
			if tc.code == codes.InvalidArgument && !slices.Equal(violations(err), []string{"updated_at"}) {
				t.Errorf("fields: got %v, want [updated_at]", violations(err))
			}
		})
	}
}
