package docexchange

import (
	"time"

	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"github.com/lienthong/lienthong/services/platform"
)

// The bounds of the dates and times a document and a status report carry (docs/security.md
// lists them with the rest). The dates decide a document's id (documentID), the statistics
// by month and year (stats.go) and how late a document is handled.

// earliestDocumentDay is the earliest promulgation date, due date and status time: the
// exchange of electronic documents between state agencies began in the 2000s (the demo's
// documents are from 2018 on). An older paper document travels as the attachment of a new
// one; a year like 0202 or 1926 is a slip that would file the document under a year of its
// own in every statistic. The date a response refers to (response_for) has no floor: a
// decision of 1998 may be replaced.
var earliestDocumentDay = time.Date(2000, 1, 1, 0, 0, 0, 0, vietnam)

// maxDocumentDueYears is how far after its promulgation a document's due date may lie. The
// deadlines documents set are days to months (a yearly report at the latest); five years is
// far beyond any and catches 2062 for 2026.
const maxDocumentDueYears = 5

// checkDocumentDates checks a document's dates against each other and the time it is sent:
// promulgated on or before the day it is sent (in Vietnam, with maxClockSkew of slack) and
// not before earliestDocumentDay; due on or after its promulgation and within
// maxDocumentDueYears of it; responding to a document promulgated on or before its own
// promulgation. The form of each date was checked by validateEnvelope.
func checkDocumentDates(d *docv1.Document, sentAt time.Time) error {
	var v platform.Violations
	prom, _ := time.ParseInLocation(time.DateOnly, d.GetPromulgationDate(), vietnam)
	y, m, day := sentAt.Add(maxClockSkew).In(vietnam).Date()
	sentDay := time.Date(y, m, day, 0, 0, 0, 0, vietnam)
	switch {
	case prom.Before(earliestDocumentDay):
		v.Add("promulgation_date", "is before %s", earliestDocumentDay.Format(time.DateOnly))
	case prom.After(sentDay):
		v.Add("promulgation_date", "is after the day the document is sent (%s)", sentDay.Format(time.DateOnly))
	}
	if s := d.GetDueDate(); s != "" {
		due, _ := time.ParseInLocation(time.DateOnly, s, vietnam)
		switch {
		case due.Before(prom):
			v.Add("due_date", "is before the promulgation date %s", d.GetPromulgationDate())
		case due.After(prom.AddDate(maxDocumentDueYears, 0, 0)):
			v.Add("due_date", "is more than %d years after the promulgation date %s", maxDocumentDueYears, d.GetPromulgationDate())
		}
	}
	if s := d.GetResponseFor().GetPromulgationDate(); s != "" && s > d.GetPromulgationDate() {
		v.Add("response_for.promulgation_date", "is after this document's promulgation date %s: a document answers an earlier one", d.GetPromulgationDate())
	}
	return v.Err()
}
