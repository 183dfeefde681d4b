package mesossim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"strings"

	"github.com/gogo/protobuf/proto"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// Media types of the v1 HTTP API.
const (
	mediaProtobuf = "application/x-protobuf"
	mediaJSON     = "application/json"
)

// codec is one of the two message encodings. JSON goes through encoding/json,
// as mesos-go's JSON codec does: the generated types render enums as their names
// and bytes as base64, which is Mesos' protobuf-JSON mapping.
type codec string

func (c codec) marshal(m proto.Message) ([]byte, error) {
	if c == mediaJSON {
		b, err := json.Marshal(m)
		if err != nil {
			return nil, err
		}
		return withoutNulls(b)
	}
	return proto.Marshal(m)
}

// withoutNulls drops the "field": null members that the generated JSON
// marshalers write for unset repeated and message fields: Mesos leaves unset
// fields out, and a JSON client may test for a field's presence.
func withoutNulls(b []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // keep int64 values exact
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	nameMasterCapabilities(v)
	return json.Marshal(pruneNulls(v))
}

// nameMasterCapabilities writes master capability types mesos-go's generated
// code does not know (QUOTA_V2) by name, as Mesos writes every enum.
func nameMasterCapabilities(v any) {
	ev, _ := v.(map[string]any)
	sub, _ := ev["subscribed"].(map[string]any)
	info, _ := sub["master_info"].(map[string]any)
	caps, _ := info["capabilities"].([]any)
	for _, c := range caps {
		cm, _ := c.(map[string]any)
		// Unknown values come out as a number, or (from ffjson) a quoted number.
		n := fmt.Sprint(cm["type"])
		for name, value := range masterCapabilityValues {
			if n == fmt.Sprint(value) {
				cm["type"] = name
			}
		}
	}
}

func pruneNulls(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e == nil {
				delete(x, k)
				continue
			}
			x[k] = pruneNulls(e)
		}
	case []any:
		for i, e := range x {
			x[i] = pruneNulls(e)
		}
	}
	return v
}

// decodeCall parses a call; on failure it returns the message a Mesos master
// answers with (in a 400).
func (c codec) decodeCall(body []byte) (*scheduler.Call, string) {
	var call scheduler.Call
	if c == mediaJSON {
		if !json.Valid(body) {
			return nil, "Failed to parse body into JSON"
		}
		if err := json.Unmarshal(body, &call); err != nil {
			return nil, "Failed to convert JSON into Call protobuf: " + err.Error()
		}
		return &call, ""
	}
	if err := proto.Unmarshal(body, &call); err != nil {
		return nil, "Failed to parse body into Call protobuf: " + err.Error()
	}
	return &call, ""
}

// requestCodec picks the codec from a request's Content-Type, compared
// exactly as the Mesos master compares it; false means 415.
func requestCodec(contentType string) (codec, bool) {
	switch contentType {
	case mediaProtobuf, mediaJSON:
		return codec(contentType), true
	}
	return "", false
}

// subscribeCodec chooses the SUBSCRIBE stream's encoding as the Mesos master
// does: JSON whenever Accept allows it (a missing Accept allows everything),
// else protobuf, else none (406). Events are RecordIO-framed either way, and
// the response's Content-Type names the message encoding.
func subscribeCodec(accept string) (codec, bool) {
	switch {
	case acceptsMedia(accept, mediaJSON):
		return mediaJSON, true
	case acceptsMedia(accept, mediaProtobuf):
		return mediaProtobuf, true
	}
	return "", false
}

// acceptsMedia reports whether an Accept header admits the media type.
func acceptsMedia(accept, media string) bool {
	if strings.TrimSpace(accept) == "" {
		return true
	}
	major := strings.SplitN(media, "/", 2)[0] + "/*"
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		if q, ok := params["q"]; ok && (q == "0" || q == "0.0" || q == "0.00" || q == "0.000") {
			continue
		}
		if mt == media || mt == "*/*" || mt == major {
			return true
		}
	}
	return false
}
