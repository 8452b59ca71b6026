package dossier

import (
	"strings"
	"testing"

	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Commune-level units of the catalog's table of 2025-07-01 (docs/domain.md, Administrative
// units): Phố Hiến and Tân Hưng of Hưng Yên (33), Phủ Lý of Ninh Bình (37).
const (
	communePhoHien = "11953"
	communeTanHung = "11977"
	communePhuLy   = "13285"
)

func withCommunes(f *fixture) {
	f.cat.mu.Lock()
	defer f.cat.mu.Unlock()
	for _, u := range []*catalogv1.Unit{
		{Code: communePhoHien, Name: "Phố Hiến", Kind: catalogv1.UnitKind_UNIT_KIND_WARD, ParentCode: "33", ValidFrom: "2025-07-01"},
		{Code: communeTanHung, Name: "Tân Hưng", Kind: catalogv1.UnitKind_UNIT_KIND_COMMUNE, ParentCode: "33", ValidFrom: "2025-07-01"},
		{Code: communePhuLy, Name: "Phủ Lý", Kind: catalogv1.UnitKind_UNIT_KIND_WARD, ParentCode: "37", ValidFrom: "2025-07-01"},
	} {
		f.cat.units[u.Code] = &catalogv1.UnitReference{Unit: u, CurrentCodes: []string{u.Code}}
	}
}

func withCommune(e *dossierv1.DossierEvent, commune string) *dossierv1.DossierEvent {
	e.CommuneCode = commune
	return e
}

// TestCommuneKeptAndGrouped: a dossier's commune is kept (GetDossier shows it), a later
// event may repeat it, and a province's statistics group by commune, dossiers without one
// under "" — also after a restart (cells and live entries read back from the file); verify
// finds no difference.
func TestCommuneKeptAndGrouped(t *testing.T) {
	f := newFixture(t)
	withCommunes(f)
	c1, _, _, c4 := createCommuneDossiers(f, "c")
	if got := f.dossier(c1).GetCommuneCode(); got != communePhoHien {
		t.Errorf("dossier %s commune %q, want %s", c1, got, communePhoHien)
	}
	if got := f.dossier(c4).GetCommuneCode(); got != "" {
		t.Errorf("dossier %s commune %q, want none", c4, got)
	}
	type row struct{ received, early, awaiting int64 }
	want := map[string]row{"": {1, 0, 1}, communePhoHien: {2, 1, 1}, communeTanHung: {1, 0, 1}}
	check := func(st *dossierv1.DossierStats) {
		t.Helper()
		got := map[string]row{}
		for _, r := range st.GetRows() {
			got[r.GetKey()] = row{r.GetReceivedTotal(), r.GetResolvedEarly() + r.GetResolvedOnTime(), r.GetAwaitingAcceptance()}
		}
		if len(got) != len(want) {
			t.Fatalf("rows %v, want %v", got, want)
		}
		for k, w := range want {
			if got[k] != w {
				t.Errorf("row %q: %+v, want %+v", k, got[k], w)
			}
		}
	}
	check(f.stats(&dossierv1.GetDossierStatsRequest{Unit: "33", From: "2026-11", GroupBy: "commune"}))
	// The commune dimension does not change other groupings.
	if st := f.stats(&dossierv1.GetDossierStatsRequest{Unit: "33", From: "2026-11"}); len(st.GetRows()) != 1 || st.GetRows()[0].GetReceivedTotal() != 4 {
		t.Errorf("total rows %v, want one of 4 received", st.GetRows())
	}

	f.svc.Close()
	svc, err := Open(f.db, Options{Catalog: f.cat, Calendar: DefaultCalendar(), Logger: zap.NewNop(), Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	q, err := parseStatsQuery(&dossierv1.GetDossierStatsRequest{Unit: "33", From: "2026-11", GroupBy: "commune"}, svc.nowMillis())
	if err != nil {
		t.Fatal(err)
	}
	check(svc.stats.query(q, svc.nowMillis(), svc.refs))
	rep, err := Verify(f.db, DefaultCalendar())
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Events != 5 {
		t.Errorf("verify: %d events, differences %v; want 5, none", rep.Events, rep.Differences)
	}
}

// TestCommuneRefused: a commune of another province, an unknown commune, a malformed code,
// a commune dated before 2025-07-01 (communes are modelled from then on), a later event
// changing or adding a commune: each is refused and nothing is stored.
func TestCommuneRefused(t *testing.T) {
	f := newFixture(t)
	withCommunes(f)
	ctx := f.province("33")
	at := vn(2026, 11, 20, 8, 0)
	first := func(id string, n int, commune, when string) *dossierv1.DossierEvent {
		return withCommune(mkFirst(id, dcode(agency33a, "261120", n), sNew, when, "33", agency33a, procLand, chDirect), commune)
	}
	notStored := func(code string) {
		t.Helper()
		_, err := f.client.GetDossier(f.admin(), &dossierv1.GetDossierRequest{Code: code})
		if status.Code(err) != codes.NotFound {
			t.Errorf("dossier %s after a refusal: %v, want NotFound", code, err)
		}
	}

	_, err := f.create(ctx, first("r-1", 1, communePhuLy, at))
	st := wantStatus(t, err, codes.FailedPrecondition, "COMMUNE_NOT_OF_UNIT")
	if msg := st.Message(); !strings.Contains(msg, communePhuLy) || !strings.Contains(msg, "37") {
		t.Errorf("message %q should name the commune and its unit", msg)
	}
	notStored(dcode(agency33a, "261120", 1))

	_, err = f.create(ctx, first("r-2", 2, "99999", at))
	wantFields(t, wantStatus(t, err, codes.InvalidArgument, "UNKNOWN_REFERENCE"), "commune_code")
	notStored(dcode(agency33a, "261120", 2))

	_, err = f.create(ctx, first("r-3", 3, "1195", at))
	wantFields(t, wantStatus(t, err, codes.InvalidArgument, ""), "commune_code")
	notStored(dcode(agency33a, "261120", 3))

	_, err = f.create(ctx, withCommune(mkFirst("r-4", dcode(agency33a, "250630", 4), sNew, vn(2025, 6, 30, 8, 0), "33", agency33a, procLand, chDirect), communePhoHien))
	st = wantStatus(t, err, codes.InvalidArgument, "")
	wantFields(t, st, "commune_code")
	if !strings.Contains(st.Message(), "2025-07-01") {
		t.Errorf("message %q should say communes are known from 2025-07-01", st.Message())
	}
	notStored(dcode(agency33a, "250630", 4))

	// Later events: a commune is never changed nor added.
	with, without := dcode(agency33a, "261120", 5), dcode(agency33a, "261120", 6)
	f.mustCreate(ctx, first("r-5", 5, communePhoHien, at), first("r-6", 6, "", at))
	n := len(f.feed())
	_, err = f.create(ctx, withCommune(mkEv("r-7", with, sAccepted, vn(2026, 11, 20, 9, 0)), communeTanHung))
	wantFields(t, wantStatus(t, err, codes.InvalidArgument, ""), "commune_code")
	_, err = f.create(ctx, withCommune(mkEv("r-8", without, sAccepted, vn(2026, 11, 20, 9, 0)), communeTanHung))
	wantFields(t, wantStatus(t, err, codes.InvalidArgument, ""), "commune_code")
	if got := len(f.feed()); got != n {
		t.Errorf("feed has %d events after refusals, want %d", got, n)
	}
	if f.dossier(with).GetCommuneCode() != communePhoHien || f.dossier(without).GetCommuneCode() != "" ||
		f.dossier(with).GetStatus() != sNew {
		t.Errorf("dossiers changed by refused events: %v / %v", f.dossier(with), f.dossier(without))
	}
}

// TestCommuneCellEncoding: a cell key and a live entry keep their commune on disk, and
// those written before communes (no trailing commune) read back with none.
func TestCommuneCellEncoding(t *testing.T) {
	for _, k := range []cellKey{
		{month: 2026*12 + 10, channel: 1, unit: "33", agency: agency33a, procedure: procLand, commune: communePhoHien},
		{month: 2026*12 + 10, channel: 2, unit: "33", agency: agency33a, procedure: procLand},
	} {
		got, err := decodeCellKey(encodeCellKey(k))
		if err != nil || got != k {
			t.Errorf("cell key %+v read back as %+v, %v", k, got, err)
		}
		e := liveEntry{key: k, status: 3, overdueAt: 1234567}
		ge, err := decodeLive(encodeLive(e))
		if err != nil || ge != e {
			t.Errorf("live entry %+v read back as %+v, %v", e, ge, err)
		}
	}
	if _, err := decodeCellKey(append(encodeCellKey(cellKey{unit: "33", commune: communePhoHien}), 'x')); err == nil {
		t.Error("a cell key with trailing bytes after its commune was read")
	}
}

// createCommuneDossiers creates four dossiers of Hưng Yên received on 2026-11-20 (event ids
// prefix-1 to prefix-5): two of Phố Hiến (the first resolved), one of Tân Hưng, one without
// a commune.
func createCommuneDossiers(f *fixture, prefix string) (c1, c2, c3, c4 string) {
	at := vn(2026, 11, 20, 8, 0)
	c1, c2, c3, c4 = dcode(agency33a, "261120", 1), dcode(agency33a, "261120", 2), dcode(agency33a, "261120", 3), dcode(agency33a, "261120", 4)
	f.mustCreate(f.province("33"),
		withCommune(mkFirst(prefix+"-1", c1, sAccepted, at, "33", agency33a, procLand, chDirect), communePhoHien),
		withCommune(mkFirst(prefix+"-2", c2, sNew, at, "33", agency33a, procLand, chOnline), communePhoHien),
		withCommune(mkFirst(prefix+"-3", c3, sNew, at, "33", agency33a, procLand, chDirect), communeTanHung),
		mkFirst(prefix+"-4", c4, sNew, at, "33", agency33a, procLand, chDirect),
		withCommune(mkEv(prefix+"-5", c1, sResolved, vn(2026, 11, 20, 9, 0)), communePhoHien),
	)
	return c1, c2, c3, c4
}
