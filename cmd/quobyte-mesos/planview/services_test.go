package planview

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/quobyte/quobyte-mesos/controller"
	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/spec"
)

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func boolp(b bool) *bool { return &b }

// A cluster whose plan is empty while services crash-loop, fail their
// health checks or wait to be restarted: the snapshot today's framework
// plans against in that case.
func troubledSnapshot() (*snapshot.Snapshot, map[string]controller.Hold) {
	agents := []*snapshot.Agent{{ID: "a1", Hostname: "node1"}, {ID: "a2", Hostname: "node2"}, {ID: "a3", Hostname: "node3"}}
	failed := func(id, agent string, at time.Duration, state snapshot.TaskState, reason, msg string) *snapshot.Task {
		kind := strings.Split(id, ".")[1]
		return &snapshot.Task{ID: id, Kind: kind, AgentID: agent, State: state, Reason: reason, Message: msg, UpdatedAt: t0.Add(at)}
	}
	tasks := []*snapshot.Task{
		// node1: data crashed three times and now waits for its backoff.
		failed("quobyte.data.c.1", "a1", -3*time.Minute, snapshot.Failed, "REASON_COMMAND_EXECUTOR_FAILED", "exited with status 1"),
		failed("quobyte.data.c.2", "a1", -2*time.Minute, snapshot.Killed, "", "health check failed"),
		failed("quobyte.data.c.3", "a1", -time.Minute, snapshot.Failed, "REASON_COMMAND_EXECUTOR_FAILED", "exited with status 2"),
		// node1: registry runs healthy.
		{ID: "quobyte.registry.c.1", Kind: "registry", AgentID: "a1", State: snapshot.Running, Healthy: boolp(true)},
		// node2: metadata runs but fails its health check; its data runs,
		// not checked yet; an old data task we stopped is no failure.
		{ID: "quobyte.metadata.c.1", Kind: "metadata", AgentID: "a2", State: snapshot.Running, Healthy: boolp(false)},
		{ID: "quobyte.data.c.4", Kind: "data", AgentID: "a2", State: snapshot.Running},
		{ID: "quobyte.data.old.1", Kind: "data", AgentID: "a2", State: snapshot.Killed, KillSent: t0.Add(-time.Hour)},
		// node3: api is starting after one failure; the prober is no service.
		failed("quobyte.api.c.1", "a3", -30*time.Second, snapshot.Failed, "", ""),
		{ID: "quobyte.api.c.2", Kind: "api", AgentID: "a3", State: snapshot.Staging},
		{ID: "quobyte.prober.p.1", Kind: "prober", AgentID: "a3", State: snapshot.Failed},
	}
	holds := map[string]controller.Hold{
		"data@a1": {Failures: 3, Until: t0.Add(40 * time.Second), LastError: "task quobyte.data.c.3 FAILED"},
		// A probe hold is no failure.
		"prober@a3": {Until: t0.Add(time.Minute)},
	}
	return snapshot.New(9, t0, snapshot.Subscription{State: snapshot.Subscribed}, agents, tasks, nil), holds
}

func TestCheckServices_NamesEveryServiceNotRunningHealthy(t *testing.T) {
	s, holds := troubledSnapshot()
	h := CheckServices(nil, s, holds)
	want := ServiceHealth{At: t0, Total: 5, NotHealthy: 3, Services: []ServiceProblem{
		{Hostname: "node1", AgentID: "a1", Kind: "data", Condition: "crash-looping", Restarts: 3,
			LastState: snapshot.Failed, LastReason: "REASON_COMMAND_EXECUTOR_FAILED", LastMessage: "exited with status 2",
			LastError: "task quobyte.data.c.3 FAILED", RetryAt: t0.Add(40 * time.Second)},
		{Hostname: "node2", AgentID: "a2", Kind: "metadata", Condition: "unhealthy",
			TaskID: "quobyte.metadata.c.1", State: snapshot.Running, Healthy: boolp(false)},
		{Hostname: "node3", AgentID: "a3", Kind: "api", Condition: "starting", TaskID: "quobyte.api.c.2",
			State: snapshot.Staging, Restarts: 1, LastState: snapshot.Failed},
	}}
	if diff := cmp.Diff(want, h); diff != "" {
		t.Errorf("CheckServices (-want +got):\n%s", diff)
	}
}

