// Package overview is the cluster at a glance, as the dashboard shows it
// and `quobyte-mesos status` prints it: a summary (spec, convergence,
// service counts, the subscription, the last reload), a grid of hosts x
// service kinds with each cell's state, the rollouts in progress, the
// plan's blocked items and the plan as `plan` prints it.
//
// Build derives it from what the status API reads (spec, snapshot, last
// plan, backoff holds); it is pure, so the same input always gives the
// same overview. Text renders it for a terminal.
package overview

import (
	"bytes"
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/quobyte/quobyte-mesos/cmd/quobyte-mesos/planview"
	"github.com/quobyte/quobyte-mesos/cmd/quobyte-mesos/statusapi"
	"github.com/quobyte/quobyte-mesos/controller"
	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/spec"
)

// Overview is the body of GET /v1/overview. Its JSON is snake_case.
type Overview struct {
	// Time is when it was built (the server's clock: a client counts
	// backoffs down from it).
	Time time.Time `json:"time"`
	Spec SpecInfo  `json:"spec"`
	// Converged: there is a plan, and it launches, replaces, stops and
	// waits for nothing.
	Converged bool `json:"converged"`
	// Healthy: every wanted service runs healthy (Counts.Unhealthy and
	// Counts.Missing are 0).
	Healthy bool `json:"healthy"`
	// PlanLine is the plan's summary line with the services not running
	// healthy, as `plan` ends.
	PlanLine string `json:"plan_line"`
	Counts   Counts `json:"counts"`
	// ByKind counts the services of each kind, in Kinds' order.
	ByKind       []KindCounts                 `json:"by_kind"`
	Subscription statusapi.SubscriptionStatus `json:"subscription"`
	LastReload   statusapi.Reload             `json:"last_reload"`
	// HA is the election as the answering instance sees it (several
	// instances only).
	HA *statusapi.HAStatus `json:"ha,omitempty"`
	// Kinds are the grid's columns, in upgrade order: the kinds the spec
	// enables and any other that still has tasks.
	Kinds []string `json:"kinds"`
	// Hosts are the grid's rows: those with a problem first, then by name.
	Hosts []Host `json:"hosts"`
	// Rollouts are the kinds with tasks of an old config, in upgrade order.
	Rollouts []Rollout `json:"rollouts"`
	// Blocked are the plan's blocked items (at most MaxListed of
	// BlockedTotal).
	Blocked      []BlockedItem `json:"blocked"`
	BlockedTotal int           `json:"blocked_total"`
	// Waiting are the launches that wait for an offer to fit (at most
	// MaxListed of WaitingTotal), with what falls short.
	Waiting      []BlockedItem `json:"waiting"`
	WaitingTotal int           `json:"waiting_total"`
	// Plan is the last plan; nil before the first.
	Plan *Plan `json:"plan,omitempty"`
}

// SpecInfo names the spec in force.
type SpecInfo struct {
	File      string     `json:"file"`
	Hash      string     `json:"hash"`
	Version   string     `json:"version"`
	State     spec.State `json:"state"`
	Framework string     `json:"framework"`
}

// Counts sums the grid's cells up.
type Counts struct {
	// Healthy: running with the health check passing (or not yet checked).
	Healthy int `json:"healthy"`
	// Unhealthy: a task is there but not running healthy (failing its
	// health check, starting, unreachable, crash-looping).
	Unhealthy int `json:"unhealthy"`
	// Missing: wanted, and no task is there (launch pending or waiting
	// for resources, blocked, backing off).
	Missing int `json:"missing"`
	// Hosts and Unreachable count the agents.
	Hosts       int `json:"hosts"`
	Unreachable int `json:"unreachable"`
}

// KindCounts counts the services of one kind as Counts does; CrashLooping
// counts those that failed again and again (also counted as unhealthy or
// missing).
type KindCounts struct {
	Kind         string `json:"kind"`
	Healthy      int    `json:"healthy"`
	Unhealthy    int    `json:"unhealthy"`
	Missing      int    `json:"missing"`
	CrashLooping int    `json:"crash_looping"`
}

// Host is one agent's row.
type Host struct {
	Hostname  string `json:"hostname"`
	AgentID   string `json:"agent_id"`
	Reachable bool   `json:"reachable"`
	// Probed: its prober has reported, last at ProbedAt.
	Probed   bool          `json:"probed"`
	ProbedAt time.Time     `json:"probed_at,omitzero"`
	Devices  []DeviceCount `json:"devices"`
	// Problem: a cell needs attention, the host is unreachable or its
	// prober has not reported.
	Problem bool `json:"problem"`
	// Cells are aligned with Overview.Kinds.
	Cells []Cell `json:"cells"`
}

