package agentrt

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	execpb "github.com/mesos/mesos-go/api/v1/lib/executor"
)

const (
	mediaJSON     = "application/json"
	mediaProtobuf = "application/x-protobuf"
	mediaRecordIO = "application/recordio"
	maxCallBytes  = 16 << 20
)

// serveExecutorAPI is POST /api/v1/executor, answered as a Mesos agent does:
// SUBSCRIBE opens a chunked RecordIO stream of events (200); UPDATE, MESSAGE
// and HEARTBEAT are answered 202; malformed calls get 400 with a text body.
func (a *Agent) serveExecutorAPI(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		textError(w, http.StatusMethodNotAllowed, fmt.Sprintf("Expecting 'POST', received '%s'", r.Method))
		return
	}
	ct := mediaTypeOf(r.Header.Get("Content-Type"))
	if ct != mediaJSON && ct != mediaProtobuf {
		textError(w, http.StatusUnsupportedMediaType,
			"Expecting 'Content-Type' of application/json or application/x-protobuf")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxCallBytes))
	if err != nil {
		textError(w, http.StatusBadRequest, "Failed to read request body: "+err.Error())
		return
	}
	call, err := decodeCall(ct, body)
	if err != nil {
		textError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := validateCall(call); err != nil {
		textError(w, http.StatusBadRequest, "Failed to validate executor::Call: "+err.Error())
		return
	}
	if call.Type != execpb.Call_SUBSCRIBE && call.Type != execpb.Call_HEARTBEAT && a.isRecovering() {
		textError(w, http.StatusServiceUnavailable, errRecovering)
		return
	}
	a.mu.Lock()
	fw := a.frameworks[call.FrameworkID.Value]
	var ex *executor
	if fw != nil {
		ex = fw.executors[call.ExecutorID.Value]
	}
	a.mu.Unlock()
	switch {
	case fw == nil:
		textError(w, http.StatusBadRequest, "Framework cannot be found")
		return
	case ex == nil:
		textError(w, http.StatusBadRequest, "Executor cannot be found")
		return
	}

	switch call.Type {
	case execpb.Call_SUBSCRIBE:
		a.serveSubscribe(w, r, ex, ct, call.Subscribe.UnacknowledgedUpdates)
	case execpb.Call_UPDATE:
		if err := ex.update(call.Update.Status); err != nil {
			textError(w, http.StatusForbidden, err.Error())
			return
		}
		w.WriteHeader(http.StatusAccepted)
	case execpb.Call_MESSAGE:
		if !ex.isSubscribed() {
			textError(w, http.StatusForbidden, errNotSubscribed.Error())
			return
		}
		a.deliverMessage(ex.fwID, ex.info.ExecutorID.Value, call.Message.Data)
		w.WriteHeader(http.StatusAccepted)
	case execpb.Call_HEARTBEAT:
		w.WriteHeader(http.StatusAccepted)
	}
}

func (ex *executor) isSubscribed() bool {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	return ex.stream != nil
}