// `plan` can no longer say "No changes. The cluster matches the spec."
// while services crash-loop: it says how many are not running healthy,
// which, and why.
func TestText_NoChangesButServicesCrashLooping(t *testing.T) {
	var buf bytes.Buffer
	s, holds := troubledSnapshot()
	if err := NewDocument(&controller.Result{}, s, holds).Text(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"Not running healthy (3 of 5 services):\n",
		"    node1        data       crash-looping: 3 restarts; last FAILED (REASON_COMMAND_EXECUTOR_FAILED): exited with status 2; restarting in 40s\n",
		"    node2        metadata   unhealthy: now RUNNING, failing its health check\n",
		"    node3        api        starting: now STAGING; 1 restart; last FAILED\n",
		"\nNo changes to make, but 3 of 5 services are not running healthy.\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q\n--- output:\n%s", want, out)
		}
	}
	if strings.Contains(out, "matches the spec") {
		t.Errorf("output claims the cluster matches the spec:\n%s", out)
	}
}

func TestText_HealthyClusterSaysNoChanges(t *testing.T) {
	s := snapshot.New(1, t0, snapshot.Subscription{}, nil,
		[]*snapshot.Task{{ID: "quobyte.data.c.1", Kind: "data", AgentID: "a1", State: snapshot.Running, Healthy: boolp(true)}}, nil)
	d := NewDocument(&controller.Result{}, s, nil)
	if d.Services.Total != 1 || d.Services.NotHealthy != 0 || d.Line() != "No changes. The cluster matches the spec." {
		t.Errorf("services %+v, line %q", d.Services, d.Line())
	}
}

// The observer's item history names a health-check kill and counts
// failures past the 15 minutes it keeps ended tasks.
func TestCheckServices_HealthKillFromItemHistory(t *testing.T) {
	agents := []*snapshot.Agent{{ID: "a1", Hostname: "node1"}}
	tasks := []*snapshot.Task{{ID: "quobyte.metadata.c.9", Kind: "metadata", AgentID: "a1", State: snapshot.Staging}}
	items := map[string]snapshot.ItemHistory{"metadata@a1": {Failures: 7, Last: snapshot.TaskEnd{
		TaskID: "quobyte.metadata.c.8", State: snapshot.Killed, Message: "Command exited with status 0",
		HealthKilled: true, HealthFailures: 3, At: t0.Add(-time.Minute)}}}
	holds := map[string]controller.Hold{"metadata@a1": {Failures: 4, Until: t0.Add(20 * time.Second)}}
	h := CheckServices(nil, snapshot.New(3, t0, snapshot.Subscription{}, agents, tasks, items), holds)
	if len(h.Services) != 1 {
		t.Fatalf("services %+v", h.Services)
	}
	p := h.Services[0]
	if p.Condition != "crash-looping" || p.Restarts != 4 || p.TotalFailures != 7 {
		t.Errorf("problem %+v", p)
	}
	want := "crash-looping: now STAGING; 4 restarts; last killed by Mesos after 3 failed health checks: Command exited with status 0"
	if got := p.Why(t0); got != want {
		t.Errorf("Why = %q, want %q", got, want)
	}
}

