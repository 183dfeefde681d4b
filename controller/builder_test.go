package controller

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/quobyte/quobyte-mesos/observe/probe"
	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/observe/taskid"
	"github.com/quobyte/quobyte-mesos/spec"
)

// Builders of valid objects for tests, in the manner of nomad's mock
// package: each returns something a real loader/observer could produce, and
// tests change only what their scenario is about.

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// testCluster is a valid running spec: every kind enabled but S3 and the
// client, one API and one webconsole, upgrades one at a time.
func testCluster() *spec.Cluster {
	c := &spec.Cluster{
		File: "test.hcl",
		Hash: "spec1",
		Quobyte: spec.Quobyte{
			State: spec.Running, Version: "3.0", Image: "quobyte/server", ClientImage: "quobyte/client",
			Runtime: spec.Docker, DeviceRoot: "/devices",
		},
		Prober: spec.Prober{
			Interval: 30 * time.Second, Mode: "mounts", Artifact: "framework", ClientMountPoint: "/quobyte",
			Resources: spec.Resources{CPUs: 0.1, Mem: 32},
		},
		Upgrade: spec.Upgrade{
			Order:       []spec.Kind{spec.Registry, spec.API, spec.Webconsole, spec.Metadata, spec.Data},
			MaxParallel: 1, MinHealthyTime: time.Minute, HealthyDeadline: 5 * time.Minute,
			AutoRevert: []spec.Kind{spec.Registry, spec.Metadata},
		},
		Placement: spec.Placement{UnreachableTimeout: 10 * time.Minute},
		Services:  map[spec.Kind]*spec.Service{},
	}
	ports := map[spec.Kind]map[string]int{
		spec.Registry:   {"rpc": 7861, "http": 7871},
		spec.Metadata:   {"rpc": 7862, "http": 7872},
		spec.Data:       {"rpc": 7863, "http": 7873},
		spec.API:        {"rpc": 7865, "http": 7875, "jsonrpc": 7860},
		spec.Webconsole: {"ui": 8080},
		spec.S3:         {"s3": 8000},
		spec.Client:     {},
	}
	for _, k := range spec.Kinds() {
		c.Services[k] = &spec.Service{
			Kind:       k,
			Enabled:    k != spec.S3 && k != spec.Client,
			Count:      1,
			Resources:  spec.Resources{CPUs: 1, Mem: 1024},
			Ports:      ports[k],
			Health:     spec.Health{Path: "/serviceHealth", Interval: 10 * time.Second, Timeout: 5 * time.Second, MaxFailures: 3},
			Restart:    spec.Restart{InitialDelay: 5 * time.Second, MaxDelay: 5 * time.Minute, ResetAfter: 10 * time.Minute},
			KillGrace:  30 * time.Second,
			ConfigHash: string(k) + "1",
		}
	}
	return c
}

// withNewConfig returns a copy of c in which the given kinds have a new
// config hash (as after a version change).
func withNewConfig(c *spec.Cluster, hashSuffix string, kinds ...spec.Kind) *spec.Cluster {
	n := *c
	n.Hash = c.Hash + hashSuffix
	n.Services = map[spec.Kind]*spec.Service{}
	for k, s := range c.Services {
		cp := *s
		n.Services[k] = &cp
	}
	for _, k := range kinds {
		n.Services[k].ConfigHash = string(k) + hashSuffix
	}
	return &n
}

// world builds snapshots and plan inputs: agents with prober reports,
// tasks, failure histories, holds.
type world struct {
	now    time.Time
	gen    uint64
	sub    snapshot.Subscription
	agents map[string]*snapshot.Agent
	tasks  map[string]*snapshot.Task
	items  map[string]snapshot.ItemHistory
	holds  map[string]Hold
	seq    int
}

func newWorld() *world {
	return &world{
		now:    t0,
		sub:    snapshot.Subscription{State: snapshot.Subscribed, FrameworkID: "fw", Reconciled: true, Since: t0},
		agents: map[string]*snapshot.Agent{},
		tasks:  map[string]*snapshot.Task{},
		items:  map[string]snapshot.ItemHistory{},
		holds:  map[string]Hold{},
	}
}

