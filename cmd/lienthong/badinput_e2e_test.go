package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestBadInputRefused sends the suite broken, hostile and oversized requests over REST:
// each gets a 4xx with a JSON error, the process stays up, and nothing is stored.
func TestBadInputRefused(t *testing.T) {
	s := startUp(t, t.TempDir(), "--demo", "--demo-dossiers", "0")
	admin := s.token()
	proc := s.firstCode("/v1/procedures?unit=33&page_size=1", "procedures")
	agency := s.firstCode("/v1/agencies?unit=33&page_size=1", "agencies")
	event := func(override string) string {
		return fmt.Sprintf(`{"event_id":"bad-1","dossier_code":"%s-261102-0001","status":1,"occurred_at":"2026-11-02T08:00:00+07:00","unit_code":"33","agency_code":"%s","procedure_code":"%s","channel":2%s}`, agency, agency, proc, override)
	}
	deep := strings.Repeat(`{"events":[`, 50000) + strings.Repeat(`]}`, 50000)
	cases := []struct {
		name, method, path, body string
		want                     int
	}{
		{"invalid UTF-8 in a string", "POST", "/v1/dossier-events", event(`,"note":"` + "\xff\xfe" + `"`), 400},
		{"NFD where a code is expected", "POST", "/v1/dossier-events", strings.Replace(event(""), `"unit_code":"33"`, `"unit_code":"3̀3"`, 1), 400},
		{"100,000-deep JSON", "POST", "/v1/dossier-events:batchCreate", deep, 400},
		{"a number where a string goes", "POST", "/v1/dossier-events", strings.Replace(event(""), `"event_id":"bad-1"`, `"event_id":12`, 1), 400},
		{"a string where an enum number goes", "POST", "/v1/dossier-events", strings.Replace(event(""), `"status":1`, `"status":"OPEN"`, 1), 400},
		{"an enum number that does not exist", "POST", "/v1/dossier-events", strings.Replace(event(""), `"status":1`, `"status":99`, 1), 400},
		{"a field the contract does not have", "POST", "/v1/dossier-events", event(`,"citizen_id":"001099012345"`), 400},
		{"not JSON", "POST", "/v1/dossier-events", `event_id=1`, 400},
		{"truncated JSON", "POST", "/v1/dossier-events", event("")[:40], 400},
		{"a batch of 1001 events", "POST", "/v1/dossier-events:batchCreate", `{"events":[` + strings.TrimSuffix(strings.Repeat(event("")+",", 1001), ",") + `]}`, 413},
		{"a body over the 8 MiB limit", "POST", "/v1/procedures:import", `[` + strings.Repeat(`{"code":"1.000001","name":"x"},`, 300000) + `{}]`, 413},
		{"a document body over its 20 MiB limit", "POST", "/v1/documents", `{"subject":"` + strings.Repeat("a", 21<<20) + `"}`, 413},
		{"a page size of a million", "GET", "/v1/procedures?page_size=1000000", "", 400},
		{"a negative page size", "GET", "/v1/dossier-events?page_size=-1", "", 400},
		{"a page token not ours", "GET", "/v1/procedures?page_token=AAAA", "", 400},
		{"a period that is not one", "GET", "/v1/dossier-stats?from=2026-13", "", 400},
		{"a unit code that is not one", "GET", "/v1/units/%2e%2e%2fetc", "", 404},
	}
	_, feedBefore := s.call(http.MethodGet, "/v1/dossier-events?page_size=1000", admin, "")
	_, statsBefore := s.call(http.MethodGet, "/v1/catalog-stats", admin, "")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, body := s.call(tc.method, tc.path, admin, tc.body)
			if code != tc.want {
				t.Errorf("%d %v, want %d", code, body, tc.want)
			}
			if body["message"] == nil || body["code"] == nil {
				t.Errorf("answer %v is not a google.rpc.Status with a message", body)
			}
		})
	}
	if strings.Contains(s.logs.String(), "001099012345") {
		t.Error("the citizen id sent in a refused event is in the logs")
	}
	if code, _ := s.call(http.MethodGet, "/healthz", "", ""); code != 200 {
		t.Fatalf("after the bad input /healthz answers %d", code)
	}
	_, feedAfter := s.call(http.MethodGet, "/v1/dossier-events?page_size=1000", admin, "")
	_, statsAfter := s.call(http.MethodGet, "/v1/catalog-stats", admin, "")
	if fmt.Sprint(feedBefore) != fmt.Sprint(feedAfter) || fmt.Sprint(statsBefore) != fmt.Sprint(statsAfter) {
		t.Errorf("something was stored:\nfeed %v → %v\ncatalog %v → %v", feedBefore, feedAfter, statsBefore, statsAfter)
	}
}
