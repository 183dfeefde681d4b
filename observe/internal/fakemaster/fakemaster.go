// Package fakemaster is a minimal Mesos master for the observe tests: it
// speaks the v1 scheduler HTTP API with the protobuf codec (SUBSCRIBE as a
// RecordIO stream, other calls answered 202), can play a non-leading master
// (307 to another), drop streams, stay silent, and reject chosen call types.
// It checks nothing beyond what the tests need; the full simulator lives in
// test/mesossim.
package fakemaster

import (
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// Master is a fake Mesos master.
type Master struct {
	srv *httptest.Server

	mu          sync.Mutex
	redirectTo  *Master // non-nil: not leading, 307 to this one
	heartbeat   time.Duration
	silent      bool
	fail        map[scheduler.Call_Type]int // status code per call type
	stream      *stream
	nextID      int
	streams     int
	calls       []*scheduler.Call
	subscribes  []*scheduler.Call
	authHeaders []string
	onSubscribe func(*scheduler.Call) []*scheduler.Event
	frameworkID string
}

type stream struct {
	id     string
	events chan *scheduler.Event
	done   chan struct{}
	once   sync.Once
}

func (s *stream) close() { s.once.Do(func() { close(s.done) }) }

// Start runs a fake master until the test ends. heartbeat 0 sends none.
func Start(t testing.TB, heartbeat time.Duration) *Master {
	return start(t, heartbeat, false)
}

// StartTLS runs a fake master serving https with a certificate for
// 127.0.0.1; CAPEM returns the certificate to trust.
func StartTLS(t testing.TB, heartbeat time.Duration) *Master {
	return start(t, heartbeat, true)
}

// CAPEM returns the PEM of a TLS master's certificate (nil for plain http).
func (m *Master) CAPEM() []byte {
	if m.srv.Certificate() == nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: m.srv.Certificate().Raw})
}

func start(t testing.TB, heartbeat time.Duration, tls bool) *Master {
	m := &Master{heartbeat: heartbeat, fail: map[scheduler.Call_Type]int{}}
	m.srv = httptest.NewUnstartedServer(http.HandlerFunc(m.serve))
	if tls {
		m.srv.StartTLS()
	} else {
		m.srv.Start()
	}
	t.Cleanup(func() {
		m.DropStream()
		m.srv.CloseClientConnections()
		m.srv.Close()
	})
	return m
}

// URL is the master's base URL.
func (m *Master) URL() string { return m.srv.URL }

// Host is the master's host:port.
func (m *Master) Host() string {
	return strings.TrimPrefix(strings.TrimPrefix(m.srv.URL, "http://"), "https://")
}

// RedirectTo makes m a non-leading master that answers 307 to other (nil:
// leading again).
func (m *Master) RedirectTo(other *Master) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.redirectTo = other
}

// Fail answers calls of type ct with status code (0: accept again).
func (m *Master) Fail(ct scheduler.Call_Type, code int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fail[ct] = code
}

// SetSilent stops (or resumes) heartbeats and events on the stream,
// leaving the connection open: a half-dead master.
func (m *Master) SetSilent(v bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.silent = v
}

// OnSubscribe sets a function whose events are sent right after SUBSCRIBED.
func (m *Master) OnSubscribe(f func(*scheduler.Call) []*scheduler.Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.onSubscribe = f
}

// SetFrameworkID makes m answer every SUBSCRIBE with id (as a master that
// learned the framework from its peers after a failover).
func (m *Master) SetFrameworkID(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.frameworkID = id
}

// Send queues ev on the current stream; false if there is none.
func (m *Master) Send(ev *scheduler.Event) bool {
	m.mu.Lock()
	s := m.stream
	m.mu.Unlock()
	if s == nil {
		return false
	}
	select {
	case s.events <- ev:
		return true
	case <-s.done:
		return false
	}
}

// DropStream ends the current subscription stream.
func (m *Master) DropStream() {
	m.mu.Lock()
	s := m.stream
	m.stream = nil
	m.mu.Unlock()
	if s != nil {
		s.close()
	}
}

// Streams counts subscriptions accepted.
func (m *Master) Streams() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.streams
}

// Subscribed reports whether a stream is open.
func (m *Master) Subscribed() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stream != nil
}

// Subscribes returns the SUBSCRIBE calls received (answered or redirected).
func (m *Master) Subscribes() []*scheduler.Call {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]*scheduler.Call(nil), m.subscribes...)
}

// Calls returns the non-SUBSCRIBE calls received on this master.
func (m *Master) Calls() []*scheduler.Call {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]*scheduler.Call(nil), m.calls...)
}

