package scoring

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"testing"

	scoringv1 "github.com/lienthong/lienthong/proto/gen/lienthong/scoring/v1"
)

var updateDemo = flag.Bool("update-demo", false, "rewrite demo/ict-2017-2018.csv from the generator")

// The ranks the source articles report for Nam Định (36) under the ICT ranking.
var ndTargets = map[int]struct{ total, online, hr int32 }{
	2017: {52, 49, 45},
	2018: {22, 6, 26},
}

const namDinh = "36"

// ictScale maps a latent quality 0–1 to each ICT-2018 indicator's synthetic value.
var ictScale = map[string]struct {
	lo, hi float64
	dec    int
}{
	"ict_computers_per_100_officials":   {30, 130, 0},
	"ict_broadband_agencies_pct":        {50, 100, 1},
	"edoc_processed_electronically_pct": {30, 95, 1},
	"official_email_use_pct":            {40, 100, 1},
	"ict_portal_information_score":      {0.3, 1, 3},
	"ict_portal_function_score":         {0.2, 1, 3},
	"online_services_level3":            {50, 800, 0},
	"online_services_level4":            {5, 155, 0},
	"online_dossier_pct":                {1, 26, 1},
	"ict_policy_score":                  {0.2, 1, 3},
	"ict_it_staff_pct":                  {30, 100, 1},
	"ict_trained_officials_pct":         {20, 95, 1},
}

// demoWorld holds the generator's state: per year, unit, category, the latent quality.
type demoWorld struct {
	m      *scoringv1.Methodology
	units  []UnitInfo
	latent map[int]map[string]map[string]float64
	seed   []demoRow
}

func (w *demoWorld) values(year int) map[string]map[string]value {
	out := map[string]map[string]value{}
	for _, u := range w.units {
		out[u.Code] = map[string]value{}
		for _, c := range w.m.GetCategories() {
			q := w.latent[year][u.Code][c.GetId()]
			for _, ind := range c.GetIndicators() {
				s := ictScale[ind.GetId()]
				lo, hi := unitRange(ind.GetUnit())
				x := math.Max(lo, math.Min(hi, s.lo+(s.hi-s.lo)*q))
				out[u.Code][ind.GetId()] = value{ok: true, v: round(x, s.dec)}
			}
		}
	}
	for _, r := range w.seed {
		if r.period == fmt.Sprint(year) {
			if _, ok := out[r.unit][r.indicator]; ok {
				out[r.unit][r.indicator] = value{ok: true, v: r.value}
			}
		}
	}
	return out
}

func (w *demoWorld) rank(year int) map[string]*unitResult {
	res := score(w.m, &inputs{units: w.units, values: w.values(year)})
	out := map[string]*unitResult{}
	for _, u := range res {
		out[u.code] = u
	}
	return out
}

func componentIndex(m *scoringv1.Methodology, id string) int {
	for i, c := range m.GetCategories() {
		if c.GetId() == id {
			return i
		}
	}
	return -1
}

// place finds, by bisection, the interval of Nam Định's latent quality (for the given
// categories) in which rankOf gives want, and takes its middle; rank falls as quality rises.
func (w *demoWorld) place(year int, cats []string, want int32, rankOf func(*unitResult, map[string]*unitResult) (int32, bool)) error {
	eval := func(q float64) (int32, bool) {
		for _, c := range cats {
			w.latent[year][namDinh][c] = q
		}
		all := w.rank(year)
		return rankOf(all[namDinh], all)
	}
	// lowest q whose rank is at most r
	reach := func(r int32) float64 {
		lo, hi := 0.0, 1.3
		for range 40 {
			mid := (lo + hi) / 2
			if got, _ := eval(mid); got <= r {
				hi = mid
			} else {
				lo = mid
			}
		}
		return hi
	}
	a, b := reach(want), reach(want-1)
	q := (a + b) / 2
	if got, tie := eval(q); got != want || tie {
		return fmt.Errorf("%d: Nam Định at %d (tie %v), not %d, on %v", year, got, tie, want, cats)
	}
	return nil
}

func tiedWith(score float64, code string, all map[string]*unitResult, get func(*unitResult) float64) bool {
	for c, u := range all {
		if c != code && get(u) == score {
			return true
		}
	}
	return false
}

// generateICTDemo makes the synthetic ICT-2018 values of 2017 and 2018.
func generateICTDemo(t *testing.T) []byte {
	t.Helper()
	builtins, reg, err := loadBuiltins()
	if err != nil {
		t.Fatal(err)
	}
	before, _, _ := provinceTables(t)
	seed, err := ParseSeedFigures(bytes.NewReader(seedFiguresCSV), reg)
	if err != nil {
		t.Fatal(err)
	}
	var w *demoWorld
	var tried []string
	for s := uint64(1); s <= 40; s++ {
		w = newDemoWorld(builtins[0], before, seed, s)
		err := w.solve()
		if err == nil {
			break
		}
		tried = append(tried, err.Error())
		w = nil
	}
	if w == nil {
		t.Fatalf("no seed gives the articles' ranks: %s", strings.Join(tried, "; "))
	}
	return w.csv()
}

