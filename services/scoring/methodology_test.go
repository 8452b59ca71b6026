package scoring

import (
	"errors"
	"strings"
	"testing"

	scoringv1 "github.com/lienthong/lienthong/proto/gen/lienthong/scoring/v1"
	"github.com/lienthong/lienthong/services/platform"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/google/go-cmp/cmp"
)

func TestBuiltinMethodologies(t *testing.T) {
	ms, _, err := loadBuiltins()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		cats  int
		total float64
		max   []float64
	}{
		"ICT-2018":   {6, 1, nil},
		"QD766-2022": {5, 100, []float64{18, 20, 22, 22, 18}},
	}
	if len(ms) != len(want) {
		t.Fatalf("got %d built-in methodologies, want %d", len(ms), len(want))
	}
	for _, m := range ms {
		w, ok := want[m.GetId()]
		if !ok {
			t.Fatalf("unexpected methodology %s", m.GetId())
		}
		if len(m.GetCategories()) != w.cats {
			t.Errorf("%s: %d categories, want %d", m.GetId(), len(m.GetCategories()), w.cats)
		}
		var sum float64
		for i, c := range m.GetCategories() {
			sum += c.GetWeight()
			if w.max != nil && c.GetWeight() != w.max[i] {
				t.Errorf("%s %s: weight %v, want %v", m.GetId(), c.GetId(), c.GetWeight(), w.max[i])
			}
			if m.GetId() == "ICT-2018" && (c.GetWeight() < 0.1666 || c.GetWeight() > 0.1667) {
				t.Errorf("ICT-2018 %s: weight %v, want 1/6 (equal weights)", c.GetId(), c.GetWeight())
			}
		}
		if sum < w.total-1e-6 || sum > w.total+1e-6 {
			t.Errorf("%s: weights add up to %v, want %v", m.GetId(), sum, w.total)
		}
	}
}

// violations returns the field → description map of an INVALID_ARGUMENT.
func violations(t *testing.T, err error) map[string]string {
	t.Helper()
	var ce *platform.Error
	if !errors.As(err, &ce) || ce.Code != codes.InvalidArgument {
		t.Fatalf("got %v, want INVALID_ARGUMENT", err)
	}
	out := map[string]string{}
	for _, v := range ce.Violations {
		out[v.Field] = v.Description
	}
	return out
}

func parseMethodology(t *testing.T, js string) *scoringv1.Methodology {
	t.Helper()
	m := &scoringv1.Methodology{}
	if err := protojson.Unmarshal([]byte(js), m); err != nil {
		t.Fatal(err)
	}
	return m
}

const goodMethodology = `{"id":"ONLINE-2026","name":"Trực tuyến","period_kinds":["PERIOD_KIND_YEAR"],"scale":"SCALE_POINTS",
 "categories":[{"id":"online","name":"Trực tuyến","weight":100,"indicators":[
   {"id":"online_dossier_share","weight":60,"normalization":"NORMALIZATION_THRESHOLD","threshold":0.5},
   {"id":"docs_online","name":"Văn bản điện tử","unit":"MEASURE_UNIT_RATIO","source":"INDICATOR_SOURCE_COMPUTED","formula":"docexchange.electronic_share","weight":40,"normalization":"NORMALIZATION_RATIO"}]}]}`

func TestCheckMethodologyListsEveryProblem(t *testing.T) {
	_, reg, err := loadBuiltins()
	if err != nil {
		t.Fatal(err)
	}
	bad := parseMethodology(t, `{"id":"bad id","name":"","period_kinds":[],"scale":"SCALE_POINTS","categories":[
	  {"id":"a","name":"A","weight":60,"indicators":[
	    {"id":"nope","weight":60,"normalization":"NORMALIZATION_RATIO"}]},
	  {"id":"a","name":"B","weight":30,"indicators":[
	    {"id":"x_rate","name":"X","unit":"MEASURE_UNIT_RATIO","source":"INDICATOR_SOURCE_COMPUTED","formula":"dossier.magic","weight":20,"normalization":"NORMALIZATION_THRESHOLD","threshold":2},
	    {"id":"online_dossier_pct","name":"Y","unit":"MEASURE_UNIT_COUNT","source":"INDICATOR_SOURCE_SUBMITTED","weight":5,"normalization":"NORMALIZATION_RATIO"}]}]}`)
	_, err = checkMethodology(bad, reg)
	got := violations(t, err)
	for field, part := range map[string]string{
		"id":                                        "upper-case",
		"name":                                      "required",
		"period_kinds":                              "at least one",
		"categories":                                "add up to 90",
		"categories[1].id":                          "appears twice",
		"categories[1].weight":                      "add up to 25",
		"categories[0].indicators[0].id":            "unknown indicator",
		"categories[1].indicators[0].formula":       "unknown formula",
		"categories[1].indicators[0].threshold":     "at most 1",
		"categories[1].indicators[1].id":            "already defined",
		"categories[1].indicators[1].normalization": "plain ratio",
	} {
		if !strings.Contains(got[field], part) {
			t.Errorf("%s: got %q, want it to mention %q", field, got[field], part)
		}
	}
}

