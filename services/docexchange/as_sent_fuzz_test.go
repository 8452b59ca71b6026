package docexchange

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzAsSentBytes: the bytes a signature over the JSON as sent covers are computed from any
// body a REST client sends (as_sent.go). Whatever the body, it never panics; when it answers,
// the answer is canonical (a fixed point of Canonicalize) and holds none of the fields a
// signature leaves out.
func FuzzAsSentBytes(f *testing.F) {
	for _, s := range []string{
		`{"from":"000.02.00.H31","to":["000.00.00.H31"],"codeNumber":"1","subject":"Thử","signature":{"keyId":"k"},"attachments":[{"name":"a.pdf","content":"AA==","sha256":"x"}]}`,
		`{"id":"x","sent_at":"2026-01-01T00:00:00Z","links":[],"recipients":null,"attachments":null}`,
		`{"attachments":[{"upload_id":"u","uploadId":"v"}],"n":1e300,"m":-0.0}`,
		`{"attachments":"nope"}`, `[]`, `null`, `{"a":{"b":[1,2,{"c":"\ud83d\ude00"}]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		out, err := AsSentBytes(body)
		if err != nil {
			return
		}
		again, err := Canonicalize(out)
		if err != nil || string(again) != string(out) {
			t.Fatalf("not canonical: %q -> %q (%v)", out, again, err)
		}
		var top map[string]json.RawMessage
		if err := json.Unmarshal(out, &top); err != nil {
			t.Fatalf("answer is not a JSON object: %q", out)
		}
		for _, name := range []string{"id", "signature", "recipients", "links", "sent_at", "sentAt"} {
			if _, ok := top[name]; ok {
				t.Fatalf("%q left in the signed bytes: %q", name, out)
			}
		}
		if raw, ok := top["attachments"]; ok && strings.Contains(string(raw), `"content"`) {
			var atts []map[string]json.RawMessage
			if json.Unmarshal(raw, &atts) == nil {
				for _, a := range atts {
					if _, ok := a["content"]; ok {
						t.Fatalf("an attachment's content left in the signed bytes: %q", out)
					}
				}
			}
		}
	})
}
