package docexchange

import (
	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"github.com/lienthong/lienthong/services/platform"
)

// sendState is what one stage of send hands the next: the document as it is being checked,
// the sender's options, the caller and, once authorised, the catalog's unit of each agency.
type sendState struct {
	d      *docv1.Document
	o      sendOptions
	c      *platform.Caller
	signed bool                   // the document carries a signature: it stays exactly as signed
	units  map[string]string      // agency code → unit code, of the sender and every recipient
	pdf    []*docv1.PdfInspection // per attachment, its PDF signatures (nil: not a PDF)
}

// validateSend is the first stage of send: the document's own fields, without asking
// anyone (cheap, so it runs before the catalog is asked).
func validateSend(st *sendState) error {
	if err := validateEnvelope(st.d); err != nil {
		return err
	}
	if err := validateEdxmlFields(st.d); err != nil {
		return err
	}
	return checkDocumentDates(st.d, st.o.at)
}