// AuthHeaders returns the Authorization headers of all requests.
func (m *Master) AuthHeaders() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.authHeaders...)
}

func (m *Master) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/api/v1/scheduler" || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var call scheduler.Call
	if err := call.Unmarshal(body); err != nil {
		http.Error(w, "bad call: "+err.Error(), http.StatusBadRequest)
		return
	}
	m.mu.Lock()
	m.authHeaders = append(m.authHeaders, r.Header.Get("Authorization"))
	if call.GetType() == scheduler.Call_SUBSCRIBE {
		m.subscribes = append(m.subscribes, &call)
	} else {
		m.calls = append(m.calls, &call)
	}
	redirect, code, cur := m.redirectTo, m.fail[call.GetType()], m.stream
	m.mu.Unlock()

	if redirect != nil {
		w.Header().Set("Location", "//"+redirect.Host()+"/api/v1/scheduler")
		w.WriteHeader(http.StatusTemporaryRedirect)
		return
	}
	if code != 0 {
		http.Error(w, "fake failure", code)
		return
	}
	if call.GetType() == scheduler.Call_SUBSCRIBE {
		m.subscribe(w, r, &call)
		return
	}
	if cur == nil || r.Header.Get("Mesos-Stream-Id") != cur.id {
		http.Error(w, "framework is not subscribed", http.StatusForbidden)
		return
	}
	w.WriteHeader(http.StatusAccepted)
	if call.GetType() == scheduler.Call_RECONCILE {
		go m.answerUnknown(call.GetReconcile().GetTasks())
	}
}

// answerUnknown answers the tasks of an explicit reconciliation named
// without an agent as a Mesos master with no agent to wait for does: the
// fake master knows no task, so TASK_UNKNOWN (master.cpp's case 6).
func (m *Master) answerUnknown(tasks []scheduler.Call_Reconcile_Task) {
	for _, t := range tasks {
		if t.AgentID != nil {
			continue
		}
		state, source, reason := mesos.TASK_UNKNOWN, mesos.SOURCE_MASTER, mesos.REASON_RECONCILIATION
		m.Send(&scheduler.Event{Type: scheduler.Event_UPDATE, Update: &scheduler.Event_Update{Status: mesos.TaskStatus{
			TaskID: t.TaskID, State: &state, Source: &source, Reason: &reason,
		}}})
	}
}

func (m *Master) subscribe(w http.ResponseWriter, r *http.Request, call *scheduler.Call) {
	m.mu.Lock()
	id := call.GetSubscribe().GetFrameworkInfo().GetID().GetValue()
	if m.frameworkID != "" {
		id = m.frameworkID
	}
	if id == "" {
		m.nextID++
		id = fmt.Sprintf("fw-%d", m.nextID)
	}
	m.streams++
	s := &stream{id: fmt.Sprintf("stream-%d", m.streams), events: make(chan *scheduler.Event, 64), done: make(chan struct{})}
	if old := m.stream; old != nil {
		old.close() // one subscription per framework: the newest wins
	}
	m.stream = s
	hb, extra := m.heartbeat, m.onSubscribe
	m.mu.Unlock()

	// As a Mesos master answers a client that accepts application/x-protobuf:
	// that content type, with RecordIO framing.
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Header().Set("Mesos-Stream-Id", s.id)
	w.WriteHeader(http.StatusOK)
	flusher := w.(http.Flusher)
	write := func(ev *scheduler.Event) error {
		b, err := ev.Marshal()
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "%d\n", len(b)); err != nil {
			return err
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
		flusher.Flush()
		return nil
	}
	hbSecs := 15.0
	if hb > 0 {
		hbSecs = hb.Seconds()
	}
	if write(&scheduler.Event{Type: scheduler.Event_SUBSCRIBED, Subscribed: &scheduler.Event_Subscribed{
		FrameworkID:              &mesos.FrameworkID{Value: id},
		HeartbeatIntervalSeconds: &hbSecs,
	}}) != nil {
		return
	}
	if extra != nil {
		for _, ev := range extra(call) {
			if write(ev) != nil {
				return
			}
		}
	}
	var tick <-chan time.Time
	if hb > 0 {
		t := time.NewTicker(hb)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-s.done:
			return
		case <-r.Context().Done():
			return
		case ev := <-s.events:
			if m.isSilent() {
				continue
			}
			if write(ev) != nil {
				return
			}
		case <-tick:
			if m.isSilent() {
				continue
			}
			if write(&scheduler.Event{Type: scheduler.Event_HEARTBEAT}) != nil {
				return
			}
		}
	}
}

func (m *Master) isSilent() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.silent
}
