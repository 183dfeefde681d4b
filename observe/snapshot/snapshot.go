// Package snapshot holds the immutable picture of the cluster that the
// controller plans against. It imports no Mesos code: task states are our
// own type, so the controller sees the cluster without the Mesos client.
//
// A Snapshot and everything it points to must not be modified after New
// returns it; the observer builds a new one (generation+1) for every change,
// with Next, which shares everything unchanged with the one before.
package snapshot

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/quobyte/quobyte-mesos/observe/probe"
	"github.com/quobyte/quobyte-mesos/spec"
)

// Snapshot is one observation of the cluster.
type Snapshot struct {
	// Generation increases by one with every snapshot the observer builds.
	Generation uint64
	// Time is when the snapshot was built. The planner reads the time of
	// planning from its input (controller.Input.Now), not from here.
	Time         time.Time
	Subscription Subscription
	// Agents sorted by ID.
	Agents []*Agent
	// Tasks of ours (probers included) sorted by ID; foreign tasks are absent.
	Tasks []*Task
	// Items holds, by item (ItemKey: kind@agent), the failures the observer
	// has counted since the framework started; items without any are absent.
	// The status API shows them; the controller backs failing items off.
	Items map[string]ItemHistory

	// onAgent holds, aligned with Agents, the tasks on each agent, sorted
	// by ID; orphans the tasks on agents not in Agents. Next shares the
	// lists of agents whose tasks did not change.
	onAgent [][]*Task
	orphans []*Task
}

// SubscriptionState is the state of the framework's Mesos subscription.
type SubscriptionState string

// Subscription states.
const (
	Disconnected SubscriptionState = "disconnected"
	Subscribing  SubscriptionState = "subscribing"
	Subscribed   SubscriptionState = "subscribed"
)

// Subscription describes the Mesos connection.
type Subscription struct {
	State       SubscriptionState
	FrameworkID string
	Master      string    // the leading master in use
	Since       time.Time // when State was entered
	// Reconciled is true once every known task has answered the explicit
	// reconciliation that follows a (re)subscribe. Until then, the task set
	// may be incomplete and the planner must not launch device-bound tasks.
	Reconciled bool
	// Resubscriptions counts subscriptions after the first (for status pages).
	Resubscriptions int
}

// Agent is a Mesos agent as seen through offers, status updates and its prober.
type Agent struct {
	ID         string
	Hostname   string
	Attributes map[string]string
	// Reachable is false while Mesos reports the agent unreachable (its tasks
	// are then UNREACHABLE: unknown, not gone).
	Reachable bool
	// UnreachableSince is when the agent was first seen unreachable (zero
	// while reachable).
	UnreachableSince time.Time
	// BackSince is when the agent was last seen reachable again after it
	// was unreachable (zero if it never was, as far as we saw): what it held
	// back meanwhile (its tasks' health) reaches us only from then on.
	BackSince time.Time
	// IP is the agent's address as Mesos reports it in offers
	// (Offer.url.address.ip: the agent's --ip); "" until an offer says.
	IP string
	// LastOffer is the most recent offer from this agent (nil: none yet).
	LastOffer *Offer
	// MostOffered is, resource by resource, the most one offer from this
	// agent has held since the framework started. With what our tasks there
	// use, it bounds from below what the agent has for this framework (Mesos'
	// scheduler API does not tell an agent's total).
	MostOffered spec.Resources
	// Probe is the prober's latest report (nil: none yet).
	Probe *Probe
}

// Offer summarises an offer's resources: those unreserved and those
// reserved for a role (Mesos offers a framework only what its roles may use).
type Offer struct {
	Resources spec.Resources
	Ports     []PortRange
	// Reserved are the parts of Resources reserved for a role, by role
	// (nil when everything is unreserved).
	Reserved map[string]spec.Resources `json:",omitempty"`
	At       time.Time
}

// PortRange is an inclusive range of ports.
type PortRange struct{ Begin, End uint64 }

// Probe is a prober report with the time it arrived.
type Probe struct {
	Report     probe.Report
	ReceivedAt time.Time
}

// TaskState is a Mesos task state, as our own type.
type TaskState string

// Task states, named as in Mesos without the TASK_ prefix.
const (
	Staging        TaskState = "STAGING"
	Starting       TaskState = "STARTING"
	Running        TaskState = "RUNNING"
	Killing        TaskState = "KILLING"
	Finished       TaskState = "FINISHED"
	Failed         TaskState = "FAILED"
	Killed         TaskState = "KILLED"
	Error          TaskState = "ERROR"
	Lost           TaskState = "LOST"
	Dropped        TaskState = "DROPPED"
	Unreachable    TaskState = "UNREACHABLE"
	Gone           TaskState = "GONE"
	GoneByOperator TaskState = "GONE_BY_OPERATOR"
	Unknown        TaskState = "UNKNOWN"
	// Launching is ours: ACCEPT sent, no status update yet.
	Launching TaskState = "LAUNCHING"
)

// Terminal reports whether a task in state s will never run again.
func (s TaskState) Terminal() bool {
	switch s {
	case Finished, Failed, Killed, Error, Lost, Dropped, Gone, GoneByOperator:
		return true
	}
	return false
}

// MaybeAlive reports whether the task may still be running although we
// cannot see it (unreachable agent, unknown to the master).
func (s TaskState) MaybeAlive() bool { return s == Unreachable || s == Unknown }

