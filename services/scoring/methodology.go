package scoring

import (
	"embed"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"

	scoringv1 "github.com/lienthong/lienthong/proto/gen/lienthong/scoring/v1"
	"github.com/lienthong/lienthong/services/platform"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

//go:embed methodologies/*.json
var builtinFS embed.FS

// builtinFiles are the built-in methodologies, in listing order.
var builtinFiles = []string{"methodologies/ict-2018.json", "methodologies/qd766-2022.json"}

// registryFile defines indicators that legacy portals report but no built-in methodology
// uses (so metric reports may carry them, and new methodologies may refer to them by id).
const registryFile = "methodologies/indicators.json"

var (
	methodologyIDRE = regexp.MustCompile(`^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$`)
	snakeIDRE       = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
)

// Limits of a methodology.
const (
	maxCategories         = 20
	maxIndicatorsPerGroup = 50
	maxNameBytes          = 300
	maxDescriptionBytes   = 4000
	maxIDBytes            = 64
)

// weightTolerance is how far sums of weights may be from their total, as a share of it
// (weights such as 1/6 are written with finite decimals).
const weightTolerance = 1e-6

// unitRange is the range every value in a unit must lie in.
func unitRange(u scoringv1.MeasureUnit) (lo, hi float64) {
	switch u {
	case scoringv1.MeasureUnit_MEASURE_UNIT_PERCENT:
		return 0, 100
	case scoringv1.MeasureUnit_MEASURE_UNIT_RATIO, scoringv1.MeasureUnit_MEASURE_UNIT_SCORE:
		return 0, 1
	case scoringv1.MeasureUnit_MEASURE_UNIT_COUNT:
		return 0, maxCount
	case scoringv1.MeasureUnit_MEASURE_UNIT_DAYS:
		return 0, maxDays
	}
	return 0, math.MaxFloat64
}

// scaleTotal is what the category weights of a methodology add up to.
func scaleTotal(s scoringv1.Scale) float64 {
	if s == scoringv1.Scale_SCALE_POINTS {
		return 100
	}
	return 1
}

// precisionOf is the methodology's rounding: its precision, or 4 decimals for an index and 2
// for points when 0.
func precisionOf(m *scoringv1.Methodology) int {
	if p := m.GetPrecision(); p > 0 {
		return int(p)
	}
	if m.GetScale() == scoringv1.Scale_SCALE_POINTS {
		return 2
	}
	return 4
}

// registry holds every indicator definition known: the registry file, the built-in
// methodologies and the stored ones. A metric report may carry any SUBMITTED indicator in it.
type registry map[string]*scoringv1.Indicator

// definition is the part of an indicator that must agree wherever the id is used.
func definition(in *scoringv1.Indicator) *scoringv1.Indicator {
	return &scoringv1.Indicator{
		Id: in.GetId(), Name: in.GetName(), NameEn: in.GetNameEn(), Unit: in.GetUnit(), Source: in.GetSource(),
		Formula: in.GetFormula(), Min: in.Min, Max: in.Max, Description: in.GetDescription(),
		Denominator: in.GetDenominator(),
	}
}

func (r registry) add(m *scoringv1.Methodology) {
	for _, c := range m.GetCategories() {
		for _, in := range c.GetIndicators() {
			if _, ok := r[in.GetId()]; !ok {
				r[in.GetId()] = definition(in)
			}
		}
	}
}

var jsonIn = protojson.UnmarshalOptions{DiscardUnknown: false}

// loadBuiltins parses and checks the built-in methodologies and the indicator registry.
func loadBuiltins() ([]*scoringv1.Methodology, registry, error) {
	reg := registry{}
	raw, err := builtinFS.ReadFile(registryFile)
	if err != nil {
		return nil, nil, err
	}
	var cat scoringv1.Category
	if err := jsonIn.Unmarshal(raw, &cat); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", registryFile, err)
	}
	for _, in := range cat.GetIndicators() {
		reg[in.GetId()] = definition(in)
	}
	var out []*scoringv1.Methodology
	for _, f := range builtinFiles {
		raw, err := builtinFS.ReadFile(f)
		if err != nil {
			return nil, nil, err
		}
		m := &scoringv1.Methodology{}
		if err := jsonIn.Unmarshal(raw, m); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", f, err)
		}
		norm, err := checkMethodology(m, reg)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", f, err)
		}
		norm.Builtin = true
		reg.add(norm)
		out = append(out, norm)
	}
	return out, reg, nil
}

