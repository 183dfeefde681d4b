package mesossim

import (
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
	mediaRecordIO = "application/recordio"
)

// codec is one of the two message encodings. JSON goes through encoding/json,
// as mesos-go's JSON codec does: the generated types render enums as their names
// and bytes as base64, which is Mesos' protobuf-JSON mapping.
type codec string

func (c codec) marshal(m proto.Message) ([]byte, error) {
	if c == mediaJSON {
		return json.Marshal(m)
	}
	return proto.Marshal(m)
}

func (c codec) unmarshal(b []byte, m proto.Message) error {
	if c == mediaJSON {
		return json.Unmarshal(b, m)
	}
	return proto.Unmarshal(b, m)
}

func (c codec) decodeCall(body []byte) (*scheduler.Call, error) {
	var call scheduler.Call
	if err := c.unmarshal(body, &call); err != nil {
		return nil, fmt.Errorf("failed to parse body into Call: %w", err)
	}
	return &call, nil
}

// requestCodec picks the codec from a request's Content-Type; false means 415.
func requestCodec(contentType string) (codec, bool) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "", false
	}
	switch mt {
	case mediaProtobuf, mediaJSON:
		return codec(mt), true
	}
	return "", false
}

// responseFormat is what a SUBSCRIBE answer is encoded as: the Content-Type
// header, and (for application/recordio) the Message-Content-Type.
type responseFormat struct {
	contentType        string
	messageContentType string
	codec              codec
}

// negotiateStream chooses the SUBSCRIBE response format from Accept and
// Message-Accept. Events are RecordIO-framed either way; Accept:
// application/recordio makes that explicit and moves the message type to
// Message-Content-Type. false means 406.
func negotiateStream(accept, messageAccept string, reqCodec codec) (responseFormat, bool) {
	if acceptsMedia(accept, mediaRecordIO) && !strings.Contains(accept, "*") {
		mc := reqCodec
		if messageAccept != "" {
			switch {
			case acceptsMedia(messageAccept, string(reqCodec)):
			case acceptsMedia(messageAccept, mediaProtobuf):
				mc = mediaProtobuf
			case acceptsMedia(messageAccept, mediaJSON):
				mc = mediaJSON
			default:
				return responseFormat{}, false
			}
		}
		return responseFormat{contentType: mediaRecordIO, messageContentType: string(mc), codec: mc}, true
	}
	if accept == "" || acceptsMedia(accept, string(reqCodec)) {
		return responseFormat{contentType: string(reqCodec), codec: reqCodec}, true
	}
	for _, mt := range []codec{mediaProtobuf, mediaJSON} {
		if acceptsMedia(accept, string(mt)) {
			return responseFormat{contentType: string(mt), codec: mt}, true
		}
	}
	return responseFormat{}, false
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
