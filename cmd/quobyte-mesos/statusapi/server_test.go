package statusapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/quobyte/quobyte-mesos/controller"
	"github.com/quobyte/quobyte-mesos/observe/probe"
	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/spec"
)

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

type fakeSource struct {
	snap         *snapshot.Snapshot
	holds        map[string]controller.Hold
	cluster      *spec.Cluster
	plan         *controller.Result
	blockedSince time.Time
	reload       Reload
	dryRun       func([]byte, string) (*controller.Result, error)
}

func (f *fakeSource) Snapshot() *snapshot.Snapshot      { return f.snap }
func (f *fakeSource) Holds() map[string]controller.Hold { return f.holds }
func (f *fakeSource) Spec() *spec.Cluster               { return f.cluster }
func (f *fakeSource) Plan() *controller.Result          { return f.plan }
func (f *fakeSource) PlanBlockedSince() time.Time       { return f.blockedSince }
func (f *fakeSource) LastReload() Reload                { return f.reload }
func (f *fakeSource) DryRun(src []byte, name string) (*controller.Result, error) {
	return f.dryRun(src, name)
}

func newFake() *fakeSource {
	healthy := true
	c := &spec.Cluster{File: "x.hcl", Hash: "h1", Quobyte: spec.Quobyte{State: spec.Running, Version: "3.4.1"},
		Services: map[spec.Kind]*spec.Service{spec.Data: {Kind: spec.Data, ConfigHash: "cnew"}}}
	agents := []*snapshot.Agent{{ID: "a1", Hostname: "node1", Reachable: true,
		Probe: &snapshot.Probe{ReceivedAt: t0.Add(-30 * time.Second), Report: probe.Report{
			Devices:  []probe.Device{{Path: "/mnt/d1", Types: []spec.DeviceType{spec.DataDevice}}},
			Rejected: []probe.Rejected{{Path: "/mnt/x", Reason: "no marker"}}}}}}
	tasks := []*snapshot.Task{
		{ID: "quobyte.data.cold.1", Kind: "data", Config: "cold", AgentID: "a1", State: snapshot.Running, Healthy: &healthy},
		{ID: "quobyte.data.cnew.2", Kind: "data", Config: "cnew", AgentID: "a1", State: snapshot.Finished},
	}
	s := snapshot.New(3, t0, snapshot.Subscription{State: snapshot.Subscribed, FrameworkID: "fw"}, agents, tasks, nil)
	holds := map[string]controller.Hold{"data@a1": {Failures: 2, Until: t0.Add(time.Minute), LastError: "TASK_FAILED"}}
	return &fakeSource{snap: s, holds: holds, cluster: c, plan: &controller.Result{}}
}

func get(t *testing.T, h http.Handler, method, path, body string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(b)
}

func TestHealth_SubscribedAndConverged(t *testing.T) {
	h := Handler(Config{Source: newFake(), Now: func() time.Time { return t0 }})
	code, body := get(t, h, "GET", "/v1/health", "")
	if code != 200 || !strings.Contains(body, `"healthy": true`) {
		t.Fatalf("got %d %s", code, body)
	}
}

func TestHealth_NotSubscribed(t *testing.T) {
	f := newFake()
	f.snap.Subscription.State = snapshot.Disconnected
	code, body := get(t, Handler(Config{Source: f}), "GET", "/v1/health", "")
	if code != 503 || !strings.Contains(body, "not subscribed") {
		t.Fatalf("got %d %s", code, body)
	}
}

func TestHealth_StuckPlanTurnsUnhealthyOnlyAfterStuckAfter(t *testing.T) {
	f := newFake()
	f.plan = &controller.Result{Blocked: []controller.Blocked{{Hostname: "node2", Kind: "metadata", Reason: "upgrade paused"}}}
	f.blockedSince = t0.Add(-5 * time.Minute)
	if h := Health(f, t0, 15*time.Minute); !h.Healthy {
		t.Fatalf("blocked 5m should still be healthy: %+v", h)
	}
	h := Health(f, t0, 4*time.Minute)
	if h.Healthy || !strings.Contains(strings.Join(h.Reasons, "\n"), "node2 metadata: upgrade paused") {
		t.Fatalf("stuck plan should be unhealthy with reasons: %+v", h)
	}
}

