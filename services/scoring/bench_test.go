package scoring

import (
	"testing"

	scoringv1 "github.com/lienthong/lienthong/proto/gen/lienthong/scoring/v1"
)

// BenchmarkRanking measures a ranking of 63 units on the demo data: from the cache (what
// every read between two writes costs) and recomputed (what the first read after a write
// costs: the reports read from bbolt, normalised, weighed and ranked, the previous period
// too).
func BenchmarkRanking(b *testing.B) {
	f := newFixture(b)
	if err := f.svc.LoadDemo(anon); err != nil {
		b.Fatal(err)
	}
	req := &scoringv1.GetRankingRequest{Methodology: "ICT-2018", Period: "2018"}
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			if _, err := f.svc.GetRanking(anon, req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("recomputed", func(b *testing.B) {
		for b.Loop() {
			f.svc.engine.invalidate()
			if _, err := f.svc.GetRanking(anon, req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("unit-score-cached", func(b *testing.B) {
		for b.Loop() {
			if _, err := f.svc.GetUnitScore(admin, &scoringv1.GetUnitScoreRequest{Unit: "36", Methodology: "ICT-2018", Period: "2018"}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
