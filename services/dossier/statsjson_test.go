package dossier

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// gatewayJSON is how the REST edge writes messages (gateway/rest.go).
var gatewayJSON = protojson.MarshalOptions{UseProtoNames: true, EmitDefaultValues: true}

// fill sets every scalar field of m (and of its repeated messages) from rng, so that a field
// added to the proto later is filled too.
func fill(rng *rand.Rand, m protoreflect.Message, strs []string) {
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		f := fields.Get(i)
		switch {
		case f.IsList() && f.Kind() == protoreflect.MessageKind:
			l := m.Mutable(f).List()
			for range rng.IntN(4) {
				e := l.NewElement()
				fill(rng, e.Message(), strs)
				l.Append(e)
			}
		case f.Kind() == protoreflect.StringKind:
			m.Set(f, protoreflect.ValueOfString(strs[rng.IntN(len(strs))]))
		case f.Kind() == protoreflect.Int64Kind:
			v := []int64{0, 1, -1, math.MaxInt64, math.MinInt64, rng.Int64()}[rng.IntN(6)]
			m.Set(f, protoreflect.ValueOfInt64(v))
		case f.Kind() == protoreflect.DoubleKind:
			v := []float64{0, 1, 0.5, 1.0 / 3, 1e-7, 2.5e-6, 1e21, 123456789.125, math.NaN(), math.Inf(1), math.Inf(-1), rng.Float64()}[rng.IntN(12)]
			m.Set(f, protoreflect.ValueOfFloat64(v))
		default:
			panic("fill: field kind not handled: " + f.FullName())
		}
	}
}

func decodeJSON(t *testing.T, b []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("invalid JSON %s: %v", b, err)
	}
	return v
}

func TestStatsJSONMatchesProtoJSON(t *testing.T) {
	for name, n := range statsJSONFields {
		d := (&dossierv1.DossierStats{}).ProtoReflect().Descriptor()
		if name != d.FullName() {
			d = (&dossierv1.StatsRow{}).ProtoReflect().Descriptor()
		}
		if got := d.Fields().Len(); got != n {
			t.Errorf("%s has %d fields, StatsJSON writes %d: add the new ones to it", name, got, n)
		}
	}
	strs := []string{"", "total", "000.00.36.H41", "2026-11", "Tư pháp – Hộ tịch", `a"b\c`, "tab\there\nnew\x01\x1f", "<&>", "\u2028"}
	rng := rand.New(rand.NewPCG(3, 5))
	for i := range 500 {
		m := &dossierv1.DossierStats{}
		if i > 0 {
			fill(rng, m.ProtoReflect(), strs)
		}
		want, err := gatewayJSON.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		got, err := StatsJSON(nil, m)
		if err != nil {
			t.Fatal(err)
		}
		if w, g := decodeJSON(t, want), decodeJSON(t, got); !reflect.DeepEqual(w, g) {
			t.Fatalf("case %d:\nprotojson %s\nStatsJSON %s", i, want, got)
		}
	}
	if _, err := StatsJSON(nil, &dossierv1.StatsRow{}); err == nil {
		t.Error("StatsJSON of another message: no error")
	}
}

func FuzzStatsJSONString(f *testing.F) {
	for _, s := range []string{"", "Nông nghiệp", `"\`, "\x00\x7f", "\u2028\u2029", "😀"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m := &dossierv1.DossierStats{From: s, Rows: []*dossierv1.StatsRow{{Key: s, OnTimeRate: float64(len(s)) / 7}}}
		want, err := gatewayJSON.Marshal(m)
		if err != nil {
			return // invalid UTF-8: protojson refuses; statistics keys are validated codes
		}
		got, err := StatsJSON(nil, m)
		if err != nil {
			t.Fatal(err)
		}
		if w, g := decodeJSON(t, want), decodeJSON(t, got); !reflect.DeepEqual(w, g) {
			t.Fatalf("protojson %s\nStatsJSON %s", want, got)
		}
	})
}

// statsJSONFields lists the fields StatsJSON writes, per message, for the test that keeps it
// complete.
var statsJSONFields = map[protoreflect.FullName]int{
	StatsJSONType: 6,
	(&dossierv1.StatsRow{}).ProtoReflect().Descriptor().FullName(): 32,
}
