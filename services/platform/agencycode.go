package platform

import (
	"errors"
	"fmt"
	"strings"
)

// ErrAgencyCode is the error of a string that is not an agency's electronic identifier.
var ErrAgencyCode = errors.New("not an agency electronic identifier")

// AgencyCodeForm is how an agency code is written (docs/domain.md, Identifiers).
type AgencyCodeForm int

// The two forms of an agency code.
const (
	// AgencyCodeRightToLeft is QCVN 102:2016's `V1V2V3.Z1Z2.Y1Y2.X1X2X3`, read from the
	// right: level 1 `X`, level 2 `Y`, level 3 `Z`, level 4 `V` (000.00.00.H31,
	// 000.00.05.H31, 000.03.05.H31).
	AgencyCodeRightToLeft AgencyCodeForm = iota + 1
	// AgencyCodeLeftToRight is the newer form `X1X2X3.P[.P[.P]]` with parts of 2 or 3
	// digits from level 2 down (H31.01, H26.107).
	AgencyCodeLeftToRight
)

// AgencyCode is a parsed agency electronic identifier.
type AgencyCode struct {
	// Level1 is the level-1 code: a capital letter and two digits, e.g. "H31".
	Level1 string
	// Level is the agency's level, 1 to 4: 1 plus the number of Parts.
	Level int
	// Parts are the codes below level 1, from level 2 down. In the right-to-left form they
	// end at the deepest non-zero part, and a zero part above it (000.06.00.H31) is kept.
	Parts []string
	// Form is how the code was written.
	Form AgencyCodeForm
}

// Letter is the level-1 code's letter: H provincial People's Committees, K provincial
// People's Councils, G central bodies.
func (a AgencyCode) Letter() byte { return a.Level1[0] }

// String writes the code back in its form; ParseAgencyCode(s).String() == s.
func (a AgencyCode) String() string {
	if a.Form == AgencyCodeLeftToRight {
		return a.Level1 + "." + strings.Join(a.Parts, ".")
	}
	parts := []string{"00", "00", "000"} // levels 2, 3, 4
	copy(parts, a.Parts)
	return parts[2] + "." + parts[1] + "." + parts[0] + "." + a.Level1
}

// ParseAgencyCode reads an agency electronic identifier in either form (QCVN 102:2016;
// QĐ 20/2020/QĐ-TTg as amended by QĐ 09/2025/QĐ-TTg; docs/domain.md, Identifiers).
func ParseAgencyCode(s string) (AgencyCode, error) {
	if len(s) > 0 && isUpper(s[0]) {
		return parseLeftToRight(s)
	}
	return parseRightToLeft(s)
}

// IsAgencyCode reports whether s is an agency code in either form.
func IsAgencyCode(s string) bool {
	_, err := ParseAgencyCode(s)
	return err == nil
}

func parseRightToLeft(s string) (AgencyCode, error) {
	// 000.00.00.H31: fixed widths 3.2.2.3
	if len(s) != 13 || s[3] != '.' || s[6] != '.' || s[9] != '.' ||
		!digits(s[0:3]) || !digits(s[4:6]) || !digits(s[7:9]) || !isLevel1(s[10:13]) {
		return AgencyCode{}, fmt.Errorf("%w: %q is not NNN.NN.NN.XNN", ErrAgencyCode, s)
	}
	below := []string{s[7:9], s[4:6], s[0:3]} // levels 2, 3, 4
	n := 0
	for i, p := range below {
		if strings.Trim(p, "0") != "" {
			n = i + 1
		}
	}
	return AgencyCode{Level1: s[10:13], Level: n + 1, Parts: append([]string(nil), below[:n]...), Form: AgencyCodeRightToLeft}, nil
}

func parseLeftToRight(s string) (AgencyCode, error) {
	fields := strings.Split(s, ".")
	if len(fields) < 2 || len(fields) > 4 || !isLevel1(fields[0]) {
		return AgencyCode{}, fmt.Errorf("%w: %q is not XNN.N… with one to three parts", ErrAgencyCode, s)
	}
	for _, p := range fields[1:] {
		if len(p) < 2 || len(p) > 3 || !digits(p) {
			return AgencyCode{}, fmt.Errorf("%w: %q has a part %q that is not 2 or 3 digits", ErrAgencyCode, s, p)
		}
	}
	return AgencyCode{Level1: fields[0], Level: len(fields), Parts: fields[1:], Form: AgencyCodeLeftToRight}, nil
}

// isLevel1 reports whether s is a level-1 code: a capital letter and two digits.
func isLevel1(s string) bool { return len(s) == 3 && isUpper(s[0]) && digits(s[1:]) }

func isUpper(b byte) bool { return b >= 'A' && b <= 'Z' }

func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
