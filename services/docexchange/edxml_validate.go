package docexchange

import (
	"fmt"

	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"github.com/lienthong/lienthong/services/platform"
)

// validateEdxmlFields checks the fields a document has from the edXML header (docs/api.md,
// "Documents"): the organisations name the sender and the recipients, in order; the
// service's own fields are left out; texts have bounded lengths.
func validateEdxmlFields(d *docv1.Document) error {
	var v platform.Violations
	if o := d.GetFromOrgan(); o != nil && o.GetOrganId() != d.GetFrom() {
		v.Add("from_organ.organ_id", "must be the sender %s, got %q", d.GetFrom(), o.GetOrganId())
	}
	if n := len(d.GetToOrgans()); n > 0 && n != len(d.GetTo()) {
		v.Add("to_organs", "describes %d recipients, the document has %d", n, len(d.GetTo()))
	}
	for i, o := range d.GetToOrgans() {
		if i < len(d.GetTo()) && o.GetOrganId() != d.GetTo()[i] {
			v.Add(fmt.Sprintf("to_organs[%d].organ_id", i), "must be to[%d] %s, got %q", i, d.GetTo()[i], o.GetOrganId())
		}
	}
	for i, o := range append([]*docv1.Organization{d.GetFromOrgan()}, d.GetToOrgans()...) {
		f := "from_organ"
		if i > 0 {
			f = fmt.Sprintf("to_organs[%d]", i-1)
		}
		for _, t := range []struct{ n, s string }{{"organization_in_charge", o.GetOrganizationInCharge()}, {"organ_name", o.GetOrganName()},
			{"organ_add", o.GetOrganAdd()}, {"email", o.GetEmail()}, {"telephone", o.GetTelephone()}, {"fax", o.GetFax()}, {"website", o.GetWebsite()}} {
			checkText(&v, f+"."+t.n, t.s, false, 500)
		}
	}
	if d.GetSupersededBy() != "" || d.GetXmlSignatureSubject() != "" {
		v.Add("superseded_by", "kept by the service; leave superseded_by and xml_signature_subject out")
	}
	checkText(&v, "content", d.GetContent(), false, 10000)
	checkText(&v, "edxml_document_id", d.GetEdxmlDocumentId(), false, 300)
	if len(d.GetToPlaces()) > maxRecipients {
		v.Add("to_places", "at most %d places", maxRecipients)
	}
	for i, p := range d.GetToPlaces() {
		checkText(&v, fmt.Sprintf("to_places[%d]", i), p, false, 500)
	}
	if oi := d.GetOtherInfo(); oi != nil {
		checkText(&v, "other_info.sphere_of_promulgation", oi.GetSphereOfPromulgation(), false, 500)
		checkText(&v, "other_info.typer_notation", oi.GetTyperNotation(), false, 100)
		for i, a := range oi.GetAppendixes() {
			checkText(&v, fmt.Sprintf("other_info.appendixes[%d]", i), a, false, 2000)
		}
		if oi.GetPromulgationAmount() < 0 || oi.GetPageAmount() < 0 {
			v.Add("other_info", "amounts must not be negative")
		}
	}
	if b := d.GetBusiness(); b != nil {
		checkText(&v, "business.reason", b.GetReason(), false, 1000)
		checkText(&v, "business.document_id", b.GetDocumentId(), false, 300)
		checkStaff(&v, "business.staff_info", b.GetStaffInfo())
		if len(b.GetReplacementInfo()) > maxRecipients {
			v.Add("business.replacement_info", "at most %d", maxRecipients)
		}
	}
	if len(d.GetTraceHeaders()) > maxRecipients {
		v.Add("trace_headers", "at most %d", maxRecipients)
	}
	return v.Err()
}

func checkStaff(v *platform.Violations, field string, s *docv1.StaffInfo) {
	if s == nil {
		return
	}
	checkText(v, field+".department", s.GetDepartment(), false, 500)
	checkText(v, field+".staff", s.GetStaff(), false, 200)
	checkText(v, field+".mobile", s.GetMobile(), false, 50)
	checkText(v, field+".email", s.GetEmail(), false, 200)
}
