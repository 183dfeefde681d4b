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
	index int
}

func (h schedulerHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
	c, ok := requestCodec(contentType)
	if !ok {
		httpError(w, http.StatusUnsupportedMediaType, "Expecting 'Content-Type' of application/json or application/x-protobuf")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxCallBytes))
	if err != nil {
		httpError(w, http.StatusBadRequest, "Failed to read request body: "+err.Error())
		return
	}
	call, msg := c.decodeCall(body)
	if msg != "" {
		httpError(w, http.StatusBadRequest, msg)
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
	missing := map[scheduler.Call_Type]bool{
		scheduler.Call_ACCEPT:      c.Accept == nil,
		scheduler.Call_DECLINE:     c.Decline == nil,
		scheduler.Call_KILL:        c.Kill == nil,
		scheduler.Call_SHUTDOWN:    c.Shutdown == nil,
		scheduler.Call_ACKNOWLEDGE: c.Acknowledge == nil,
		scheduler.Call_RECONCILE:   c.Reconcile == nil,
		scheduler.Call_MESSAGE:     c.Message == nil,

		scheduler.Call_ACCEPT_INVERSE_OFFERS:        c.AcceptInverseOffers == nil,
		scheduler.Call_DECLINE_INVERSE_OFFERS:       c.DeclineInverseOffers == nil,
		scheduler.Call_ACKNOWLEDGE_OPERATION_STATUS: c.AcknowledgeOperationStatus == nil,
		scheduler.Call_RECONCILE_OPERATIONS:         c.ReconcileOperations == nil,
		scheduler.Call_REQUEST:                      c.Request == nil,
		scheduler.Call_UPDATE_FRAMEWORK:             c.UpdateFramework == nil,
	}
	if missing[c.Type] {
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
