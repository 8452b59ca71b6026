package dossier

import (
	storev1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/store/v1"
	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// The stored form of an event is built in two pieces so that the single writer does not
// marshal it: the request's goroutine encodes the normalised event and its hash
// (storedEventPrefix), the writer appends the sequence, the storage time, the sending
// system and the processing days (appendStoredExtras). A protobuf decoder merges the two
// occurrences of the event field into one message (the encoding's rule for embedded
// messages), so the bytes decode to exactly the StoredEvent the writer would have built.

func fieldNum(m protoreflect.ProtoMessage, name protoreflect.Name) protowire.Number {
	f := m.ProtoReflect().Descriptor().Fields().ByName(name)
	if f == nil {
		panic("dossier: no field " + string(name)) // a mismatch with the .proto, caught by every test
	}
	return f.Number()
}

var (
	fStoredEvent   = fieldNum(&storev1.StoredEvent{}, "event")
	fStoredDays    = fieldNum(&storev1.StoredEvent{}, "processing_days")
	fStoredHash    = fieldNum(&storev1.StoredEvent{}, "content_hash")
	fEventSequence = fieldNum(&dossierv1.DossierEvent{}, "sequence")
	fEventStoredAt = fieldNum(&dossierv1.DossierEvent{}, "stored_at")
	fEventSystem   = fieldNum(&dossierv1.DossierEvent{}, "system")
	fEventUnitCode = fieldNum(&dossierv1.DossierEvent{}, "unit_code")
	fEventDossier  = fieldNum(&dossierv1.DossierEvent{}, "dossier_code")
)

// storedExtrasCap is room for the writer's additions (a sequence, an RFC 3339 time, a
// system name): most appends then need no new allocation.
const storedExtrasCap = 96

// storedEventPrefix is StoredEvent{event: <event>, content_hash: hash} from the event's
// encoding.
func storedEventPrefix(event, hash []byte) []byte {
	b := make([]byte, 0, len(event)+len(hash)+storedExtrasCap)
	b = protowire.AppendTag(b, fStoredEvent, protowire.BytesType)
	b = protowire.AppendBytes(b, event)
	b = protowire.AppendTag(b, fStoredHash, protowire.BytesType)
	return protowire.AppendBytes(b, hash)
}

// appendStoredExtras appends what the writer adds to a stored event. unit is set only when
// the event did not carry one (it is then the dossier's unit).
func appendStoredExtras(b []byte, seq int64, stamp, system, unit string, days uint32) []byte {
	var ev [storedExtrasCap]byte
	e := ev[:0]
	e = protowire.AppendTag(e, fEventSequence, protowire.VarintType)
	e = protowire.AppendVarint(e, uint64(seq))
	e = appendString(e, fEventStoredAt, stamp)
	e = appendString(e, fEventSystem, system)
	e = appendString(e, fEventUnitCode, unit)
	b = protowire.AppendTag(b, fStoredEvent, protowire.BytesType)
	b = protowire.AppendBytes(b, e)
	if days != 0 {
		b = protowire.AppendTag(b, fStoredDays, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(days))
	}
	return b
}

func appendString(b []byte, n protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, n, protowire.BytesType)
	return protowire.AppendString(b, s)
}

// storedEventDossier reads the dossier code of a stored event without decoding the rest.
func storedEventDossier(b []byte) ([]byte, bool) { return storedEventField(b, fEventDossier) }

// storedEventField reads one length-delimited field of the event of a stored event without
// decoding the rest. The event field occurs twice in what the part stores (above), and a
// decoder keeps the last value of all its occurrences, so every occurrence is looked at.
func storedEventField(b []byte, num protowire.Number) ([]byte, bool) {
	var val []byte
	found := false
	ok := eachBytesField(b, fStoredEvent, func(ev []byte) bool {
		return eachBytesField(ev, num, func(c []byte) bool {
			val, found = c, true
			return true
		})
	})
	return val, ok && found
}

// eachBytesField calls fn with the value of every occurrence of the length-delimited field
// num of a protobuf message, in order; false if the message does not parse or fn says so.
func eachBytesField(b []byte, num protowire.Number, fn func([]byte) bool) bool {
	for len(b) > 0 {
		n, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return false
		}
		b = b[l:]
		l = protowire.ConsumeFieldValue(n, typ, b)
		if l < 0 {
			return false
		}
		if n == num && typ == protowire.BytesType {
			v, _ := protowire.ConsumeBytes(b)
			if !fn(v) {
				return false
			}
		}
		b = b[l:]
	}
	return true
}
