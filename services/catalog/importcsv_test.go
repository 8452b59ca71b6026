package catalog

import (
	"bytes"
	"testing"

	"github.com/lienthong/lienthong/services/platform"
)

func FuzzParseProceduresCSV(f *testing.F) {
	f.Add([]byte("code,name,field,implementing_level,agency_codes\n1.000001,Tên,Đất đai,PROVINCE,000.01.00.H31\n"))
	f.Add([]byte("\xef\xbb\xbfcode,name,field,implementing_level,agency_codes,processing_days,online_level,legacy_level\n1.000001,\"Tên, có phẩy\",x,2,a;b,3,FULL,4\n"))
	f.Add([]byte("code,name\n\"unterminated\n"))
	f.Add([]byte(""))
	f.Add([]byte("code,code,name,field,implementing_level,agency_codes\n"))
	f.Add(demoProcedures[:2000])
	f.Fuzz(func(t *testing.T, data []byte) {
		var v platform.Violations
		rows, err := ParseProceduresCSV(data, &v)
		if err != nil {
			if rows != nil {
				t.Errorf("rows returned with an error")
			}
			return
		}
		// One procedure per record after the header: never more than the lines of the input.
		if lines := bytes.Count(data, []byte("\n")) + 1; len(rows) > lines {
			t.Errorf("%d rows from %d lines", len(rows), lines)
		}
		for _, x := range v {
			if x.Field == "" || x.Description == "" {
				t.Errorf("violation without field or description: %+v", x)
			}
		}
	})
}

func TestDemoCSVParses(t *testing.T) {
	var v platform.Violations
	rows, err := ParseProceduresCSV(demoProcedures, &v)
	if err != nil || len(v) > 0 {
		t.Fatalf("demo CSV: %v %v", err, v)
	}
	if len(rows) < 200 {
		t.Errorf("demo rows: got %d, want at least 200", len(rows))
	}
}