// agent adds a reachable agent "a-<host>" whose prober reported one device
// per given type (nil report when reported is false: use noReport).
func (w *world) agent(host string, types ...spec.DeviceType) *snapshot.Agent {
	a := &snapshot.Agent{ID: "a-" + host, Hostname: host, Reachable: true, Attributes: map[string]string{}}
	rep := probe.Report{Version: probe.ReportVersion, Hostname: host, DeviceRoot: "/devices", Mode: "mounts", Seq: 1}
	for i, t := range types {
		rep.Devices = append(rep.Devices, probe.Device{Path: fmt.Sprintf("/devices/d%d", i), Filesystem: "xfs", Types: []spec.DeviceType{t}})
	}
	a.Probe = &snapshot.Probe{Report: rep, ReceivedAt: w.now}
	w.agents[a.ID] = a
	return a
}

// noReport adds a reachable agent whose prober has not reported yet.
func (w *world) noReport(host string) *snapshot.Agent {
	a := w.agent(host)
	a.Probe = nil
	return a
}

// task adds a task; running tasks are healthy since the world's start.
func (w *world) task(kind, hash string, a *snapshot.Agent, state snapshot.TaskState) *snapshot.Task {
	w.seq++
	id := taskid.ID{Kind: kind, ConfigHash: hash, Suffix: fmt.Sprintf("s%04d", w.seq)}
	t := &snapshot.Task{
		ID: id.String(), Kind: kind, Config: hash, AgentID: a.ID, State: state,
		LaunchedAt: w.now.Add(-time.Hour), UpdatedAt: w.now.Add(-time.Hour),
	}
	if state == snapshot.Running {
		yes := true
		t.Healthy = &yes
		t.RunningSince = w.now.Add(-time.Hour)
		t.HealthySince = t.RunningSince
	}
	w.tasks[t.ID] = t
	return t
}

// service adds a running, healthy task of the current config of kind k.
func (w *world) service(c *spec.Cluster, k spec.Kind, a *snapshot.Agent) *snapshot.Task {
	return w.task(string(k), c.Service(k).ConfigHash, a, snapshot.Running)
}

// prober adds a running prober of the current config.
func (w *world) prober(c *spec.Cluster, a *snapshot.Agent) *snapshot.Task {
	return w.task(taskid.ProberKind, proberConfigHash(c), a, snapshot.Running)
}

// snap returns a snapshot of the world now. Every object is copied, so the
// world can change afterwards without touching earlier snapshots.
func (w *world) snap() *snapshot.Snapshot {
	w.gen++
	agents := make([]*snapshot.Agent, 0, len(w.agents))
	for _, a := range w.agents {
		cp := *a
		agents = append(agents, &cp)
	}
	tasks := make([]*snapshot.Task, 0, len(w.tasks))
	for _, t := range w.tasks {
		cp := *t
		tasks = append(tasks, &cp)
	}
	items := make(map[string]snapshot.ItemHistory, len(w.items))
	for k, v := range w.items {
		items[k] = v
	}
	return snapshot.New(w.gen, w.now, w.sub, agents, tasks, items)
}

// input is a plan input of the world now with its holds.
func input(c *spec.Cluster, w *world) Input {
	return Input{Spec: c, Snapshot: w.snap(), Now: w.now, Holds: w.holds}
}

// end ends live task t in state st (with Mesos' reason and message) as the
// observer would record it: a failure is counted against its item.
func (w *world) end(t *snapshot.Task, st snapshot.TaskState, reason, msg string) {
	ran := time.Duration(0)
	if !t.RunningSince.IsZero() {
		ran = w.now.Sub(t.RunningSince)
	}
	healthy := time.Duration(0)
	if t.Healthy != nil && *t.Healthy && !t.HealthySince.IsZero() {
		healthy = w.now.Sub(t.HealthySince)
	}
	t.State, t.Reason, t.Message, t.UpdatedAt, t.Healthy, t.HealthySince = st, reason, msg, w.now, nil, time.Time{}
	if !t.Failed() {
		return
	}
	item := snapshot.ItemKey(t.Kind, t.AgentID)
	h := w.items[item]
	h.Failures++
	h.Last = snapshot.TaskEnd{TaskID: t.ID, Config: t.Config, State: st, Reason: reason, Message: msg, At: w.now,
		RanFor: ran, HealthyFor: healthy, HealthKilled: t.HealthKilled, HealthFailures: t.HealthFailures}
	w.items[item] = h
}

