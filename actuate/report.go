package actuate

import (
	"errors"
	"fmt"
	"time"

	"github.com/quobyte/quobyte-mesos/controller"
)

// Report says what one Apply did, for logs, the status API and tests.
type Report struct {
	// Generation of the plan's snapshot.
	Generation uint64 `json:"generation"`
	// DryRun is true when nothing was sent (Recorder).
	DryRun bool `json:"dry_run,omitempty"`
	// Launched are the tasks of every ACCEPT Mesos took.
	Launched []LaunchedTask `json:"launched,omitempty"`
	// Killed are the tasks a KILL was sent for.
	Killed []TaskRef `json:"killed,omitempty"`
	// KillsWaiting are kills sent less than KillRetryInterval ago: not
	// re-sent this time.
	KillsWaiting []TaskRef `json:"kills_waiting,omitempty"`
	// Probed are the probers asked to probe.
	Probed []TaskRef `json:"probed,omitempty"`
	// Unmatched are launches no held offer fits, with the reason.
	Unmatched []Unmatched `json:"unmatched,omitempty"`
	// Declined offer IDs; Held is how many unused offers are kept for the
	// next Apply (they arrived after this plan's snapshot may have been taken).
	Declined []string `json:"declined,omitempty"`
	Held     int      `json:"held"`
	// Revived or Suppressed: whether a REVIVE or SUPPRESS was sent.
	Revived    bool `json:"revived,omitempty"`
	Suppressed bool `json:"suppressed,omitempty"`
	// Errors of actions that failed, each with its backoff item.
	Errors []*ItemError `json:"-"`
}

// LaunchedTask is a task sent to Mesos in an ACCEPT.
type LaunchedTask struct {
	TaskID     string `json:"task_id"`
	AgentID    string `json:"agent_id"`
	Hostname   string `json:"hostname"`
	Kind       string `json:"kind"`
	ConfigHash string `json:"config_hash"`
	OfferID    string `json:"offer_id,omitempty"`
	Item       string `json:"item"`
	Reason     string `json:"reason"`
}

// TaskRef names a task an action was about.
type TaskRef struct {
	TaskID   string `json:"task_id"`
	AgentID  string `json:"agent_id"`
	Hostname string `json:"hostname"`
	Item     string `json:"item"`
	Reason   string `json:"reason"`
	// RetryIn is, for a kill not re-sent, how long until it may be.
	RetryIn time.Duration `json:"retry_in,omitempty"`
}

func taskRef(a controller.Action) TaskRef {
	return TaskRef{TaskID: a.TaskID, AgentID: a.AgentID, Hostname: a.Hostname, Item: a.Item, Reason: a.Reason}
}

// ItemError is the failure of one action; Item is the backoff item it
// belongs to, so the loop can back off that item alone.
type ItemError struct {
	Item   string
	Type   controller.ActionType
	TaskID string
	Err    error
	// Action is the action that failed.
	Action controller.Action
}

func (e *ItemError) Error() string {
	s := fmt.Sprintf("%s %s", e.Type, e.Item)
	if e.TaskID != "" {
		s += " (task " + e.TaskID + ")"
	}
	return s + ": " + e.Err.Error()
}

func (e *ItemError) Unwrap() error { return e.Err }

// ItemErrors lists every *ItemError in err, however deeply joined or wrapped.
func ItemErrors(err error) []*ItemError {
	var out []*ItemError
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		if ie, ok := e.(*ItemError); ok {
			out = append(out, ie)
			return
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}

// errorsOf joins a report's item errors and other errors into one.
func errorsOf(items []*ItemError, other []error) error {
	all := make([]error, 0, len(items)+len(other))
	for _, e := range items {
		all = append(all, e)
	}
	return errors.Join(append(all, other...)...)
}

// String sums the report up in one line, for logs.
func (r Report) String() string {
	s := fmt.Sprintf("generation %d: launched %d, killed %d (%d waiting), probed %d, unmatched %d, declined %d, held %d",
		r.Generation, len(r.Launched), len(r.Killed), len(r.KillsWaiting), len(r.Probed), len(r.Unmatched), len(r.Declined), r.Held)
	if r.Revived {
		s += ", revived"
	}
	if r.Suppressed {
		s += ", suppressed"
	}
	if len(r.Errors) > 0 {
		s += fmt.Sprintf(", %d failed", len(r.Errors))
	}
	if r.DryRun {
		s += " (dry run)"
	}
	return s
}
