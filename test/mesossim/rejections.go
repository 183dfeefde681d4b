package mesossim

import (
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// Rejection is a scheduler call, or a task or offer set inside an ACCEPT,
// that the master refused.
type Rejection struct {
	Time time.Time `json:"time"`
	Call string    `json:"call"` // SUBSCRIBE, ACCEPT, ...; "" if undecodable
	// Status is the HTTP answer; 0 for a task or offer set refused inside
	// an accepted ACCEPT (TASK_ERROR, TASK_DROPPED).
	Status  int    `json:"status"`
	Message string `json:"message"`
	// Invalid: a master refuses such a call whenever it comes (malformed,
	// failing validation, an invalid task, an offer used twice or not the
	// framework's). Otherwise it was refused for its timing: the
	// framework is not (or no longer) subscribed, the stream ID is stale,
	// the offer was rescinded meanwhile. A correct framework sends no
	// invalid call; it cannot avoid every stale one.
	Invalid bool `json:"invalid"`
}

// Rejections counts the master's refusals since the start.
type Rejections struct {
	Invalid int `json:"invalid"`
	Stale   int `json:"stale"`
	// Recent are the last refusals, oldest first (at most rejectionsKept).
	Recent []Rejection `json:"recent"`
}

const (
	rejectionsKept = 50
	// usedOffersKept bounds the memory of offers consumed by ACCEPT or
	// DECLINE (to tell an offer used twice from one rescinded).
	usedOffersKept = 100000
)

// rejectionLog records refusals. The zero value is ready to use.
type rejectionLog struct {
	mu     sync.Mutex
	counts Rejections
	used   map[string]bool
}

// Rejections returns the refusals counted so far.
func (c *Cluster) Rejections() Rejections {
	l := &c.m.rejects
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.counts
	out.Recent = append([]Rejection(nil), l.counts.Recent...)
	return out
}

func (l *rejectionLog) note(r Rejection) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if r.Time.IsZero() {
		r.Time = time.Now()
	}
	if r.Invalid {
		l.counts.Invalid++
	} else {
		l.counts.Stale++
	}
	l.counts.Recent = append(l.counts.Recent, r)
	if n := len(l.counts.Recent); n > rejectionsKept {
		l.counts.Recent = append([]Rejection(nil), l.counts.Recent[n-rejectionsKept:]...)
	}
}

// offerUsed remembers an offer consumed by ACCEPT or DECLINE.
func (l *rejectionLog) offerUsed(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.used == nil || len(l.used) >= usedOffersKept {
		l.used = map[string]bool{}
	}
	l.used[id] = true
}

func (l *rejectionLog) wasUsed(id string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.used[id]
}

// acceptRefused records an ACCEPT whose offers the master refused
// (its tasks were dropped): invalid unless the offer merely vanished
// (rescinded, or gone with its agent or the connection) without having
// been used.
func (l *rejectionLog) acceptRefused(offerErr string, missing []string) {
	invalid := true
	if strings.HasSuffix(offerErr, "is no longer valid") {
		invalid = false
		for _, id := range missing {
			invalid = invalid || l.wasUsed(id)
		}
		if invalid {
			offerErr += " (it was used before)"
		}
	}
	l.note(Rejection{Call: "ACCEPT", Message: offerErr, Invalid: invalid})
}

// refused records a call answered with an error status (a redirect is no
// refusal); call is nil when it did not decode. Stale: 403, a stream ID
// that is no longer the framework's, a framework the master does not know
// (yet, after a failover).
func (l *rejectionLog) refused(call *scheduler.Call, status int, body string) {
	name := ""
	if call != nil {
		name = call.GetType().String()
	}
	msg := strings.TrimSpace(body)
	stale := status == http.StatusForbidden || strings.Contains(msg, "didn't match the stream ID") ||
		msg == "Framework cannot be found"
	l.note(Rejection{Call: name, Status: status, Message: msg, Invalid: !stale})
}
