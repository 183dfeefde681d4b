package planview

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/quobyte/quobyte-mesos/controller"
	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/spec"
)

// CrashLoopRestarts is how many failures of one service on one host make it
// crash-looping.
const CrashLoopRestarts = 3

// ServiceHealth says how many Quobyte services run, and which of them do
// not run healthy and why: an empty plan ("No changes") says nothing about
// services that crash and are restarted again and again.
type ServiceHealth struct {
	// At is the time of the snapshot it was read from.
	At time.Time `json:"at"`
	// Total counts service instances (a kind on a host): those with a live
	// task and those waiting to be restarted after failures.
	Total int `json:"total"`
	// NotHealthy is len(Services).
	NotHealthy int `json:"not_healthy"`
	// Services are the instances not running healthy, by host and kind.
	Services []ServiceProblem `json:"services"`
	// Registry says, when services other than registries do not run
	// healthy and no registry does either, that they lack one: every
	// Quobyte service needs a registry (and with quobyte.address =
	// "hostname", the registries' hostnames must resolve on the agents).
	Registry string `json:"registry,omitempty"`
}

// ServiceProblem is one service instance that does not run healthy.
type ServiceProblem struct {
	Hostname string `json:"hostname"`
	AgentID  string `json:"agent_id"`
	Kind     string `json:"kind"`
	// Condition in a few words: "crash-looping", "unhealthy", "starting",
	// "being killed", "unreachable", "unknown to Mesos", "waiting to restart".
	Condition string `json:"condition"`
	// TaskID, State and Healthy describe the live task, if there is one.
	TaskID  string             `json:"task_id,omitempty"`
	State   snapshot.TaskState `json:"state,omitempty"`
	Healthy *bool              `json:"healthy,omitempty"`
	// Restarts counts the recent failures of this service on this host:
	// its backoff's failure count (forgotten after restart.reset_after of
	// stable running), or the failed tasks the observer still holds (15
	// minutes), whichever is larger. Three or more: crash-looping.
	Restarts int `json:"restarts"`
	// TotalFailures counts every failure of this service on this host
	// since the framework started.
	TotalFailures int `json:"total_failures,omitempty"`
	// LastState, LastReason and LastMessage are what Mesos said of the
	// last task that failed; LastHealthKilled says Mesos killed it after
	// LastHealthFailures failed health checks.
	LastState          snapshot.TaskState `json:"last_state,omitempty"`
	LastReason         string             `json:"last_reason,omitempty"`
	LastMessage        string             `json:"last_message,omitempty"`
	LastHealthKilled   bool               `json:"last_health_killed,omitempty"`
	LastHealthFailures int                `json:"last_health_failures,omitempty"`
	// LastError is the backoff's account of the last failure (a failed
	// task, or a launch that could not be made).
	LastError string `json:"last_error,omitempty"`
	// RetryAt is when a service waiting to restart is launched again.
	RetryAt time.Time `json:"retry_at,omitzero"`
}

// instance gathers what the snapshot holds about one kind on one agent.
type instance struct {
	kind, agentID string
	live          *snapshot.Task   // the newest task not terminal and not being stopped by us
	failed        []*snapshot.Task // tasks that ended on their own, oldest first
	backoff       controller.Hold
	history       snapshot.ItemHistory
}

