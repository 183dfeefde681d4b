package controller

import (
	"time"

	"github.com/quobyte/quobyte-mesos/spec"
)

// ActionType says what an Action asks the actuator to do.
type ActionType string

// Action types.
const (
	// LaunchProber starts the prober executor on an agent.
	LaunchProber ActionType = "launch-prober"
	// Launch starts a service of Kind with config ConfigHash on AgentID.
	Launch ActionType = "launch"
	// Kill asks Mesos to kill TaskID (repeated while the task lives).
	Kill ActionType = "kill"
	// Probe asks the prober TaskID to probe and report now.
	Probe ActionType = "probe"
)

// Action is one step of a plan. Every action carries the reason it exists.
type Action struct {
	Type     ActionType `json:"type"`
	AgentID  string     `json:"agent_id"`
	Hostname string     `json:"hostname"`
	// Kind is the service kind ("prober" for probers).
	Kind string `json:"kind"`
	// ConfigHash is the config to launch with (Launch, LaunchProber).
	ConfigHash string `json:"config_hash,omitempty"`
	// TaskID is the task to kill or to ask for a probe.
	TaskID string `json:"task_id,omitempty"`
	// Replaces is set on a Kill or Launch that is part of replacing a task
	// with a new config (a rolling upgrade step): the old task's ID.
	Replaces string `json:"replaces,omitempty"`
	// Item is the backoff item this action belongs to (snapshot.ItemKey).
	Item   string `json:"item"`
	Reason string `json:"reason"`
	// Resources needed (Launch, LaunchProber), for offer matching and messages.
	Resources spec.Resources `json:"resources"`
	Ports     []int          `json:"ports,omitempty"`
	// KillSent is, on a Kill, when the previous kill of TaskID was sent
	// (zero: never). Kills stay in the plan until the task is terminal; the
	// actuator uses this to re-send them at a measured pace.
	KillSent time.Time `json:"kill_sent,omitzero"`
}

// Blocked is something the plan wants but cannot do yet, with the reason.
type Blocked struct {
	AgentID  string `json:"agent_id,omitempty"`
	Hostname string `json:"hostname,omitempty"`
	Kind     string `json:"kind"`
	Item     string `json:"item"`
	Reason   string `json:"reason"`
}

// Result is a plan: what to do now, in order, and what waits.
type Result struct {
	// Generation of the snapshot and Hash of the spec the plan was made from.
	Generation uint64    `json:"generation"`
	SpecHash   string    `json:"spec_hash"`
	Actions    []Action  `json:"actions"`
	Blocked    []Blocked `json:"blocked"`
	// Gated is true while the plan waits for the subscription and its
	// reconciliation: it then says nothing about what is wanted, so the
	// actuator must neither refuse offers for long nor suppress them.
	Gated bool `json:"gated,omitempty"`
}

// Counts sums up a plan by action type; Blocked counts blocked items.
type Counts struct {
	Launches int `json:"launches"` // Launch and LaunchProber actions
	Kills    int `json:"kills"`
	Probes   int `json:"probes"`
	Blocked  int `json:"blocked"`
}

// Counts returns how many actions of each type and how many blocked items r holds.
func (r *Result) Counts() Counts {
	n := Counts{Blocked: len(r.Blocked)}
	for _, a := range r.Actions {
		switch a.Type {
		case Launch, LaunchProber:
			n.Launches++
		case Kill:
			n.Kills++
		case Probe:
			n.Probes++
		}
	}
	return n
}

// IsNoOp reports whether the plan asks for nothing and nothing waits.
func (r *Result) IsNoOp() bool { return len(r.Actions) == 0 && len(r.Blocked) == 0 }
