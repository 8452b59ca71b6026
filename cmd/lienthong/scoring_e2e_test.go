package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	scoringv1 "github.com/lienthong/lienthong/proto/gen/lienthong/scoring/v1"
	"google.golang.org/grpc/metadata"
)

// TestScoringSurvivesKill9 submits metric report revisions, a closed period and a
// heartbeat, kills the process with SIGKILL right after the last acknowledgement, and finds
// all of them after a restart on the same data.
func TestScoringSurvivesKill9(t *testing.T) {
	dir := t.TempDir()
	s := startUp(t, dir, "--demo", "--demo-dossiers", "0")
	token := s.token()
	const revisions = 20
	for i := 1; i <= revisions; i++ {
		st, body := s.call("PUT", "/v1/units/37/metric-reports/2026-Q1", token, fmt.Sprintf(`{"values":{"procedures_published_pct":%d}}`, i))
		if st != http.StatusOK || body["revision"] != float64(i) {
			t.Fatalf("revision %d: %d %v", i, st, body)
		}
	}
	if st, body := s.call("POST", "/v1/reporting-periods/2026-Q1:close", token, `{}`); st != http.StatusOK {
		t.Fatalf("close: %d %v", st, body)
	}
	if st, body := s.call("POST", "/v1/systems/000.00.00.H42%2Fmotcua:heartbeat", token, `{"unit_code":"37"}`); st != http.StatusOK {
		t.Fatalf("heartbeat: %d %v", st, body)
	}
	s.kill9()

	s = startUp(t, dir)
	token = s.token()
	st, body := s.call("GET", "/v1/units/37/metric-reports/2026-Q1", token, "")
	if st != http.StatusOK || body["revision"] != float64(revisions) || body["period_closed"] != true {
		t.Fatalf("after kill -9: %d %v", st, body)
	}
	if st, body := s.call("PUT", "/v1/units/37/metric-reports/2026-Q1", token, `{"values":{"procedures_published_pct":1}}`); st != http.StatusPreconditionFailed {
		t.Errorf("closed period after kill -9: %d %v", st, body)
	}
	// The same over gRPC, through the gateway.
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+token)
	status, err := scoringv1.NewScoringServiceClient(s.grpcConn()).GetInterconnectionStatus(ctx, &scoringv1.GetInterconnectionStatusRequest{Unit: "37"})
	if err != nil {
		t.Fatal(err)
	}
	if len(status.GetSystems()) != 1 || status.GetSystems()[0].GetSystem() != "000.00.00.H42/motcua" {
		t.Errorf("systems after kill -9: %v", status.GetSystems())
	}
	rk, err := scoringv1.NewScoringServiceClient(s.grpcConn()).GetRanking(context.Background(), &scoringv1.GetRankingRequest{Methodology: "ICT-2018", Period: "2018"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rk.GetRows() {
		if r.GetUnitCode() == "36" && (r.GetRank() != 22 || r.GetRankChange() != 30 || !strings.Contains(r.GetUnitName(), "Nam")) {
			t.Errorf("Nam Định over gRPC: %v", r)
		}
	}
}
