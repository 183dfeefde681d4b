package actuate

import (
	"fmt"
	"time"

	"github.com/quobyte/quobyte-mesos/controller"
)

// Report says what one Apply did, for logs, the observer, metrics and
// tests. Its controller.ApplyReport (failed actions, other errors, when to
// plan again) is what Apply returns to the loop.
type Report struct {
	controller.ApplyReport
	// Generation of the plan's snapshot.
	Generation uint64 `json:"generation"`
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
	return TaskRef{TaskID: a.TaskID, AgentID: a.AgentID, Hostname: a.Hostname, Item: a.Item(), Reason: a.Reason()}
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
	if len(r.Failed) > 0 {
		s += fmt.Sprintf(", %d failed", len(r.Failed))
	}
	if len(r.Errors) > 0 {
		s += fmt.Sprintf(", %d other errors", len(r.Errors))
	}
	return s
}
