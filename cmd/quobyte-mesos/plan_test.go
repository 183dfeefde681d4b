package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quobyte/quobyte-mesos/cmd/quobyte-mesos/statusapi"
	"github.com/quobyte/quobyte-mesos/controller"
	"github.com/quobyte/quobyte-mesos/observe/probe"
	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/observe/taskid"
	"github.com/quobyte/quobyte-mesos/spec"
)

const localSpec = "../../examples/local.hcl"

// oneAgentSnapshot is a reconciled cluster of one agent with nothing on it:
// the local spec wants a prober there.
func oneAgentSnapshot() *snapshot.Snapshot {
	return snapshot.New(1, time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC),
		snapshot.Subscription{State: snapshot.Subscribed, Reconciled: true},
		[]*snapshot.Agent{{ID: "a1", Hostname: "127.0.1.1", Reachable: true,
			LastOffer: &snapshot.Offer{Resources: spec.Resources{CPUs: 8, Mem: 8192, Disk: 8192}}}}, nil, nil)
}

func runPlanT(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := runPlan(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// `plan --snapshot FILE SPEC -json -detailed-exitcode`: the flags after
// the spec count (they were taken for a second spec: "usage", exit 2).
func TestPlan_FlagsAfterSpec(t *testing.T) {
	b, err := json.Marshal(oneAgentSnapshot())
	if err != nil {
		t.Fatal(err)
	}
	snapFile := writeFile(t, t.TempDir(), "snap.json", b)
	code, stdout, stderr := runPlanT("--snapshot", snapFile, localSpec, "-json", "-detailed-exitcode")
	if code != 2 || !strings.HasPrefix(stdout, "{") || !strings.Contains(stdout, `"changes": true`) {
		t.Errorf("exit %d, stderr %q, stdout:\n%.500s", code, stderr, stdout)
	}
}

// fakeSource is a framework for the status API: one spec, one snapshot;
// its dry run plans the posted spec.
type fakeSource struct {
	cluster *spec.Cluster
	snap    *snapshot.Snapshot
}

func (f *fakeSource) Snapshot() *snapshot.Snapshot      { return f.snap }
func (f *fakeSource) Holds() map[string]controller.Hold { return nil }
func (f *fakeSource) Spec() *spec.Cluster               { return f.cluster }
func (f *fakeSource) Plan() *controller.Result          { return nil }
func (f *fakeSource) PlanBlockedSince() time.Time       { return time.Time{} }
func (f *fakeSource) LastReload() statusapi.Reload      { return statusapi.Reload{} }
func (f *fakeSource) DryRun(src []byte, name string) (*controller.Result, error) {
	c, diags := spec.LoadBytes(src, name)
	if diags.HasErrors() {
		return nil, statusapi.InvalidSpecError(diags.Error())
	}
	// As the framework does: the spec in force joins the earlier specs.
	in := controller.Input{Spec: f.cluster, Snapshot: f.snap, Now: f.snap.Time}
	return controller.Plan(in.ForSpec(c, f.snap.Time)), nil
}

// plan --server sends the first credential of --auth-file; without it a
// protected framework's 401 says to give one. A busy framework (429) is
// asked again after Retry-After.
func TestPlan_ServerAuthenticationAndRetry(t *testing.T) {
	dir := t.TempDir()
	creds := writeFile(t, dir, "api-auth", []byte("# for CI\nbearer ci-token\nbasic ops:pw\n"))
	c, diags := spec.Load(localSpec)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	withAuth := *c
	withAuth.StatusAPI.AuthFile = creds
	api := statusapi.Handler(statusapi.Config{Source: &fakeSource{cluster: &withAuth, snap: oneAgentSnapshot()}})
	var busy atomic.Int32
	busy.Store(1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if busy.Add(-1) >= 0 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		api.ServeHTTP(w, r)
	}))
	defer srv.Close()

	start := time.Now()
	code, _, stderr := runPlanT("--server", srv.URL, localSpec)
	if code != 1 || !strings.Contains(stderr, "401 Unauthorized (give --auth-file)") {
		t.Errorf("without credentials: exit %d, stderr %q", code, stderr)
	}
	if time.Since(start) < time.Second {
		t.Errorf("the 429 was not waited for")
	}
	code, stdout, stderr := runPlanT("--server", srv.URL, localSpec, "--auth-file", creds, "-detailed-exitcode")
	if code != 2 || !strings.Contains(stdout, "launch") {
		t.Errorf("with --auth-file: exit %d, stderr %q, stdout:\n%s", code, stderr, stdout)
	}
	wrong := writeFile(t, dir, "wrong", []byte("bearer nope\n"))
	if code, _, stderr := runPlanT("--server", srv.URL, localSpec, "--auth-file", wrong); code != 1 || !strings.Contains(stderr, "401") {
		t.Errorf("wrong credentials: exit %d, stderr %q", code, stderr)
	}
	if code, _, stderr := runPlanT("--server", srv.URL, localSpec, "--auth-file", filepath.Join(dir, "missing")); code != 1 || !strings.Contains(stderr, "reading --auth-file") {
		t.Errorf("missing credentials file: exit %d, stderr %q", code, stderr)
	}
}

