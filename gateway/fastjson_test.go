package gateway

import (
	"strings"
	"testing"

	catalogv1 "github.com/lienthong/lienthong/proto/gen/lienthong/catalog/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// A part's own encoder writes the messages it is offered for; everything else keeps the
// generic encoding.
func TestFastJSONMarshaler(t *testing.T) {
	unitName := (&catalogv1.Unit{}).ProtoReflect().Descriptor().FullName()
	m := fastJSON{Marshaler: jsonMarshaler(), enc: map[protoreflect.FullName]JSONEncoder{
		unitName: func(b []byte, msg proto.Message) ([]byte, error) {
			return append(b, `{"own":"`+msg.(*catalogv1.Unit).GetCode()+`"}`...), nil
		},
	}}
	got, err := m.Marshal(&catalogv1.Unit{Code: "80"})
	if err != nil || string(got) != `{"own":"80"}` {
		t.Errorf("offered message: %s, %v; want the part's encoding", got, err)
	}
	got, err = m.Marshal(&catalogv1.Procedure{Code: "1.000001"})
	if err != nil || !strings.Contains(string(got), `"code":"1.000001"`) || strings.Contains(string(got), "own") {
		t.Errorf("other message: %s, %v; want the generic encoding", got, err)
	}
}