// DeviceCount is how many devices of a type the prober found on a host.
type DeviceCount struct {
	Type  spec.DeviceType `json:"type"`
	Count int             `json:"count"`
}

// State is a cell's state.
type State string

// Cell states, as the dashboard and `status` name them.
const (
	Healthy     State = "healthy"     // running, health check passing
	Running     State = "running"     // running, health not checked yet
	Unhealthy   State = "unhealthy"   // running, failing its health check
	Starting    State = "starting"    // launched, not running yet
	Stopping    State = "stopping"    // being killed by us (rollout, scale-down)
	Unreachable State = "unreachable" // its agent is out of sight (or Mesos does not know the task)
	BackingOff  State = "backoff"     // failed; launched again at Until
	Blocked     State = "blocked"     // wanted, but the plan cannot launch it (Detail says why)
	Waiting     State = "waiting"     // a launch is planned but no offer of the agent fits it (Detail says what falls short)
	Missing     State = "missing"     // wanted: a launch is planned
	NotWanted   State = "none"        // nothing runs and nothing is wanted
)

// Cell is one kind on one host.
type Cell struct {
	State State `json:"state"`
	// TaskID is the task the state is of.
	TaskID string `json:"task_id,omitempty"`
	// Outdated: the task runs an old config (the rollout replaces it).
	Outdated bool `json:"outdated,omitempty"`
	// Problem is the service's condition when it does not run healthy
	// ("crash-looping", "unhealthy", ...: planview.CheckServices).
	Problem string `json:"problem,omitempty"`
	// Until is when a backing-off service is launched again.
	Until time.Time `json:"until,omitzero"`
	// Detail says why, in a line: the blocked item's reason, the planned
	// launch's reason, what is wrong with the service.
	Detail string `json:"detail,omitempty"`
}

// Attention reports whether the cell needs an operator's eye.
func (c Cell) Attention() bool {
	switch c.State {
	case Healthy, Running, NotWanted, Stopping:
		return c.Problem != ""
	}
	return true
}

// Rollout is one kind's rolling replacement.
type Rollout struct {
	Kind string `json:"kind"`
	// Replaced of Total hosts run the new config.
	Replaced int `json:"replaced"`
	Total    int `json:"total"`
	// Change says what the replacement changes ("version 3.4 -> 3.5"),
	// AtATime how many may be down at once (the plan's whole change,
	// controller.KindChange).
	Change  string `json:"change,omitempty"`
	AtATime int    `json:"at_a_time,omitempty"`
	// Paused: a replacement failed and no further one starts (Reasons say
	// which and why).
	Paused bool `json:"paused"`
	// Reasons are the plan's blocked reasons about this kind's upgrade.
	Reasons []string `json:"reasons,omitempty"`
}

// BlockedItem is a plan's blocked item, or a launch waiting for resources.
type BlockedItem struct {
	Host   string `json:"host,omitempty"`
	Kind   string `json:"kind"`
	Reason string `json:"reason"`
}

// Plan is the last plan: its counts, and its text as `plan` prints it (at
// most MaxPlanLines lines of TextLines).
type Plan struct {
	Summary   planview.Summary `json:"summary"`
	Gated     bool             `json:"gated,omitempty"`
	Text      string           `json:"text"`
	TextLines int              `json:"text_lines"`
}

// MaxListed bounds the blocked items listed; MaxPlanLines the plan's text.
// A fresh cluster of thousands of agents has thousands of each; the counts
// are still whole.
const (
	MaxListed    = 500
	MaxPlanLines = 400
)

// Input is what Build reads: the status API's Source at one moment.
type Input struct {
	Spec     *spec.Cluster
	Snapshot *snapshot.Snapshot // nil: nothing observed
	Plan     *controller.Result // nil: no plan yet
	Holds    map[string]controller.Hold
	Reload   statusapi.Reload
	HA       *statusapi.HAStatus
	Now      time.Time
}

// FromSource reads in from the status API's source.
func FromSource(src statusapi.Source, ha *statusapi.HAStatus, now time.Time) Input {
	return Input{Spec: src.Spec(), Snapshot: src.Snapshot(), Plan: src.Plan(), Holds: src.Holds(),
		Reload: src.LastReload(), HA: ha, Now: now}
}

