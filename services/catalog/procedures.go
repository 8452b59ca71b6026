package catalog

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// ProcedureCodeRE is the national procedure code (mã TTHC), e.g. 1.004227.
var ProcedureCodeRE = regexp.MustCompile(`^\d\.\d{6}$`)

// Limits of a procedure's fields.
const (
	maxProcedureDays = 365
	maxListItems     = 100
	maxTextBytes     = 2000
	// MaxImportRows is the most procedures one import takes.
	MaxImportRows = 10000
)

// legacyFor and onlineFor map between the two online schemes (README.md, "Online levels";
// docs/domain.md, "Glossary": level 4 is about "toàn trình", level 3 about "một phần").
func legacyFor(l catalogv1.OnlineLevel) uint32 {
	switch l {
	case catalogv1.OnlineLevel_ONLINE_LEVEL_FULL:
		return 4
	case catalogv1.OnlineLevel_ONLINE_LEVEL_PARTIAL:
		return 3
	case catalogv1.OnlineLevel_ONLINE_LEVEL_NONE:
		return 2
	}
	return 0
}

func onlineFor(legacy uint32) catalogv1.OnlineLevel {
	switch legacy {
	case 4:
		return catalogv1.OnlineLevel_ONLINE_LEVEL_FULL
	case 3:
		return catalogv1.OnlineLevel_ONLINE_LEVEL_PARTIAL
	case 1, 2:
		return catalogv1.OnlineLevel_ONLINE_LEVEL_NONE
	}
	return catalogv1.OnlineLevel_ONLINE_LEVEL_UNSPECIFIED
}

// checkProcedure normalises a procedure and records what is wrong with it under prefix.
// Callers hold c.mu.
func (c *Catalog) checkProcedure(in *catalogv1.Procedure, prefix string, v *platform.Violations) *catalogv1.Procedure {
	p := proto.Clone(in).(*catalogv1.Procedure)
	p.Code, p.Name, p.Field = platform.NFC(p.Code), platform.NFC(p.Name), platform.NFC(p.Field)
	p.Fee, p.LegalBasis = platform.NFC(p.Fee), platform.NFC(p.LegalBasis)
	p.UpdateTime = ""
	if !ProcedureCodeRE.MatchString(p.Code) {
		v.Add(prefix+"code", "must be a national procedure code like 1.004227, got %q", p.Code)
	}
	if p.Name == "" || len(p.Name) > maxTextBytes {
		v.Add(prefix+"name", "is required, at most %d bytes", maxTextBytes)
	}
	if p.Field == "" || len(p.Field) > 300 {
		v.Add(prefix+"field", "is required, at most 300 bytes")
	}
	if _, ok := catalogv1.ImplementingLevel_name[int32(p.ImplementingLevel)]; !ok || p.ImplementingLevel == 0 {
		v.Add(prefix+"implementing_level", "is required: CENTRAL, PROVINCE, DISTRICT or COMMUNE")
	}
	if len(p.AgencyCodes) == 0 || len(p.AgencyCodes) > maxListItems {
		v.Add(prefix+"agency_codes", "needs 1 to %d agency codes", maxListItems)
	}
	for i, a := range p.AgencyCodes {
		p.AgencyCodes[i] = platform.NFC(a)
		if _, ok := c.agencies[p.AgencyCodes[i]]; !ok {
			v.Add(fmt.Sprintf("%sagency_codes[%d]", prefix, i), "agency %q does not exist", a)
		}
	}
	if hasDuplicates(p.AgencyCodes) {
		v.Add(prefix+"agency_codes", "lists an agency twice")
	}
	if p.ProcessingDays > maxProcedureDays {
		v.Add(prefix+"processing_days", "must be at most %d working days", maxProcedureDays)
	}
	if _, ok := catalogv1.OnlineLevel_name[int32(p.OnlineLevel)]; !ok {
		v.Add(prefix+"online_level", "unknown online level %d", p.OnlineLevel)
	}
	switch {
	case p.LegacyLevel > 4:
		v.Add(prefix+"legacy_level", "must be 1 to 4")
	case p.OnlineLevel == 0 && p.LegacyLevel == 0:
		v.Add(prefix+"online_level", "is required (or legacy_level)")
	case p.OnlineLevel == 0:
		p.OnlineLevel = onlineFor(p.LegacyLevel)
	case p.LegacyLevel == 0:
		p.LegacyLevel = legacyFor(p.OnlineLevel)
	case onlineFor(p.LegacyLevel) != p.OnlineLevel:
		v.Add(prefix+"legacy_level", "level %d does not match online level %s", p.LegacyLevel, p.OnlineLevel)
	}
	if len(p.Fee) > 300 {
		v.Add(prefix+"fee", "at most 300 bytes")
	}
	if p.HasFee == nil {
		p.HasFee = proto.Bool(feeCharged(p.Fee))
	}
	if _, ok := catalogv1.ResultKind_name[int32(p.ResultKind)]; !ok {
		v.Add(prefix+"result_kind", "unknown result kind %d: PAPER, ELECTRONIC, BOTH or NONE", p.ResultKind)
	}
	if len(p.LegalBasis) > maxTextBytes {
		v.Add(prefix+"legal_basis", "at most %d bytes", maxTextBytes)
	}
	if len(p.Documents) > maxListItems {
		v.Add(prefix+"documents", "at most %d documents", maxListItems)
	}
	for i, d := range p.Documents {
		p.Documents[i] = platform.NFC(d)
		if p.Documents[i] == "" || len(p.Documents[i]) > maxTextBytes {
			v.Add(fmt.Sprintf("%sdocuments[%d]", prefix, i), "must be 1 to %d bytes", maxTextBytes)
		}
	}
	if _, ok := catalogv1.ProcedureStatus_name[int32(p.Status)]; !ok {
		v.Add(prefix+"status", "unknown status %d", p.Status)
	} else if p.Status == 0 {
		p.Status = catalogv1.ProcedureStatus_PROCEDURE_STATUS_ACTIVE
	}
	p.ValidFrom = parseDate(prefix+"valid_from", p.ValidFrom, "", v)
	p.ValidTo = parseDate(prefix+"valid_to", p.ValidTo, "", v)
	if p.ValidFrom != "" && p.ValidTo != "" && p.ValidTo < p.ValidFrom {
		v.Add(prefix+"valid_to", "is before valid_from")
	}
	return p
}

