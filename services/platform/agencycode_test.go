package platform

import (
	"errors"
	"regexp"
	"slices"
	"testing"
)

// The structure of agency codes: QCVN 102:2016 (read from the right, V1V2V3.Z1Z2.Y1Y2.X1X2X3)
// and the left-to-right form seen on national portals after 2025 (H31.01, H26.107);
// docs/domain.md, Identifiers.
func TestParseAgencyCode(t *testing.T) {
	cases := []struct {
		in     string
		level1 string
		level  int
		parts  []string
		form   AgencyCodeForm
	}{
		{"000.00.00.H31", "H31", 1, nil, AgencyCodeRightToLeft},            // People's Committee of Hưng Yên
		{"000.00.05.H31", "H31", 2, []string{"05"}, AgencyCodeRightToLeft}, // a department or district-level unit
		{"000.03.05.H31", "H31", 3, []string{"05", "03"}, AgencyCodeRightToLeft},
		{"001.03.05.H31", "H31", 4, []string{"05", "03", "001"}, AgencyCodeRightToLeft},
		{"000.06.00.H33", "H33", 3, []string{"00", "06"}, AgencyCodeRightToLeft}, // a gap, as the demo data has
		{"000.00.00.G22", "G22", 1, nil, AgencyCodeRightToLeft},                  // Government Office
		{"H31.01", "H31", 2, []string{"01"}, AgencyCodeLeftToRight},
		{"H26.107", "H26", 2, []string{"107"}, AgencyCodeLeftToRight}, // a commune of Hà Nội after July 2025
		{"H27.01.05", "H27", 3, []string{"01", "05"}, AgencyCodeLeftToRight},
		{"G09.20", "G09", 2, []string{"20"}, AgencyCodeLeftToRight},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseAgencyCode(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got.Level1 != tc.level1 || got.Level != tc.level || !slices.Equal(got.Parts, tc.parts) || got.Form != tc.form {
				t.Errorf("got %+v, want level1 %s level %d parts %v form %d", got, tc.level1, tc.level, tc.parts, tc.form)
			}
			if s := got.String(); s != tc.in {
				t.Errorf("String: got %q, want %q", s, tc.in)
			}
		})
	}
	for _, bad := range []string{"", "H33", "h31.01", "000.00.00.h33", "00.00.00.H33", "000.00.00.H3", "000.00.00.HH3",
		"H31.", "H31.1", "H31.1234", "H31.01.02.03.04", "H31..01", "31.01", "000.00.00.H31 ", " H31.01", "H31.0a",
		"000.00.00.H31-261015-0001", "000-00-00-H31"} {
		if _, err := ParseAgencyCode(bad); !errors.Is(err, ErrAgencyCode) {
			t.Errorf("%q: got %v, want ErrAgencyCode", bad, err)
		}
	}
}

// FuzzParseAgencyCode: no input panics; what parses writes back to itself, has a level-1
// code of a letter and two digits and a level from 1 to 4; the right-to-left form is
// exactly what the earlier pattern (AgencyCodeRE) accepted.
func FuzzParseAgencyCode(f *testing.F) {
	for _, s := range []string{"000.00.00.H31", "000.03.05.H31", "001.00.00.G22", "H31.01", "H26.107", "H27.01.05.001", "", "H", "H31", "0", "000.00.00.H3Z", "H31.", "Ḥ31.01"} {
		f.Add(s)
	}
	level1 := regexp.MustCompile(`^[A-Z]\d{2}$`)
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAgencyCode(s)
		if AgencyCodeRE.MatchString(s) {
			if err != nil || a.Form != AgencyCodeRightToLeft {
				t.Fatalf("%q matches AgencyCodeRE but parses as %+v, %v", s, a, err)
			}
		}
		if err != nil {
			if !errors.Is(err, ErrAgencyCode) {
				t.Fatalf("%q: error %v is not ErrAgencyCode", s, err)
			}
			return
		}
		if a.Form == AgencyCodeRightToLeft && !AgencyCodeRE.MatchString(s) {
			t.Fatalf("%q parses right to left but AgencyCodeRE refuses it", s)
		}
		if !level1.MatchString(a.Level1) || a.Level < 1 || a.Level > 4 || a.Level != len(a.Parts)+1 {
			t.Fatalf("%q: %+v", s, a)
		}
		if got := a.String(); got != s {
			t.Fatalf("%q writes back as %q", s, got)
		}
	})
}