// upgradePaused starts the blocked reasons of a paused rollout, and
// upgradeReason every reason about a kind's upgrade (controller/reasons.go).
const (
	upgradePaused = "upgrade paused"
	upgradeReason = "upgrade"
)

// Build assembles the overview.
func Build(in Input) Overview {
	ov := Overview{Time: in.Now, LastReload: in.Reload, HA: in.HA, Kinds: []string{}, ByKind: []KindCounts{}, Hosts: []Host{},
		Rollouts: []Rollout{}, Blocked: []BlockedItem{}, Waiting: []BlockedItem{}}
	c := in.Spec
	if c != nil {
		ov.Spec = SpecInfo{File: c.File, Hash: c.Hash, Version: c.Quobyte.Version, State: c.Quobyte.State, Framework: c.Mesos.FrameworkName}
	}
	s := in.Snapshot
	var doc planview.Document
	if in.Plan != nil {
		doc = planview.NewDocument(in.Plan, s, in.Holds)
		var b bytes.Buffer
		_ = doc.Text(&b) // a buffer does not fail
		text, lines := clip(b.String(), MaxPlanLines)
		ov.Plan = &Plan{Summary: doc.Summary, Gated: in.Plan.Gated, Text: text, TextLines: lines}
		ov.PlanLine = doc.Line()
		ov.Converged = !doc.Summary.HasChanges() && !in.Plan.Gated
		ov.BlockedTotal = len(in.Plan.Blocked)
		for _, bl := range in.Plan.Blocked[:min(len(in.Plan.Blocked), MaxListed)] {
			ov.Blocked = append(ov.Blocked, BlockedItem{Host: cmp.Or(bl.Hostname, bl.AgentID), Kind: bl.Kind, Reason: bl.Reason})
		}
		for _, a := range in.Plan.Actions {
			if a.Waiting == "" {
				continue
			}
			if ov.WaitingTotal++; len(ov.Waiting) < MaxListed {
				ov.Waiting = append(ov.Waiting, BlockedItem{Host: cmp.Or(a.Hostname, a.AgentID), Kind: a.Kind, Reason: a.Waiting})
			}
		}
	} else {
		ov.PlanLine = "No plan yet."
	}
	if s == nil {
		ov.Kinds = kindsOf(c, nil)
		ov.Healthy = false
		return ov
	}
	sub := s.Subscription
	ov.Subscription = statusapi.SubscriptionStatus{State: sub.State, FrameworkID: sub.FrameworkID, Master: sub.Master,
		Since: sub.Since, Reconciled: sub.Reconciled, Resubscriptions: sub.Resubscriptions}
	g := newGrid(c, s, in.Plan, in.Holds, doc.Services, in.Now)
	ov.Kinds = g.kinds
	ov.Hosts = g.rows()
	ov.Rollouts = g.rollouts(in.Plan)
	ov.Counts = g.counts
	for _, k := range g.kinds {
		ov.ByKind = append(ov.ByKind, *g.byKind[k])
	}
	ov.Healthy = ov.Counts.Unhealthy == 0 && ov.Counts.Missing == 0
	return ov
}

// clip keeps the first max lines of text and says how many it had.
func clip(text string, max int) (string, int) {
	lines := strings.SplitAfter(text, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) <= max {
		return text, len(lines)
	}
	return strings.Join(lines[:max], ""), len(lines)
}

// kindsOf lists the grid's columns: the spec's enabled kinds in upgrade
// order, then kinds of s's tasks the spec does not enable (being stopped).
func kindsOf(c *spec.Cluster, s *snapshot.Snapshot) []string {
	var order []spec.Kind
	if c != nil {
		order = c.Upgrade.Order
	}
	if len(order) == 0 {
		order = spec.DefaultUpgradeOrder()
	}
	used := map[string]bool{}
	if s != nil {
		for _, t := range s.Tasks {
			if !t.State.Terminal() {
				used[t.Kind] = true
			}
		}
	}
	kinds := []string{}
	for _, k := range order {
		enabled := c != nil && c.Service(k) != nil && c.Service(k).Enabled
		if enabled || used[string(k)] {
			kinds = append(kinds, string(k))
		}
	}
	return kinds
}

// sortHosts puts hosts with a problem first, then orders by name.
func sortHosts(hosts []Host) {
	slices.SortStableFunc(hosts, func(a, b Host) int {
		if a.Problem != b.Problem {
			if a.Problem {
				return -1
			}
			return 1
		}
		return cmp.Or(strings.Compare(a.Hostname, b.Hostname), strings.Compare(a.AgentID, b.AgentID))
	})
}