func newDemoWorld(m *scoringv1.Methodology, before []UnitInfo, seed []demoRow, s uint64) *demoWorld {
	w := &demoWorld{m: m, units: before, latent: map[int]map[string]map[string]float64{2017: {}, 2018: {}}, seed: seed}
	rng := rand.New(rand.NewPCG(766, s))
	for _, u := range before {
		overall := 0.1 + 0.8*rng.Float64()
		drift := 0.03 + 0.05*rng.NormFloat64()
		w.latent[2017][u.Code], w.latent[2018][u.Code] = map[string]float64{}, map[string]float64{}
		for _, c := range w.m.GetCategories() {
			q := math.Min(0.98, math.Max(0.02, overall+0.3*(rng.Float64()-0.5)))
			w.latent[2017][u.Code][c.GetId()] = q
			w.latent[2018][u.Code][c.GetId()] = math.Min(0.99, math.Max(0.01, q+drift+0.04*rng.NormFloat64()))
		}
	}
	return w
}

// solve places Nam Định at the articles' ranks.
func (w *demoWorld) solve() error {
	online, hr := componentIndex(w.m, "online_services"), componentIndex(w.m, "human_resources")
	var rest []string
	for _, c := range w.m.GetCategories() {
		if c.GetId() != "online_services" && c.GetId() != "human_resources" {
			rest = append(rest, c.GetId())
		}
	}
	compRank := func(ci int) func(*unitResult, map[string]*unitResult) (int32, bool) {
		return func(u *unitResult, all map[string]*unitResult) (int32, bool) {
			get := func(x *unitResult) float64 { return x.components[ci].GetScore() }
			return u.components[ci].GetRank(), tiedWith(get(u), u.code, all, get)
		}
	}
	totalRank := func(u *unitResult, all map[string]*unitResult) (int32, bool) {
		get := func(x *unitResult) float64 { return x.total }
		return u.rank, tiedWith(u.total, u.code, all, get)
	}
	for _, year := range []int{2017, 2018} {
		tg := ndTargets[year]
		if err := w.place(year, []string{"online_services"}, tg.online, compRank(online)); err != nil {
			return err
		}
		if err := w.place(year, []string{"human_resources"}, tg.hr, compRank(hr)); err != nil {
			return err
		}
		if err := w.place(year, rest, tg.total, totalRank); err != nil {
			return err
		}
	}
	if err := w.tie2017(); err != nil {
		return err
	}
	// Placing the total (and the tie) must not have moved Nam Định's ranks.
	for _, year := range []int{2017, 2018} {
		tg := ndTargets[year]
		nd := w.rank(year)[namDinh]
		if nd.rank != tg.total || nd.components[online].GetRank() != tg.online || nd.components[hr].GetRank() != tg.hr {
			return fmt.Errorf("%d: ranks moved to %d/%d/%d", year, nd.rank, nd.components[online].GetRank(), nd.components[hr].GetRank())
		}
	}
	return nil
}

// tie2017 makes two provinces share 17th place in 2017, as two did in the real ranking:
// the province ranked 18th gets the same values as the one ranked 16th, and both move
// together until they rank 17th (the next rank is 19th).
func (w *demoWorld) tie2017() error {
	const year, want = 2017, int32(17)
	var a, b string
	for code, u := range w.rank(year) {
		switch {
		case code == namDinh:
		case u.rank == 16:
			a = code
		case u.rank == 18:
			b = code
		}
	}
	if a == "" || b == "" {
		return fmt.Errorf("%d: no provinces at 16th and 18th", year)
	}
	base := map[string]float64{}
	for c, q := range w.latent[year][a] {
		base[c] = q
	}
	eval := func(delta float64) int32 {
		for c, q := range base {
			q = math.Min(0.99, math.Max(0.01, q+delta))
			w.latent[year][a][c], w.latent[year][b][c] = q, q
		}
		return w.rank(year)[a].rank
	}
	reach := func(r int32) float64 {
		lo, hi := -0.5, 0.5
		for range 40 {
			mid := (lo + hi) / 2
			if eval(mid) <= r {
				hi = mid
			} else {
				lo = mid
			}
		}
		return hi
	}
	eval((reach(want) + reach(want-1)) / 2)
	all := w.rank(year)
	if all[a].rank != want || all[b].rank != want || all[a].total != all[b].total {
		return fmt.Errorf("%d: tie at %d/%d, totals %v/%v", year, all[a].rank, all[b].rank, all[a].total, all[b].total)
	}
	for _, u := range all {
		if u.rank == want+1 {
			return fmt.Errorf("%d: a province ranks %d after a tie at %d", year, want+1, want)
		}
	}
	return nil
}

