package dossier

import dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"

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
// (CONTRACT §7). 3, 7, 8 and 10 are final.
var transitions = map[int32][]int32{
	stNew:        {stAccepted, stNotAccepted, stWithdrawn},
	stAccepted:   {stProcessing, stSupplement, stFinancial, stWithdrawn, stStopped, stResolved},
	stProcessing: {stProcessing, stSupplement, stFinancial, stWithdrawn, stStopped, stResolved},
	stSupplement: {stProcessing, stWithdrawn, stStopped},
	stFinancial:  {stProcessing, stWithdrawn, stStopped, stResolved},
	stResolved:   {stReturned},
}

// firstStatuses are the statuses a dossier may start in.
func firstStatus(s int32) bool { return s == stNew || s == stAccepted }

// allowed reports whether a dossier may move from one status to another.
func allowed(from, to int32) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// isFinishing reports whether reaching s ends the dossier's processing: its verdict is
// decided then (9 resolved; 3, 7, 8 final without a result).
func isFinishing(s int32) bool {
	return s == stResolved || s == stNotAccepted || s == stWithdrawn || s == stStopped
}