func TestCheckMethodologyFillsReferences(t *testing.T) {
	_, reg, err := loadBuiltins()
	if err != nil {
		t.Fatal(err)
	}
	m, err := checkMethodology(parseMethodology(t, goodMethodology), reg)
	if err != nil {
		t.Fatal(err)
	}
	ref := m.GetCategories()[0].GetIndicators()[0]
	if ref.GetFormula() != "dossier.online_rate" || ref.GetSource() != scoringv1.IndicatorSource_INDICATOR_SOURCE_COMPUTED || ref.GetName() == "" {
		t.Errorf("reference not filled in: %v", ref)
	}
	if ref.GetDirection() != scoringv1.Direction_DIRECTION_HIGHER_IS_BETTER || m.GetVersion() != 1 {
		t.Errorf("defaults not set: direction %v version %d", ref.GetDirection(), m.GetVersion())
	}
}

func TestCreateMethodology(t *testing.T) {
	f := newFixture(t)
	in := parseMethodology(t, goodMethodology)
	if _, err := f.svc.CreateMethodology(namdinh, &scoringv1.CreateMethodologyRequest{Methodology: in}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("province: got %v, want PERMISSION_DENIED", err)
	}
	if _, err := f.svc.CreateMethodology(ministry, &scoringv1.CreateMethodologyRequest{Methodology: in, ValidateOnly: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.GetMethodology(ministry, &scoringv1.GetMethodologyRequest{Id: "ONLINE-2026"}); status.Code(err) != codes.NotFound {
		t.Fatalf("validate_only stored it: %v", err)
	}
	got, err := f.svc.CreateMethodology(ministry, &scoringv1.CreateMethodologyRequest{Methodology: in})
	if err != nil {
		t.Fatal(err)
	}
	if got.GetCreatedBy() != "000.00.00.G22/bo" || got.GetBuiltin() {
		t.Errorf("created_by %q builtin %v", got.GetCreatedBy(), got.GetBuiltin())
	}
	// The same again: success, nothing new. Other content under the id: ALREADY_EXISTS.
	again, err := f.svc.CreateMethodology(admin, &scoringv1.CreateMethodologyRequest{Methodology: in})
	if err != nil || again.GetCreatedBy() != got.GetCreatedBy() {
		t.Fatalf("same again: %v %v", again, err)
	}
	other := proto.Clone(in).(*scoringv1.Methodology)
	other.Name = "Khác"
	if _, err := f.svc.CreateMethodology(admin, &scoringv1.CreateMethodologyRequest{Methodology: other}); status.Code(err) != codes.AlreadyExists {
		t.Fatalf("other content: got %v, want ALREADY_EXISTS", err)
	}
	clash := proto.Clone(in).(*scoringv1.Methodology)
	clash.Id = "ICT-2018"
	if _, err := f.svc.CreateMethodology(admin, &scoringv1.CreateMethodologyRequest{Methodology: clash}); status.Code(err) != codes.AlreadyExists {
		t.Fatalf("built-in id: got %v, want ALREADY_EXISTS", err)
	}
	// It survives a restart, and its new indicator may be referred to by id.
	f.reopen(t)
	list, err := f.svc.ListMethodologies(hungyen, &scoringv1.ListMethodologiesRequest{PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	if list.GetTotalSize() != 3 || len(list.GetMethodologies()) != 2 || list.GetNextPageToken() == "" {
		t.Fatalf("page 1: total %d, %d items, token %q", list.GetTotalSize(), len(list.GetMethodologies()), list.GetNextPageToken())
	}
	page2, err := f.svc.ListMethodologies(hungyen, &scoringv1.ListMethodologiesRequest{PageSize: 2, PageToken: list.GetNextPageToken()})
	if err != nil {
		t.Fatal(err)
	}
	if len(page2.GetMethodologies()) != 1 || page2.GetMethodologies()[0].GetId() != "QD766-2022" || page2.GetNextPageToken() != "" {
		t.Fatalf("page 2: %v", page2)
	}
	stored, err := f.svc.GetMethodology(ministry, &scoringv1.GetMethodologyRequest{Id: "ONLINE-2026"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, stored, protocmp.Transform()); diff != "" {
		t.Errorf("after restart (-before +after):\n%s", diff)
	}
	if _, err := f.svc.ListMethodologies(anon, &scoringv1.ListMethodologiesRequest{}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("without a token: got %v, want UNAUTHENTICATED", err)
	}
	if _, err := f.svc.ListMethodologies(ministry, &scoringv1.ListMethodologiesRequest{PageToken: "nonsense"}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("bad page token: got %v, want INVALID_ARGUMENT", err)
	}
}
