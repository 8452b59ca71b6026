package docexchange

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"github.com/lienthong/lienthong/services/platform"
)

// edxmlStatus is a status package as read: who reports which status of which document.
type edxmlStatus struct {
	documentID  string
	agency      string
	status      docv1.DocumentStatus
	description string
	at          time.Time
	staff       *docv1.StaffInfo
}

// parentOf is the first element at any depth below n that has a child named local.
func (n *xnode) parentOf(local string) *xnode {
	if n == nil {
		return nil
	}
	if n.child(local) != nil {
		return n
	}
	for _, k := range n.kids {
		if p := k.parentOf(local); p != nil {
			return p
		}
	}
	return nil
}

// statusTimeLayouts are the timestamps status packages carry: the SDK's yyyy/MM/dd HH:mm:ss,
// a deployed client's dd/MM/yyyy HH:mm:ss (both Vietnam time), and RFC 3339.
var statusTimeLayouts = []string{"2006/01/02 15:04:05", "02/01/2006 15:04:05", "2006-01-02 15:04:05", "2006/01/02", time.RFC3339Nano}

// readStatus reads a status package: ResponseFor, From, StatusCode, Description,
// Timestamp, StaffInfo.
func readStatus(root *xnode) (*edxmlStatus, error) {
	m := root.parentOf("StatusCode")
	if m == nil {
		return nil, edxmlInvalid("Status.StatusCode", "missing")
	}
	st := &edxmlStatus{description: m.str("Description"), staff: readStaff(m.child("StaffInfo"))}
	if rf := m.child("ResponseFor"); rf != nil {
		st.documentID = readResponseFor(rf, formNational).GetDocumentId()
	}
	if st.documentID == "" {
		return nil, edxmlInvalid("Status.ResponseFor.DocumentId", "names no document (OrganId,yyyy/MM/dd,Number/Notation)")
	}
	st.agency, _ = readOrgan(m.child("From"))
	code, err := strconv.Atoi(strings.TrimSpace(m.str("StatusCode")))
	if err != nil || code < 1 || code > 99 {
		return nil, edxmlInvalid("Status.StatusCode", "must be a status code such as 03, got %q", m.str("StatusCode"))
	}
	st.status = docv1.DocumentStatus(code)
	if ts := strings.TrimSpace(m.str("Timestamp")); ts != "" {
		for _, l := range statusTimeLayouts {
			if t, err := time.ParseInLocation(l, ts, vietnam); err == nil {
				st.at = t
				break
			}
		}
		if st.at.IsZero() {
			return nil, edxmlInvalid("Status.Timestamp", "must be yyyy/MM/dd HH:mm:ss, got %q", ts)
		}
	}
	return st, nil
}

// importStatus records the status a package reports, under the rules of ReportStatus.
func (s *Service) importStatus(ctx context.Context, st *edxmlStatus) (*docv1.SendDocumentResponse, error) {
	req := &docv1.ReportStatusRequest{Id: st.documentID, AgencyCode: st.agency, Status: st.status, Reason: st.description, StaffInfo: st.staff}
	if !st.at.IsZero() {
		req.UpdatedAt = st.at.Format(time.RFC3339)
	}
	d, err := s.ReportStatus(ctx, req)
	if err != nil {
		return nil, err
	}
	return &docv1.SendDocumentResponse{Id: st.documentID, Document: d, StatusReported: true}, nil
}

// MarshalEdxmlStatus writes one status of a recipient as a status package (after the
// national SDK's status message: ResponseFor, From, StatusCode, Description, Timestamp,
// StaffInfo).
func MarshalEdxmlStatus(d *docv1.Document, recipient int, h *docv1.StatusChange) ([]byte, error) {
	w := &xw{}
	w.b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>`)
	w.p = "edXML:"
	w.open("Status", "xmlns:edXML", EdxmlNamespace)
	w.open("Header")
	w.open("MessageStatus")
	w.open("ResponseFor")
	w.leaf("OrganId", d.GetFrom())
	w.leaf("Code", d.GetCodeNumber()+"/"+d.GetCodeNotation())
	w.leaf("PromulgationDate", edxmlDate(d.GetPromulgationDate()))
	w.leaf("DocumentId", nationalIDOf(d))
	w.close("ResponseFor")
	agency := d.GetTo()[recipient]
	var org *docv1.Organization
	if recipient < len(d.GetToOrgans()) {
		org = d.GetToOrgans()[recipient]
	}
	w.organ("From", agency, org)
	w.leaf("StatusCode", fmt.Sprintf("%02d", int32(h.GetStatus())))
	w.leaf("Description", h.GetReason())
	ts := h.GetUpdatedAt()
	if t, err := time.Parse(time.RFC3339Nano, ts); err == nil {
		ts = t.In(vietnam).Format("2006/01/02 15:04:05")
	}
	w.leaf("Timestamp", ts)
	w.staff(h.GetStaffInfo())
	w.close("MessageStatus")
	w.close("Header")
	w.close("Status")
	w.b.WriteString("\n")
	if w.err != nil {
		return nil, w.err
	}
	return w.b.Bytes(), nil
}

// ExportEdxmlStatuses answers the recipients' statuses as status packages.
func (s *Service) ExportEdxmlStatuses(ctx context.Context, r *docv1.ExportEdxmlStatusesRequest) (*docv1.ExportEdxmlStatusesResponse, error) {
	sd, err := s.readableDoc(ctx, r.GetId())
	if err != nil {
		return nil, err
	}
	d := sd.GetDocument()
	out := &docv1.ExportEdxmlStatusesResponse{}
	found := false
	for i, rc := range d.GetRecipients() {
		if r.GetAgencyCode() != "" && rc.GetAgencyCode() != r.GetAgencyCode() {
			continue
		}
		found = true
		for _, h := range rc.GetHistory() {
			pkg, err := MarshalEdxmlStatus(d, i, h)
			if err != nil {
				return nil, err
			}
			out.Packages = append(out.Packages, &docv1.EdxmlStatusPackage{AgencyCode: rc.GetAgencyCode(), Status: h.GetStatus(), Edxml: pkg})
		}
	}
	if !found && r.GetAgencyCode() != "" {
		return nil, platform.Invalid(platform.FieldViolation{Field: "agency_code", Description: r.GetAgencyCode() + " is not a recipient of this document"})
	}
	return out, nil
}
