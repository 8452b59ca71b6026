package gateway

import (
	"encoding/json"
	"testing"
)

// An edXML body is carried to the part as {"edxml": base64}; a JSON object passes as is.
func TestAdaptEdxmlBody(t *testing.T) {
	xml := []byte("<?xml version=\"1.0\"?>\n<edXMLEnvelope>Công văn</edXMLEnvelope>")
	for _, ct := range []string{"application/xml", "text/xml; charset=utf-8", "", "application/x-www-form-urlencoded"} {
		out, err := adaptEdxmlBody(xml, ct, nil)
		if err != nil {
			t.Fatal(err)
		}
		var got struct{ Edxml []byte }
		if err := json.Unmarshal(out, &got); err != nil || string(got.Edxml) != string(xml) {
			t.Fatalf("%q: %s (%v)", ct, out, err)
		}
	}
	obj := []byte(`{"edxml":"PHg+"}`)
	if out, _ := adaptEdxmlBody(obj, "application/json", nil); string(out) != string(obj) {
		t.Fatalf("JSON object changed: %s", out)
	}
}
