package mesossim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// CallRecord is one request to a master's scheduler API, as it arrived:
// which subscription (stream) sent it and how it was answered. A SUBSCRIBE's
// Stream is the stream it opened; any other call's is the Mesos-Stream-Id it
// carried, so every call can be traced to the SUBSCRIBE (and the scheduler
// instance, by WebUIURL) whose stream it used, even a call the master
// refused for a stale stream ID.
type CallRecord struct {
	Seq         int       `json:"seq"` // order of arrival, from 1
	Time        time.Time `json:"time"`
	Master      int       `json:"master"` // index of the master that got it
	Type        string    `json:"type"`   // SUBSCRIBE, ACCEPT, KILL, ...; "" if undecodable
	FrameworkID string    `json:"framework_id,omitempty"`
	Stream      string    `json:"stream,omitempty"`
	// WebUIURL and Hostname are the SUBSCRIBE's FrameworkInfo fields that
	// tell scheduler instances apart.
	WebUIURL string `json:"webui_url,omitempty"`
	Hostname string `json:"hostname,omitempty"`
	// TaskIDs are the task a KILL names, or the tasks an ACCEPT launches
	// (LAUNCH and LAUNCH_GROUP), so that a test can tell which task a
	// scheduler tried to kill or start, and when.
	TaskIDs []string `json:"task_ids,omitempty"`
	Status  int      `json:"status"` // the HTTP answer (0 until it is given)
}

// callLogMax bounds the log; older records are dropped (Truncated says so).
const callLogMax = 100000

// callLog records every scheduler API request (GET /debug/calls serves it).
// The zero value is ready to use.
type callLog struct {
	mu        sync.Mutex
	seq       int
	records   []*CallRecord
	truncated bool
}

// Calls returns every recorded scheduler call with a sequence number above
// after, in order of arrival.
func (c *Cluster) Calls(after int) []CallRecord { return c.calls.since(after) }

func (l *callLog) since(after int) []CallRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := []CallRecord{}
	for _, r := range l.records {
		if r.Seq > after {
			out = append(out, *r)
		}
	}
	return out
}

// record logs a request as it arrived; call is nil when it did not decode.
func (l *callLog) record(master int, r *http.Request, call *scheduler.Call) *CallRecord {
	rec := &CallRecord{Time: time.Now(), Master: master, Stream: r.Header.Get(headerStreamID)}
	if call != nil {
		rec.Type = call.GetType().String()
		rec.FrameworkID = call.GetFrameworkID().GetValue()
		switch call.GetType() {
		case scheduler.Call_SUBSCRIBE:
			fi := call.GetSubscribe().GetFrameworkInfo()
			rec.WebUIURL, rec.Hostname = fi.GetWebUiURL(), fi.GetHostname()
		case scheduler.Call_KILL:
			if k := call.GetKill(); k != nil { // nil: refused later as malformed
				rec.TaskIDs = []string{k.TaskID.Value}
			}
		case scheduler.Call_ACCEPT:
			rec.TaskIDs = launchedTasks(call.GetAccept())
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	rec.Seq = l.seq
	if len(l.records) >= callLogMax {
		l.records = append(l.records[:0], l.records[len(l.records)/2:]...)
		l.truncated = true
	}
	l.records = append(l.records, rec)
	return rec
}

// launchedTasks lists the IDs of the tasks an ACCEPT launches.
func launchedTasks(a *scheduler.Call_Accept) []string {
	var ids []string
	for _, op := range a.GetOperations() {
		for _, t := range op.GetLaunch().GetTaskInfos() {
			ids = append(ids, t.TaskID.Value)
		}
		for _, t := range op.GetLaunchGroup().GetTaskGroup().Tasks {
			ids = append(ids, t.TaskID.Value)
		}
	}
	return ids
}

// answerWriter notes how a call was answered: the status (and a
// SUBSCRIBE's stream ID) in its call record when the answer starts, and
// the start of an error answer's body, for the refusal count.
type answerWriter struct {
	http.ResponseWriter
	log    *callLog
	rec    *CallRecord
	status int
	body   bytes.Buffer
}

func (w *answerWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
		w.log.mu.Lock()
		w.rec.Status = code
		if id := w.Header().Get(headerStreamID); id != "" && w.rec.Stream == "" {
			w.rec.Stream = id
		}
		w.log.mu.Unlock()
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *answerWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.status >= 400 && w.body.Len() < 4096 {
		w.body.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

// Flush keeps the SUBSCRIBE stream flowing.
func (w *answerWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// serve is GET /debug/calls[?after=N]: {"calls": [...], "truncated": bool}.
func (l *callLog) serve(w http.ResponseWriter, r *http.Request) {
	after, _ := strconv.Atoi(r.URL.Query().Get("after"))
	calls := l.since(after)
	l.mu.Lock()
	truncated := l.truncated
	l.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"calls": calls, "truncated": truncated})
}
