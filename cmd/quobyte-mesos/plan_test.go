package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quobyte/quobyte-mesos/cmd/quobyte-mesos/statusapi"
	"github.com/quobyte/quobyte-mesos/controller"
	"github.com/quobyte/quobyte-mesos/observe/snapshot"
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
	return controller.Plan(controller.Input{Spec: c, Snapshot: f.snap, Now: f.snap.Time}), nil
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
