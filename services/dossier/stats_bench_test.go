package dossier

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
)

// benchGeo rolls units up by their first digit and names fields by the procedure's last digit.
type benchGeo struct{}

func (benchGeo) currentUnit(u string) string { return u[:1] + "0" }
func (benchGeo) field(p string) string       { return "field-" + p[len(p)-1:] }

// statsOfSize builds statistics as a large national store holds them: 63 units, 200
// agencies, 300 procedures, 3 channels, 15,000 sets of dimensions, 35 months, a million
// open dossiers.
func statsOfSize(b *testing.B) (*Stats, int64) {
	b.Helper()
	rng := rand.New(rand.NewPCG(1, 1))
	s := newStats()
	first := int32(2024 * 12)
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, Vietnam)
	nowM := monthOf(now.UnixMilli())
	type place struct{ unit, agency, procedure string }
	places := make([]place, 5000)
	for i := range places {
		a := rng.IntN(200)
		places[i] = place{fmt.Sprintf("%02d", 1+a%63), fmt.Sprintf("000.00.%02d.H%02d", a%63, a%100), fmt.Sprintf("1.%06d", rng.IntN(300))}
	}
	for i, p := range places {
		for ch := int32(1); ch <= 3; ch++ {
			d := newDelta()
			for m := first; m <= nowM; m++ {
				if rng.IntN(3) == 0 {
					continue
				}
				c := d.cell(cellKey{month: m, channel: ch, unit: p.unit, agency: p.agency, procedure: p.procedure})
				c[cReceived] = int64(1 + rng.IntN(50))
				c[cOnTime] = c[cReceived] / 2
				c[cEarly] = c[cReceived] / 3
			}
			for range 67 { // 15,000 live groups × 67 ≈ 1M open dossiers
				e := liveEntry{key: cellKey{channel: ch, unit: p.unit, agency: p.agency, procedure: p.procedure}, status: stAccepted,
					overdueAt: now.Add(time.Duration(rng.IntN(40)-20) * 24 * time.Hour).UnixMilli()}
				d.liveAdd = append(d.liveAdd, e)
			}
			s.apply(d)
		}
		_ = i
	}
	return s, now.UnixMilli()
}

// BenchmarkStatsQuery is the CPU of answering dossier-stats from the aggregates (no network,
// no JSON) on a store the size of a national one.
func BenchmarkStatsQuery(b *testing.B) {
	s, now := statsOfSize(b)
	b.Logf("%d sets of dimensions, %d due instants", len(s.base().keys), s.liveIdx.ahead.h.Len()+s.liveIdx.passed.h.Len())
	for _, tc := range []struct{ name, from, to, groupBy, unit, agency string }{
		{"year by agency", "2026", "", "agency", "", ""},
		{"month total", "2026-11", "", "", "", ""},
		{"all months by month", "2024", "2026", "month", "", ""},
		{"year by unit current", "2026", "", "unit", "", ""},
		{"province year by procedure", "2026", "", "procedure", "36", ""},
		{"agency year by procedure", "2026", "", "procedure", "", "000.00.36.H40"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			q, err := parseStatsQuery(&dossierv1.GetDossierStatsRequest{From: tc.from, To: tc.to, GroupBy: tc.groupBy, Unit: tc.unit, Agency: tc.agency}, now)
			if err != nil {
				b.Fatal(err)
			}
			var rows int
			for b.Loop() {
				rows = len(s.query(q, now, benchGeo{}).GetRows())
			}
			b.ReportMetric(float64(rows), "rows")
		})
	}
}

// BenchmarkStatsJSON is the REST encoding of a 200-row answer: the part's own encoder against
// the generic one.
func BenchmarkStatsJSON(b *testing.B) {
	s, now := statsOfSize(b)
	q, _ := parseStatsQuery(&dossierv1.GetDossierStatsRequest{From: "2026", GroupBy: "agency"}, now)
	out := s.query(q, now, benchGeo{})
	b.Run("StatsJSON", func(b *testing.B) {
		var buf []byte
		for b.Loop() {
			buf, _ = StatsJSON(buf[:0], out)
		}
	})
	b.Run("protojson", func(b *testing.B) {
		for b.Loop() {
			_, _ = gatewayJSON.Marshal(out)
		}
	})
}