// CheckServices reads the services' health from a snapshot and the backoff
// holds the last plan was made with (nil: none), for the spec in force (nil
// when unknown: then the registry note cannot say how registries are
// addressed). Probers are not services
// and are left out; tasks the framework is stopping (a rollout, a
// scale-down) are planned, not failing, and are left out too.
func CheckServices(c *spec.Cluster, s *snapshot.Snapshot, holds map[string]controller.Hold) ServiceHealth {
	h := ServiceHealth{Services: []ServiceProblem{}}
	if s == nil {
		return h
	}
	h.At = s.Time
	byKey := map[string]*instance{}
	get := func(kind, agentID string) *instance {
		key := snapshot.ItemKey(kind, agentID)
		in := byKey[key]
		if in == nil {
			in = &instance{kind: kind, agentID: agentID, backoff: holds[key], history: s.Items[key]}
			byKey[key] = in
		}
		return in
	}
	for _, t := range s.Tasks {
		if _, ok := spec.ParseKind(t.Kind); !ok || !t.KillSent.IsZero() {
			continue
		}
		in := get(t.Kind, t.AgentID)
		switch {
		case !t.State.Terminal():
			if in.live == nil || newer(t, in.live) {
				in.live = t
			}
		case endedOnItsOwn(t.State):
			in.failed = append(in.failed, t)
		}
	}
	// A service whose failed tasks are no longer held may still back off.
	for key, b := range holds {
		kind, agentID, ok := strings.Cut(key, "@")
		if _, isKind := spec.ParseKind(kind); ok && isKind && b.Failures > 0 {
			get(kind, agentID)
		}
	}
	for _, in := range byKey {
		if in.live == nil && in.backoff.Failures == 0 {
			continue // failed and no longer wanted, or not yet relaunched: the plan says
		}
		h.Total++
		if p, ok := in.problem(c, s); ok {
			h.Services = append(h.Services, p)
		}
	}
	sort.Slice(h.Services, func(i, j int) bool {
		a, b := h.Services[i], h.Services[j]
		if a.Hostname != b.Hostname {
			return a.Hostname < b.Hostname
		}
		return a.Kind < b.Kind
	})
	h.NotHealthy = len(h.Services)
	h.Registry = registryNote(c, s, h.Services)
	return h
}

// registryNote says that no registry runs healthy when services other
// than registries do not either: they cannot work without one. The names
// of the registries' hosts are what QUOBYTE_REGISTRY lists by default,
// and names that do not resolve on the agents leave every service unable
// to reach one (the framework cannot see that from here; it can say what
// to check). "" when a registry runs, the spec names an external one, or
// every other service runs healthy.
func registryNote(c *spec.Cluster, s *snapshot.Snapshot, problems []ServiceProblem) string {
	if c != nil && c.Quobyte.Registry != "" {
		return ""
	}
	others := false
	troubled := map[string]bool{} // the registries' agents among the problems
	for _, p := range problems {
		others = others || p.Kind != string(spec.Registry)
		if p.Kind == string(spec.Registry) {
			troubled[p.AgentID] = true
		}
	}
	if !others {
		return ""
	}
	var hosts []string
	for _, t := range s.Tasks {
		if t.Kind != string(spec.Registry) || t.State.Terminal() || !t.KillSent.IsZero() {
			continue
		}
		if t.State == snapshot.Running && ((t.Healthy != nil && *t.Healthy) || (t.Healthy == nil && !troubled[t.AgentID])) {
			return "" // one runs healthy (or is not checked yet, and has not failed)
		}
		host := t.AgentID
		if a := s.Agent(t.AgentID); a != nil && a.Hostname != "" {
			host = a.Hostname
		}
		hosts = append(hosts, host)
	}
	note := "no registry runs healthy, and every other service needs one"
	if len(hosts) > 0 {
		sort.Strings(hosts)
		note += " (registries on " + strings.Join(slices.Compact(hosts), ", ") + ")"
	}
	if c != nil && c.Quobyte.Address != spec.AddressIP {
		note += `: QUOBYTE_REGISTRY names them by hostname; where those names do not resolve on the agents, set quobyte.address = "ip"`
	}
	return note
}

// problem describes in when it does not run healthy.
func (in *instance) problem(c *spec.Cluster, s *snapshot.Snapshot) (ServiceProblem, bool) {
	sort.Slice(in.failed, func(i, j int) bool { return in.failed[i].UpdatedAt.Before(in.failed[j].UpdatedAt) })
	p := ServiceProblem{
		AgentID:       in.agentID,
		Hostname:      in.agentID,
		Kind:          in.kind,
		Restarts:      max(in.backoff.Failures, len(in.failed)),
		TotalFailures: in.history.Failures,
		LastError:     in.backoff.LastError,
	}
	if a := s.Agent(in.agentID); a != nil && a.Hostname != "" {
		p.Hostname = a.Hostname
	}
	// The observer's item history outlives the ended tasks it keeps.
	if last := in.history.Last; last.TaskID != "" {
		p.LastState, p.LastReason, p.LastMessage = last.State, last.Reason, last.Message
		p.LastHealthKilled, p.LastHealthFailures = last.HealthKilled, last.HealthFailures
	} else if n := len(in.failed); n > 0 {
		last := in.failed[n-1]
		p.LastState, p.LastReason, p.LastMessage = last.State, last.Reason, last.Message
		p.LastHealthKilled, p.LastHealthFailures = last.HealthKilled, last.HealthFailures
	}
	if t := in.live; t != nil {
		p.TaskID, p.State, p.Healthy = t.ID, t.State, t.Healthy
	} else if in.backoff.Until.After(s.Time) {
		p.RetryAt = in.backoff.Until
	}
	switch t := in.live; {
	case p.Restarts >= CrashLoopRestarts:
		p.Condition = "crash-looping"
	case t == nil:
		p.Condition = "waiting to restart"
	case t.State == snapshot.Running && t.Healthy != nil && !*t.Healthy:
		p.Condition = "unhealthy"
	case t.State == snapshot.Running && t.Healthy == nil && p.Restarts > 0 && healthChecked(c, in.kind):
		// Restarted after failures and not yet through a health check:
		// a service that fails its checks again and again (killed after
		// its grace period each time) would otherwise never be shown.
		p.Condition = "starting"
	case t.State == snapshot.Running:
		return p, false // running, healthy or not checked yet
	case t.State == snapshot.Killing:
		p.Condition = "being killed"
	case t.State == snapshot.Unreachable:
		p.Condition = "unreachable"
	case t.State == snapshot.Unknown:
		p.Condition = "unknown to Mesos"
	default: // LAUNCHING, STAGING, STARTING
		p.Condition = "starting"
	}
	return p, true
}