// checkMethodology checks a methodology and returns it completed: references to known
// indicators filled in, defaults set. Every problem is listed in one INVALID_ARGUMENT.
func checkMethodology(in *scoringv1.Methodology, reg registry) (*scoringv1.Methodology, error) {
	m := proto.Clone(in).(*scoringv1.Methodology)
	m.Builtin, m.CreatedBy, m.CreatedAt = false, "", ""
	var v platform.Violations
	if !methodologyIDRE.MatchString(m.GetId()) || len(m.GetId()) > maxIDBytes {
		v.Add("id", "must be upper-case letters, digits and single dashes, like QD766-2022 (at most %d bytes), got %q", maxIDBytes, m.GetId())
	}
	checkText(&v, "name", m.GetName(), true, maxNameBytes)
	checkText(&v, "name_en", m.GetNameEn(), false, maxNameBytes)
	checkText(&v, "description", m.GetDescription(), false, maxDescriptionBytes)
	if m.GetVersion() == 0 {
		m.Version = 1
	} else if m.GetVersion() < 0 {
		v.Add("version", "must be 1 or more")
	}
	if len(m.GetPeriodKinds()) == 0 {
		v.Add("period_kinds", "name at least one: PERIOD_KIND_YEAR, PERIOD_KIND_QUARTER or PERIOD_KIND_MONTH")
	}
	seenKind := map[scoringv1.PeriodKind]bool{}
	for i, k := range m.GetPeriodKinds() {
		if _, ok := scoringv1.PeriodKind_name[int32(k)]; !ok || k == scoringv1.PeriodKind_PERIOD_KIND_UNSPECIFIED {
			v.Add(fmt.Sprintf("period_kinds[%d]", i), "must be PERIOD_KIND_YEAR, PERIOD_KIND_QUARTER or PERIOD_KIND_MONTH")
		} else if seenKind[k] {
			v.Add(fmt.Sprintf("period_kinds[%d]", i), "%s is listed twice", k)
		}
		seenKind[k] = true
	}
	scaleOK := m.GetScale() == scoringv1.Scale_SCALE_INDEX || m.GetScale() == scoringv1.Scale_SCALE_POINTS
	if !scaleOK {
		v.Add("scale", "must be SCALE_INDEX (weights add up to 1) or SCALE_POINTS (maximum points add up to 100)")
	}
	if m.GetPrecision() < 0 || m.GetPrecision() > 6 {
		v.Add("precision", "must be 0 (the default) to 6 decimals")
	}
	total := scaleTotal(m.GetScale())
	if len(m.GetCategories()) == 0 {
		v.Add("categories", "give at least one category")
	}
	if len(m.GetCategories()) > maxCategories {
		v.Add("categories", "at most %d categories", maxCategories)
	}
	catIDs := map[string]bool{}
	indIDs := map[string]string{}
	var sum float64
	for ci, c := range m.GetCategories() {
		cf := fmt.Sprintf("categories[%d]", ci)
		if !snakeIDRE.MatchString(c.GetId()) || len(c.GetId()) > maxIDBytes {
			v.Add(cf+".id", "must be lower snake case, like online_services, got %q", c.GetId())
		} else if catIDs[c.GetId()] {
			v.Add(cf+".id", "category %q appears twice", c.GetId())
		}
		catIDs[c.GetId()] = true
		checkText(&v, cf+".name", c.GetName(), true, maxNameBytes)
		checkText(&v, cf+".name_en", c.GetNameEn(), false, maxNameBytes)
		if !finite(c.GetWeight()) || c.GetWeight() <= 0 {
			v.Add(cf+".weight", "must be more than 0")
		}
		sum += c.GetWeight()
		if len(c.GetIndicators()) == 0 {
			v.Add(cf+".indicators", "give at least one indicator")
		}
		if len(c.GetIndicators()) > maxIndicatorsPerGroup {
			v.Add(cf+".indicators", "at most %d indicators in a category", maxIndicatorsPerGroup)
		}
		var isum float64
		for ii, in := range c.GetIndicators() {
			f := fmt.Sprintf("%s.indicators[%d]", cf, ii)
			if prev, dup := indIDs[in.GetId()]; dup && in.GetId() != "" {
				v.Add(f+".id", "indicator %q is already used at %s", in.GetId(), prev)
			}
			indIDs[in.GetId()] = f
			checkIndicator(&v, f, in, reg)
			isum += in.GetWeight()
		}
		if finite(isum) && finite(c.GetWeight()) && c.GetWeight() > 0 && math.Abs(isum-c.GetWeight()) > weightTolerance*total {
			v.Add(cf+".weight", "is %s but its indicators' weights add up to %s", fmtNum(c.GetWeight()), fmtNum(isum))
		}
	}
	if scaleOK && len(m.GetCategories()) > 0 && finite(sum) && math.Abs(sum-total) > weightTolerance*total {
		v.Add("categories", "category weights add up to %s; with %s they must add up to %s", fmtNum(sum), m.GetScale(), fmtNum(total))
	}
	checkDenominators(&v, m, reg) // after the indicators: references are filled in
	checkScope(&v, m)             // after the indicators: references are filled in
	if err := v.Err(); err != nil {
		return nil, err
	}
	return m, nil
}

