package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/quobyte/quobyte-mesos/test/mesossim"
)

// A changed mesos block on SIGHUP (issue 9): the new role reaches the
// master at once with UPDATE_FRAMEWORK, and a relaunched task runs on
// resources of the new role; what needs a restart (here the framework ID
// store) is reported in the reload's result instead of silently ignored.
// A dry run of the candidate says both beforehand.
func TestReloadAppliesMesosRoleLive(t *testing.T) {
	c := startCluster(t, clusterOpts{subnet: "127.0.8", registry: 3, metadata: 3, data: 5, version: "v1"})
	c.eventually(convergeWithin, "convergence", func() (bool, string) { return c.converged(fullLayout) })

	s := c.spec("v1", "")
	for old, repl := range map[string]string{
		`failover_timeout   = "1h"`: `failover_timeout   = "1h"` + "\n  role               = \"storage\"",
		`/framework-id"`:            `/framework-id-elsewhere"`,
	} {
		if !strings.Contains(s, old) {
			t.Fatalf("the spec no longer contains %s", old)
		}
		s = strings.Replace(s, old, repl, 1)
	}
	// The dry run says beforehand what the reload will do to the mesos
	// block, and counts it as a change although no task changes.
	candidate := filepath.Join(c.dir, "candidate.hcl")
	if err := os.WriteFile(candidate, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out := c.planExit(candidate)
	for _, want := range []string{
		`mesos.role: "quobyte" -> "storage", applied live with UPDATE_FRAMEWORK`,
		"mesos.framework_id_store changes at the next start",
		"No changes to tasks. 2 changes of the mesos block.",
	} {
		if code != 2 || !strings.Contains(out, want) {
			t.Errorf("plan of the candidate: exit %d, want 2 and %q in:\n%s", code, want, out)
		}
	}
	if err := os.WriteFile(c.specPath, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	c.signal(syscall.SIGHUP)
	c.eventually(10*time.Second, "the master to know the new role", func() (bool, string) {
		st := c.simState()
		if len(st.Frameworks) != 1 {
			return false, "frameworks: " + strings.Join(frameworkNames(st), ",")
		}
		roles := st.Frameworks[0].Roles
		return len(roles) == 1 && roles[0] == "storage", "roles " + strings.Join(roles, ",")
	})
	if r := c.status().Reload; !r.OK || strings.Join(r.NextStart, ";") != "mesos.framework_id_store changes at the next start" {
		t.Errorf("reload result %+v, want the framework ID store reported for the next start", r)
	}

	crashed := strings.TrimSpace(c.taskIDs()[c.hosts[0]+"/registry"])
	c.admin("kill-task", map[string]any{"task_id": crashed})
	c.eventually(convergeWithin, "the registry relaunched", func() (bool, string) {
		now := strings.TrimSpace(c.taskIDs()[c.hosts[0]+"/registry"])
		if now == "" || now == crashed {
			return false, "registry on " + c.hosts[0] + ": " + now
		}
		return c.converged(fullLayout)
	})
	relaunched := strings.TrimSpace(c.taskIDs()[c.hosts[0]+"/registry"])
	for _, tk := range c.simState().Frameworks[0].Tasks {
		if tk.ID == relaunched && tk.Role != "storage" {
			t.Errorf("relaunched task %s runs on role %q, want storage", tk.ID, tk.Role)
		}
		if tk.ID == relaunched {
			return
		}
	}
	t.Errorf("relaunched task %s not in the master's state", relaunched)
}

func (c *cluster) simState() mesossim.State {
	c.t.Helper()
	resp, err := http.Get(c.masterURL + "/state")
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var st mesossim.State
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		c.t.Fatal(err)
	}
	return st
}

func frameworkNames(st mesossim.State) []string {
	var out []string
	for _, f := range st.Frameworks {
		out = append(out, f.Name)
	}
	return out
}
