package docexchange

import (
	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
)

// Recipient statuses (edXML codes).
const (
	stArrived    = docv1.DocumentStatus_DOCUMENT_STATUS_ARRIVED
	stRejected   = docv1.DocumentStatus_DOCUMENT_STATUS_REJECTED
	stAccepted   = docv1.DocumentStatus_DOCUMENT_STATUS_ACCEPTED
	stAssigned   = docv1.DocumentStatus_DOCUMENT_STATUS_ASSIGNED
	stProcessing = docv1.DocumentStatus_DOCUMENT_STATUS_PROCESSING
	stDone       = docv1.DocumentStatus_DOCUMENT_STATUS_DONE
	stRecall     = docv1.DocumentStatus_DOCUMENT_STATUS_RECALL_REQUESTED
	stRecallOK   = docv1.DocumentStatus_DOCUMENT_STATUS_RECALL_AGREED
	stRecallNo   = docv1.DocumentStatus_DOCUMENT_STATUS_RECALL_REFUSED
)

// next lists the statuses a recipient may report after each status. Delivery sets 01; the
// recipient rejects (02, final) or accepts (03), then assigns, processes and finishes
// (06, final). The sender's recall (13) is possible before 02 and 06 and is answered with 15
// (agreed, final) or 16 (refused: handling goes on from where it was).
var next = map[docv1.DocumentStatus][]docv1.DocumentStatus{
	stArrived:    {stRejected, stAccepted},
	stAccepted:   {stAssigned, stProcessing, stDone},
	stAssigned:   {stAssigned, stProcessing, stDone},
	stProcessing: {stAssigned, stProcessing, stDone},
	stRecall:     {stRecallOK, stRecallNo},
}

// recallable are the statuses from which the sender may ask for the document back.
var recallable = map[docv1.DocumentStatus]bool{stArrived: true, stAccepted: true, stAssigned: true, stProcessing: true, stRecallNo: true}

// final statuses end a recipient's handling.
func final(s docv1.DocumentStatus) bool {
	return s == stRejected || s == stDone || s == stRecallOK
}

// reportable are the statuses a recipient reports through ReportStatus.
var reportable = map[docv1.DocumentStatus]bool{stArrived: true, stRejected: true, stAccepted: true, stAssigned: true,
	stProcessing: true, stDone: true, stRecallOK: true, stRecallNo: true}

// allowed says whether a recipient at cur may report to. After a refused recall (16) the
// recipient goes on from the status it had before the recall (before).
func allowed(cur, before, to docv1.DocumentStatus) bool {
	from := cur
	if cur == stRecallNo {
		from = before
	}
	for _, s := range next[from] {
		if s == to {
			return true
		}
	}
	return false
}

// needsReason are the statuses that must say why.
func needsReason(s docv1.DocumentStatus) bool {
	return s == stRejected || s == stRecall || s == stRecallNo
}

// atLeastAccepted says whether a status means the recipient accepted the document.
func atLeastAccepted(s docv1.DocumentStatus) bool {
	switch s {
	case stAccepted, stAssigned, stProcessing, stDone:
		return true
	}
	return false
}
