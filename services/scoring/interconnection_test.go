package scoring

import (
	"strings"
	"testing"
	"time"

	scoringv1 "github.com/lienthong/lienthong/proto/gen/lienthong/scoring/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func channelOf(t *testing.T, st *scoringv1.InterconnectionStatus, system, channel string) *scoringv1.ChannelStatus {
	t.Helper()
	for _, s := range st.GetSystems() {
		if s.GetSystem() != system {
			continue
		}
		for _, c := range s.GetChannels() {
			if c.GetChannel() == channel {
				return c
			}
		}
	}
	t.Fatalf("no %s channel of %s in %v", channel, system, st)
	return nil
}

func TestHeartbeatsAndStatus(t *testing.T) {
	f := newFixture(t)
	const sys = "000.00.00.H31/motcua"
	status33 := func() *scoringv1.InterconnectionStatus {
		t.Helper()
		st, err := f.svc.GetInterconnectionStatus(ministry, &scoringv1.GetInterconnectionStatusRequest{Unit: "33"})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	if _, err := f.svc.SendHeartbeat(hungyen, &scoringv1.SendHeartbeatRequest{System: sys}); err != nil {
		t.Fatal(err)
	}
	st := status33()
	if len(st.GetSystems()) != 1 || st.GetSystems()[0].GetUnitCode() != "33" || len(st.GetSystems()[0].GetChannels()) != 3 {
		t.Fatalf("status: %v", st)
	}
	if c := channelOf(t, st, sys, ChannelDossierPush); c.GetState() != StateConnected || !strings.Contains(c.GetReason(), "no dossier event accepted") {
		t.Errorf("dossier push after a heartbeat: %v", c)
	}
	if c := channelOf(t, st, sys, ChannelDocumentExchange); c.GetState() != StateDegraded || !strings.Contains(c.GetReason(), "document-exchange service is not reachable") {
		t.Errorf("document exchange without the docexchange part: %v", c)
	}
	if c := channelOf(t, st, sys, ChannelMetricReporting); c.GetState() != StateConnected {
		t.Errorf("metric reporting: %v", c)
	}
	// Real activity: the last accepted dossier event.
	f.activity.last[sys] = f.clock.now().Add(-96 * time.Hour)
	if c := channelOf(t, status33(), sys, ChannelDossierPush); c.GetState() != StateDegraded || !strings.Contains(c.GetReason(), "longer ago than 72h") {
		t.Errorf("idle dossier push: %v", c)
	}
	f.activity.last[sys] = f.clock.now().Add(-time.Hour)
	if c := channelOf(t, status33(), sys, ChannelDossierPush); c.GetState() != StateConnected || !strings.Contains(c.GetReason(), "last dossier event accepted 1h0m0s ago") {
		t.Errorf("active dossier push: %v", c)
	}
	// Refused events: too large a share of the last 24 hours' events makes it DEGRADED.
	f.activity.refused[sys] = RefusalCount{Accepted: 20, Refused: 30, LastReason: "TRANSITION_NOT_ALLOWED"}
	if c := channelOf(t, status33(), sys, ChannelDossierPush); c.GetState() != StateDegraded || !strings.Contains(c.GetReason(), "30 of 50 events refused") || !strings.Contains(c.GetReason(), "TRANSITION_NOT_ALLOWED") {
		t.Errorf("mostly refused: %v", c)
	}
	f.activity.refused[sys] = RefusalCount{Accepted: 45, Refused: 5, LastReason: "DOSSIER_OUT_OF_ORDER"}
	if c := channelOf(t, status33(), sys, ChannelDossierPush); c.GetState() != StateConnected || !strings.Contains(c.GetReason(), "5 of 50 events refused") {
		t.Errorf("a few refused: %v", c)
	}
	f.activity.refused[sys] = RefusalCount{Accepted: 2, Refused: 8}
	if c := channelOf(t, status33(), sys, ChannelDossierPush); c.GetState() != StateConnected {
		t.Errorf("too few events to judge: %v", c)
	}
	delete(f.activity.refused, sys)
	// Silence: DEGRADED, then DISCONNECTED, with the reason.
	f.clock.advance(10 * time.Minute)
	if c := channelOf(t, status33(), sys, ChannelMetricReporting); c.GetState() != StateDegraded || !strings.Contains(c.GetReason(), "later than 5m0s") {
		t.Errorf("after 10 minutes: %v", c)
	}
	f.clock.advance(time.Hour)
	if c := channelOf(t, status33(), sys, ChannelDossierPush); c.GetState() != StateDisconnected || !strings.Contains(c.GetReason(), "no heartbeat for 1h10m0s") {
		t.Errorf("after 70 minutes: %v", c)
	}
	// A heartbeat again: CONNECTED, and it survives a restart.
	if _, err := f.svc.SendHeartbeat(hungyen, &scoringv1.SendHeartbeatRequest{System: sys, Channels: []string{ChannelDossierPush}}); err != nil {
		t.Fatal(err)
	}
	f.reopen(t)
	st = status33()
	if c := channelOf(t, st, sys, ChannelDossierPush); c.GetState() != StateConnected || len(st.GetSystems()[0].GetChannels()) != 1 {
		t.Errorf("after a new heartbeat and a restart: %v", st)
	}
}

func TestHeartbeatScopeAndValidation(t *testing.T) {
	f := newFixture(t)
	if _, err := f.svc.SendHeartbeat(hungyen, &scoringv1.SendHeartbeatRequest{System: "000.00.00.H31/motcua"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		req  *scoringv1.SendHeartbeatRequest
		code codes.Code
	}{
		{"another province's unit", &scoringv1.SendHeartbeatRequest{System: "000.00.00.H40/cong", UnitCode: "33"}, codes.PermissionDenied},
		{"a system of another unit", &scoringv1.SendHeartbeatRequest{System: "000.00.00.H31/motcua"}, codes.PermissionDenied},
		{"a new system of another unit's agency", &scoringv1.SendHeartbeatRequest{System: "000.00.00.H41/motcua"}, codes.PermissionDenied},
		{"an agency the catalog does not know", &scoringv1.SendHeartbeatRequest{System: "000.00.00.H99/motcua"}, codes.InvalidArgument},
		{"bad system id", &scoringv1.SendHeartbeatRequest{System: "motcua"}, codes.InvalidArgument},
		{"bad channel", &scoringv1.SendHeartbeatRequest{System: "000.00.00.H40/cong", Channels: []string{"FAX"}}, codes.InvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := f.svc.SendHeartbeat(namdinh, tt.req); status.Code(err) != tt.code {
				t.Errorf("got %v, want %v", err, tt.code)
			}
		})
	}
	if _, err := f.svc.SendHeartbeat(ministry, &scoringv1.SendHeartbeatRequest{System: "000.00.00.H40/cong", UnitCode: "36"}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("ministry heartbeat: %v", err)
	}
	if _, err := f.svc.SendHeartbeat(admin, &scoringv1.SendHeartbeatRequest{System: "000.00.00.H40/cong"}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("admin without unit_code: %v", err)
	}
	// A province sees only its own systems.
	st, err := f.svc.GetInterconnectionStatus(namdinh, &scoringv1.GetInterconnectionStatusRequest{})
	if err != nil || len(st.GetSystems()) != 0 {
		t.Errorf("Nam Định's view: %v %v", st, err)
	}
	if _, err := f.svc.GetInterconnectionStatus(namdinh, &scoringv1.GetInterconnectionStatusRequest{Unit: "33"}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("Nam Định reading 33: %v", err)
	}
	all, err := f.svc.GetInterconnectionStatus(ministry, &scoringv1.GetInterconnectionStatusRequest{})
	if err != nil || len(all.GetSystems()) != 1 || len(all.GetThresholds()) == 0 {
		t.Errorf("ministry's view: %v %v", all, err)
	}
}

func TestConnectednessIndicator(t *testing.T) {
	f := newFixture(t)
	for _, sys := range []string{"000.00.00.H31/motcua", "000.00.00.H31/cong"} {
		if _, err := f.svc.SendHeartbeat(hungyen, &scoringv1.SendHeartbeatRequest{System: sys, Channels: []string{ChannelDossierPush}}); err != nil {
			t.Fatal(err)
		}
	}
	sc, err := f.svc.GetUnitScore(ministry, &scoringv1.GetUnitScoreRequest{Unit: "33", Methodology: "QD766-2022", Period: "2026"})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range sc.GetIndicators() {
		if in.GetId() == "dossier_sync_connected_share" && (in.GetRawValue() != 1 || in.GetPoints() != 8 || !strings.Contains(in.GetExplanation(), "2 of 2 systems")) {
			t.Errorf("connectedness: %v", in)
		}
	}
}
