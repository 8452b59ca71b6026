package dossier

import (
	"math"
	"strconv"
	"unicode/utf8"

	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	"google.golang.org/protobuf/proto"
)

// Statistics answers are the largest JSON the REST edge writes often (a national report by
// procedure has hundreds of rows of twenty figures), and the generic proto-to-JSON encoder,
// which walks every field by reflection, cost more CPU than computing the answer. StatsJSON
// writes the same JSON directly: the proto JSON mapping with proto field names, every
// field present, int64 as strings and doubles as numbers. TestStatsJSONMatchesProtoJSON
// fills every field of the messages (found from their descriptors, so a field added later
// is covered) and compares with protojson.

// StatsJSONType is the message StatsJSON encodes.
var StatsJSONType = (&dossierv1.DossierStats{}).ProtoReflect().Descriptor().FullName()

// StatsJSON appends the JSON of a DossierStats to b.
func StatsJSON(b []byte, m proto.Message) ([]byte, error) {
	s, ok := m.(*dossierv1.DossierStats)
	if !ok {
		return nil, errNotStats
	}
	b = append(b, '{')
	b = jsonField(b, "from", true)
	b = jsonString(b, s.GetFrom())
	b = jsonField(b, "to", false)
	b = jsonString(b, s.GetTo())
	b = jsonField(b, "geography", false)
	b = jsonString(b, s.GetGeography())
	b = jsonField(b, "group_by", false)
	b = jsonString(b, s.GetGroupBy())
	b = jsonField(b, "rows", false)
	b = append(b, '[')
	for i, r := range s.GetRows() {
		if i > 0 {
			b = append(b, ',')
		}
		b = statsRowJSON(b, r)
	}
	b = append(b, ']')
	b = jsonField(b, "as_of", false)
	b = jsonString(b, s.GetAsOf())
	return append(b, '}'), nil
}

type statsJSONError string

func (e statsJSONError) Error() string { return string(e) }

const errNotStats = statsJSONError("StatsJSON: not a DossierStats")

func statsRowJSON(b []byte, r *dossierv1.StatsRow) []byte {
	b = append(b, '{')
	b = jsonField(b, "key", true)
	b = jsonString(b, r.GetKey())
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"received_total", r.GetReceivedTotal()}, {"received_online", r.GetReceivedOnline()},
		{"received_direct", r.GetReceivedDirect()}, {"received_postal", r.GetReceivedPostal()},
		{"carried_over", r.GetCarriedOver()}, {"resolved_early", r.GetResolvedEarly()},
		{"resolved_on_time", r.GetResolvedOnTime()}, {"resolved_late", r.GetResolvedLate()},
		{"resolved_late_apologized", r.GetResolvedLateApologized()},
		{"in_progress_within_due", r.GetInProgressWithinDue()}, {"in_progress_overdue", r.GetInProgressOverdue()},
		{"paused_supplement", r.GetPausedSupplement()}, {"paused_financial", r.GetPausedFinancial()},
		{"withdrawn", r.GetWithdrawn()}, {"not_accepted", r.GetNotAccepted()}, {"stopped", r.GetStopped()},
	} {
		b = jsonField(b, f.name, false)
		b = jsonInt64(b, f.v)
	}
	b = jsonField(b, "on_time_rate", false)
	b = jsonFloat(b, r.GetOnTimeRate())
	b = jsonField(b, "online_rate", false)
	b = jsonFloat(b, r.GetOnlineRate())
	b = jsonField(b, "avg_processing_days", false)
	b = jsonFloat(b, r.GetAvgProcessingDays())
	b = jsonField(b, "resolved_paid_online", false)
	b = jsonInt64(b, r.GetResolvedPaidOnline())
	b = jsonField(b, "resolved_electronic_result", false)
	b = jsonInt64(b, r.GetResolvedElectronicResult())
	b = jsonField(b, "received_digitized", false)
	b = jsonInt64(b, r.GetReceivedDigitized())
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"stopped_within_due", r.GetStoppedWithinDue()}, {"withdrawn_after_acceptance", r.GetWithdrawnAfterAcceptance()},
		{"withdrawn_after_acceptance_within_due", r.GetWithdrawnAfterAcceptanceWithinDue()},
		{"paused_supplement_on_time", r.GetPausedSupplementOnTime()}, {"paused_supplement_late", r.GetPausedSupplementLate()},
		{"awaiting_acceptance", r.GetAwaitingAcceptance()}, {"accepted_resolved", r.GetAcceptedResolved()},
	} {
		b = jsonField(b, f.name, false)
		b = jsonInt64(b, f.v)
	}
	b = jsonField(b, "qd766_on_time_rate", false)
	b = jsonFloat(b, r.GetQd766OnTimeRate())
	b = jsonField(b, "avg_processing_working_days", false)
	b = jsonFloat(b, r.GetAvgProcessingWorkingDays())
	return append(b, '}')
}

func jsonField(b []byte, name string, first bool) []byte {
	if !first {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, name...)
	return append(b, '"', ':')
}

// jsonInt64 is an int64 as the proto JSON mapping writes it: a quoted decimal.
func jsonInt64(b []byte, v int64) []byte {
	b = append(b, '"')
	b = strconv.AppendInt(b, v, 10)
	return append(b, '"')
}

// jsonFloat writes a double as protojson does: the shortest form, exponent only for very
// small or large values, NaN and infinities as strings.
func jsonFloat(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' { // 1e-07 -> 1e-7
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// jsonString writes a string as protojson does: quotes, backslashes and control characters
// escaped, everything else as UTF-8; invalid UTF-8 becomes U+FFFD (the codes written here
// come from validated input).
func jsonString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r == '\b':
			b = append(b, '\\', 'b')
		case r == '\f':
			b = append(b, '\\', 'f')
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r == '\t':
			b = append(b, '\\', 't')
		case r < 0x20:
			b = append(b, '\\', 'u', '0', '0', hexDigit[r>>4], hexDigit[r&0xf])
		case r == utf8.RuneError && n == 1:
			b = utf8.AppendRune(b, utf8.RuneError)
		default:
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return append(b, '"')
}

const hexDigit = "0123456789abcdef"