// healthChecked reports whether the spec gives kind a health check (false
// when the spec is unknown).
func healthChecked(c *spec.Cluster, kind string) bool {
	if c == nil {
		return false
	}
	svc := c.Service(spec.Kind(kind))
	return svc != nil && svc.Health.Path != ""
}

// endedOnItsOwn reports whether a task that ended in state ts (and was not
// killed by us) failed: a service is never meant to end, and Mesos kills a
// task that fails its health checks. GONE says only that the agent went.
func endedOnItsOwn(ts snapshot.TaskState) bool {
	switch ts {
	case snapshot.Failed, snapshot.Error, snapshot.Lost, snapshot.Dropped, snapshot.Finished, snapshot.Killed:
		return true
	}
	return false
}

func newer(a, b *snapshot.Task) bool {
	if !a.LaunchedAt.Equal(b.LaunchedAt) {
		return a.LaunchedAt.After(b.LaunchedAt)
	}
	return a.ID > b.ID
}

// Line is the one-line account, e.g. "2 of 13 services are not running
// healthy", or "" when every service runs healthy.
func (h ServiceHealth) Line() string {
	if h.NotHealthy == 0 {
		return ""
	}
	verb := "are"
	if h.NotHealthy == 1 {
		verb = "is"
	}
	line := fmt.Sprintf("%d of %d services %s not running healthy", h.NotHealthy, h.Total, verb)
	if h.Registry != "" {
		line += "; no registry runs healthy"
	}
	return line
}

// Why says in one line what is wrong with p, e.g. "crash-looping: 5
// restarts, last FAILED (REASON_COMMAND_EXECUTOR_FAILED): exited with 1;
// restarting in 40s".
func (p ServiceProblem) Why(at time.Time) string {
	var parts []string
	if p.State != "" {
		now := "now " + string(p.State)
		if p.Healthy != nil && !*p.Healthy {
			now += ", failing its health check"
		}
		parts = append(parts, now)
	}
	if p.Restarts > 0 {
		parts = append(parts, fmt.Sprintf("%d %s", p.Restarts, plural(p.Restarts, "restart", "restarts")))
	}
	switch {
	case p.LastHealthKilled:
		last := "last killed by Mesos for failing its health check"
		if p.LastHealthFailures > 0 {
			last = fmt.Sprintf("last killed by Mesos after %d failed health checks", p.LastHealthFailures)
		}
		if p.LastMessage != "" {
			last += ": " + p.LastMessage
		}
		parts = append(parts, last)
	case p.LastState != "":
		last := "last " + string(p.LastState)
		if p.LastReason != "" {
			last += " (" + p.LastReason + ")"
		}
		if p.LastMessage != "" {
			last += ": " + p.LastMessage
		}
		parts = append(parts, last)
	case p.LastError != "":
		parts = append(parts, "last error: "+p.LastError)
	}
	if !p.RetryAt.IsZero() {
		parts = append(parts, "restarting in "+p.RetryAt.Sub(at).Round(time.Second).String())
	}
	return p.Condition + ": " + strings.Join(parts, "; ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
