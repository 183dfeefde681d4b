package controller

import (
	"context"
	"encoding/json"
	"time"

	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/spec"
)

// Input is everything Plan reads. Step builds it; a dry run may build one
// by hand (the holds and reverts then come from the last plan's Input).
type Input struct {
	// Spec is the spec in force.
	Spec *spec.Cluster
	// Snapshot is what was observed, as the observer built it.
	Snapshot *snapshot.Snapshot
	// Now is the time of planning: the only clock Plan reads.
	Now time.Time
	// Holds are the items that failed, by item key (see Hold); an item is
	// held back while now is before its Until.
	Holds map[string]Hold
	// Reverts are the hosts sent back to their previous configuration by
	// auto_revert, by item key; Plan keeps those whose From is still the
	// spec's config and returns them in Result.Reverts.
	Reverts map[string]Revert
	// Previous are earlier specs in force, newest first: a host reverts to
	// the configuration of one of them.
	Previous []*spec.Cluster

	// index is derived from Snapshot alone (and the spec's placement):
	// Step keeps it from plan to plan and updates it by what changed, so
	// that planning a 10,000-agent cluster does not index it anew each
	// time. It is a cache: Plan's result is the same without it (Plan
	// builds one when it is missing or of another snapshot or placement).
	index *index
}

// ForSpec returns the input a dry run of candidate spec c plans from at
// now: this input's snapshot, holds and reverts, with the spec in force
// joining the earlier ones. Plan(in.ForSpec(c, now)) is what `run` would do
// if c were in force. in is not modified.
func (in Input) ForSpec(c *spec.Cluster, now time.Time) Input {
	out := in
	out.Spec, out.Now = c, now
	if in.Spec != nil && in.Spec.Hash != c.Hash {
		out.Previous = append([]*spec.Cluster{in.Spec}, in.Previous...)
	}
	return out
}

// Hold keeps an item from launching until Until: a backoff after failures,
// or a probe request's wait.
type Hold struct {
	Failures int       `json:"failures"`
	Until    time.Time `json:"until"`
	// LastError says what failed last (for plan reasons).
	LastError string `json:"last_error,omitempty"`
	// Config is the config hash that failed ("" for failures of no config:
	// kills, probes). A launch of another config is not held: a spec
	// change (or a revert) clears the backoff of what it changes.
	Config string `json:"config,omitempty"`
}

// Revert is one host sent back to its previous configuration after the
// replacement by the new one failed (auto_revert).
type Revert struct {
	Item     string `json:"item"`
	Kind     string `json:"kind"`
	AgentID  string `json:"agent_id"`
	Hostname string `json:"hostname"`
	// From is the config that failed; To the one the host runs again.
	From string `json:"from"`
	To   string `json:"to"`
	// Reason says how the replacement failed.
	Reason string `json:"reason"`
	// Spec is the spec To was the config of: launches of To are built
	// from it.
	Spec *spec.Cluster `json:"-"`
}

// Applier carries a plan out: the actuator in `run`, a recording fake in
// tests. It reports what failed as data.
type Applier interface {
	Apply(ctx context.Context, r *Result) ApplyReport
}

// ApplyReport is what an apply tells the loop.
type ApplyReport struct {
	// Failed are the actions that failed: only their items back off.
	// Actions not listed are done or under way.
	Failed []FailedAction `json:"failed,omitempty"`
	// Errors are failures of no single action (a DECLINE, a REVIVE): the
	// loop logs them, and the next plan goes on as usual.
	Errors []string `json:"errors,omitempty"`
	// RequeueAfter, when positive, asks the loop to plan again after this
	// long even without news (say, when a REVIVE that launches wait for
	// may go).
	RequeueAfter time.Duration `json:"requeue_after,omitempty"`
}

