// Package events keeps what happened to the cluster, as an operator would
// tell it: launches, kills, task failures with Mesos' reason and message,
// spec reloads, device and reachability changes, the subscription and the
// leadership. The log is in memory and bounded (the oldest events go
// first); it is served at /v1/events and shown on the dashboard.
//
// The framework's composition root adds events where things happen (Add is
// safe for concurrent use and quick: callers hold their own locks).
// Changes derives the device and reachability events from two snapshots.
package events

import (
	"strconv"
	"sync"
	"time"
)

// Type says what kind of thing happened.
type Type string

// Event types.
const (
	Launch       Type = "launch"        // a task was sent to Mesos (ACCEPT taken)
	Kill         Type = "kill"          // a KILL was sent
	Failure      Type = "failure"       // a task of ours ended on its own, or Mesos killed it
	ApplyError   Type = "apply-error"   // an action of the plan could not be carried out
	Reload       Type = "reload"        // the spec was (re)loaded
	ReloadFailed Type = "reload-failed" // a reload was refused; the old spec stays
	Device       Type = "device"        // a prober found a device, or lost one
	Agent        Type = "agent"         // an agent became unreachable, or reachable again
	Subscription Type = "subscription"  // the Mesos subscription changed state
	Leadership   Type = "leadership"    // this instance won or lost the leadership
)

// Warning reports whether events of type t tell of something going wrong.
func (t Type) Warning() bool {
	switch t {
	case Failure, ApplyError, ReloadFailed:
		return true
	}
	return false
}

// Event is one thing that happened.
type Event struct {
	// Seq numbers the events of one log from 1, without gaps.
	Seq  uint64    `json:"seq"`
	Time time.Time `json:"time"`
	Type Type      `json:"type"`
	// Warning: something went wrong (a failure, a refused reload, an agent
	// out of sight, leadership lost).
	Warning bool   `json:"warning,omitempty"`
	Host    string `json:"host,omitempty"`
	Kind    string `json:"kind,omitempty"`
	TaskID  string `json:"task_id,omitempty"`
	// State is a failed task's Mesos state (FAILED, KILLED, ...).
	State string `json:"state,omitempty"`
	// Text says what happened in one line.
	Text string `json:"text"`
	// Reason is why: the plan's reason for a launch or kill, Mesos' reason
	// (REASON_...) for a failure.
	Reason string `json:"reason,omitempty"`
	// Message is Mesos' message of a failure, a refused reload's
	// diagnostics (with file:line:column), a reload's changes.
	Message string `json:"message,omitempty"`
}

// DefaultCapacity is how many events a log keeps.
const DefaultCapacity = 1000

// Log is a bounded in-memory event log. The zero value is not usable: use
// NewLog.
type Log struct {
	now func() time.Time
	// id names this log (its start time): a client that follows one
	// instance's log sees when it is another's.
	id string

	mu   sync.Mutex
	ring []Event // ring[(seq-1) % cap] holds event seq
	last uint64  // the newest event's Seq (0: none yet)
}

// NewLog returns a log keeping the newest capacity events (DefaultCapacity
// when capacity <= 0), stamping them with now (default time.Now).
func NewLog(capacity int, now func() time.Time) *Log {
	if capacity <= 0 {
		capacity = DefaultCapacity
	}
	if now == nil {
		now = time.Now
	}
	return &Log{now: now, id: strconv.FormatInt(now().UnixNano(), 36), ring: make([]Event, capacity)}
}

// Add appends e, numbered and stamped with the time (unless e has one).
// A nil Log drops it, so that parts built without a log need no checks.
func (l *Log) Add(e Event) {
	l.AddN(1, func(int) Event { return e })
}

// AddN appends n events, the ith built by event(i), numbered in order
// and stamped as by Add. Only those the log can keep are built: an apply
// of a fresh cluster launches tens of thousands of tasks, of which a log
// of 1,000 would keep the last (formatting the others cost the loop 20 ms
// before its next plan at 10,000 agents); the others count in Seq as
// events dropped from the log, as if added and pushed out. A nil Log
// drops them.
func (l *Log) AddN(n int, event func(i int) Event) {
	if l == nil || n <= 0 {
		return
	}
	skip := max(n-len(l.ring), 0)
	now := l.now()
	built := make([]Event, 0, n-skip)
	for i := skip; i < n; i++ {
		e := event(i)
		if e.Time.IsZero() {
			e.Time = now
		}
		e.Warning = e.Warning || e.Type.Warning()
		built = append(built, e)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.last += uint64(skip)
	for _, e := range built {
		l.last++
		e.Seq = l.last
		l.ring[(e.Seq-1)%uint64(len(l.ring))] = e
	}
}

// Page is a part of the log.
type Page struct {
	// Log names the log: when it changes (a restart, another instance
	// leads), sequence numbers start again.
	Log string `json:"log"`
	// Events are oldest first.
	Events []Event `json:"events"`
	// Last is the newest event's Seq (0: none yet): ask for After=Last next.
	Last uint64 `json:"last"`
	// Oldest is the oldest Seq the log still holds.
	Oldest uint64 `json:"oldest"`
	// Missed counts the events after the one asked for that are not in
	// Events: dropped from the log (it is bounded), or beyond the limit.
	Missed uint64 `json:"missed,omitempty"`
}

// After returns the events numbered after seq, oldest first: at most limit
// of them, the newest (limit <= 0: every one the log holds). A seq beyond
// the newest event is of another log (the framework restarted, or another
// instance leads now): the page then starts from the oldest event, and its
// Last is below seq.
func (l *Log) After(seq uint64, limit int) Page {
	l.mu.Lock()
	defer l.mu.Unlock()
	p := Page{Log: l.id, Events: []Event{}, Last: l.last}
	if l.last == 0 {
		return p
	}
	if seq > l.last {
		seq = 0
	}
	size := uint64(len(l.ring))
	p.Oldest = 1
	if l.last > size {
		p.Oldest = l.last - size + 1
	}
	from := max(seq+1, p.Oldest)
	if limit > 0 && l.last-from+1 > uint64(limit) {
		from = l.last - uint64(limit) + 1
	}
	p.Missed = from - (seq + 1)
	for s := from; s <= l.last; s++ {
		p.Events = append(p.Events, l.ring[(s-1)%size])
	}
	return p
}
