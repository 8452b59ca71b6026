package docexchange

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lienthong/lienthong/services/platform"
	"google.golang.org/grpc/codes"
)

// A package beyond the shape bounds is refused INVALID_ARGUMENT naming the bound, quickly,
// before it is decoded; a package within them is read as before.
func TestEdxmlShapeLimits(t *testing.T) {
	env := func(inner string) []byte {
		return []byte(`<edXMLEnvelope xmlns="` + EdxmlNamespace + `"><edXMLHeader><MessageHeader>` + inner +
			`</MessageHeader></edXMLHeader></edXMLEnvelope>`)
	}
	tests := []struct {
		name, pkg, want string
	}{
		{"deeply nested", strings.Repeat("<Subject>", 5000) + strings.Repeat("</Subject>", 5000), "nested more than 32 deep"},
		{"very wide", strings.Repeat("<To><OrganId>000.00.00.H29</OrganId></To>", 200000), "more than 20000 elements"},
		{"many attributes", "<Subject" + manyAttrs(100) + "/>", "more than 16 attributes"},
		{"a long attribute value", `<Subject a="` + strings.Repeat("v", 1<<20) + `"/>`, "attribute value longer than 1024 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := ParseEdxml(env(tc.pkg))
			var e *platform.Error
			if !errors.As(err, &e) || e.Code != codes.InvalidArgument {
				t.Fatalf("got %v, want INVALID_ARGUMENT", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not name the limit (%q)", err, tc.want)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("refused after %v, want it quick", d)
			}
		})
	}
	// Within the bounds: a package with a few hundred recipients is read.
	d := letter("1")
	for i := 0; i < 300; i++ {
		d.To = append(d.To, "000.00.00.H29")
	}
	pkg, err := MarshalEdxml(d, [][]byte{d.Attachments[0].Content})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseEdxml(pkg); err != nil {
		t.Errorf("a package of 300 recipients is refused: %v", err)
	}
}

func manyAttrs(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString(" a")
		b.WriteString(strings.Repeat("x", i+1))
		b.WriteString(`="1"`)
	}
	return b.String()
}