// When services crash-loop and no registry runs healthy, the report says
// that they lack a registry, and, with registries addressed by hostname,
// what to check: names that do not resolve on the agents leave every
// service unable to reach one (agents named like
// storage-node-01.dc1.example.com on a test cluster).
func TestCheckServices_NamesTheMissingRegistry(t *testing.T) {
	agents := []*snapshot.Agent{{ID: "a1", Hostname: "storage-node-01.dc1.example.com"}, {ID: "a2", Hostname: "storage-node-02.dc1.example.com"}}
	items := map[string]snapshot.ItemHistory{
		"registry@a1": {Failures: 4, Last: snapshot.TaskEnd{TaskID: "quobyte.registry.c.1", State: snapshot.Killed, HealthKilled: true, HealthFailures: 3}},
		"data@a2":     {Failures: 5, Last: snapshot.TaskEnd{TaskID: "quobyte.data.c.1", State: snapshot.Killed, HealthKilled: true, HealthFailures: 3}},
	}
	registry := &snapshot.Task{ID: "quobyte.registry.c.2", Kind: "registry", AgentID: "a1", State: snapshot.Running, Healthy: boolp(false)}
	tasks := []*snapshot.Task{registry, {ID: "quobyte.data.c.2", Kind: "data", AgentID: "a2", State: snapshot.Starting}}
	holds := map[string]controller.Hold{"registry@a1": {Failures: 4}, "data@a2": {Failures: 5}}
	s := snapshot.New(3, t0, snapshot.Subscription{}, agents, tasks, items)
	c := &spec.Cluster{Quobyte: spec.Quobyte{Address: spec.AddressHostname}}

	var buf bytes.Buffer
	if err := NewDocument(&controller.Result{Spec: c}, s, holds).Text(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"    Why, maybe: no registry runs healthy, and every other service needs one (registries on storage-node-01.dc1.example.com):" +
			" QUOBYTE_REGISTRY names them by hostname; where those names do not resolve on the agents, set quobyte.address = \"ip\".\n",
		"2 of 2 services are not running healthy; no registry runs healthy.\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Addressed by IP, the note names no setting to change; with a
	// registry running healthy, or an external one, there is none.
	c.Quobyte.Address = spec.AddressIP
	if got := CheckServices(c, s, holds).Registry; strings.Contains(got, "quobyte.address") || got == "" {
		t.Errorf("by IP: note %q", got)
	}
	c.Quobyte.Registry = "ext:7861"
	if got := CheckServices(c, s, holds).Registry; got != "" {
		t.Errorf("external registry: note %q", got)
	}
	registry.Healthy = boolp(true)
	if got := CheckServices(nil, snapshot.New(4, t0, snapshot.Subscription{}, agents, tasks, items), holds).Registry; got != "" {
		t.Errorf("a registry runs healthy: note %q", got)
	}
}

// A service restarted after failures whose new task has not yet been
// through a health check is shown as starting, with its restarts: one
// that is killed after every grace period would otherwise hide between
// its restarts ("No changes" while nothing converges).
func TestCheckServices_RestartedAndNotYetCheckedIsStarting(t *testing.T) {
	agents := []*snapshot.Agent{{ID: "a1", Hostname: "node1"}}
	tasks := []*snapshot.Task{{ID: "quobyte.data.c.2", Kind: "data", AgentID: "a1", State: snapshot.Running}}
	items := map[string]snapshot.ItemHistory{"data@a1": {Failures: 2, Last: snapshot.TaskEnd{TaskID: "quobyte.data.c.1", State: snapshot.Killed, HealthKilled: true, HealthFailures: 3}}}
	holds := map[string]controller.Hold{"data@a1": {Failures: 2}}
	s := snapshot.New(1, t0, snapshot.Subscription{}, agents, tasks, items)
	checked := &spec.Cluster{Services: map[spec.Kind]*spec.Service{spec.Data: {Kind: spec.Data, Health: spec.Health{Path: "/serviceHealth"}}}}
	h := CheckServices(checked, s, holds)
	if len(h.Services) != 1 || h.Services[0].Condition != "starting" || h.Services[0].Restarts != 2 {
		t.Errorf("restarted, not yet checked: %+v", h.Services)
	}
	// Without a health check there is nothing to wait for: it runs.
	if h := CheckServices(&spec.Cluster{Services: map[spec.Kind]*spec.Service{spec.Data: {Kind: spec.Data}}}, s, holds); h.NotHealthy != 0 {
		t.Errorf("no health check: %+v", h.Services)
	}
}
