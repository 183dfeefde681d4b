// Package snapshot holds the immutable picture of the cluster that the
// controller plans against. It imports no Mesos code: task states are our
// own type, so the controller sees the cluster without the Mesos client.
//
// A Snapshot and everything it points to must not be modified after New
// returns it; the observer builds a new one (generation+1) for every change.
package snapshot

import (
	"sort"
	"time"

	"github.com/quobyte/quobyte-mesos/observe/probe"
	"github.com/quobyte/quobyte-mesos/spec"
)

// Snapshot is one observation of the cluster.
type Snapshot struct {
	// Generation increases by one with every snapshot the observer builds.
	Generation uint64
	// Time is when the snapshot was taken: the only clock the planner reads.
	Time         time.Time
	Subscription Subscription
	// Agents sorted by ID.
	Agents []*Agent
	// Tasks of ours (probers included) sorted by ID; foreign tasks are absent.
	Tasks []*Task
	// Backoffs are per-item holds set by the controller loop after failures,
	// keyed by Item.Key(). Plan does not launch an item before its Until.
	Backoffs map[string]Backoff

	agentByID map[string]*Agent
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
	// LastOffer is the most recent offer from this agent (nil: none yet).
	LastOffer *Offer
	// Probe is the prober's latest report (nil: none yet).
	Probe *Probe
}

// Offer summarises an offer's unreserved and role-reserved resources.
type Offer struct {
	Resources spec.Resources
	Ports     []PortRange
	At        time.Time
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

// Task is one of our tasks.
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
	// LaunchedAt is when we sent the launch (zero if unknown, e.g. after a
	// restart); UpdatedAt the last status update; HealthySince when Healthy
	// last turned true (zero when not healthy).
	LaunchedAt   time.Time
	UpdatedAt    time.Time
	HealthySince time.Time
	// RunningSince is when the task last entered RUNNING (zero if not).
	RunningSince time.Time
	// KillSent is when we last asked Mesos to kill it (zero: never).
	KillSent time.Time
}

// Backoff is a hold on an item after failures.
type Backoff struct {
	Failures int
	Until    time.Time
	// LastError says what failed last (for plan reasons).
	LastError string
}

// New returns a snapshot with agents and tasks sorted by ID and indexed.
// It takes ownership of the slices and maps.
func New(gen uint64, at time.Time, sub Subscription, agents []*Agent, tasks []*Task, backoffs map[string]Backoff) *Snapshot {
	sort.Slice(agents, func(i, j int) bool { return agents[i].ID < agents[j].ID })
	sort.Slice(tasks, func(i, j int) bool { return tasks[i].ID < tasks[j].ID })
	idx := make(map[string]*Agent, len(agents))
	for _, a := range agents {
		idx[a.ID] = a
	}
	if backoffs == nil {
		backoffs = map[string]Backoff{}
	}
	return &Snapshot{Generation: gen, Time: at, Subscription: sub, Agents: agents, Tasks: tasks, Backoffs: backoffs, agentByID: idx}
}

// Agent returns the agent with the given ID, or nil.
func (s *Snapshot) Agent(id string) *Agent { return s.agentByID[id] }

// WithBackoffs returns a copy of s (sharing agents and tasks) with backoffs replaced.
func (s *Snapshot) WithBackoffs(b map[string]Backoff) *Snapshot {
	c := *s
	c.Backoffs = b
	return &c
}

// ItemKey names a unit of work that backs off on its own: one service kind
// on one agent (device-bound kinds, probers, clients) or one slot of a kind
// that runs anywhere ("api#0").
func ItemKey(kind, where string) string { return kind + "@" + where }
