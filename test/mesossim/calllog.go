package mesossim

import (
	"bytes"
	"encoding/json"
	"io"
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
	// TaskID is the task a KILL names.
	TaskID string `json:"task_id,omitempty"`
	Status int    `json:"status"` // the HTTP answer (0 until it is given)
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

// wrap records each request h serves.
func (l *callLog) wrap(master int, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, maxCallBytes))
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := &CallRecord{Time: time.Now(), Master: master, Stream: r.Header.Get(headerStreamID)}
		if c, ok := requestCodec(r.Header.Get("Content-Type")); ok {
			if call, msg := c.decodeCall(body); msg == "" {
				rec.Type = call.GetType().String()
				rec.FrameworkID = call.GetFrameworkID().GetValue()
				switch call.GetType() {
				case scheduler.Call_SUBSCRIBE:
					fi := call.GetSubscribe().GetFrameworkInfo()
					rec.WebUIURL, rec.Hostname = fi.GetWebUiURL(), fi.GetHostname()
				case scheduler.Call_KILL:
					if k := call.GetKill(); k != nil {
						rec.TaskID = k.TaskID.Value
					}
				}
			}
		}
		l.mu.Lock()
		l.seq++
		rec.Seq = l.seq
		if len(l.records) >= callLogMax {
			l.records = append(l.records[:0], l.records[len(l.records)/2:]...)
			l.truncated = true
		}
		l.records = append(l.records, rec)
		l.mu.Unlock()
		h.ServeHTTP(&recordingWriter{ResponseWriter: w, log: l, rec: rec}, r)
	})
}

// recordingWriter notes the status (and a SUBSCRIBE's stream ID) when the
// answer starts.
type recordingWriter struct {
	http.ResponseWriter
	log  *callLog
	rec  *CallRecord
	done bool
}

func (w *recordingWriter) WriteHeader(code int) {
	if !w.done {
		w.done = true
		w.log.mu.Lock()
		w.rec.Status = code
		if id := w.Header().Get(headerStreamID); id != "" && w.rec.Stream == "" {
			w.rec.Stream = id
		}
		w.log.mu.Unlock()
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recordingWriter) Write(b []byte) (int, error) {
	if !w.done {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Flush keeps the SUBSCRIBE stream flowing.
func (w *recordingWriter) Flush() {
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