// render writes a plan as lines, one per action and blocked item, in order:
// tests compare these with the expected lines.
func render(r *Result) []string {
	var out []string
	for _, a := range r.Actions {
		switch a.Type {
		case Launch, LaunchProber:
			l := fmt.Sprintf("%s %s on %s config %s: %s", a.Type, a.Kind, a.Hostname, a.ConfigHash, a.Reason())
			if a.Waiting != "" {
				l += " (waiting: " + a.Waiting + ")"
			}
			out = append(out, l)
		case Kill:
			l := fmt.Sprintf("kill %s on %s", a.TaskID, a.Hostname)
			if a.Replaces != "" {
				l += " (replace)"
			}
			out = append(out, l+": "+a.Reason())
		case Probe:
			out = append(out, fmt.Sprintf("probe %s: %s", a.TaskID, a.Reason()))
		}
	}
	for _, ch := range r.Changes {
		l := "change " + ch.Kind + ":"
		if ch.Replace > 0 {
			l += fmt.Sprintf(" %d to replace (%d at a time): %s;", ch.Replace, ch.AtATime, ch.Change)
		}
		if ch.Stop > 0 {
			l += fmt.Sprintf(" %d to stop;", ch.Stop)
		}
		out = append(out, strings.TrimSuffix(l, ";"))
	}
	for _, b := range r.Blocked {
		host := b.Hostname
		if host == "" {
			host = "-"
		}
		out = append(out, fmt.Sprintf("blocked %s %s: %s", b.Kind, host, b.Reason))
	}
	return out
}

// only keeps the lines that start with one of prefixes, so a test can look
// at the part of a plan its scenario is about.
func only(lines []string, prefixes ...string) []string {
	var out []string
	for _, l := range lines {
		for _, p := range prefixes {
			if strings.HasPrefix(l, p) {
				out = append(out, l)
				break
			}
		}
	}
	return out
}

// fakeCluster applies plans to a world the way Mesos and Quobyte would. By
// default launches run and are healthy at once and kills end at once; with
// slow set, a launch stages until the next advance and a kill ends then.
type fakeCluster struct {
	w    *world
	slow bool
}

// advance moves time on by d and moves starting tasks to running and
// healthy, and tasks being killed to killed.
func (f *fakeCluster) advance(d time.Duration) {
	f.w.now = f.w.now.Add(d)
	yes := true
	for _, t := range f.w.tasks {
		switch t.State {
		case snapshot.Staging, snapshot.Starting, snapshot.Launching:
			t.State, t.Healthy, t.RunningSince, t.HealthySince, t.UpdatedAt = snapshot.Running, &yes, f.w.now, f.w.now, f.w.now
		case snapshot.Killing:
			t.State, t.UpdatedAt = snapshot.Killed, f.w.now
		}
	}
}

func (f *fakeCluster) apply(r *Result) {
	for _, a := range r.Actions {
		switch a.Type {
		case Launch, LaunchProber:
			f.w.seq++
			id := taskid.ID{Kind: a.Kind, ConfigHash: a.ConfigHash, Suffix: fmt.Sprintf("n%05d", f.w.seq)}
			yes := true
			t := &snapshot.Task{
				ID: id.String(), Kind: a.Kind, Config: a.ConfigHash, AgentID: a.AgentID, State: snapshot.Running,
				Healthy: &yes, LaunchedAt: f.w.now, UpdatedAt: f.w.now, RunningSince: f.w.now, HealthySince: f.w.now,
			}
			if f.slow {
				t.State, t.Healthy, t.RunningSince, t.HealthySince = snapshot.Staging, nil, time.Time{}, time.Time{}
			}
			f.w.tasks[t.ID] = t
		case Kill:
			if t := f.w.tasks[a.TaskID]; t != nil && !t.State.Terminal() {
				t.State, t.UpdatedAt, t.KillSent = snapshot.Killed, f.w.now, f.w.now
				if f.slow {
					t.State = snapshot.Killing
				}
			}
		case Probe:
			if ag := f.w.agents[a.AgentID]; ag != nil && ag.Probe != nil {
				ag.Probe.ReceivedAt = f.w.now
			}
		}
	}
}

// liveOn returns the live tasks of kind on agent, sorted by ID.
func (w *world) liveOn(kind, agentID string) []*snapshot.Task {
	var out []*snapshot.Task
	for _, t := range w.tasks {
		if t.Kind == kind && t.AgentID == agentID && !t.State.Terminal() {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
