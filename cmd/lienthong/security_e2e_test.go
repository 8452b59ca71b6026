package main

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lienthong/lienthong/services/platform"
)

// TestWritesRefusedWithoutTheRight tries every write path of the suite with no token, a
// tampered token, an expired one, and tokens of the wrong role, unit or agency: each gets
// 401 or 403, and afterwards nothing the suite holds has changed.
func TestWritesRefusedWithoutTheRight(t *testing.T) {
	s := startUp(t, t.TempDir(), "--demo", "--demo-dossiers", "0")
	admin := s.token()
	// The demo documents load in the background: wait for the last ones, so that only a
	// refused write could change what is compared below.
	s.waitDemoDocuments()
	tok := s.issue
	now := time.Now()
	hungyen := platform.Caller{System: "000.00.00.H31/motcua", Role: platform.RoleProvince, Unit: "33"}
	namdinh := tok(platform.Caller{System: "000.00.00.H40/motcua", Role: platform.RoleProvince, Unit: "36"}, time.Hour, now)
	nghean := tok(platform.Caller{System: "000.00.00.H41/motcua", Role: platform.RoleProvince, Unit: "40"}, time.Hour, now)
	ministry := tok(platform.Caller{System: "000.00.00.G22/bo", Role: platform.RoleMinistry}, time.Hour, now)
	tnmt := tok(platform.Caller{System: "000.06.00.H31/qlvb", Role: platform.RoleAgency}, time.Hour, now)
	expired := tok(hungyen, time.Hour, now.Add(-2*time.Hour))
	valid := tok(hungyen, time.Hour, now)
	parts := strings.Split(valid, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	payload = []byte(strings.Replace(string(payload), `"33"`, `"01"`, 1)) // claim another unit
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(payload) + "." + parts[2]

	// Real references of unit 33, so that only the right is missing.
	proc := s.firstCode("/v1/procedures?unit=33&page_size=1", "procedures")
	agency := s.firstCode("/v1/agencies?unit=33&page_size=1", "agencies")
	event := fmt.Sprintf(`{"event_id":"sec-1","dossier_code":"%s-261102-0001","status":"DOSSIER_STATUS_NEW","occurred_at":"2026-11-02T08:00:00+07:00","unit_code":"33","agency_code":"%s","procedure_code":"%s","channel":"CHANNEL_ONLINE"}`, agency, agency, proc)

	writes := []struct {
		name, method, path, body string
		wrong                    map[string]string // token name -> token with the wrong role, unit or agency
	}{
		{"create agency", "POST", "/v1/agencies", `{"code":"000.09.00.H31","name":"Sở Thử nghiệm","unit_code":"33"}`,
			map[string]string{"province": valid, "ministry": ministry}},
		{"create procedure", "POST", "/v1/procedures", `{"code":"1.999999","name":"Thủ tục thử nghiệm"}`,
			map[string]string{"province": valid, "agency": tnmt}},
		{"update procedure", "PATCH", "/v1/procedures/" + proc, `{"name":"Đổi tên"}`,
			map[string]string{"province": valid}},
		{"import procedures", "POST", "/v1/procedures:import", `[{"code":"1.999998","name":"Thủ tục nhập"}]`,
			map[string]string{"ministry": ministry}},
		{"import agencies", "POST", "/v1/agencies:import", `[{"code":"H31.999","name":"Ủy ban nhân dân phường Phố Hiến","unit_code":"11953","valid_from":"2025-07-01","kind":"AGENCY_KIND_COMMUNE_PEOPLES_COMMITTEE"}]`,
			map[string]string{"province": valid, "ministry": ministry}},
		{"dossier event", "POST", "/v1/dossier-events", event,
			map[string]string{"ministry": ministry, "another unit": nghean}},
		{"dossier batch", "POST", "/v1/dossier-events:batchCreate", `{"events":[` + event + `]}`,
			map[string]string{"ministry": ministry}},
		{"send document", "POST", "/v1/documents", `{"from":"000.02.00.H31","to":["000.00.00.H31"],"code_number":"9","code_notation":"STP","promulgation_date":"2026-11-02","document_type":"Công văn","subject":"Thử"}`,
			map[string]string{"another agency": tnmt, "ministry": ministry, "another unit": namdinh}},
		{"signing key", "PUT", "/v1/agencies/000.02.00.H31/signing-keys/k1", `{"algorithm":"ED25519","public_key":"KiSszORNcYGWNQ32MMa+IEqKWBe5j1pYSvdy3uOCrbA="}`,
			map[string]string{"another agency": tnmt, "another unit": namdinh}},
		{"metric report", "PUT", "/v1/units/33/metric-reports/2024", `{"values":{"online_dossier_pct":15}}`,
			map[string]string{"another unit": namdinh, "ministry": ministry}},
		{"methodology", "POST", "/v1/methodologies", `{"id":"SEC","name":"Thử","period_kinds":["PERIOD_KIND_YEAR"],"scale":"SCALE_POINTS","categories":[{"id":"a","name":"A","weight":100,"indicators":[{"id":"on_time_rate","weight":100,"normalization":"NORMALIZATION_RATIO"}]}]}`,
			map[string]string{"province": valid, "agency": tnmt}},
		{"close period", "POST", "/v1/reporting-periods/2024:close", `{}`,
			map[string]string{"province": valid}},
		{"heartbeat", "POST", "/v1/systems/000.00.00.H31%2Fmotcua:heartbeat", `{}`,
			map[string]string{"another unit": namdinh}},
	}
	snapshot := func() map[string]string {
		out := map[string]string{}
		for _, p := range []string{"/v1/catalog-stats", "/v1/agencies?unit=33&page_size=1000", "/v1/procedures/" + proc,
			"/v1/dossier-events?page_size=1000", "/v1/agencies/000.00.00.H31/inbox?page_size=1000", "/v1/documents?from=000.02.00.H31&page_size=1000",
			"/v1/units/33/metric-reports/2024", "/v1/methodologies", "/v1/interconnection-status?unit=33", "/v1/agencies/000.02.00.H31/signing-keys",
			"/v1/rankings/QD766-2022/2024"} {
			code, body := s.call(http.MethodGet, p, admin, "")
			if code != http.StatusOK { // errors carry a request id of their own
				out[p] = fmt.Sprint(code, body["message"])
				continue
			}
			delete(body, "as_of")
			delete(body, "computed_at")
			out[p] = fmt.Sprint(code, body)
		}
		return out
	}
	before := snapshot()
	for p, v := range before {
		if !strings.HasPrefix(v, "200") && p != "/v1/units/33/metric-reports/2024" {
			t.Fatalf("reading %s before the writes: %s", p, v)
		}
	}
	for _, w := range writes {
		for _, c := range []struct {
			name, token string
			want        int
		}{{"no token", "", 401}, {"tampered token", tampered, 401}, {"expired token", expired, 401}} {
			if code, body := s.call(w.method, w.path, c.token, w.body); code != c.want {
				t.Errorf("%s with %s: %d %v, want %d", w.name, c.name, code, body, c.want)
			}
		}
		for name, token := range w.wrong {
			if code, body := s.call(w.method, w.path, token, w.body); code != 403 {
				t.Errorf("%s with a token of %s: %d %v, want 403", w.name, name, code, body)
			}
		}
	}
	// No token, whole or in part, reaches the logs.
	logs := s.logs.String()
	for name, tk := range map[string]string{"admin": admin, "province": valid, "altered": tampered, "expired": expired, "ministry": ministry, "agency": tnmt} {
		if sig := tk[strings.LastIndex(tk, ".")+1:]; strings.Contains(logs, sig) || strings.Contains(logs, tk) {
			t.Errorf("the %s token is in the logs", name)
		}
	}
	if !strings.Contains(logs, `"request_id"`) {
		t.Fatal("no request was logged: the check above would pass for nothing")
	}
	after := snapshot()
	for p, b := range before {
		if after[p] != b {
			t.Errorf("%s changed after refused writes:\nbefore %s\nafter  %s", p, b, after[p])
		}
	}
}
