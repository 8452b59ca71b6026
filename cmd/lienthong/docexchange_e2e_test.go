package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestKill9KeepsDocuments sends documents and status reports from four writers, kills the
// process with SIGKILL while they keep writing, restarts on the same data, and does it
// three times; then it finds every acknowledged document and status, each document once,
// and an evidence log that still verifies.
func TestKill9KeepsDocuments(t *testing.T) {
	dir := t.TempDir()
	type ack struct{ id, status string }
	var mu sync.Mutex
	var acked []ack
	for round := 0; round < 3; round++ {
		extra := []string{"--demo", "--demo-dossiers", "0"}
		if round > 0 {
			extra = nil
		}
		s := startUp(t, dir, extra...)
		token := s.token()
		post := func(client *http.Client, path, body string) (map[string]any, bool) {
			req, _ := http.NewRequest(http.MethodPost, s.base+path, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := client.Do(req)
			if err != nil {
				return nil, false // the process is gone
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			var out map[string]any
			_ = json.Unmarshal(raw, &out)
			return out, resp.StatusCode == http.StatusOK
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		before := len(acked)
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				client := &http.Client{Timeout: 5 * time.Second}
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					body := fmt.Sprintf(`{"from":"000.02.00.H31","to":["000.00.00.H31"],"code_number":"%d%d%04d","code_notation":"STP-VP","promulgation_date":"2026-11-02","subject":"Văn bản %d","attachments":[{"name":"a.txt","content":"YWJj"}]}`, round, w, i, i)
					out, ok := post(client, "/v1/documents", body)
					if !ok {
						continue
					}
					id, _ := out["id"].(string)
					mu.Lock()
					acked = append(acked, ack{id: id, status: "DOCUMENT_STATUS_ARRIVED"})
					mine := len(acked) - 1
					mu.Unlock()
					if _, ok := post(client, "/v1/documents/"+id+"/statuses", `{"agency_code":"000.00.00.H31","status":3}`); ok {
						mu.Lock()
						acked[mine].status = "DOCUMENT_STATUS_ACCEPTED"
						mu.Unlock()
					}
				}
			}()
		}
		waitFor(t, 30*time.Second, "40 acknowledged documents", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(acked) >= before+40
		})
		s.kill9()
		close(stop)
		wg.Wait()
	}
	mu.Lock()
	got := append([]ack(nil), acked...)
	mu.Unlock()

	s2 := startUp(t, dir)
	token := s2.token()
	seen := map[string]bool{}
	for _, a := range got {
		if seen[a.id] {
			t.Errorf("document %s acknowledged twice", a.id)
		}
		seen[a.id] = true
		st, body := s2.call(http.MethodGet, "/v1/documents/"+a.id, token, "")
		if st != http.StatusOK {
			t.Errorf("acknowledged document %s lost after kill -9: %d %v", a.id, st, body)
			continue
		}
		rs, _ := body["recipients"].([]any)
		if len(rs) != 1 {
			t.Errorf("document %s: recipients %v", a.id, body["recipients"])
			continue
		}
		if got := rs[0].(map[string]any)["status"]; a.status == "DOCUMENT_STATUS_ACCEPTED" && got != a.status {
			t.Errorf("document %s: status %v after restart, acknowledged %s", a.id, got, a.status)
		}
	}
	st, v := s2.call(http.MethodGet, "/v1/evidence:verify", token, "")
	if st != http.StatusOK || v["ok"] != true {
		t.Errorf("evidence after kill -9: %d %v", st, v)
	}
	t.Logf("%d acknowledged documents over three kill -9, all found after restart; evidence: %v records", len(got), v["records"])
}
