package dossier

import (
	storev1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/store/v1"
	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
)

// Status numbers (national sync codes).
const (
	stNew         = int32(dossierv1.DossierStatus_DOSSIER_STATUS_NEW)
	stAccepted    = int32(dossierv1.DossierStatus_DOSSIER_STATUS_ACCEPTED)
	stNotAccepted = int32(dossierv1.DossierStatus_DOSSIER_STATUS_NOT_ACCEPTED)
	stProcessing  = int32(dossierv1.DossierStatus_DOSSIER_STATUS_PROCESSING)
	stSupplement  = int32(dossierv1.DossierStatus_DOSSIER_STATUS_SUPPLEMENT_REQUESTED)
	stFinancial   = int32(dossierv1.DossierStatus_DOSSIER_STATUS_FINANCIAL_OBLIGATION)
	stWithdrawn   = int32(dossierv1.DossierStatus_DOSSIER_STATUS_WITHDRAWN)
	stStopped     = int32(dossierv1.DossierStatus_DOSSIER_STATUS_STOPPED)
	stResolved    = int32(dossierv1.DossierStatus_DOSSIER_STATUS_RESOLVED)
	stReturned    = int32(dossierv1.DossierStatus_DOSSIER_STATUS_RESULT_RETURNED)
)

// transitions lists, for each status, the statuses an event may move a dossier to
// (docs/domain.md, "Dossier statuses and transitions"). 3, 8 and 10 are final; 7 (the
// applicant asked to withdraw) may be followed by 8 (the agency stops processing), as
// one-stop systems record a withdrawal. 1 → 5 is a supplement asked for at the desk before
// acceptance; from that 5 the dossier is accepted (2), refused (3) or withdrawn (7), never
// processed (4) or stopped (8): see allowedFor.
var transitions = map[int32][]int32{
	stNew:        {stAccepted, stNotAccepted, stSupplement, stWithdrawn},
	stAccepted:   {stProcessing, stSupplement, stFinancial, stWithdrawn, stStopped, stResolved},
	stProcessing: {stProcessing, stSupplement, stFinancial, stWithdrawn, stStopped, stResolved},
	stSupplement: {stProcessing, stWithdrawn, stStopped},
	stFinancial:  {stProcessing, stWithdrawn, stStopped, stResolved},
	stWithdrawn:  {stStopped},
	stResolved:   {stReturned},
}

// supplementBeforeAcceptance lists where a dossier paused for a supplement before it was
// accepted (1 → 5) may go.
var supplementBeforeAcceptance = []int32{stAccepted, stNotAccepted, stWithdrawn}

// firstStatuses are the statuses a dossier may start in.
func firstStatus(s int32) bool { return s == stNew || s == stAccepted }

// allowed reports whether a dossier may move from one status to another (for a dossier
// accepted before, or not in status 5).
func allowed(from, to int32) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// allowedFor reports whether a dossier in state st may move to status to: as allowed,
// except that a supplement pause before acceptance ends in acceptance, refusal or
// withdrawal.
func allowedFor(st *storev1.DossierState, to int32) bool {
	if st.GetStatus() == stSupplement && st.GetAcceptedAt() == 0 {
		for _, s := range supplementBeforeAcceptance {
			if s == to {
				return true
			}
		}
		return false
	}
	return allowed(st.GetStatus(), to)
}

// isFinishing reports whether reaching s ends the dossier's processing: its verdict is
// decided then (9 resolved; 3, 7, 8 final without a result).
func isFinishing(s int32) bool {
	return s == stResolved || s == stNotAccepted || s == stWithdrawn || s == stStopped
}
