package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	scoringv1 "github.com/lienthong/lienthong/proto/gen/lienthong/scoring/v1"
	"github.com/lienthong/lienthong/services/docexchange"
	"github.com/lienthong/lienthong/services/dossier"
	"github.com/lienthong/lienthong/services/dossier/simulate"
	"github.com/lienthong/lienthong/services/platform"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protojson"
)

// TestRealisticDay runs a day of the suite as the provinces and the ministry use it: Nghệ
// An's one-stop system streams dossier events over gRPC while Hưng Yên's posts batches over
// REST; Hưng Yên's justice department sends signed documents to the People's Committee,
// which accepts some; Hưng Yên's portal submits an indicator and its systems send
// heartbeats; then the ministry reads the feed, statistics, documents, rankings and the
// interconnection status over REST and gRPC, and every figure agrees with what was sent.
func TestRealisticDay(t *testing.T) {
	s := startUp(t, t.TempDir(), "--demo", "--demo-dossiers", "0")
	admin := s.token()
	tok := func(c platform.Caller) string { return s.issue(c, time.Hour, time.Now()) }
	nghean := tok(platform.Caller{System: "000.00.00.H41/motcua", Role: platform.RoleProvince, Unit: "40"})
	hungyen := tok(platform.Caller{System: "000.00.00.H31/motcua", Role: platform.RoleProvince, Unit: "33"})
	ministry := tok(platform.Caller{System: "000.00.00.G22/bo", Role: platform.RoleMinistry})
	stp := tok(platform.Caller{System: "000.02.00.H31/qlvb", Role: platform.RoleAgency})
	ubnd := tok(platform.Caller{System: "000.00.00.H31/qlvb", Role: platform.RoleAgency})
	grpcCtx := func(token string) context.Context {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		t.Cleanup(cancel)
		return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
	}
	conn := s.grpcConn()

	// The places dossiers are filed at: a procedure and an agency of each unit.
	ref := func(unit string) simulate.Ref {
		return simulate.Ref{Unit: unit, Agency: s.firstCode("/v1/agencies?unit="+unit+"&page_size=1", "agencies"),
			// the agency need not run the procedure (README, Decisions)
			Procedure: s.firstCode("/v1/procedures?page_size=1", "procedures"), ProcessingDays: 5}
	}
	rng := mrand.New(mrand.NewPCG(2026, 11))
	now := time.Now()
	cal := dossier.DefaultCalendar()
	type sent struct{ dossiers, online, events int }
	makeDossiers := func(r simulate.Ref, n int) ([]*dossierv1.DossierEvent, sent) {
		var evs []*dossierv1.DossierEvent
		var st sent
		prof := simulate.Typical
		prof.Online = 0.3
		for i := range n {
			// Received this month, so that the year's statistics count them.
			received := now.Add(-time.Duration(rng.Int64N(int64(min(now.Day()-1, 10)*24+1))) * time.Hour)
			d := simulate.Dossier(rng, simulate.Code(r.Agency, received, 9000+i), r, received, prof, cal, now)
			if len(d) == 0 {
				continue
			}
			st.dossiers++
			if d[0].GetChannel() == dossierv1.Channel_CHANNEL_ONLINE {
				st.online++
			}
			st.events += len(d)
			evs = append(evs, d...)
		}
		return evs, st
	}
	evs40, sent40 := makeDossiers(ref("40"), 120)
	evs33, sent33 := makeDossiers(ref("33"), 80)

	// Nghệ An streams (each dossier's events are in order in the slice; batches of 50).
	stream, err := dossierv1.NewDossierServiceClient(conn).StreamDossierEvents(grpcCtx(nghean))
	if err != nil {
		t.Fatal(err)
	}
	batches := 0
	for lo := 0; lo < len(evs40); lo += 50 {
		if err := stream.Send(&dossierv1.StreamDossierEventsRequest{BatchId: strconv.Itoa(batches), Events: evs40[lo:min(lo+50, len(evs40))]}); err != nil {
			t.Fatal(err)
		}
		batches++
	}
	if err := stream.CloseSend(); err != nil {
		t.Fatal(err)
	}
	for range batches {
		ack, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range ack.GetResults() {
			if r.GetError() != nil {
				t.Fatalf("a streamed event was refused: %v", r.GetError())
			}
		}
	}
	// Hưng Yên posts batches over REST at the same time of day.
	for lo := 0; lo < len(evs33); lo += 100 {
		body, err := protojson.Marshal(&dossierv1.BatchCreateDossierEventsRequest{Events: evs33[lo:min(lo+100, len(evs33))]})
		if err != nil {
			t.Fatal(err)
		}
		if code, out := s.call(http.MethodPost, "/v1/dossier-events:batchCreate", hungyen, string(body)); code != 200 || strings.Contains(fmt.Sprint(out), "error:map") {
			t.Fatalf("REST batch: %d %v", code, out)
		}
	}

	// Documents: three signed letters from the justice department to the People's Committee.
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	docs := docv1.NewDocumentServiceClient(conn)
	if _, err := docs.PutSigningKey(grpcCtx(admin), &docv1.PutSigningKeyRequest{AgencyCode: "000.02.00.H31", KeyId: "day",
		SigningKey: &docv1.SigningKey{Algorithm: docexchange.AlgEd25519, PublicKey: pub}}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 3 {
		content := []byte(fmt.Sprintf("%%PDF-1.4 công văn số %d", 700+i))
		sum := sha256.Sum256(content)
		d := &docv1.Document{From: "000.02.00.H31", To: []string{"000.00.00.H31"}, CodeNumber: strconv.Itoa(700 + i), CodeNotation: "STP-VP",
			PromulgationDate: now.In(dossier.Vietnam).Format("2006-01-02"), DocumentType: "Công văn", Subject: "Về việc báo cáo trong ngày",
			Attachments: []*docv1.Attachment{{Name: "cv.pdf", ContentType: "application/pdf", Content: content, Sha256: hex.EncodeToString(sum[:]), Size: int64(len(content))}}}
		if err := docexchange.Sign(d, "day", key); err != nil {
			t.Fatal(err)
		}
		resp, err := docs.SendDocument(grpcCtx(stp), &docv1.SendDocumentRequest{Document: d})
		if err != nil || resp.GetDuplicate() {
			t.Fatalf("send %d: %v %v", i, resp, err)
		}
		ids = append(ids, resp.GetId())
	}
	for _, id := range ids[:2] {
		if _, err := docs.ReportStatus(grpcCtx(ubnd), &docv1.ReportStatusRequest{Id: id, AgencyCode: "000.00.00.H31", Status: docv1.DocumentStatus_DOCUMENT_STATUS_ACCEPTED}); err != nil {
			t.Fatal(err)
		}
	}

	// The portal's indicator and the systems' heartbeats.
	year := strconv.Itoa(now.In(dossier.Vietnam).Year())
	sc := scoringv1.NewScoringServiceClient(conn)
	if _, err := sc.PutMetricReport(grpcCtx(hungyen), &scoringv1.PutMetricReportRequest{Unit: "33", Period: year, Values: map[string]float64{"procedures_published_pct": 95}}); err != nil {
		t.Fatal(err)
	}
	if code, out := s.call(http.MethodPost, "/v1/systems/000.00.00.H31%2Fmotcua:heartbeat", hungyen, `{"channels":["DOSSIER_PUSH","DOCUMENT_EXCHANGE"]}`); code != 200 {
		t.Fatalf("heartbeat: %d %v", code, out)
	}

	// The ministry reads. The feed, per unit, has every event sent.
	feedCount := func(unit string) int {
		n, after := 0, ""
		for {
			_, out := s.call(http.MethodGet, "/v1/dossier-events?unit="+unit+"&page_size=1000&after="+after, ministry, "")
			list, _ := out["events"].([]any)
			n += len(list)
			next, _ := out["next_cursor"].(string)
			if len(list) == 0 || next == "" || next == after {
				return n
			}
			after = next
		}
	}
	if got := feedCount("40"); got != sent40.events {
		t.Errorf("feed of Nghệ An: %d events, sent %d", got, sent40.events)
	}
	if got := feedCount("33"); got != sent33.events {
		t.Errorf("feed of Hưng Yên: %d events, sent %d", got, sent33.events)
	}
	// Statistics over REST and gRPC agree with what was sent.
	_, st40 := s.call(http.MethodGet, "/v1/dossier-stats?unit=40&from="+year, ministry, "")
	row40 := st40["rows"].([]any)[0].(map[string]any)
	if row40["received_total"] != strconv.Itoa(sent40.dossiers) || row40["received_online"] != strconv.Itoa(sent40.online) {
		t.Errorf("Nghệ An %s over REST: received %v (online %v), sent %d (online %d)", year, row40["received_total"], row40["received_online"], sent40.dossiers, sent40.online)
	}
	st33, err := dossierv1.NewDossierServiceClient(conn).GetDossierStats(grpcCtx(ministry), &dossierv1.GetDossierStatsRequest{Unit: "33", From: year})
	if err != nil || len(st33.GetRows()) != 1 || st33.GetRows()[0].GetReceivedTotal() != int64(sent33.dossiers) || st33.GetRows()[0].GetReceivedOnline() != int64(sent33.online) {
		t.Errorf("Hưng Yên %s over gRPC: %v (%v), sent %d (online %d)", year, st33.GetRows(), err, sent33.dossiers, sent33.online)
	}
	// Documents: three sent this year by Hưng Yên, two accepted.
	_, ds := s.call(http.MethodGet, "/v1/document-stats?unit=33&from="+year+"&group_by=unit", ministry, "")
	total, _ := ds["total"].(map[string]any)
	if total["sent"] != "3" || total["received"] != "3" {
		t.Errorf("document statistics of Hưng Yên %s: %v, want 3 sent and received", year, total)
	}
	// The ranking explains Hưng Yên's submitted indicator and its live figures.
	score, err := sc.GetUnitScore(grpcCtx(ministry), &scoringv1.GetUnitScoreRequest{Unit: "33", Methodology: "QD766-2022", Period: year})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range score.GetIndicators() {
		switch in.GetId() {
		case "procedures_published_pct":
			if !in.GetHasValue() || in.GetRawValue() != 95 {
				t.Errorf("published procedures: %v, want the submitted 95", in)
			}
		case "online_dossier_share":
			if want := float64(sent33.online) / float64(sent33.dossiers); !in.GetHasValue() || in.GetRawValue() != want {
				t.Errorf("online dossier share: %v, want %v", in, want)
			}
		}
	}
	if code, rk := s.call(http.MethodGet, "/v1/rankings/QD766-2022/"+year, "", ""); code != 200 || rk["unit_count"] != float64(34) {
		t.Errorf("ranking %s: %d, %v units", year, code, rk["unit_count"])
	}
	// Interconnection: the heartbeat and the dossier events seen in the feed.
	waitFor(t, 30*time.Second, "Hưng Yên's dossier push seen", func() bool {
		_, is := s.call(http.MethodGet, "/v1/interconnection-status?unit=33", ministry, "")
		return strings.Contains(fmt.Sprint(is), "last dossier event accepted") && strings.Contains(fmt.Sprint(is), "state:CONNECTED")
	})
}