// FailedAction is one action that failed, with why.
type FailedAction struct {
	Action Action `json:"action"`
	Error  string `json:"error"`
}

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
//
// A fresh 10,000-agent cluster plans 40,000 launches, on every plan until
// they run: an action holds no text made for it alone. Its item and the
// plain reason of a launch (an agent lacks a prober, or a device's or the
// client mount point's service) are made from its fields when asked for
// (Item, Reason).
type Action struct {
	Type     ActionType
	AgentID  string
	Hostname string
	// Kind is the service kind ("prober" for probers).
	Kind string
	// ConfigHash is the config to launch with (Launch, LaunchProber).
	ConfigHash string
	// TaskID is the task to kill or to ask for a probe.
	TaskID string
	// Replaces is set on a Kill or Launch that is part of replacing a task
	// with a new config (a rolling upgrade step): the old task's ID.
	Replaces string
	// reason is the reason's text; empty on a launch whose reason is the
	// plain one (Reason).
	reason string
	// Resources needed (Launch, LaunchProber), for offer matching and
	// messages. Ports are shared by the launches of one kind: never modify
	// them.
	Resources spec.Resources
	Ports     []int
	// KillSent is, on a Kill, when the previous kill of TaskID was sent
	// (zero: never). Kills stay in the plan until the task is terminal; the
	// actuator uses this to re-send them at a measured pace.
	KillSent time.Time
	// Address is, on a Launch, how services reach the agent (its hostname,
	// or its IP with quobyte.address = "ip"): a registry finds itself in
	// QUOBYTE_REGISTRY by it.
	Address string
	// Waiting says, on a launch, why the agent's last offer cannot hold it
	// ("needs cpus=1, largest offer from node4 cpus=0.2"); empty when it
	// fits or no offer is known. The launch stays in the plan: the actuator
	// holds it until an offer fits.
	Waiting string
}

// Item is the backoff item the action belongs to (snapshot.ItemKey): its
// kind on its agent, or for a probe request the agent's probe item.
func (a Action) Item() string {
	if a.Type == Probe {
		return probeItem(a.AgentID)
	}
	return snapshot.ItemKey(a.Kind, a.AgentID)
}

// Reason says why the action exists. A launch given no reason has the
// plain one: the agent has no prober, or its device (or client mount
// point) has no service of the kind.
func (a Action) Reason() string {
	if a.reason != "" {
		return a.reason
	}
	switch k := spec.Kind(a.Kind); {
	case a.Type == LaunchProber:
		return reasonLaunchProber(a.Hostname)
	case a.Type != Launch:
	case k == spec.Client:
		return reasonLaunchClient(a.Hostname)
	case k.DeviceBound():
		return reasonLaunchDeviceService(k, a.Hostname)
	}
	return ""
}

// WithReason returns a with the reason r: for actions made outside a plan
// (tests, a plan read back from JSON).
func (a Action) WithReason(r string) Action {
	a.reason = r
	return a
}

// actionJSON is an Action in JSON, its item and reason written out.
type actionJSON struct {
	Type       ActionType     `json:"type"`
	AgentID    string         `json:"agent_id"`
	Hostname   string         `json:"hostname"`
	Kind       string         `json:"kind"`
	ConfigHash string         `json:"config_hash,omitempty"`
	TaskID     string         `json:"task_id,omitempty"`
	Replaces   string         `json:"replaces,omitempty"`
	Item       string         `json:"item"`
	Reason     string         `json:"reason"`
	Resources  spec.Resources `json:"resources"`
	Ports      []int          `json:"ports,omitempty"`
	KillSent   time.Time      `json:"kill_sent,omitzero"`
	Address    string         `json:"address,omitempty"`
	Waiting    string         `json:"waiting,omitempty"`
}

// MarshalJSON writes the action with its item and reason.
func (a Action) MarshalJSON() ([]byte, error) {
	return json.Marshal(actionJSON{
		Type: a.Type, AgentID: a.AgentID, Hostname: a.Hostname, Kind: a.Kind, ConfigHash: a.ConfigHash,
		TaskID: a.TaskID, Replaces: a.Replaces, Item: a.Item(), Reason: a.Reason(), Resources: a.Resources,
		Ports: a.Ports, KillSent: a.KillSent, Address: a.Address, Waiting: a.Waiting,
	})
}