// convergedLocalCluster is what `make run` converges to under spec c: five
// agents, registry and metadata devices on three, data on all five, one
// API and one webconsole, everything running healthy with c's configs.
func convergedLocalCluster(t *testing.T, c *spec.Cluster) *snapshot.Snapshot {
	t.Helper()
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	var agents []*snapshot.Agent
	var tasks []*snapshot.Task
	yes := true
	run := func(kind, hash, agentID string) {
		id, err := taskid.New(kind, hash, fmt.Sprintf("t%02d", len(tasks)))
		if err != nil {
			t.Fatal(err)
		}
		tasks = append(tasks, &snapshot.Task{ID: id.String(), Kind: kind, Config: hash, AgentID: agentID,
			State: snapshot.Running, Healthy: &yes, LaunchedAt: at.Add(-time.Hour), UpdatedAt: at.Add(-time.Hour),
			RunningSince: at.Add(-time.Hour), HealthySince: at.Add(-time.Hour)})
	}
	for i := 1; i <= 5; i++ {
		id, host := fmt.Sprintf("a%d", i), fmt.Sprintf("127.0.1.%d", i)
		rep := probe.Report{Version: probe.ReportVersion, Hostname: host, Mode: "directories"}
		kinds := []spec.Kind{spec.Data}
		if i <= 3 {
			kinds = append(kinds, spec.Registry, spec.Metadata)
		}
		for _, k := range kinds {
			rep.Devices = append(rep.Devices, probe.Device{Path: "/d/" + string(k), Types: []spec.DeviceType{k.DeviceType()}})
			run(string(k), c.Service(k).ConfigHash, id)
		}
		run(taskid.ProberKind, c.Prober.ConfigHash, id)
		agents = append(agents, &snapshot.Agent{ID: id, Hostname: host, Reachable: true,
			Probe: &snapshot.Probe{Report: rep, ReceivedAt: at}})
	}
	run(string(spec.API), c.Service(spec.API).ConfigHash, "a4")
	run(string(spec.Webconsole), c.Service(spec.Webconsole).ConfigHash, "a5")
	return snapshot.New(9, at, snapshot.Subscription{State: snapshot.Subscribed, Reconciled: true}, agents, tasks, nil)
}

// A version change through `plan --server` reads like terraform's plan:
// the whole change counted kind by kind, then what happens now; reasons
// say what changed (the spec in force is known to the framework), and the
// dry run claims nothing down that is not.
func TestPlan_VersionChangeCountsTheWholeRollout(t *testing.T) {
	c, diags := spec.Load(localSpec)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	src, err := os.ReadFile(localSpec)
	if err != nil {
		t.Fatal(err)
	}
	candidate := writeFile(t, t.TempDir(), "local-2.hcl", bytes.Replace(src, []byte(`version     = "local"`), []byte(`version     = "local-2"`), 1))
	srv := httptest.NewServer(statusapi.Handler(statusapi.Config{Source: &fakeSource{cluster: c, snap: convergedLocalCluster(t, c)}}))
	defer srv.Close()

	code, stdout, stderr := runPlanT("--server", srv.URL, candidate, "-detailed-exitcode")
	if code != 2 {
		t.Fatalf("exit %d, stderr %q, stdout:\n%s", code, stderr, stdout)
	}
	for _, want := range []string{
		"Plan: 13 to replace, rolling one at a time: registry 3, api 1, webconsole 1, metadata 3, data 5. Now: 0 to launch, 1 to replace, 0 to stop.",
		"    registry   3 to replace, one at a time: version local -> local-2\n",
		"    ~ registry   stop quobyte.registry.",
		"        because version local -> local-2\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("plan lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "down") || strings.Contains(stdout, "replaced by config") {
		t.Errorf("the dry run claims something down, or names hashes:\n%s", stdout)
	}
	// Unchanged, the same cluster has nothing to do.
	if code, stdout, _ := runPlanT("--server", srv.URL, localSpec, "-detailed-exitcode"); code != 0 || !strings.Contains(stdout, "No changes") {
		t.Errorf("spec in force: exit %d:\n%s", code, stdout)
	}
}
