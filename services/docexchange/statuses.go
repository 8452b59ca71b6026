package docexchange

import (
	"context"
	"fmt"
	"time"

	storev1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/store/v1"
	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"
)

// maxClockSkew is how far in the future a reported time may be (clocks differ).
const maxClockSkew = 5 * time.Minute

// change is one status change asked for.
type change struct {
	agency string
	status docv1.DocumentStatus
	reason string
	at     time.Time
	paper  bool
	staff  *docv1.StaffInfo
}

// mayActFor says whether the caller may act for an agency of a unit.
func mayActFor(c *platform.Caller, agency, unit string) bool {
	switch c.Role {
	case platform.RoleAdmin:
		return true
	case platform.RoleAgency:
		return c.Agency() == agency
	case platform.RoleProvince:
		return c.Unit == unit
	}
	return false
}

// ReportStatus records a recipient's status.
func (s *Service) ReportStatus(ctx context.Context, r *docv1.ReportStatusRequest) (*docv1.Document, error) {
	c, err := platform.RequireRole(ctx, platform.RoleAdmin, platform.RoleProvince, platform.RoleAgency)
	if err != nil {
		return nil, err
	}
	var v platform.Violations
	agency := r.GetAgencyCode()
	if agency == "" && c.Role == platform.RoleAgency {
		agency = c.Agency()
	}
	if !platform.IsAgencyCode(agency) {
		v.Add("agency_code", "the reporting recipient's agency code (NNN.NN.NN.XNN or XNN.NN) is required")
	}
	st := r.GetStatus()
	if !reportable[st] && st != stRecall {
		v.Add("status", "must be 01–06, 13, 15 or 16, got %d", int32(st))
	}
	checkText(&v, "reason", r.GetReason(), needsReason(st), 1000)
	checkStaff(&v, "staff_info", r.GetStaffInfo())
	at := s.now()
	if r.GetUpdatedAt() != "" {
		t, err := time.Parse(time.RFC3339Nano, r.GetUpdatedAt())
		switch {
		case err != nil:
			v.Add("updated_at", "must be RFC 3339, e.g. 2026-11-02T08:00:00+07:00")
		case t.After(at.Add(maxClockSkew)):
			v.Add("updated_at", "is in the future")
		case t.Before(earliestDocumentDay):
			v.Add("updated_at", "is before %s", earliestDocumentDay.Format(time.DateOnly))
		}
		at = t
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	ch := change{agency: agency, status: st, reason: platform.NFC(r.GetReason()), at: at, paper: r.GetPaper(), staff: r.GetStaffInfo()}
	if st == stRecall {
		return s.recall(ctx, c, r.GetId(), []string{agency}, ch.reason, at)
	}
	return s.apply(ctx, c, r.GetId(), func(sd *storev1.StoredDocument) ([]change, error) {
		i := recipientIndex(sd, agency)
		if i < 0 {
			return nil, platform.Invalid(platform.FieldViolation{Field: "agency_code", Description: agency + " is not a recipient of this document"})
		}
		if !mayActFor(c, agency, sd.GetRecipientUnits()[i]) {
			return nil, platform.PermissionDenied(
				fmt.Sprintf("this token may not report for recipient %s", agency),
				fmt.Sprintf("Mã truy cập không được báo cáo trạng thái thay cơ quan %s.", agency))
		}
		return []change{ch}, nil
	})
}

// RecallDocument asks recipients to give a document back (13).
func (s *Service) RecallDocument(ctx context.Context, r *docv1.RecallDocumentRequest) (*docv1.Document, error) {
	c, err := platform.RequireRole(ctx, platform.RoleAdmin, platform.RoleProvince, platform.RoleAgency)
	if err != nil {
		return nil, err
	}
	var v platform.Violations
	checkText(&v, "reason", r.GetReason(), true, 1000)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return s.recall(ctx, c, r.GetId(), r.GetAgencyCodes(), platform.NFC(r.GetReason()), s.now())
}

func (s *Service) recall(ctx context.Context, c *platform.Caller, id string, agencies []string, reason string, at time.Time) (*docv1.Document, error) {
	return s.apply(ctx, c, id, func(sd *storev1.StoredDocument) ([]change, error) {
		d := sd.GetDocument()
		if !mayActFor(c, d.GetFrom(), sd.GetFromUnit()) {
			return nil, platform.PermissionDenied("only the sender may recall a document",
				"Chỉ cơ quan gửi mới được lấy lại văn bản.")
		}
		list := agencies
		if len(list) == 0 {
			for _, rc := range d.GetRecipients() {
				if recallable[rc.GetStatus()] {
					list = append(list, rc.GetAgencyCode())
				}
			}
			if len(list) == 0 {
				return nil, platform.FailedPrecondition("TRANSITION_NOT_ALLOWED",
					"no recipient can be asked to give this document back: each has finished, rejected or already answered a recall",
					"Không còn cơ quan nhận nào có thể được yêu cầu lấy lại văn bản.")
			}
		}
		var out []change
		for _, a := range list {
			if recipientIndex(sd, a) < 0 {
				return nil, platform.Invalid(platform.FieldViolation{Field: "agency_codes", Description: a + " is not a recipient of this document"})
			}
			out = append(out, change{agency: a, status: stRecall, reason: reason, at: at})
		}
		return out, nil
	})
}

func recipientIndex(sd *storev1.StoredDocument, agency string) int {
	for i, t := range sd.GetDocument().GetTo() {
		if t == agency {
			return i
		}
	}
	return -1
}

// apply loads a document, asks decide for the changes, checks each against the rules and
// stores them with their evidence in one transaction. Reporting the status a recipient
// already has, with the same reason, changes nothing.
func (s *Service) apply(ctx context.Context, c *platform.Caller, id string, decide func(*storev1.StoredDocument) ([]change, error)) (*docv1.Document, error) {
	if !docIDRE.MatchString(id) {
		return nil, platform.NotFound("document", id)
	}
	var out *docv1.Document
	err := s.db.Batch(func(tx *bolt.Tx) error {
		out = nil
		sd, err := loadDoc(tx, id)
		if err != nil {
			return err
		}
		if sd == nil || !mayRead(c, sd) {
			return platform.NotFound("document", id)
		}
		changes, err := decide(sd)
		if err != nil {
			return err
		}
		if sd.BeforeRecall == nil {
			sd.BeforeRecall = map[string]int32{}
		}
		changed := false
		for _, ch := range changes {
			rc := sd.GetDocument().GetRecipients()[recipientIndex(sd, ch.agency)]
			cur := rc.GetStatus()
			if cur == ch.status && rc.GetReason() == ch.reason {
				continue // the same report again
			}
			if ch.status == stRecall {
				if !recallable[cur] {
					return notAllowed(ch.agency, cur, ch.status)
				}
			} else if !allowed(cur, docv1.DocumentStatus(sd.BeforeRecall[ch.agency]), ch.status) {
				return notAllowed(ch.agency, cur, ch.status)
			}
			if last, err := time.Parse(time.RFC3339Nano, rc.GetUpdatedAt()); err == nil && ch.at.Truncate(time.Second).Before(last) {
				return platform.FailedPrecondition("STATUS_OUT_OF_ORDER",
					fmt.Sprintf("recipient %s reached its current status at %s; a report cannot be earlier", ch.agency, rc.GetUpdatedAt()),
					"Thời điểm báo cáo trạng thái sớm hơn trạng thái hiện tại.")
			}
			switch ch.status {
			case stRecall:
				if cur == stRecallNo {
					// keep the status handling resumes from
				} else {
					sd.BeforeRecall[ch.agency] = int32(cur)
				}
			case stRecallNo:
			default:
				delete(sd.BeforeRecall, ch.agency)
			}
			at := rfc3339(ch.at)
			rc.Status, rc.Reason, rc.UpdatedAt = ch.status, ch.reason, at
			rc.History = append(rc.History, &docv1.StatusChange{Status: ch.status, Reason: ch.reason, UpdatedAt: at, Paper: ch.paper, ReportedBy: c.System, StaffInfo: ch.staff})
			payload, err := deterministic.Marshal(rc.History[len(rc.History)-1])
			if err != nil {
				return err
			}
			rec := &storev1.EvidenceRecord{Kind: kindStatus, DocumentId: id, AgencyCode: ch.agency, Status: int32(ch.status),
				Reason: ch.reason, PayloadSha256: payloadHash(payload), Actor: c.System}
			if err := s.appendEvidence(tx, rec, s.now()); err != nil {
				return err
			}
			changed = true
		}
		if changed {
			if err := putDoc(tx, sd); err != nil {
				return err
			}
		}
		out = proto.Clone(sd.GetDocument()).(*docv1.Document)
		return nil
	})
	return out, err
}

func notAllowed(agency string, from, to docv1.DocumentStatus) error {
	return platform.FailedPrecondition("TRANSITION_NOT_ALLOWED",
		fmt.Sprintf("recipient %s is at %02d %s; %02d %s is not allowed from there", agency, int32(from), from, int32(to), to),
		fmt.Sprintf("Cơ quan %s đang ở trạng thái %02d; không được chuyển sang %02d.", agency, int32(from), int32(to)))
}