func hasDuplicates(list []string) bool {
	seen := make(map[string]bool, len(list))
	for _, s := range list {
		if seen[s] {
			return true
		}
		seen[s] = true
	}
	return false
}

// CreateProcedure adds a procedure.
func (c *Catalog) CreateProcedure(ctx context.Context, r *catalogv1.CreateProcedureRequest) (*catalogv1.Procedure, error) {
	if _, err := platform.RequireRole(ctx, platform.RoleAdmin); err != nil {
		return nil, err
	}
	if r.GetProcedure() == nil {
		return nil, platform.Invalid(platform.FieldViolation{Field: "procedure", Description: "is required"})
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var v platform.Violations
	p := c.checkProcedure(r.GetProcedure(), "", &v)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if old, ok := c.procedures[p.Code]; ok {
		if sameProcedure(old.p, p) {
			return old.p, nil // the same procedure again: nothing new
		}
		return nil, platform.AlreadyExists("procedure", p.Code)
	}
	if err := c.putProcedures([]*catalogv1.Procedure{p}); err != nil {
		return nil, err
	}
	return p, nil
}

func sameProcedure(a, b *catalogv1.Procedure) bool {
	x, y := proto.Clone(a).(*catalogv1.Procedure), proto.Clone(b).(*catalogv1.Procedure)
	x.UpdateTime, y.UpdateTime = "", ""
	return proto.Equal(x, y)
}

// putProcedures stamps, stores, then keeps procedures in memory. Callers hold c.mu.
func (c *Catalog) putProcedures(ps []*catalogv1.Procedure) error {
	stamp := c.now().UTC().Format(time.RFC3339)
	for _, p := range ps {
		p.UpdateTime = stamp
	}
	if err := c.db.Update(func(tx *bolt.Tx) error {
		for _, p := range ps {
			if err := putRecord(tx, bucketProcedures, p.GetCode(), p); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	for _, p := range ps {
		c.procedures[p.GetCode()] = newProcEntry(p)
	}
	c.procCodes = sortedKeys(c.procedures)
	return nil
}

// GetProcedure answers one procedure.
func (c *Catalog) GetProcedure(_ context.Context, r *catalogv1.GetProcedureRequest) (*catalogv1.Procedure, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.procedures[r.GetCode()]
	if !ok {
		return nil, platform.NotFound("procedure", r.GetCode())
	}
	return e.p, nil
}

// procFilter is the parsed filter of ListProcedures and GetCatalogStats.
type procFilter struct {
	unit, agency, field, q string
	level                  catalogv1.OnlineLevel
}

func (f procFilter) key() string {
	return fmt.Sprintf("procedures|%s|%s|%s|%s|%d", f.unit, f.agency, f.field, f.q, f.level)
}

// match reports whether a procedure passes the filter. Callers hold c.mu.
func (c *Catalog) match(e *procEntry, f procFilter) bool {
	p := e.p
	if f.level != 0 && p.OnlineLevel != f.level {
		return false
	}
	if f.field != "" && e.foldField != f.field {
		return false
	}
	if f.agency != "" && !slices.Contains(p.AgencyCodes, f.agency) {
		return false
	}
	if f.unit != "" && !slices.ContainsFunc(p.AgencyCodes, func(a string) bool {
		ag := c.agencies[a]
		return ag != nil && ag.UnitCode == f.unit
	}) {
		return false
	}
	return f.q == "" || platform.MatchAllWords(e.foldedText, f.q)
}

// ListProcedures answers procedures by code, filtered and searched.
func (c *Catalog) ListProcedures(_ context.Context, r *catalogv1.ListProceduresRequest) (*catalogv1.ListProceduresResponse, error) {
	size, err := platform.PageSize(r.GetPageSize())
	if err != nil {
		return nil, err
	}
	if _, ok := catalogv1.OnlineLevel_name[int32(r.GetOnlineLevel())]; !ok {
		return nil, platform.Invalid(platform.FieldViolation{Field: "online_level", Description: "unknown online level"})
	}
	if len(r.GetQ()) > 500 {
		return nil, platform.Invalid(platform.FieldViolation{Field: "q", Description: "at most 500 bytes"})
	}
	f := procFilter{unit: r.GetUnit(), agency: r.GetAgency(), field: platform.Fold(r.GetField()), q: platform.Fold(r.GetQ()), level: r.GetOnlineLevel()}
	after, err := platform.DecodePageToken(f.key(), r.GetPageToken())
	if err != nil {
		return nil, err
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	out, next, total := page(c.procCodes, after, size, f.key(), func(code string) (*catalogv1.Procedure, bool) {
		e := c.procedures[code]
		return e.p, c.match(e, f)
	})
	return &catalogv1.ListProceduresResponse{Procedures: out, NextPageToken: next, TotalSize: int32(total)}, nil
}

// updatablePaths are the procedure fields an update mask may name.
var updatablePaths = map[string]bool{
	"name": true, "field": true, "implementing_level": true, "agency_codes": true,
	"processing_days": true, "online_level": true, "legacy_level": true, "fee": true,
	"documents": true, "legal_basis": true, "status": true, "valid_from": true, "valid_to": true,
	"has_fee": true, "result_kind": true,
}

// feeCharged says whether a published fee text charges anything: the QĐ 766 description
// counts procedures whose fee is "khác 0, null" (docs/domain.md, "QĐ 766 service-quality
// index"). Empty, "0", "0 đồng", "Không" and "Miễn phí" (any case) charge nothing.
func feeCharged(fee string) bool {
	f := strings.ToLower(strings.TrimSpace(fee))
	for _, suffix := range []string{".", "/hồ sơ", "đồng"} {
		f = strings.TrimSpace(strings.TrimSuffix(f, suffix))
	}
	switch f {
	case "", "0", "không", "không có", "miễn phí", "không thu", "không quy định":
		return false
	}
	return true
}

// UpdateProcedure changes the fields named in the mask.
func (c *Catalog) UpdateProcedure(ctx context.Context, r *catalogv1.UpdateProcedureRequest) (*catalogv1.Procedure, error) {
	if _, err := platform.RequireRole(ctx, platform.RoleAdmin); err != nil {
		return nil, err
	}
	in := r.GetProcedure()
	if in == nil {
		return nil, platform.Invalid(platform.FieldViolation{Field: "procedure", Description: "is required"})
	}
	var v platform.Violations
	paths := r.GetUpdateMask().GetPaths()
	for _, p := range paths {
		if !updatablePaths[p] {
			v.Add("update_mask", "field %q cannot be updated", p)
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old, ok := c.procedures[in.GetCode()]
	if !ok {
		return nil, platform.NotFound("procedure", in.GetCode())
	}
	merged := proto.Clone(old.p).(*catalogv1.Procedure)
	if len(paths) == 0 {
		merged = proto.Clone(in).(*catalogv1.Procedure)
	} else {
		applyMask(merged, in, paths)
		// Changing one online scheme re-derives the other unless both are given.
		hasOnline, hasLegacy := slices.Contains(paths, "online_level"), slices.Contains(paths, "legacy_level")
		if hasOnline && !hasLegacy {
			merged.LegacyLevel = 0
		}
		if hasLegacy && !hasOnline {
			merged.OnlineLevel = 0
		}
		// A new fee text re-derives has_fee unless has_fee is given too.
		if slices.Contains(paths, "fee") && !slices.Contains(paths, "has_fee") {
			merged.HasFee = nil
		}
	}
	p := c.checkProcedure(merged, "procedure.", &v)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if sameProcedure(old.p, p) {
		return old.p, nil
	}
	if err := c.putProcedures([]*catalogv1.Procedure{p}); err != nil {
		return nil, err
	}
	return p, nil
}

// applyMask copies the named top-level fields from src to dst.
func applyMask(dst, src *catalogv1.Procedure, paths []string) {
	dm, sm := dst.ProtoReflect(), src.ProtoReflect()
	fields := dm.Descriptor().Fields()
	for _, path := range paths {
		fd := fields.ByName(protoreflect.Name(path))
		if fd == nil {
			continue
		}
		if sm.Has(fd) {
			dm.Set(fd, sm.Get(fd))
		} else {
			dm.Clear(fd)
		}
	}
}

// ImportProcedures creates or replaces many procedures, all or nothing.
func (c *Catalog) ImportProcedures(ctx context.Context, r *catalogv1.ImportProceduresRequest) (*catalogv1.ImportProceduresResponse, error) {
	rows, v, parsed, err := importRows(ctx, r.GetProcedures(), r.GetCsv(), "procedures", ParseProceduresCSV)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	checked := make([]*catalogv1.Procedure, 0, len(rows))
	seen := map[string]int{}
	resp := &catalogv1.ImportProceduresResponse{ValidatedOnly: r.GetValidateOnly()}
	for i, in := range rows {
		prefix := fmt.Sprintf("rows[%d].", i+1)
		p := c.checkProcedure(in, prefix, &v)
		if first, dup := seen[p.Code]; dup && p.Code != "" {
			v.Add(prefix+"code", "procedure %s is also in row %d", p.Code, first)
		}
		seen[p.Code] = i + 1
		if _, ok := c.procedures[p.Code]; ok {
			resp.Updated++
		} else {
			resp.Created++
		}
		checked = append(checked, p)
	}
	if err := dedupeViolations(v, parsed).Err(); err != nil {
		return nil, err
	}
	if r.GetValidateOnly() {
		return resp, nil
	}
	if err := c.putProcedures(checked); err != nil {
		return nil, err
	}
	return resp, nil
}

// GetCatalogStats counts active procedures by online level and field.
func (c *Catalog) GetCatalogStats(_ context.Context, r *catalogv1.GetCatalogStatsRequest) (*catalogv1.CatalogStats, error) {
	f := procFilter{unit: r.GetUnit()}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if f.unit != "" {
		if _, ok := c.units[f.unit]; !ok {
			return nil, platform.NotFound("unit", f.unit)
		}
	}
	st := &catalogv1.CatalogStats{Unit: f.unit}
	byField := map[string]*catalogv1.FieldStats{}
	for _, code := range c.procCodes {
		e := c.procedures[code]
		if e.p.Status != catalogv1.ProcedureStatus_PROCEDURE_STATUS_ACTIVE || !c.match(e, f) {
			continue
		}
		fs := byField[e.p.Field]
		if fs == nil {
			fs = &catalogv1.FieldStats{Field: e.p.Field}
			byField[e.p.Field] = fs
		}
		st.Total++
		fs.Total++
		switch e.p.OnlineLevel {
		case catalogv1.OnlineLevel_ONLINE_LEVEL_FULL:
			st.Full++
			fs.Full++
		case catalogv1.OnlineLevel_ONLINE_LEVEL_PARTIAL:
			st.Partial++
			fs.Partial++
		default:
			st.None++
			fs.None++
		}
	}
	if st.Total > 0 {
		st.OnlineShare = float64(st.Full+st.Partial) / float64(st.Total)
		st.FullShare = float64(st.Full) / float64(st.Total)
	}
	for _, name := range sortedKeys(byField) {
		st.Fields = append(st.Fields, byField[name])
	}
	return st, nil
}

// LookupReferences checks the codes a dossier carries in one call.
func (c *Catalog) LookupReferences(_ context.Context, r *catalogv1.LookupReferencesRequest) (*catalogv1.LookupReferencesResponse, error) {
	var v platform.Violations
	date := parseDate("date", r.GetDate(), c.today(), &v)
	if n := len(r.GetProcedureCodes()) + len(r.GetAgencyCodes()) + len(r.GetUnitCodes()); n > MaxImportRows {
		v.Add("procedure_codes", "at most %d codes in all", MaxImportRows)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	today := c.today()
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := &catalogv1.LookupReferencesResponse{}
	for _, code := range r.GetProcedureCodes() {
		if e, ok := c.procedures[code]; ok {
			out.Procedures = append(out.Procedures, e.p)
		} else {
			out.MissingProcedures = append(out.MissingProcedures, code)
		}
	}
	for _, code := range r.GetAgencyCodes() {
		if a, ok := c.agencies[code]; ok {
			withProvince := proto.Clone(a).(*catalogv1.Agency)
			withProvince.ProvinceCode = c.provinceCodeOf(a.GetUnitCode())
			out.Agencies = append(out.Agencies, withProvince)
			out.AgencyReferences = append(out.AgencyReferences, c.agencyReference(code, date))
		} else {
			out.MissingAgencies = append(out.MissingAgencies, code)
		}
	}
	for _, code := range r.GetUnitCodes() {
		if u, ok := c.units[code]; ok {
			out.Units = append(out.Units, &catalogv1.UnitReference{Unit: c.unitView(u, date), CurrentCodes: c.resolve(code, today)})
		} else {
			out.MissingUnits = append(out.MissingUnits, code)
		}
	}
	return out, nil
}

// dedupeViolations drops the checks of a cell (or row) that could not be read: the first
// `parsed` violations say what was wrong with it already.
func dedupeViolations(v platform.Violations, parsed int) platform.Violations {
	bad := map[string]bool{}
	for _, x := range v[:parsed] {
		bad[x.Field] = true
	}
	out := v[:parsed:parsed]
	for _, x := range v[parsed:] {
		row, _, _ := strings.Cut(x.Field, ".")
		if bad[x.Field] || bad[row] {
			continue
		}
		out = append(out, x)
	}
	return out
}