// UnmarshalJSON reads an action MarshalJSON wrote. Its item is made from
// its kind and agent again.
func (a *Action) UnmarshalJSON(b []byte) error {
	var j actionJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*a = Action{
		Type: j.Type, AgentID: j.AgentID, Hostname: j.Hostname, Kind: j.Kind, ConfigHash: j.ConfigHash,
		TaskID: j.TaskID, Replaces: j.Replaces, reason: j.Reason, Resources: j.Resources,
		Ports: j.Ports, KillSent: j.KillSent, Address: j.Address, Waiting: j.Waiting,
	}
	return nil
}

// KindChange is the whole of one kind's paced change.
type KindChange struct {
	Kind string `json:"kind"`
	// Replace counts the kind's tasks still to be replaced by its current
	// config: the live ones of another config (those being killed
	// included) and those whose replacement this plan launches.
	Replace int `json:"replace,omitempty"`
	// Stop counts the kind's live tasks still to be stopped at a pace: on
	// hosts a placement change left out, or all of them with state =
	// "stopped".
	Stop int `json:"stop,omitempty"`
	// AtATime is how many of the kind may be down at once while it is
	// replaced or stopped at a pace (upgrade.max_parallel; always 1 for
	// registries). 0: all at once (probers), or kind by kind after the
	// kinds before it (state = "stopped").
	AtATime int `json:"at_a_time,omitempty"`
	// Change says what the replacement changes in the kind's config
	// ("version 3.4 -> 3.5"), or the config hashes when the spec the old
	// config belongs to is not known (after a framework restart).
	Change string `json:"change,omitempty"`
}

// Blocked is something the plan wants but cannot do yet, with the reason.
type Blocked struct {
	AgentID  string `json:"agent_id,omitempty"`
	Hostname string `json:"hostname,omitempty"`
	Kind     string `json:"kind"`
	Item     string `json:"item"`
	Reason   string `json:"reason"`
}

// Result is a plan: what to do now, in order, and what waits. It carries
// everything an Applier needs.
type Result struct {
	// Generation of the snapshot and Hash of the spec the plan was made from.
	Generation uint64 `json:"generation"`
	SpecHash   string `json:"spec_hash"`
	// RegistryAddrs is QUOBYTE_REGISTRY for the services this plan launches
	// (unless the spec names an external registry): host:rpcport of every
	// host where a registry runs or is to run in the planned snapshot,
	// comma separated. Set only when the plan launches a service.
	RegistryAddrs string    `json:"registry_addrs,omitempty"`
	Actions       []Action  `json:"actions"`
	Blocked       []Blocked `json:"blocked"`
	// Reverts are the hosts that run their previous configuration after a
	// failed replacement (auto_revert), new ones and those kept.
	Reverts []Revert `json:"reverts,omitempty"`
	// Changes are the whole of the paced changes under way, kind by kind
	// in the order they are made: what a rolling replacement, a placement
	// change or a stop still has to do, of which Actions are this plan's
	// step. A summary counts from them.
	Changes []KindChange `json:"changes,omitempty"`
	// Gated is true while the plan waits for the subscription and its
	// reconciliation: it then says nothing about what is wanted, so the
	// actuator must neither refuse offers for long nor suppress them.
	Gated bool `json:"gated,omitempty"`
	// Spec is the spec the plan was made for: launches are built from it,
	// or (a revert) from the Revert's Spec; see SpecFor.
	Spec *spec.Cluster `json:"-"`
}

// SpecFor returns the spec a launch action is to be built from: the plan's
// own, or for a revert the previous spec whose config the action names;
// nil when none has it (the action must then fail).
func (r *Result) SpecFor(a Action) *spec.Cluster {
	if a.Type == LaunchProber {
		if r.Spec != nil && proberConfigHash(r.Spec) == a.ConfigHash {
			return r.Spec
		}
		return nil
	}
	if r.Spec != nil {
		if svc := r.Spec.Service(spec.Kind(a.Kind)); svc != nil && svc.ConfigHash == a.ConfigHash {
			return r.Spec
		}
	}
	for _, rv := range r.Reverts {
		if rv.Kind == a.Kind && rv.AgentID == a.AgentID && rv.To == a.ConfigHash {
			return rv.Spec
		}
	}
	return nil
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
