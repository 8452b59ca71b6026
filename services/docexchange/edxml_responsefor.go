package docexchange

import docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"

// nationalResponseFor is the national id (OrganId,yyyy/MM/dd,Number/Notation) a reference's
// organ, code and promulgation date give, when they name the document the reference's
// document_id names. A package whose ResponseFor says one document by its DocumentId and
// another by its parts keeps its DocumentId: writing the parts instead would name another
// document when read again (found by FuzzParseEdxml).
func nationalResponseFor(rf *docv1.ResponseFor) (string, bool) {
	if rf.GetOrganId() == "" || rf.GetCode() == "" || rf.GetPromulgationDate() == "" {
		return "", false
	}
	national := rf.GetOrganId() + "," + edxmlDate(rf.GetPromulgationDate()) + "," + rf.GetCode()
	if id, _, _, _, ok := idOfNational(national); !ok || id != rf.GetDocumentId() {
		return "", false
	}
	return national, true
}
