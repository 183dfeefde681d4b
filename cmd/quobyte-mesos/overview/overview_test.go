package overview

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quobyte/quobyte-mesos/cmd/quobyte-mesos/statusapi"
	"github.com/quobyte/quobyte-mesos/controller"
	"github.com/quobyte/quobyte-mesos/observe/leader"
	"github.com/quobyte/quobyte-mesos/observe/probe"
	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/spec"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

const specSrc = `mesos {
  master         = "http://127.0.0.1:5050"
  framework_name = "quobyte-test"
}
quobyte {
  version = "3.4.1"
  runtime = "command"
  command = "true"
}
service "s3" {
  enabled = true
  count   = 1
}
`

func loadSpec(t testing.TB) *spec.Cluster {
	t.Helper()
	c, diags := spec.LoadBytes([]byte(specSrc), "cluster.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return c
}

// fixture builds snapshots of three or four hosts.
type fixture struct {
	c      *spec.Cluster
	agents []*snapshot.Agent
	tasks  []*snapshot.Task
	items  map[string]snapshot.ItemHistory
	n      int
}

func newFixture(t testing.TB) *fixture {
	return &fixture{c: loadSpec(t), items: map[string]snapshot.ItemHistory{}}
}

func (f *fixture) agent(id string, reachable bool, types ...spec.DeviceType) {
	a := &snapshot.Agent{ID: id, Hostname: "host-" + id, Reachable: reachable}
	if types != nil {
		var devs []probe.Device
		for i, dt := range types {
			devs = append(devs, probe.Device{Path: "/mnt/d" + string(rune('0'+i)), Types: []spec.DeviceType{dt}})
		}
		a.Probe = &snapshot.Probe{Report: probe.Report{Devices: devs}, ReceivedAt: t0.Add(-4 * time.Second)}
	}
	f.agents = append(f.agents, a)
}

// task adds a task of kind on agent; config "" is the spec's.
func (f *fixture) task(kind, agent string, state snapshot.TaskState, healthy *bool, config string) *snapshot.Task {
	if config == "" {
		config = f.c.Service(spec.Kind(kind)).ConfigHash
	}
	f.n++
	tk := &snapshot.Task{ID: "quobyte." + kind + "." + config + "." + string(rune('a'+f.n)), Kind: kind, Config: config,
		AgentID: agent, State: state, Healthy: healthy, LaunchedAt: t0.Add(-time.Duration(100-f.n) * time.Second)}
	f.tasks = append(f.tasks, tk)
	return tk
}

func (f *fixture) snapshot() *snapshot.Snapshot {
	return snapshot.New(7, t0, snapshot.Subscription{State: snapshot.Subscribed, FrameworkID: "fw-1", Master: "http://m1:5050",
		Since: t0.Add(-time.Hour), Reconciled: true}, f.agents, f.tasks, f.items)
}

var yes, no = true, false

// converged: three hosts, every service healthy.
func convergedInput(t *testing.T) Input {
	f := newFixture(t)
	for _, a := range []string{"a1", "a2", "a3"} {
		f.agent(a, true, spec.DirDevice, spec.MetadataDevice, spec.DataDevice)
		for _, k := range []string{"prober", "registry", "metadata", "data"} {
			f.task(k, a, snapshot.Running, &yes, map[bool]string{true: "p1"}[k == "prober"])
		}
	}
	f.task("api", "a1", snapshot.Running, &yes, "")
	f.task("webconsole", "a2", snapshot.Running, &yes, "")
	f.task("s3", "a3", snapshot.Running, nil, "")
	return Input{Spec: f.c, Snapshot: f.snapshot(), Plan: &controller.Result{SpecHash: f.c.Hash},
		Reload: statusapi.Reload{At: t0.Add(-time.Hour), File: "cluster.hcl", OK: true, SpecHash: f.c.Hash}, Now: t0}
}

// trouble: a registry rollout paused on a failed replacement, a
// crash-looping data service, one backing off, a blocked s3, an unreachable
// host, a host without a prober report, a failed reload, a standby's view.
func troubleInput(t *testing.T) Input {
	f := newFixture(t)
	f.agent("a1", true, spec.DirDevice, spec.DataDevice, spec.DataDevice)
	f.agent("a2", true, spec.DirDevice, spec.DataDevice)
	f.agent("a3", false, spec.DirDevice, spec.DataDevice)
	f.agent("a4", true)
	f.task("registry", "a1", snapshot.Running, &yes, "")       // replaced
	f.task("registry", "a2", snapshot.Running, &no, "")        // the new one fails its check
	f.task("registry", "a3", snapshot.Unreachable, nil, "old") // not yet replaced
	f.task("data", "a1", snapshot.Running, &yes, "")
	f.items["data@a1"] = snapshot.ItemHistory{Failures: 4, Last: snapshot.TaskEnd{TaskID: "quobyte.data.x.1", State: snapshot.Failed,
		Reason: "REASON_COMMAND_EXECUTOR_FAILED", Message: "exited with status 1", At: t0.Add(-time.Minute)}}
	f.task("data", "a3", snapshot.Running, &yes, "")
	f.task("api", "a1", snapshot.Starting, nil, "")
	kill := f.task("webconsole", "a2", snapshot.Running, &yes, "old")
	kill.KillSent = t0.Add(-time.Second)
	holds := map[string]controller.Hold{
		"data@a1": {Failures: 4, Until: t0.Add(-time.Second)},
		"data@a2": {Failures: 2, Until: t0.Add(12 * time.Second), LastError: "task quobyte.data.x.2 FAILED"},
	}
	plan := &controller.Result{SpecHash: f.c.Hash,
		Changes: []controller.KindChange{{Kind: "registry", Replace: 1, AtATime: 1, Change: "version 3.4.0 -> 3.4.1"}, {Kind: "webconsole", Replace: 1, AtATime: 1}},
		Actions: []controller.Action{
			controller.Action{Type: controller.Launch, AgentID: "a1", Hostname: "host-a1", Kind: "webconsole", ConfigHash: f.c.Service(spec.Webconsole).ConfigHash,
				Replaces: kill.ID, Waiting: "needs mem=4096, largest offer from host-a1 mem=1024"}.WithReason("replaces " + kill.ID),
			controller.Action{Type: controller.Kill, AgentID: "a2", Hostname: "host-a2", Kind: "webconsole", TaskID: kill.ID, Replaces: kill.ID}.WithReason("replaced by config x"),
		},
		Blocked: []controller.Blocked{
			{AgentID: "a2", Hostname: "host-a2", Kind: "registry", Item: "registry@a2", Reason: "upgrade paused: registry on host-a2 not healthy after 1m0s"},
			{AgentID: "a2", Hostname: "host-a2", Kind: "data", Item: "data@a2", Reason: "backing off after 2 failures: retry in 12s (last: task quobyte.data.x.2 FAILED)"},
			{AgentID: "a4", Hostname: "host-a4", Kind: "s3", Item: "s3@a4", Reason: "no offer from host-a4 with cpus=1 mem=99999 (last offer: cpus=4 mem=8192)"},
			{Kind: "prober", Item: "prober@a4", Reason: "waiting for the prober on host-a4"},
		},
	}
	ha := &statusapi.HAStatus{Status: leader.Status{Role: leader.Standby, Reason: "waiting", Self: leader.Member{Node: "n2", URL: "http://fw2:7888"},
		Leader: &leader.Member{Node: "n1", URL: "http://fw1:7888"}, Members: []leader.Member{{Node: "n1"}, {Node: "n2"}}}}
	return Input{Spec: f.c, Snapshot: f.snapshot(), Plan: plan, Holds: holds, HA: ha, Now: t0,
		Reload: statusapi.Reload{At: t0.Add(-30 * time.Second), File: "cluster.hcl", OK: false, SpecHash: f.c.Hash,
			Diagnostics: "cluster.hcl:3:13: Unsupported argument; An argument named \"verison\" is not expected here."}}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func text(t *testing.T, ov Overview, o TextOptions) string {
	t.Helper()
	var b bytes.Buffer
	if err := ov.Text(&b, o); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestText_Golden(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   func(*testing.T) Input
		o    TextOptions
	}{
		{"converged.txt", convergedInput, TextOptions{}},
		{"trouble.txt", troubleInput, TextOptions{}},
		{"trouble-problems-color.txt", troubleInput, TextOptions{Color: true, ProblemsOnly: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ov := Build(tc.in(t))
			golden(t, tc.name, text(t, ov, tc.o))
			// The JSON is /v1/overview's body (cmd/quobyte-mesos's status
			// test serves these files), and what a client decodes from it
			// prints the same.
			b, err := json.MarshalIndent(ov, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			if tc.o == (TextOptions{}) {
				golden(t, strings.TrimSuffix(tc.name, ".txt")+".json", string(b)+"\n")
			}
			var back Overview
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if got := text(t, back, tc.o); got != text(t, ov, tc.o) {
				t.Errorf("after a JSON round trip:\n%s", got)
			}
		})
	}
}

func TestBuild_Converged(t *testing.T) {
	ov := Build(convergedInput(t))
	if !ov.Converged || !ov.Healthy {
		t.Errorf("converged %v healthy %v, want both", ov.Converged, ov.Healthy)
	}
	if want := (Counts{Healthy: 12, Hosts: 3}); ov.Counts != want {
		t.Errorf("counts %+v, want %+v", ov.Counts, want)
	}
	if got := strings.Join(ov.Kinds, " "); got != "registry api webconsole s3 metadata data" {
		t.Errorf("kinds %s", got)
	}
	if len(ov.Rollouts) != 0 || len(ov.Blocked) != 0 {
		t.Errorf("rollouts %v blocked %v", ov.Rollouts, ov.Blocked)
	}
	for _, h := range ov.Hosts {
		if h.Problem {
			t.Errorf("%s has a problem: %+v", h.Hostname, h)
		}
	}
}

// cellOf finds a host's cell of kind.
func cellOf(t *testing.T, ov Overview, host, kind string) Cell {
	t.Helper()
	for _, h := range ov.Hosts {
		if h.Hostname != host {
			continue
		}
		for i, k := range ov.Kinds {
			if k == kind {
				return h.Cells[i]
			}
		}
	}
	t.Fatalf("no cell %s on %s", kind, host)
	return Cell{}
}

func TestBuild_CellStates(t *testing.T) {
	ov := Build(troubleInput(t))
	for _, tc := range []struct {
		host, kind string
		state      State
		problem    string
		outdated   bool
		detail     string
	}{
		{"host-a1", "registry", Healthy, "", false, ""},
		{"host-a2", "registry", Unhealthy, "unhealthy", false, "failing its health check; upgrade paused"},
		{"host-a3", "registry", Unreachable, "unreachable", true, ""},
		{"host-a1", "data", Healthy, "crash-looping", false, "REASON_COMMAND_EXECUTOR_FAILED"},
		{"host-a2", "data", BackingOff, "waiting to restart", false, "backing off"},
		{"host-a4", "data", NotWanted, "", false, ""},
		{"host-a1", "api", Starting, "starting", false, ""},
		{"host-a1", "webconsole", Waiting, "", false, "launch planned: replaces quobyte.webconsole.old.h; waiting: needs mem=4096"},
		{"host-a2", "webconsole", Stopping, "", true, "being stopped"},
		{"host-a4", "s3", Blocked, "", false, "no offer from host-a4"},
	} {
		c := cellOf(t, ov, tc.host, tc.kind)
		if c.State != tc.state || c.Problem != tc.problem || c.Outdated != tc.outdated || !strings.Contains(c.Detail, tc.detail) {
			t.Errorf("%s %s = %+v; want %s problem %q outdated %v detail ~%q", tc.host, tc.kind, c, tc.state, tc.problem, tc.outdated, tc.detail)
		}
	}
	if c := cellOf(t, ov, "host-a2", "data"); !c.Until.Equal(t0.Add(12*time.Second)) || c.Label(t0.Add(2*time.Second)) != "backoff 10s" {
		t.Errorf("backoff cell %+v label %q", c, c.Label(t0.Add(2*time.Second)))
	}
	// Healthy: registry a1, data a3 (a1 crash-loops). Unhealthy: registry
	// a2 and a3, data a1, api a1. Missing: data a2, webconsole a1, s3 a4.
	if want := (Counts{Healthy: 2, Unhealthy: 4, Missing: 3, Hosts: 4, Unreachable: 1}); ov.Counts != want {
		t.Errorf("counts %+v, want %+v", ov.Counts, want)
	}
	if ov.Converged || ov.Healthy {
		t.Errorf("converged %v healthy %v, want neither", ov.Converged, ov.Healthy)
	}
	for _, want := range []KindCounts{
		{Kind: "registry", Healthy: 1, Unhealthy: 2},
		{Kind: "data", Healthy: 1, Unhealthy: 1, Missing: 1, CrashLooping: 1},
		{Kind: "webconsole", Missing: 1},
		{Kind: "s3", Missing: 1},
	} {
		found := false
		for _, got := range ov.ByKind {
			if got.Kind == want.Kind {
				found = true
				if got != want {
					t.Errorf("by kind %+v, want %+v", got, want)
				}
			}
		}
		if !found {
			t.Errorf("no counts of %s in %+v", want.Kind, ov.ByKind)
		}
	}
	if len(ov.Rollouts) != 2 {
		t.Fatalf("rollouts %+v, want registry and webconsole", ov.Rollouts)
	}
	if r := ov.Rollouts[0]; r.Kind != "registry" || r.Replaced != 2 || r.Total != 3 || !r.Paused || len(r.Reasons) != 1 ||
		r.Change != "version 3.4.0 -> 3.4.1" || r.AtATime != 1 {
		t.Errorf("registry rollout %+v", r)
	}
	if r := ov.Rollouts[1]; r.Kind != "webconsole" || r.Replaced != 0 || r.Total != 1 || r.Paused {
		t.Errorf("webconsole rollout %+v", r)
	}
	// Problems first, then by name; every host here has one.
	if got := hostOrder(ov); got != "host-a1 host-a2 host-a3 host-a4" {
		t.Errorf("order %s", got)
	}
}

func hostOrder(ov Overview) string {
	var order []string
	for _, h := range ov.Hosts {
		order = append(order, h.Hostname)
	}
	return strings.Join(order, " ")
}

func TestBuild_ProblemsFirst(t *testing.T) {
	f := newFixture(t)
	for _, a := range []string{"a1", "a2", "a3"} {
		f.agent(a, true, spec.DataDevice)
		f.task("data", a, snapshot.Running, &yes, "")
	}
	f.tasks[1].Healthy = &no
	ov := Build(Input{Spec: f.c, Snapshot: f.snapshot(), Plan: &controller.Result{}, Now: t0})
	if got := hostOrder(ov); got != "host-a2 host-a1 host-a3" {
		t.Errorf("order %s, want the unhealthy host first", got)
	}
}

func TestBuild_NothingObservedYet(t *testing.T) {
	c := loadSpec(t)
	ov := Build(Input{Spec: c, Now: t0})
	if ov.Converged || ov.Healthy || ov.PlanLine != "No plan yet." || len(ov.Hosts) != 0 || len(ov.Kinds) == 0 {
		t.Errorf("%+v", ov)
	}
	if s := text(t, ov, TextOptions{}); !strings.Contains(s, "nothing observed") {
		t.Errorf("text:\n%s", s)
	}
}

func TestBuild_ClipsLongPlans(t *testing.T) {
	f := newFixture(t)
	plan := &controller.Result{}
	for i := range MaxListed + 5 {
		plan.Blocked = append(plan.Blocked, controller.Blocked{Kind: "data", Item: "data@x", Reason: "r"})
		plan.Actions = append(plan.Actions, controller.Action{Type: controller.Launch, Kind: "data", AgentID: "a", Hostname: string(rune('a' + i%26))}.WithReason("r"))
	}
	ov := Build(Input{Spec: f.c, Snapshot: f.snapshot(), Plan: plan, Now: t0})
	if len(ov.Blocked) != MaxListed || ov.BlockedTotal != MaxListed+5 || len(ov.Waiting) != 0 {
		t.Errorf("%d blocked listed of %d", len(ov.Blocked), ov.BlockedTotal)
	}
	if n := strings.Count(ov.Plan.Text, "\n"); n != MaxPlanLines || ov.Plan.TextLines <= MaxPlanLines {
		t.Errorf("plan text: %d lines of %d", n, ov.Plan.TextLines)
	}
}