func checkText(v *platform.Violations, field, s string, required bool, max int) {
	switch {
	case required && strings.TrimSpace(s) == "":
		v.Add(field, "is required")
	case len(s) > max:
		v.Add(field, "at most %d bytes", max)
	}
}

// checkIndicator checks one indicator of a methodology, filling in a reference to a known
// indicator from the registry.
func checkIndicator(v *platform.Violations, f string, in *scoringv1.Indicator, reg registry) {
	if !snakeIDRE.MatchString(in.GetId()) || len(in.GetId()) > maxIDBytes {
		v.Add(f+".id", "must be lower snake case, like online_dossier_pct, got %q", in.GetId())
		return
	}
	known := reg[in.GetId()]
	isRef := in.GetName() == "" && in.GetUnit() == scoringv1.MeasureUnit_MEASURE_UNIT_UNSPECIFIED &&
		in.GetSource() == scoringv1.IndicatorSource_INDICATOR_SOURCE_UNSPECIFIED && in.GetFormula() == ""
	if isRef {
		if known == nil {
			v.Add(f+".id", "unknown indicator %q: define it with name, unit and source, or use an indicator of a stored methodology", in.GetId())
			return
		}
		in.Name, in.NameEn, in.Unit, in.Source, in.Formula = known.GetName(), known.GetNameEn(), known.GetUnit(), known.GetSource(), known.GetFormula()
		in.Min, in.Max = known.Min, known.Max
		if in.GetDescription() == "" {
			in.Description = known.GetDescription()
		}
		if in.GetDenominator() == "" {
			in.Denominator = known.GetDenominator()
		}
	} else {
		checkText(v, f+".name", in.GetName(), true, maxNameBytes)
		checkText(v, f+".name_en", in.GetNameEn(), false, maxNameBytes)
		checkText(v, f+".description", in.GetDescription(), false, maxDescriptionBytes)
		if _, ok := scoringv1.MeasureUnit_name[int32(in.GetUnit())]; !ok || in.GetUnit() == scoringv1.MeasureUnit_MEASURE_UNIT_UNSPECIFIED {
			v.Add(f+".unit", "must be MEASURE_UNIT_PERCENT, _RATIO, _COUNT, _DAYS or _SCORE")
		}
		switch in.GetSource() {
		case scoringv1.IndicatorSource_INDICATOR_SOURCE_SUBMITTED:
			if in.GetFormula() != "" {
				v.Add(f+".formula", "a SUBMITTED indicator has no formula")
			}
		case scoringv1.IndicatorSource_INDICATOR_SOURCE_COMPUTED:
			fm, ok := formulas[in.GetFormula()]
			if !ok {
				v.Add(f+".formula", "unknown formula %q; known: %s", in.GetFormula(), strings.Join(formulaNames(), ", "))
			} else if in.GetUnit() != scoringv1.MeasureUnit_MEASURE_UNIT_UNSPECIFIED && fm.unit != in.GetUnit() {
				v.Add(f+".unit", "formula %s gives %s, not %s", in.GetFormula(), fm.unit, in.GetUnit())
			}
		default:
			v.Add(f+".source", "must be INDICATOR_SOURCE_SUBMITTED or INDICATOR_SOURCE_COMPUTED")
		}
		if known != nil && (known.GetUnit() != in.GetUnit() || known.GetSource() != in.GetSource() || known.GetFormula() != in.GetFormula()) {
			v.Add(f+".id", "indicator %q is already defined as %s %s %s; use another id or the same definition",
				in.GetId(), known.GetSource(), known.GetUnit(), known.GetFormula())
		}
	}
	if !finite(in.GetWeight()) || in.GetWeight() <= 0 {
		v.Add(f+".weight", "must be more than 0")
	}
	lo, hi := unitRange(in.GetUnit())
	switch in.GetNormalization() {
	case scoringv1.Normalization_NORMALIZATION_MIN_MAX:
		if in.GetThreshold() != 0 {
			v.Add(f+".threshold", "only a THRESHOLD normalisation has a threshold")
		}
	case scoringv1.Normalization_NORMALIZATION_THRESHOLD:
		if t := in.GetThreshold(); !finite(t) || t <= lo || t > hi {
			v.Add(f+".threshold", "must be more than %s and at most %s for %s", fmtNum(lo), fmtNum(hi), in.GetUnit())
		}
	case scoringv1.Normalization_NORMALIZATION_RATIO:
		if in.GetThreshold() != 0 {
			v.Add(f+".threshold", "only a THRESHOLD normalisation has a threshold")
		}
		switch in.GetUnit() {
		case scoringv1.MeasureUnit_MEASURE_UNIT_PERCENT, scoringv1.MeasureUnit_MEASURE_UNIT_RATIO, scoringv1.MeasureUnit_MEASURE_UNIT_SCORE:
		default:
			v.Add(f+".normalization", "a plain ratio needs a PERCENT, RATIO or SCORE indicator, not %s", in.GetUnit())
		}
	default:
		v.Add(f+".normalization", "must be NORMALIZATION_MIN_MAX, NORMALIZATION_THRESHOLD or NORMALIZATION_RATIO")
	}
	switch in.GetDirection() {
	case scoringv1.Direction_DIRECTION_UNSPECIFIED:
		in.Direction = scoringv1.Direction_DIRECTION_HIGHER_IS_BETTER
	case scoringv1.Direction_DIRECTION_HIGHER_IS_BETTER, scoringv1.Direction_DIRECTION_LOWER_IS_BETTER:
	default:
		v.Add(f+".direction", "must be DIRECTION_HIGHER_IS_BETTER or DIRECTION_LOWER_IS_BETTER")
	}
	if in.Min != nil && (!finite(in.GetMin()) || in.GetMin() < lo || in.GetMin() > hi) {
		v.Add(f+".min", "must lie in %s–%s", fmtNum(lo), fmtNum(hi))
	}
	if in.Max != nil && (!finite(in.GetMax()) || in.GetMax() < lo || in.GetMax() > hi) {
		v.Add(f+".max", "must lie in %s–%s", fmtNum(lo), fmtNum(hi))
	}
	if in.Min != nil && in.Max != nil && in.GetMin() > in.GetMax() {
		v.Add(f+".min", "is more than max")
	}
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// fmtNum writes a number without trailing zeros.
func fmtNum(x float64) string {
	if x == math.MaxFloat64 {
		return "any"
	}
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.6f", x), "0"), ".")
}

// sortMethodologies orders methodologies by id.
func sortMethodologies(ms []*scoringv1.Methodology) {
	sort.Slice(ms, func(i, j int) bool { return ms[i].GetId() < ms[j].GetId() })
}