// serveSubscribe streams the subscription's events until the executor
// disconnects, the agent closes, or a newer subscription replaces it.
// Updates the executor resends on (re)subscription are relayed like UPDATE
// calls (duplicates are only acknowledged).
func (a *Agent) serveSubscribe(w http.ResponseWriter, r *http.Request, ex *executor, requestType string, resent []execpb.Call_Update) {
	contentType, messageType, ok := negotiate(r.Header, requestType)
	if !ok {
		textError(w, http.StatusNotAcceptable,
			"Expecting 'Accept' to allow application/json or application/x-protobuf")
		return
	}
	flusher, _ := w.(http.Flusher)
	s, err := ex.subscribe()
	if err != nil {
		textError(w, http.StatusForbidden, err.Error())
		return
	}
	defer ex.unsubscribe(s)
	for _, u := range resent {
		if len(u.Status.UUID) == 16 && u.Status.GetState() != mesos.TASK_STAGING {
			_ = ex.update(u.Status)
		}
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	if contentType == mediaRecordIO {
		h.Set("Message-Content-Type", messageType)
	}
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	if flusher != nil {
		flusher.Flush()
	}
	for {
		evs, ok := s.next(r.Context())
		if !ok {
			return
		}
		for i := range evs {
			data, err := encodeEvent(messageType, &evs[i])
			if err != nil {
				ex.log.Error("cannot encode executor event", "type", evs[i].Type.String(), "error", err)
				return
			}
			if _, err := io.WriteString(w, strconv.Itoa(len(data))+"\n"); err != nil {
				return
			}
			if _, err := w.Write(data); err != nil {
				return
			}
		}
		if flusher != nil {
			flusher.Flush()
		}
	}
}

// negotiate picks the response framing from Accept: a codec media type (the
// body is RecordIO framed all the same, as Mesos does), or
// application/recordio with the codec from Message-Accept. No Accept, or a
// wildcard, means the request's own codec.
func negotiate(h http.Header, requestType string) (contentType, messageType string, ok bool) {
	accept := h.Get("Accept")
	if strings.TrimSpace(accept) == "" {
		return requestType, requestType, true
	}
	for _, part := range strings.Split(accept, ",") {
		switch mt := mediaTypeOf(part); mt {
		case mediaJSON, mediaProtobuf:
			return mt, mt, true
		case "*/*", "application/*":
			return requestType, requestType, true
		case mediaRecordIO:
			msg := mediaTypeOf(h.Get("Message-Accept"))
			switch msg {
			case "", "*/*", "application/*":
				msg = requestType
			case mediaJSON, mediaProtobuf:
			default:
				continue
			}
			return mediaRecordIO, msg, true
		}
	}
	return "", "", false
}

func mediaTypeOf(v string) string {
	mt, _, err := mime.ParseMediaType(strings.TrimSpace(v))
	if err != nil {
		return strings.ToLower(strings.TrimSpace(v))
	}
	return mt
}

func decodeCall(ct string, body []byte) (execpb.Call, error) {
	var call execpb.Call
	if ct == mediaProtobuf {
		if err := call.Unmarshal(body); err != nil {
			return call, fmt.Errorf("Failed to parse body into Call protobuf: %v", err)
		}
		return call, nil
	}
	if err := json.Unmarshal(body, &call); err != nil {
		return call, fmt.Errorf("Failed to parse body into JSON: %v", err)
	}
	var missing []string
	if call.ExecutorID.Value == "" {
		missing = append(missing, "executor_id")
	}
	if call.FrameworkID.Value == "" {
		missing = append(missing, "framework_id")
	}
	if len(missing) > 0 {
		return call, fmt.Errorf("Failed to convert JSON into Call protobuf: Missing required fields: %s", strings.Join(missing, ", "))
	}
	return call, nil
}

// validateCall follows the Mesos agent's executor call validation.
func validateCall(c execpb.Call) error {
	if c.ExecutorID.Value == "" || c.FrameworkID.Value == "" {
		return errors.New("Not initialized: executor_id, framework_id")
	}
	switch c.Type {
	case execpb.Call_SUBSCRIBE:
		if c.Subscribe == nil {
			return errors.New("Expecting 'subscribe' to be present")
		}
	case execpb.Call_UPDATE:
		if c.Update == nil {
			return errors.New("Expecting 'update' to be present")
		}
		st := c.Update.Status
		if st.TaskID.Value == "" || st.State == nil {
			return errors.New("Not initialized: update.status.task_id, update.status.state")
		}
		if len(st.UUID) == 0 {
			return errors.New("Expecting 'uuid' to be present")
		}
		if len(st.UUID) != 16 {
			return fmt.Errorf("Invalid UUID: %d bytes, expecting 16", len(st.UUID))
		}
		if st.ExecutorID != nil && st.ExecutorID.Value != c.ExecutorID.Value {
			return fmt.Errorf("ExecutorID in Call: %s does not match ExecutorID in TaskStatus: %s",
				c.ExecutorID.Value, st.ExecutorID.Value)
		}
		if st.GetSource() != mesos.SOURCE_EXECUTOR {
			return errors.New("Received Call from executor with invalid source, expecting 'SOURCE_EXECUTOR'")
		}
		if st.GetState() == mesos.TASK_STAGING {
			return errors.New("Received TASK_STAGING from executor")
		}
	case execpb.Call_MESSAGE:
		if c.Message == nil {
			return errors.New("Expecting 'message' to be present")
		}
	case execpb.Call_HEARTBEAT:
	default:
		return errors.New("Expecting 'type' to be present")
	}
	return nil
}

func encodeEvent(mt string, ev *execpb.Event) ([]byte, error) {
	if mt == mediaProtobuf {
		return ev.Marshal()
	}
	return json.Marshal(ev)
}

func textError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, msg)
}
