package dossier

import (
	"testing"
	"time"

	storev1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/store/v1"
	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	"google.golang.org/protobuf/proto"
)

// The stored bytes, built in two pieces, decode to the StoredEvent the writer means.
func TestStoredEventEncoding(t *testing.T) {
	ev := &dossierv1.DossierEvent{
		EventId: "e-1", DossierCode: "000.00.33.H31-261015-0001", Status: dossierv1.DossierStatus_DOSSIER_STATUS_ACCEPTED,
		OccurredAt: "2026-10-15T08:30:00+07:00", AgencyCode: "000.00.33.H31", ProcedureCode: "1.004227",
		Channel: dossierv1.Channel_CHANNEL_ONLINE, DueAt: "2026-10-20", Note: "Hồ sơ đầy đủ", PaidOnline: true,
	}
	c, err := checkEvent(ev, time.Date(2026, 11, 1, 0, 0, 0, 0, Vietnam))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name         string
		seq          int64
		stamp, sys   string
		unit         string
		days         uint32
		wantUnitCode string
	}{
		{"unit from the dossier, processing days", 42, "2026-11-01T08:00:00.123+07:00", "lienthong/test", "33", 15, "33"},
		{"no additions but the sequence", 1, "", "", "", 0, ""},
		{"long system name", 1 << 40, "2026-11-01T08:00:00+07:00", string(make([]byte, 300)), "", 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := append([]byte(nil), c.body...)
			b := appendStoredExtras(body, tc.seq, tc.stamp, tc.sys, tc.unit, tc.days)
			got := &storev1.StoredEvent{}
			if err := proto.Unmarshal(b, got); err != nil {
				t.Fatal(err)
			}
			want := proto.Clone(c.ev).(*dossierv1.DossierEvent)
			want.Sequence, want.StoredAt, want.System, want.UnitCode = tc.seq, tc.stamp, tc.sys, tc.wantUnitCode
			wantSE := &storev1.StoredEvent{Event: want, ProcessingDays: tc.days, ContentHash: c.hash}
			if !proto.Equal(got, wantSE) {
				t.Errorf("decoded stored event\n got %v\nwant %v", got, wantSE)
			}
		})
	}
}
