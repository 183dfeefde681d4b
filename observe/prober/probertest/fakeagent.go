package probertest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/executor"
)

// FrameworkID and ExecutorID are the IDs the fake agent expects in every
// call; calls with others get 400.
const (
	FrameworkID = "fw-1"
	ExecutorID  = "exec-1"
)

// Agent speaks the agent side of the v1 executor API over loopback HTTP:
// SUBSCRIBE gets a RecordIO stream of protobuf events (SUBSCRIBED first,
// then whatever the test pushes), other calls get 202 Accepted. By default
// it acknowledges every update at once.
type Agent struct {
	t   testing.TB
	srv *httptest.Server

	// events are written to the current stream, in order.
	events chan *executor.Event
	// drop makes the current stream end (an agent restart).
	drop chan struct{}
	// subscribes and updates receive the calls the executor made.
	subscribes chan *executor.Call
	updates    chan executor.Call_Update

	mu         sync.Mutex
	autoAck    bool
	down       bool // answer 503 to everything
	authHeader string
}

// NewAgent starts a fake agent on loopback; it stops when the test ends.
func NewAgent(t testing.TB) *Agent {
	a := &Agent{
		t:          t,
		events:     make(chan *executor.Event, 100),
		drop:       make(chan struct{}, 1),
		subscribes: make(chan *executor.Call, 100),
		updates:    make(chan executor.Call_Update, 100),
		autoAck:    true,
	}
	a.srv = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.srv.Close)
	return a
}

// Endpoint is host:port, as in MESOS_AGENT_ENDPOINT.
func (a *Agent) Endpoint() string { return strings.TrimPrefix(a.srv.URL, "http://") }

// SetAutoAck turns the immediate acknowledgement of updates on or off.
func (a *Agent) SetAutoAck(b bool) { a.mu.Lock(); a.autoAck = b; a.mu.Unlock() }

// SetDown makes the agent answer 503 to every new request (a restarting
// agent); an open event stream stays open until Drop.
func (a *Agent) SetDown(b bool) { a.mu.Lock(); a.down = b; a.mu.Unlock() }

// AuthHeader returns the Authorization header of the last call.
func (a *Agent) AuthHeader() string { a.mu.Lock(); defer a.mu.Unlock(); return a.authHeader }

// Drop ends the current event stream, as an agent restart does.
func (a *Agent) Drop() { a.drop <- struct{}{} }

func (a *Agent) serve(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	down, autoAck := a.down, a.autoAck
	a.authHeader = r.Header.Get("Authorization")
	a.mu.Unlock()
	if down {
		http.Error(w, "agent recovering", http.StatusServiceUnavailable)
		return
	}
	if r.URL.Path != "/api/v1/executor" || r.Method != http.MethodPost {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-protobuf" {
		http.Error(w, "want protobuf, got "+ct, http.StatusUnsupportedMediaType)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	call := new(executor.Call)
	if err := call.Unmarshal(body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if call.FrameworkID.Value != FrameworkID || call.ExecutorID.Value != ExecutorID {
		http.Error(w, "wrong framework or executor id", http.StatusBadRequest)
		return
	}
	switch call.GetType() {
	case executor.Call_SUBSCRIBE:
		a.subscribes <- call
		a.stream(w, r)
	case executor.Call_UPDATE:
		u := *call.Update
		a.updates <- u
		w.WriteHeader(http.StatusAccepted)
		if autoAck {
			a.events <- &executor.Event{Type: executor.Event_ACKNOWLEDGED,
				Acknowledged: &executor.Event_Acknowledged{TaskID: u.Status.TaskID, UUID: u.Status.UUID}}
		}
	default:
		w.WriteHeader(http.StatusAccepted)
	}
}

func (a *Agent) stream(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK)
	flusher := w.(http.Flusher)
	write := func(e *executor.Event) bool {
		b, err := e.Marshal()
		if err != nil {
			a.t.Errorf("marshal event: %v", err)
			return false
		}
		if _, err := fmt.Fprintf(w, "%d\n%s", len(b), b); err != nil {
			return false
		}
		flusher.Flush()
		return true
	}
	if !write(&executor.Event{Type: executor.Event_SUBSCRIBED, Subscribed: &executor.Event_Subscribed{
		ExecutorInfo:  mesos.ExecutorInfo{ExecutorID: mesos.ExecutorID{Value: ExecutorID}},
		FrameworkInfo: mesos.FrameworkInfo{User: "root", Name: "quobyte"},
		AgentInfo:     mesos.AgentInfo{Hostname: "agent1"},
	}}) {
		return
	}
	for {
		select {
		case e := <-a.events:
			if !write(e) {
				return
			}
		case <-a.drop:
			return
		case <-r.Context().Done():
			return
		}
	}
}

// Send writes an event to the current (or next) event stream.
func (a *Agent) Send(e *executor.Event) { a.events <- e }

// Launch sends LAUNCH of a task with the given ID.
func (a *Agent) Launch(taskID string) {
	a.Send(&executor.Event{Type: executor.Event_LAUNCH, Launch: &executor.Event_Launch{Task: mesos.TaskInfo{
		Name: "prober", TaskID: mesos.TaskID{Value: taskID}, AgentID: mesos.AgentID{Value: "agent-1"},
	}}})
}

// Kill sends KILL of a task.
func (a *Agent) Kill(taskID string) {
	a.Send(&executor.Event{Type: executor.Event_KILL, Kill: &executor.Event_Kill{TaskID: mesos.TaskID{Value: taskID}}})
}

// Message sends a framework message.
func (a *Agent) Message(data string) {
	a.Send(&executor.Event{Type: executor.Event_MESSAGE, Message: &executor.Event_Message{Data: []byte(data)}})
}

// Shutdown sends SHUTDOWN.
func (a *Agent) Shutdown() { a.Send(&executor.Event{Type: executor.Event_SHUTDOWN}) }

// Ack acknowledges an update.
func (a *Agent) Ack(u executor.Call_Update) {
	a.Send(&executor.Event{Type: executor.Event_ACKNOWLEDGED,
		Acknowledged: &executor.Event_Acknowledged{TaskID: u.Status.TaskID, UUID: u.Status.UUID}})
}

// NextUpdate waits for the executor's next status update; the test fails
// if none comes within limit.
func (a *Agent) NextUpdate(limit time.Duration) executor.Call_Update {
	a.t.Helper()
	select {
	case u := <-a.updates:
		return u
	case <-time.After(limit):
		a.t.Fatalf("no status update within %v", limit)
		return executor.Call_Update{}
	}
}

// NextSubscribe waits for the executor's next SUBSCRIBE call.
func (a *Agent) NextSubscribe(limit time.Duration) *executor.Call {
	a.t.Helper()
	select {
	case c := <-a.subscribes:
		return c
	case <-time.After(limit):
		a.t.Fatalf("no SUBSCRIBE within %v", limit)
		return nil
	}
}