// Task is one of our tasks. State, Reason and Message are those of the
// latest status update Mesos sent for it.
type Task struct {
	ID      string
	Kind    string // a spec.Kind or taskid.ProberKind
	Config  string // config hash from the task ID
	AgentID string
	State   TaskState
	Reason  string // Mesos reason, e.g. REASON_COMMAND_EXECUTOR_FAILED
	Message string
	// Healthy is nil until Mesos reports a health check result.
	Healthy *bool
	// HealthFailures counts the failed health checks Mesos reported
	// (healthy=false updates) since the task was last healthy.
	HealthFailures int
	// HealthKilled is true when Mesos killed the task for failing its
	// health check: TASK_KILLED with healthy=false and no reason, no kill
	// of ours sent. It is a failure of the service.
	HealthKilled bool
	// LaunchedAt is when we sent the launch (zero if unknown, e.g. after a
	// restart); UpdatedAt the last status update; HealthySince when Healthy
	// last turned true (zero when not healthy).
	LaunchedAt   time.Time
	UpdatedAt    time.Time
	HealthySince time.Time
	// RunningSince is when the task last entered RUNNING (zero if not).
	RunningSince time.Time
	// UnreachableSince is when the task became unreachable: the master's
	// unreachable_time when it said, else when we first saw the task
	// UNREACHABLE or UNKNOWN. Reconciliation answers do not move it; it is
	// zero once the task is seen again.
	UnreachableSince time.Time
	// KillSent is when we last asked Mesos to kill it (zero: never). A kill
	// cannot reach an unreachable task, so it is cleared when the task
	// becomes unreachable: its fate is decided again once it is back.
	KillSent time.Time
}

// Failed reports whether the task ended in failure: a service is never meant
// to end, so a terminal state other than GONE (the agent was removed, which
// says nothing of the service) is a failure unless we asked for the kill.
// FINISHED counts, and so does KILLED without a kill of ours (Mesos kills a
// task that fails its health check).
func (t *Task) Failed() bool {
	switch t.State {
	case Failed, Error, Lost, Dropped, Finished, Killed:
		return t.KillSent.IsZero()
	}
	return false
}

// ItemHistory is what the observer counted of one item's tasks.
type ItemHistory struct {
	// Failures counts the item's tasks that failed (Task.Failed) since the
	// framework started: how often the service had to be started again.
	Failures int
	// Last is the latest of those failures.
	Last TaskEnd
}

// TaskEnd describes how a task ended.
type TaskEnd struct {
	TaskID  string
	Config  string
	State   TaskState
	Reason  string
	Message string
	// HealthKilled and HealthFailures: see Task.
	HealthKilled   bool
	HealthFailures int
	At             time.Time
	// RanFor is how long the task had been RUNNING when it ended; HealthyFor
	// the longest time it was healthy without a break (zero: never).
	RanFor     time.Duration
	HealthyFor time.Duration
}

// Describe says in one line how the task ended, for logs and plan reasons:
// "task X FAILED (REASON_...): message", or for a health-check kill "task X
// killed by Mesos after 3 failed health checks: message".
func (e TaskEnd) Describe() string {
	var s string
	switch {
	case e.HealthKilled && e.HealthFailures > 0:
		s = fmt.Sprintf("task %s killed by Mesos after %d failed health checks", e.TaskID, e.HealthFailures)
	case e.HealthKilled:
		s = fmt.Sprintf("task %s killed by Mesos for failing its health check", e.TaskID)
	default:
		s = fmt.Sprintf("task %s %s", e.TaskID, e.State)
		if e.Reason != "" {
			s += " (" + e.Reason + ")"
		}
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// New returns a snapshot with agents and tasks sorted by ID and indexed.
// It takes ownership of the slices and maps.
func New(gen uint64, at time.Time, sub Subscription, agents []*Agent, tasks []*Task, items map[string]ItemHistory) *Snapshot {
	slices.SortFunc(agents, byAgentID)
	slices.SortFunc(tasks, byTaskID)
	if items == nil {
		items = map[string]ItemHistory{}
	}
	s := &Snapshot{Generation: gen, Time: at, Subscription: sub, Agents: agents, Tasks: tasks, Items: items,
		onAgent: make([][]*Task, len(agents))}
	for _, t := range tasks { // in ID order, so every list is sorted
		if i, ok := s.agentIndex(t.AgentID); ok {
			s.onAgent[i] = append(s.onAgent[i], t)
		} else {
			s.orphans = append(s.orphans, t)
		}
	}
	return s
}

func byAgentID(a, b *Agent) int { return strings.Compare(a.ID, b.ID) }
func byTaskID(a, b *Task) int   { return strings.Compare(a.ID, b.ID) }

// agentIndex is the position of agent id in Agents (binary search: a map
// would have to be built anew for every generation).
func (s *Snapshot) agentIndex(id string) (int, bool) {
	return slices.BinarySearchFunc(s.Agents, id, func(a *Agent, id string) int { return strings.Compare(a.ID, id) })
}

// Agent returns the agent with the given ID, or nil.
func (s *Snapshot) Agent(id string) *Agent {
	if i, ok := s.agentIndex(id); ok {
		return s.Agents[i]
	}
	return nil
}

// AgentTasks returns the tasks on Agents[i], sorted by ID. The list is
// shared (between generations too): never modify it. Between two
// snapshots of one observer, an agent whose tasks did not change has the
// very same list, so a reader may keep what it derived from it.
func (s *Snapshot) AgentTasks(i int) []*Task { return s.onAgent[i] }

// Orphans returns the tasks on agents the snapshot does not know, sorted by
// ID (shared: never modify it).
func (s *Snapshot) Orphans() []*Task { return s.orphans }

// ItemKey names a unit of work that backs off on its own: one kind on one
// agent ("data@<agent ID>"), for every kind.
func ItemKey(kind, where string) string { return kind + "@" + where }