func TestStatus_HostsServicesUpgradeBackoffs(t *testing.T) {
	code, body := get(t, Handler(Config{Source: newFake(), Now: func() time.Time { return t0 }}), "GET", "/v1/status", "")
	if code != 200 {
		t.Fatalf("code %d", code)
	}
	var st Status
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Hosts) != 1 || st.Hosts[0].ProbeAge != "30s" || len(st.Hosts[0].Rejected) != 1 {
		t.Fatalf("hosts: %+v", st.Hosts)
	}
	// The finished task is not shown as a live service.
	if got := st.Hosts[0].Services["data"]; len(got) != 1 || got[0].Current {
		t.Fatalf("data services: %+v", got)
	}
	if len(st.Upgrade) != 1 || st.Upgrade[0].Outdated != 1 || st.Upgrade[0].Current != 0 {
		t.Fatalf("upgrade: %+v", st.Upgrade)
	}
	if len(st.Backoffs) != 1 || st.Backoffs[0].Failures != 2 {
		t.Fatalf("backoffs: %+v", st.Backoffs)
	}
	if st.Services.Total != 1 || st.Services.NotHealthy != 0 || st.PlanLine != "No changes. The cluster matches the spec." {
		t.Fatalf("service health %+v, plan line %q", st.Services, st.PlanLine)
	}
}

// /v1/status names a crash-looping service, with its last task's state,
// reason and message and its restart count, and says so in the plan line.
func TestStatus_NamesCrashLoopingService(t *testing.T) {
	f := newFake()
	tasks := []*snapshot.Task{{ID: "quobyte.registry.c.1", Kind: "registry", AgentID: "a1", State: snapshot.Running}}
	for i, reason := range []string{"REASON_COMMAND_EXECUTOR_FAILED", "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED", "REASON_COMMAND_EXECUTOR_FAILED"} {
		tasks = append(tasks, &snapshot.Task{ID: fmt.Sprintf("quobyte.data.c.%d", i), Kind: "data", AgentID: "a1",
			State: snapshot.Failed, Reason: reason, Message: "exit 1", UpdatedAt: t0.Add(time.Duration(i) * time.Second)})
	}
	f.snap = snapshot.New(4, t0, f.snap.Subscription, f.snap.Agents, tasks, nil)
	f.holds = map[string]controller.Hold{"data@a1": {Failures: 3, Until: t0.Add(time.Minute), LastError: "task FAILED"}}
	st := BuildStatus(f, t0)
	if st.Services.Total != 2 || st.Services.NotHealthy != 1 {
		t.Fatalf("service health %+v", st.Services)
	}
	p := st.Services.Services[0]
	if p.Hostname != "node1" || p.Kind != "data" || p.Condition != "crash-looping" || p.Restarts != 3 ||
		p.LastState != snapshot.Failed || p.LastReason != "REASON_COMMAND_EXECUTOR_FAILED" || p.LastMessage != "exit 1" {
		t.Errorf("problem %+v", p)
	}
	if st.PlanLine != "No changes to make, but 1 of 2 services is not running healthy." {
		t.Errorf("plan line %q", st.PlanLine)
	}
	// /v1/health stays about the framework (healthy), but its summary does
	// not say the cluster matches the spec.
	if h := Health(f, t0, 15*time.Minute); !h.Healthy || h.Summary != st.PlanLine {
		t.Errorf("health %+v, want healthy with summary %q", h, st.PlanLine)
	}
}

