package catalog

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	"github.com/lienthong/lienthong/services/platform"
)

// CSV columns of a procedure import. Lists are separated by ';'. Enum columns take the
// short name (FULL), the full name (ONLINE_LEVEL_FULL) or the number.
var procedureColumns = []string{
	"code", "name", "field", "implementing_level", "agency_codes", "processing_days",
	"online_level", "legacy_level", "fee", "documents", "legal_basis", "status",
	"valid_from", "valid_to",
}

var requiredColumns = []string{"code", "name", "field", "implementing_level", "agency_codes"}

// ParseProceduresCSV reads procedures from CSV with a header row. Bad cells are recorded in
// v as rows[N].column (N from 1, the first line after the header) and the rows are still
// returned, one per line, so that the caller can check them and report every problem at
// once. A CSV whose header or quoting cannot be read is an error of its own. A UTF-8
// byte-order mark is allowed.
func ParseProceduresCSV(data []byte, v *platform.Violations) ([]*catalogv1.Procedure, error) {
	return parseImportCSV(data, procedureColumns, requiredColumns, v, procedureFromRecord)
}

// parseImportCSV reads the rows of an import CSV with a header row naming some of columns
// (required ones must be there), one value per record by fromRecord, with the rules of
// ParseProceduresCSV. A record with the wrong number of cells becomes a zero value, so that
// later rows keep their numbers.
func parseImportCSV[T any](data []byte, columns, required []string, v *platform.Violations,
	fromRecord func(rec []string, col map[string]int, prefix string, v *platform.Violations) *T) ([]*T, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.ReuseRecord = false
	header, err := r.Read()
	if err != nil {
		return nil, platform.Invalid(platform.FieldViolation{Field: "csv", Description: "cannot read the header row: " + csvErr(err)})
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		if !slices.Contains(columns, h) {
			v.Add("csv", "unknown column %q (known: %s)", h, strings.Join(columns, ", "))
			continue
		}
		if _, dup := col[h]; dup {
			v.Add("csv", "column %q appears twice", h)
		}
		col[h] = i
	}
	for _, c := range required {
		if _, ok := col[c]; !ok {
			v.Add("csv", "missing column %q", c)
		}
	}
	if len(*v) > 0 {
		return nil, v.Err()
	}
	var out []*T
	for row := 1; ; row++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			v.Add(fmt.Sprintf("rows[%d]", row), "%s", csvErr(err))
			return nil, v.Err()
		}
		if row > MaxImportRows {
			v.Add("csv", "at most %d rows per import", MaxImportRows)
			return nil, v.Err()
		}
		if len(rec) != len(header) {
			// Keep the row's place so later rows keep their numbers.
			v.Add(fmt.Sprintf("rows[%d]", row), "has %d cells, the header has %d", len(rec), len(header))
			out = append(out, new(T))
			continue
		}
		out = append(out, fromRecord(rec, col, fmt.Sprintf("rows[%d].", row), v))
	}
	return out, nil
}

func csvErr(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Sprintf("line %d: %v", pe.Line, pe.Err)
	}
	return "not valid CSV"
}

func procedureFromRecord(rec []string, col map[string]int, prefix string, v *platform.Violations) *catalogv1.Procedure {
	get := cell(rec, col)
	p := &catalogv1.Procedure{
		Code: get("code"), Name: get("name"), Field: get("field"), Fee: get("fee"),
		LegalBasis: get("legal_basis"), ValidFrom: get("valid_from"), ValidTo: get("valid_to"),
		AgencyCodes: splitList(get("agency_codes")), Documents: splitList(get("documents")),
	}
	p.ImplementingLevel = catalogv1.ImplementingLevel(parseEnum(get("implementing_level"), "IMPLEMENTING_LEVEL_", catalogv1.ImplementingLevel_value, prefix+"implementing_level", v))
	p.OnlineLevel = catalogv1.OnlineLevel(parseEnum(get("online_level"), "ONLINE_LEVEL_", catalogv1.OnlineLevel_value, prefix+"online_level", v))
	p.Status = catalogv1.ProcedureStatus(parseEnum(get("status"), "PROCEDURE_STATUS_", catalogv1.ProcedureStatus_value, prefix+"status", v))
	p.ProcessingDays = uint32(parseUint(get("processing_days"), prefix+"processing_days", v))
	p.LegacyLevel = uint32(parseUint(get("legacy_level"), prefix+"legacy_level", v))
	return p
}

// cell answers the trimmed value of a named column of rec, "" when the column is absent.
func cell(rec []string, col map[string]int) func(name string) string {
	return func(name string) string {
		if i, ok := col[name]; ok {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ";") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

func parseUint(s, field string, v *platform.Violations) uint64 {
	if s == "" {
		return 0
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		v.Add(field, "must be a whole number, got %q", s)
	}
	return n
}

func parseEnum(s, prefix string, values map[string]int32, field string, v *platform.Violations) int32 {
	if s == "" {
		return 0
	}
	up := strings.ToUpper(s)
	if n, ok := values[up]; ok {
		return n
	}
	if n, ok := values[prefix+up]; ok {
		return n
	}
	if n, err := strconv.ParseInt(s, 10, 32); err == nil {
		for _, x := range values {
			if int64(x) == n {
				return x
			}
		}
	}
	v.Add(field, "unknown value %q", s)
	return 0
}

// importRows is the start every import shares (docs/api.md, Catalog): admin only; the rows
// given as a list or as CSV (read by parse), not both; at least one and at most
// MaxImportRows. It answers the rows, the violations found reading the CSV (rows the
// import reports with its own, deduplicated by dedupeViolations) and their number; any
// other violation is the error.
func importRows[T any](ctx context.Context, list []T, csv, field string,
	parse func([]byte, *platform.Violations) ([]T, error)) ([]T, platform.Violations, int, error) {
	if _, err := platform.RequireRole(ctx, platform.RoleAdmin); err != nil {
		return nil, nil, 0, err
	}
	var v platform.Violations
	parsed := 0
	rows := list
	switch {
	case len(rows) > 0 && csv != "":
		v.Add("csv", "give %s or csv, not both", field)
	case csv != "":
		var err error
		if rows, err = parse([]byte(csv), &v); err != nil {
			return nil, nil, 0, err
		}
		parsed = len(v)
	case len(rows) == 0:
		v.Add(field, "nothing to import")
	}
	if len(rows) > MaxImportRows {
		v.Add(field, "at most %d %s per import, got %d", MaxImportRows, field, len(rows))
	}
	if len(v) > parsed {
		return nil, nil, 0, v.Err()
	}
	return rows, v, parsed, nil
}
