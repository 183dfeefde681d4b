package prober

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

// fakeAgent speaks the agent side of the v1 executor API over loopback
// HTTP: SUBSCRIBE gets a RecordIO stream of protobuf events (SUBSCRIBED
// first, then whatever the test pushes), other calls get 202 Accepted.
type fakeAgent struct {
	t   *testing.T
	srv *httptest.Server

	// events are written to the current stream, in order.
	events chan *executor.Event
	// drop makes the current stream end (an agent restart).
	drop chan struct{}
	// subscribes and updates receive the calls the executor made.
	subscribes chan *executor.Call
	updates    chan executor.Call_Update

	mu      sync.Mutex
	autoAck bool
	down    bool // answer 503 to everything
}

func newFakeAgent(t *testing.T) *fakeAgent {
	a := &fakeAgent{
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

// endpoint is host:port, as in MESOS_AGENT_ENDPOINT.
func (a *fakeAgent) endpoint() string { return strings.TrimPrefix(a.srv.URL, "http://") }

func (a *fakeAgent) setAutoAck(b bool) { a.mu.Lock(); a.autoAck = b; a.mu.Unlock() }
func (a *fakeAgent) setDown(b bool)    { a.mu.Lock(); a.down = b; a.mu.Unlock() }

func (a *fakeAgent) serve(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	down, autoAck := a.down, a.autoAck
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
	if call.FrameworkID.Value != "fw-1" || call.ExecutorID.Value != "exec-1" {
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

func (a *fakeAgent) stream(w http.ResponseWriter, r *http.Request) {
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
		ExecutorInfo:  mesos.ExecutorInfo{ExecutorID: mesos.ExecutorID{Value: "exec-1"}},
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

func (a *fakeAgent) send(e *executor.Event) { a.events <- e }

func (a *fakeAgent) launch(taskID string) {
	a.send(&executor.Event{Type: executor.Event_LAUNCH, Launch: &executor.Event_Launch{Task: mesos.TaskInfo{
		Name: "prober", TaskID: mesos.TaskID{Value: taskID}, AgentID: mesos.AgentID{Value: "agent-1"},
	}}})
}

func (a *fakeAgent) kill(taskID string) {
	a.send(&executor.Event{Type: executor.Event_KILL, Kill: &executor.Event_Kill{TaskID: mesos.TaskID{Value: taskID}}})
}

func (a *fakeAgent) message(data string) {
	a.send(&executor.Event{Type: executor.Event_MESSAGE, Message: &executor.Event_Message{Data: []byte(data)}})
}

func (a *fakeAgent) ack(u executor.Call_Update) {
	a.send(&executor.Event{Type: executor.Event_ACKNOWLEDGED,
		Acknowledged: &executor.Event_Acknowledged{TaskID: u.Status.TaskID, UUID: u.Status.UUID}})
}

// nextUpdate waits for the executor's next status update.
func (a *fakeAgent) nextUpdate(limit time.Duration) executor.Call_Update {
	a.t.Helper()
	select {
	case u := <-a.updates:
		return u
	case <-time.After(limit):
		a.t.Fatalf("no status update within %v", limit)
		return executor.Call_Update{}
	}
}

// nextSubscribe waits for the executor's next SUBSCRIBE.
func (a *fakeAgent) nextSubscribe(limit time.Duration) *executor.Call {
	a.t.Helper()
	select {
	case c := <-a.subscribes:
		return c
	case <-time.After(limit):
		a.t.Fatalf("no SUBSCRIBE within %v", limit)
		return nil
	}
}
