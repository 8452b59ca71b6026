package docexchange

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"time"
	"unicode/utf8"

	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"github.com/lienthong/lienthong/services/platform"
)

var (
	sha256HexRE = regexp.MustCompile(`^[0-9a-f]{64}$`)
	docIDRE     = regexp.MustCompile(`^[0-9a-f]{24}$`)
)

func validDate(s string) bool {
	if len(s) != 10 {
		return false
	}
	_, err := time.Parse("2006-01-02", s)
	return err == nil
}

func checkText(v *platform.Violations, field, s string, required bool, max int) {
	switch {
	case required && s == "":
		v.Add(field, "required")
	case !utf8.ValidString(s):
		v.Add(field, "must be valid UTF-8")
	case utf8.RuneCountInString(s) > max:
		v.Add(field, "at most %d characters", max)
	}
}

// validateEnvelope checks a document as sent, before any lookup.
func validateEnvelope(d *docv1.Document) error {
	var v platform.Violations
	if d == nil {
		v.Add("document", "required")
		return v.Err()
	}
	if d.GetId() != "" {
		v.Add("id", "given by the service; leave it out")
	}
	if len(d.GetRecipients()) > 0 {
		v.Add("recipients", "kept by the service; leave it out")
	}
	if d.GetSentAt() != "" || len(d.GetLinks()) > 0 {
		v.Add("sent_at", "kept by the service; leave sent_at and links out")
	}
	if !platform.IsAgencyCode(d.GetFrom()) {
		v.Add("from", "must be an agency code NNN.NN.NN.XNN or XNN.NN (e.g. 000.00.00.H31, H26.107), got %q", d.GetFrom())
	}
	switch n := len(d.GetTo()); {
	case n == 0:
		v.Add("to", "at least one recipient agency")
	case n > maxRecipients:
		v.Add("to", "at most %d recipients", maxRecipients)
	}
	seen := map[string]bool{}
	for i, t := range d.GetTo() {
		f := fmt.Sprintf("to[%d]", i)
		switch {
		case !platform.IsAgencyCode(t):
			v.Add(f, "must be an agency code NNN.NN.NN.XNN or XNN.NN (e.g. 000.00.00.H31, H26.107), got %q", t)
		case seen[t]:
			v.Add(f, "%s is listed twice", t)
		case t == d.GetFrom():
			v.Add(f, "the sender cannot be a recipient")
		}
		seen[t] = true
	}
	checkText(&v, "code_number", d.GetCodeNumber(), true, 30)
	checkText(&v, "code_notation", d.GetCodeNotation(), true, 100)
	if !validDate(d.GetPromulgationDate()) {
		v.Add("promulgation_date", "must be a date YYYY-MM-DD, got %q", d.GetPromulgationDate())
	}
	checkText(&v, "document_type", d.GetDocumentType(), false, 100)
	checkText(&v, "subject", d.GetSubject(), true, 2000)
	checkText(&v, "signer.name", d.GetSigner().GetName(), false, 200)
	checkText(&v, "signer.position", d.GetSigner().GetPosition(), false, 200)
	checkText(&v, "signer.competence", d.GetSigner().GetCompetence(), false, 200)
	checkText(&v, "promulgation_place", d.GetPromulgationPlace(), false, 200)
	checkText(&v, "message_id", d.GetMessageId(), false, 200)
	if d.GetDueDate() != "" && !validDate(d.GetDueDate()) {
		v.Add("due_date", "must be a date YYYY-MM-DD, got %q", d.GetDueDate())
	}
	if p := d.GetPriority(); p < 0 || p > 4 {
		v.Add("priority", "must be 0 to 4, got %d", p)
	}
	bt := d.GetBusinessType()
	if _, ok := docv1.BusinessType_name[int32(bt)]; !ok {
		v.Add("business_type", "must be 0 (new), 1 (revoke), 2 (update) or 3 (replace), got %d", bt)
	}
	rf := d.GetResponseFor()
	if bt != docv1.BusinessType_BUSINESS_TYPE_NEW && rf.GetDocumentId() == "" {
		v.Add("response_for.document_id", "required to revoke, update or replace a document")
	}
	if id := rf.GetDocumentId(); id != "" && !docIDRE.MatchString(id) {
		v.Add("response_for.document_id", "not a document id")
	}
	if rf.GetPromulgationDate() != "" && !validDate(rf.GetPromulgationDate()) {
		v.Add("response_for.promulgation_date", "must be a date YYYY-MM-DD")
	}
	checkText(&v, "response_for.code", rf.GetCode(), false, 200)
	checkText(&v, "response_for.organ_id", rf.GetOrganId(), false, 20)
	signed := d.GetSignature() != nil
	if len(d.GetAttachments()) > maxAttachments {
		v.Add("attachments", "at most %d attachments", maxAttachments)
	}
	for i, a := range d.GetAttachments() {
		f := fmt.Sprintf("attachments[%d]", i)
		checkText(&v, f+".name", a.GetName(), true, 255)
		checkText(&v, f+".content_type", a.GetContentType(), false, 255)
		checkText(&v, f+".description", a.GetDescription(), false, 1000)
		if a.GetSha256() != "" && !sha256HexRE.MatchString(a.GetSha256()) {
			v.Add(f+".sha256", "must be 64 lower-case hex digits")
		}
		if signed && a.GetSha256() == "" {
			v.Add(f+".sha256", "required in a signed document: the signature covers it")
		}
		if a.GetSize() < 0 {
			v.Add(f+".size", "must not be negative")
		}
		if a.GetUploadId() != "" && len(a.GetContent()) > 0 {
			v.Add(f+".upload_id", "give content or upload_id, not both")
		}
	}
	if signed {
		s := d.GetSignature()
		if s.GetKeyId() == "" {
			v.Add("signature.key_id", "required")
		}
		if len(s.GetValue()) == 0 {
			v.Add("signature.value", "required")
		}
	}
	return v.Err()
}

// normalizeUnsigned brings the text of an unsigned document to NFC (docs/api.md,
// "Conventions"). A signed document is kept exactly as signed: normalising it would break its
// signature.
func normalizeUnsigned(d *docv1.Document) {
	if d.GetSignature() != nil {
		return
	}
	nfc := platform.NFC
	d.CodeNumber, d.CodeNotation, d.DocumentType = nfc(d.CodeNumber), nfc(d.CodeNotation), nfc(d.DocumentType)
	d.Subject, d.PromulgationPlace, d.MessageId = nfc(d.Subject), nfc(d.PromulgationPlace), nfc(d.MessageId)
	if s := d.GetSigner(); s != nil {
		s.Name, s.Position, s.Competence = nfc(s.Name), nfc(s.Position), nfc(s.Competence)
	}
	for _, a := range d.GetAttachments() {
		a.Name, a.Description = nfc(a.Name), nfc(a.Description)
	}
}

// documentID is the id of a document: derived from the sender, number, notation and
// promulgation date, the key under which a document is one document (docs/api.md,
// "Documents").
func documentID(d *docv1.Document) string {
	h := sha256.Sum256([]byte(dupKey(d)))
	return hex.EncodeToString(h[:12])
}

func dupKey(d *docv1.Document) string {
	return d.GetFrom() + "\x00" + platform.NFC(d.GetCodeNumber()) + "\x00" + platform.NFC(d.GetCodeNotation()) + "\x00" + d.GetPromulgationDate()
}