// csv writes the values.
func (w *demoWorld) csv() []byte {
	before := w.units
	var b strings.Builder
	b.WriteString("# SYNTHETIC demo values of the ICT-2018 indicators for the 63 provinces, 2017 and 2018.\n")
	b.WriteString("# Made up by TestDemoGenerate (services/scoring/demo_test.go) so that the ICT-2018 methodology\n")
	b.WriteString("# ranks Nam Định (36) 52nd of 63 in 2017 and 22nd in 2018 (up 30 places), 6th in online public\n")
	b.WriteString("# services in 2018 (49th in 2017) and 26th in human resources (45th in 2017), as the source\n")
	b.WriteString("# articles report; two provinces share 17th place in 2017, as two did in the real ranking.\n")
	b.WriteString("# None of these values is a real figure; Hưng Yên's 2018 figures quoted by the articles\n")
	b.WriteString("# (seed-figures.csv) replace the synthetic ones when the demo is loaded.\n")
	b.WriteString("unit_code,period,indicator,value\n")
	for _, year := range []int{2017, 2018} {
		vals := w.values(year)
		for _, u := range before {
			ids := make([]string, 0, len(vals[u.Code]))
			for id := range vals[u.Code] {
				ids = append(ids, id)
			}
			sort.Strings(ids)
			for _, id := range ids {
				fmt.Fprintf(&b, "%s,%d,%s,%s\n", u.Code, year, id, fmtNum(vals[u.Code][id].v))
			}
		}
	}
	return []byte(b.String())
}

// TestDemoGenerate checks that demo/ict-2017-2018.csv is what the generator makes
// (go test -run TestDemoGenerate -update-demo rewrites it).
func TestDemoGenerate(t *testing.T) {
	got := generateICTDemo(t)
	if *updateDemo {
		if err := os.WriteFile("demo/ict-2017-2018.csv", got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(got, ictDemoCSV) {
		t.Fatal("demo/ict-2017-2018.csv differs from the generator's output: run go test -run TestDemoGenerate -update-demo")
	}
}

// TestDemoRanks loads the demo as `up --demo` does and reads the ICT-2018 rankings through
// the service: Nam Định 52nd of 63 in 2017, 22nd in 2018 (+30), 6th in online services.
func TestDemoRanks(t *testing.T) {
	f := newFixture(t)
	if err := f.svc.LoadDemo(anon); err != nil {
		t.Fatal(err)
	}
	for _, year := range []string{"2017", "2018"} {
		r, err := f.svc.GetRanking(anon, &scoringv1.GetRankingRequest{Methodology: "ICT-2018", Period: year})
		if err != nil {
			t.Fatal(err)
		}
		if r.GetUnitCount() != 63 || len(r.GetRows()) != 63 {
			t.Fatalf("%s: %d units, %d rows; want 63", year, r.GetUnitCount(), len(r.GetRows()))
		}
		var nd *scoringv1.RankingRow
		for _, row := range r.GetRows() {
			if row.GetUnitCode() == namDinh {
				nd = row
			}
		}
		tg := ndTargets[map[string]int{"2017": 2017, "2018": 2018}[year]]
		comp := map[string]int32{}
		for _, c := range nd.GetComponents() {
			comp[c.GetId()] = c.GetRank()
		}
		if nd.GetRank() != tg.total || comp["online_services"] != tg.online || comp["human_resources"] != tg.hr {
			t.Errorf("%s: Nam Định rank %d, online services %d, human resources %d; want %d, %d, %d",
				year, nd.GetRank(), comp["online_services"], comp["human_resources"], tg.total, tg.online, tg.hr)
		}
		if year == "2017" {
			var at17, at18 int
			for _, row := range r.GetRows() {
				switch row.GetRank() {
				case 17:
					at17++
				case 18:
					at18++
				}
			}
			if at17 != 2 || at18 != 0 {
				t.Errorf("2017: %d provinces at 17th and %d at 18th; want a tie of 2 and no 18th", at17, at18)
			}
		}
		if year == "2018" && (nd.GetPreviousRank() != 52 || nd.GetRankChange() != 30) {
			t.Errorf("2018: previous rank %d, change %d; want 52, +30", nd.GetPreviousRank(), nd.GetRankChange())
		}
	}
	// The seed figures are stored as they were quoted.
	rep, err := f.svc.GetMetricReport(ministry, &scoringv1.GetMetricReportRequest{Unit: "33", Period: "2018"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.GetValues()["online_dossier_pct"] != 10 || rep.GetValues()["edoc_processed_electronically_pct"] != 89 || rep.GetValues()["online_services_level3"] != 868 {
		t.Errorf("Hưng Yên 2018 = %v; want the articles' 10%%, 89%%, 868", rep.GetValues())
	}
	rep, err = f.svc.GetMetricReport(ministry, &scoringv1.GetMetricReportRequest{Unit: "60", Period: "2015-05"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.GetValues()["one_stop_district_coverage"] != 1 || rep.GetValues()["procedures_level2"] != 1908 {
		t.Errorf("Bình Thuận 2015-05 = %v", rep.GetValues())
	}
	// Loading again adds nothing.
	if err := f.svc.LoadDemo(anon); err != nil {
		t.Fatal(err)
	}
	revs, err := f.svc.ListMetricReportRevisions(ministry, &scoringv1.ListMetricReportRevisionsRequest{Unit: "36", Period: "2018"})
	if err != nil {
		t.Fatal(err)
	}
	if revs.GetTotalSize() != 1 {
		t.Errorf("after a second load, %d revisions; want 1", revs.GetTotalSize())
	}
}