func TestDryRun_InvalidSpecIs422WithDiagnostics(t *testing.T) {
	f := newFake()
	f.dryRun = func(src []byte, name string) (*controller.Result, error) {
		return nil, InvalidSpecError(name + ":3,5-9: Unknown service kind")
	}
	code, body := get(t, Handler(Config{Source: f}), "POST", "/v1/plan?filename=c.hcl", "junk")
	if code != 422 || !strings.Contains(body, "c.hcl:3,5-9") {
		t.Fatalf("got %d %s", code, body)
	}
}

func TestDryRun_ValidSpecReturnsPlan(t *testing.T) {
	f := newFake()
	f.dryRun = func(src []byte, name string) (*controller.Result, error) {
		return &controller.Result{Actions: []controller.Action{{Type: controller.Launch, Kind: "api"}}}, nil
	}
	code, body := get(t, Handler(Config{Source: f}), "POST", "/v1/plan", "spec")
	if code != 200 || !strings.Contains(body, `"launch": 1`) {
		t.Fatalf("got %d %s", code, body)
	}
	f.dryRun = func([]byte, string) (*controller.Result, error) { return nil, errors.New("no snapshot yet") }
	if code, _ := get(t, Handler(Config{Source: f}), "POST", "/v1/plan", "spec"); code != 503 {
		t.Fatalf("dry run without snapshot: code %d", code)
	}
}

func TestMetrics_ExposesTaskAndReloadGauges(t *testing.T) {
	m := NewMetrics()
	f := newFake()
	m.ObserveSnapshot(f.snap)
	m.ObserveSnapshot(f.snap) // the finished task is seen again: counted once
	m.ObservePlan(&controller.Result{
		Actions: []controller.Action{
			{Type: controller.Launch, Kind: "api"},
			{Type: controller.LaunchProber, Kind: "prober"},
			{Type: controller.Kill, Kind: "data", TaskID: "old", Replaces: "old"},
			{Type: controller.Launch, Kind: "data", Replaces: "old"},
		},
		Blocked: []controller.Blocked{{}},
	})
	m.ObserveReload(t0, false)
	_, body := get(t, Handler(Config{Source: f, Metrics: m}), "GET", "/metrics", "")
	for _, want := range []string{
		`quobyte_mesos_tasks{kind="data",state="RUNNING"} 1`,
		`quobyte_mesos_tasks_ended_total{kind="data",state="FINISHED"} 1`,
		`quobyte_mesos_subscribed 1`,
		// The words of /v1/plan and `plan`: a replacement is one replace,
		// not a kill and a launch.
		`quobyte_mesos_plan_actions{type="launch"} 2`,
		`quobyte_mesos_plan_actions{type="replace"} 1`,
		`quobyte_mesos_plan_actions{type="stop"} 0`,
		`quobyte_mesos_plan_blocked 1`,
		`quobyte_mesos_spec_reload_success 0`,
		`quobyte_mesos_spec_reloads_total{result="failure"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	// Terminal tasks are no current tasks.
	if strings.Contains(body, `quobyte_mesos_tasks{kind="data",state="FINISHED"}`) {
		t.Errorf("a finished task is counted as a current task")
	}
	if strings.Contains(body, `type="kill"`) || strings.Contains(body, `type="launch-prober"`) {
		t.Errorf("plan_actions uses the controller's words, not the plan's")
	}
	// Once the snapshot drops the finished task, the total stays.
	var live []*snapshot.Task
	for _, tk := range f.snap.Tasks {
		if !tk.State.Terminal() {
			live = append(live, tk)
		}
	}
	f.snap.Tasks = live
	m.ObserveSnapshot(f.snap)
	_, body = get(t, Handler(Config{Source: f, Metrics: m}), "GET", "/metrics", "")
	if !strings.Contains(body, `quobyte_mesos_tasks_ended_total{kind="data",state="FINISHED"} 1`) {
		t.Errorf("the total of ended tasks dropped")
	}
}
