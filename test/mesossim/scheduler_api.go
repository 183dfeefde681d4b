package mesossim

import (
	"crypto/subtle"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

const (
	// schedulerPath is where schedulers call the master. A Mesos master
	// serves it as /master/api/v1/scheduler too: libprocess delegates
	// paths without a process ID to the "master" process, so the request
	// the master sees (and redirects) always carries the /master prefix.
	schedulerPath  = "/api/v1/scheduler"
	masterPrefix   = "/master"
	headerStreamID = "Mesos-Stream-Id"
	maxCallBytes   = 64 << 20
)

// schedulerHandler serves /api/v1/scheduler for the master with the given index.
type schedulerHandler struct {
	m     *master
	calls *callLog
	index int
}

// incoming is a scheduler API request read and decoded once, for every
// layer that looks at it: the call log, the handler and the refusal count.
type incoming struct {
	readErr error
	// call is nil when the Content-Type is not one of the API's or the body
	// does not decode; decodeMsg says why not, in the master's words.
	call      *scheduler.Call
	decodeMsg string
}

func readIncoming(r *http.Request) incoming {
	var in incoming
	body, err := readBody(r)
	in.readErr = err
	if c, ok := requestCodec(r.Header.Get("Content-Type")); ok && err == nil {
		in.call, in.decodeMsg = c.decodeCall(body)
	}
	return in
}

// readBody reads the whole body (so that the connection can carry the
// next request, pipelined or not), into a buffer of its declared length
// when it has one.
func readBody(r *http.Request) ([]byte, error) {
	if n := r.ContentLength; n >= 0 && n <= maxCallBytes {
		b := make([]byte, n)
		if _, err := io.ReadFull(r.Body, b); err != nil {
			return nil, err
		}
		return b, nil
	}
	return io.ReadAll(io.LimitReader(r.Body, maxCallBytes))
}

// ServeHTTP records the call, answers it and counts a refusal.
func (h schedulerHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	in := readIncoming(r)
	aw := &answerWriter{ResponseWriter: w, log: h.calls, rec: h.calls.record(h.index, r, in.call)}
	h.serve(aw, r, &in)
	if aw.status >= 400 {
		h.m.rejects.refused(in.call, aw.status, aw.body.String())
	}
}

func (h schedulerHandler) serve(w http.ResponseWriter, r *http.Request, in *incoming) {
	// The checks come in the Mesos master's order: authentication,
	// leadership, method, content type, body, validation, Accept.
	m := h.m
	if !m.authenticated(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="mesos"`)
		httpError(w, http.StatusUnauthorized, "Unauthorized")
		return
	}
	if leader, ok := m.leaderAddr(h.index); !ok {
		// Master::Http::redirect: a scheme-less "//host:port" followed by
		// the request URL as the master process saw it (with /master).
		u := *r.URL
		if !strings.HasPrefix(u.Path, masterPrefix+"/") {
			u.Path = masterPrefix + u.Path
		}
		u.Scheme, u.Host, u.User = "", "", nil
		w.Header().Set("Location", "//"+leader+u.RequestURI())
		w.WriteHeader(http.StatusTemporaryRedirect)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		httpError(w, http.StatusMethodNotAllowed, "Expecting a 'POST' request, received '"+r.Method+"'")
		return
	}
	contentType := r.Header.Get("Content-Type")
	if contentType == "" {
		httpError(w, http.StatusBadRequest, "Expecting 'Content-Type' to be present")
		return
	}
	if _, ok := requestCodec(contentType); !ok {
		httpError(w, http.StatusUnsupportedMediaType, "Expecting 'Content-Type' of application/json or application/x-protobuf")
		return
	}
	if in.readErr != nil {
		httpError(w, http.StatusBadRequest, "Failed to read request body: "+in.readErr.Error())
		return
	}
	call := in.call
	if call == nil {
		httpError(w, http.StatusBadRequest, in.decodeMsg)
		return
	}
	if msg := validateCall(call); msg != "" {
		httpError(w, http.StatusBadRequest, "Failed to validate scheduler::Call: "+msg)
		return
	}
	if call.Type == scheduler.Call_SUBSCRIBE {
		h.subscribe(w, r, call)
		return
	}
	code, msg := m.call(call, r.Header.Get(headerStreamID))
	if code >= 300 {
		httpError(w, code, msg)
		return
	}
	w.WriteHeader(code)
}

func (h schedulerHandler) subscribe(w http.ResponseWriter, r *http.Request, call *scheduler.Call) {
	m := h.m
	out, ok := subscribeCodec(r.Header.Get("Accept"))
	if !ok {
		httpError(w, http.StatusNotAcceptable, "Expecting 'Accept' to allow 'application/x-protobuf' or 'application/json'")
		return
	}
	if r.Header.Get(headerStreamID) != "" {
		httpError(w, http.StatusBadRequest, "Subscribe calls should not include the 'Mesos-Stream-Id' header")
		return
	}
	s := newStream(m.newUUIDString(), out, m.log.Named("stream"))
	w.Header().Set("Content-Type", string(out))
	w.Header().Set(headerStreamID, s.id)
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	fw, errMsg := m.subscribe(*call.Subscribe.FrameworkInfo, call.Subscribe.SuppressedRoles, s)
	if errMsg != "" {
		s.send(&scheduler.Event{Type: scheduler.Event_ERROR, Error: &scheduler.Event_Error{Message: errMsg}})
		s.close()
	}
	if gone := s.serve(r.Context(), w, m.cfg.HeartbeatInterval); gone && fw != nil {
		m.disconnected(fw, s)
	}
}

// call dispatches a non-SUBSCRIBE call; it returns the HTTP status and, for
// errors, the message.
func (m *master) call(call *scheduler.Call, streamID string) (int, string) {
	m.mu.Lock()
	defer m.unlock()
	fwID := call.FrameworkID.GetValue()
	fw := m.frameworks[fwID]
	if fw == nil {
		return http.StatusBadRequest, "Framework cannot be found"
	}
	if fw.stream == nil {
		return http.StatusForbidden, "Framework is not subscribed"
	}
	if streamID == "" {
		return http.StatusBadRequest, "All non-subscribe calls should include the 'Mesos-Stream-Id' header"
	}
	if streamID != fw.stream.id {
		return http.StatusBadRequest, fmt.Sprintf("The stream ID '%s' included in this request didn't match the stream ID currently associated with framework ID %s", streamID, fwID)
	}
	switch call.Type {
	case scheduler.Call_TEARDOWN:
		m.removeFramework(fw)
	case scheduler.Call_ACCEPT:
		m.accept(fw, call.Accept)
	case scheduler.Call_DECLINE:
		m.decline(fw, call.Decline)
	case scheduler.Call_REVIVE:
		m.revive(fw, call.GetRevive().GetRoles())
	case scheduler.Call_SUPPRESS:
		m.suppress(fw, call.GetSuppress().GetRoles())
	case scheduler.Call_KILL:
		m.kill(fw, call.Kill)
	case scheduler.Call_SHUTDOWN:
		m.shutdownExecutor(fw, call.Shutdown)
	case scheduler.Call_ACKNOWLEDGE:
		m.acknowledge(fw, call.Acknowledge.TaskID.Value, call.Acknowledge.UUID)
	case scheduler.Call_RECONCILE:
		m.reconcile(fw, call.Reconcile)
	case scheduler.Call_MESSAGE:
		m.message(fw, call.Message)
	case scheduler.Call_REQUEST, scheduler.Call_ACCEPT_INVERSE_OFFERS, scheduler.Call_DECLINE_INVERSE_OFFERS,
		scheduler.Call_ACKNOWLEDGE_OPERATION_STATUS, scheduler.Call_RECONCILE_OPERATIONS:
		// Accepted and ignored: this cluster has no inverse offers, operations or
		// resource requests to act on.
	case scheduler.Call_UPDATE_FRAMEWORK:
		return m.updateFramework(fw, call.UpdateFramework)
	default:
		return http.StatusBadRequest, "Unknown call type"
	}
	return http.StatusAccepted, ""
}

// validateCall applies the structural checks of Mesos' scheduler call
// validation: the type's field must be present, and so must framework_id.
func validateCall(c *scheduler.Call) string {
	if c.Type == scheduler.Call_UNKNOWN {
		return "Expecting 'type' to be present"
	}
	if c.Type == scheduler.Call_SUBSCRIBE {
		if c.Subscribe == nil {
			return "Expecting 'subscribe' to be present"
		}
		if c.Subscribe.FrameworkInfo == nil {
			return "Expecting 'subscribe.framework_info' to be present"
		}
		if c.Subscribe.FrameworkInfo.GetID().GetValue() != c.FrameworkID.GetValue() {
			return "'framework_id' differs from 'subscribe.framework_info.id'"
		}
		return ""
	}
	if c.FrameworkID == nil || c.FrameworkID.Value == "" {
		return "Expecting 'framework_id' to be present"
	}
	if fieldMissing(c) {
		return fmt.Sprintf("Expecting '%s' to be present", lowerCallName(c.Type))
	}
	if c.Type == scheduler.Call_ACKNOWLEDGE && len(c.Acknowledge.UUID) != 16 {
		return "Not a valid UUID"
	}
	if c.Type == scheduler.Call_UPDATE_FRAMEWORK && c.UpdateFramework.FrameworkInfo.GetID().GetValue() != c.FrameworkID.Value {
		return "'framework_id' differs from 'update_framework.framework_info.id'"
	}
	return ""
}

// fieldMissing reports whether the call lacks the field its type needs.
func fieldMissing(c *scheduler.Call) bool {
	switch c.Type {
	case scheduler.Call_ACCEPT:
		return c.Accept == nil
	case scheduler.Call_DECLINE:
		return c.Decline == nil
	case scheduler.Call_KILL:
		return c.Kill == nil
	case scheduler.Call_SHUTDOWN:
		return c.Shutdown == nil
	case scheduler.Call_ACKNOWLEDGE:
		return c.Acknowledge == nil
	case scheduler.Call_RECONCILE:
		return c.Reconcile == nil
	case scheduler.Call_MESSAGE:
		return c.Message == nil
	case scheduler.Call_ACCEPT_INVERSE_OFFERS:
		return c.AcceptInverseOffers == nil
	case scheduler.Call_DECLINE_INVERSE_OFFERS:
		return c.DeclineInverseOffers == nil
	case scheduler.Call_ACKNOWLEDGE_OPERATION_STATUS:
		return c.AcknowledgeOperationStatus == nil
	case scheduler.Call_RECONCILE_OPERATIONS:
		return c.ReconcileOperations == nil
	case scheduler.Call_REQUEST:
		return c.Request == nil
	case scheduler.Call_UPDATE_FRAMEWORK:
		return c.UpdateFramework == nil
	}
	return false
}

func lowerCallName(t scheduler.Call_Type) string {
	b := []byte(t.String())
	for i, ch := range b {
		if ch >= 'A' && ch <= 'Z' {
			b[i] = ch + 'a' - 'A'
		}
	}
	return string(b)
}

func (m *master) authenticated(r *http.Request) bool {
	creds := m.cfg.Credentials
	if creds == nil {
		return true
	}
	user, pass, ok := r.BasicAuth()
	return ok && subtle.ConstantTimeCompare([]byte(user), []byte(creds.Principal)) == 1 &&
		subtle.ConstantTimeCompare([]byte(pass), []byte(creds.Secret)) == 1
}

// leaderAddr returns the leading master's address and whether index leads.
func (m *master) leaderAddr(index int) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.addrs[m.leader], m.leader == index
}

func httpError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, msg)
}
