package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/quobyte/quobyte-mesos/cmd/quobyte-mesos/planview"
	"github.com/quobyte/quobyte-mesos/cmd/quobyte-mesos/statusapi"
	"github.com/quobyte/quobyte-mesos/test/mesossim"
)

// badVersion never becomes healthy (the stand-in's fault, set for every
// service); registries check every second with a grace of 4s, fail after 3
// checks, and back off 30s after a failure; a replacement must be healthy
// within 3s.
const badVersion = "v2"

var neverHealthyV2 = [][2]string{
	{`device_root = "$MESOS_SIM_HOST_DIR"`, `device_root = "$MESOS_SIM_HOST_DIR"` + "\n  env = {\n    STANDIN_NEVER_HEALTHY_VERSION = \"" + badVersion + "\"\n  }"},
	{`grace    = "10s"`, `grace    = "4s"`}, // the first service block is the registry's
	{"initial_delay = \"1s\"\n    max_delay     = \"10s\"", "initial_delay = \"30s\"\n    max_delay     = \"60s\""},
	{`healthy_deadline = "60s"`, `healthy_deadline = "3s"`},
}

const registryBackoff = 30 * time.Second

var threeRegistries = want{"prober": 5, "registry": 3, "metadata": 1, "data": 1, "api": 1, "webconsole": 1}

// Issue 10, bug 6: a rollout to a version that never becomes healthy.
// With auto_revert (on for registries by default) the first registry
// replaced is not healthy by healthy_deadline: its host goes back to the
// previous version, and the rollout pauses with the reason (no other
// registry is touched). Without auto_revert the replacement stays down:
// Mesos kills it for failing its checks, and its host backs off 30s; a spec
// change back to the old version relaunches it at once, not after the
// backoff of the version that failed.
func TestRollout_NeverHealthy_AutoRevertsAndPauses_SpecChangeClearsBackoff(t *testing.T) {
	c := startCluster(t, clusterOpts{subnet: "127.0.32", registry: 3, metadata: 1, data: 1, version: "v1", edits: neverHealthyV2})
	c.eventually(convergeWithin, "convergence", func() (bool, string) { return c.converged(threeRegistries) })
	before := c.tasksOf("registry")
	v1 := c.status().Hosts[0].Services["registry"][0].Config

	// auto_revert: the first registry goes to v2, fails, comes back on v1.
	c.writeSpec(badVersion, "")
	c.signal(syscall.SIGHUP)
	var reverted string // the host sent back
	c.eventually(convergeWithin, "the rollout paused with a revert", func() (bool, string) {
		for _, b := range c.plan().Plan.Blocked {
			if b.Kind == "registry" && strings.Contains(b.Reason, "reverted to config "+v1+": not healthy after 3s") {
				reverted = b.Hostname
				return true, ""
			}
		}
		return false, fmt.Sprintf("blocked: %+v", c.plan().Plan.Blocked)
	})
	c.eventually(convergeWithin, "the reverted registry running healthy on "+v1, func() (bool, string) {
		now := c.tasksOf("registry")
		ts, ok := now[reverted]
		return ok && ts.Config == v1 && ts.TaskID != before[reverted].TaskID && ts.State == "RUNNING" && ts.Healthy != nil && *ts.Healthy,
			fmt.Sprintf("registries %+v", now)
	})
	time.Sleep(3 * time.Second) // the pause holds: no other registry goes
	for host, ts := range c.tasksOf("registry") {
		if host != reverted && ts.TaskID != before[host].TaskID {
			t.Errorf("registry on %s replaced (%s -> %s) although the rollout paused", host, before[host].TaskID, ts.TaskID)
		}
	}
	_, out := c.planExit(c.specPath)
	if !strings.Contains(out, "upgrade paused: registry on "+reverted+" reverted to config "+v1) {
		t.Errorf("plan does not say the rollout paused:\n%s", out)
	}
	if n := c.launches(0, "registry"); n != 3+2 { // three at the start, then v2 and back
		t.Errorf("%d registry launches, want 5 (3, then one to v2 and one back)", n)
	}

	// No auto_revert: the replacement stays down, killed by Mesos, backing off.
	seq := lastSeq(c.calls(0))
	c.edits = append(c.edits, [2]string{`healthy_deadline = "3s"`, `healthy_deadline = "3s"` + "\n  auto_revert      = []"})
	c.writeSpec(badVersion, "")
	c.signal(syscall.SIGHUP)
	var down string
	var hold time.Time
	c.eventually(convergeWithin, "a registry backing off after a health-check kill", func() (bool, string) {
		st := c.status()
		for _, b := range st.Backoffs {
			if strings.HasPrefix(b.Item, "registry@") && strings.Contains(b.LastError, "killed by Mesos after 3 failed health checks") {
				for _, h := range st.Hosts {
					if strings.HasSuffix(b.Item, "@"+h.AgentID) && len(h.Services["registry"]) == 0 {
						down, hold = h.Hostname, b.Until
						return true, ""
					}
				}
			}
		}
		return false, fmt.Sprintf("backoffs %+v", st.Backoffs)
	})
	if left := time.Until(hold); left < registryBackoff/2 {
		t.Fatalf("registry on %s held for %s only, want about %s", down, left, registryBackoff)
	}
	if n := c.launches(seq, "registry"); n != 1 {
		t.Errorf("%d registry launches without auto_revert, want 1 (to v2)", n)
	}

	// Back to v1: the host that failed v2 relaunches at once.
	seq = lastSeq(c.calls(0))
	reload := time.Now()
	c.writeSpec("v1", "")
	c.signal(syscall.SIGHUP)
	c.eventually(convergeWithin, "converged on v1 again", func() (bool, string) { return c.converged(threeRegistries) })
	var relaunch mesossim.CallRecord
	for _, r := range c.calls(seq) {
		if r.Type == "ACCEPT" && launchesKind(r, "registry") {
			relaunch = r
		}
	}
	if relaunch.Seq == 0 || !strings.HasPrefix(relaunch.TaskIDs[0], "quobyte.registry."+v1+".") {
		t.Fatalf("no registry relaunched on %s after the change back to v1: %+v", v1, relaunch)
	}
	t.Logf("registry on %s relaunched on v1 %s after the reload; the v2 backoff held until %s after it",
		down, relaunch.Time.Sub(reload).Round(time.Millisecond), hold.Sub(reload).Round(time.Millisecond))
	if d := relaunch.Time.Sub(reload); d > 10*time.Second || !relaunch.Time.Before(hold) {
		t.Errorf("registry on %s relaunched %s after the change back to v1 (the v2 backoff held until %s after it): it waited for the backoff",
			down, d.Round(time.Millisecond), hold.Sub(reload).Round(time.Millisecond))
	}
}

// tasksOf is the one live task of kind on each host that has one.
func (c *cluster) tasksOf(kind string) map[string]statusapi.TaskSummary {
	c.t.Helper()
	out := map[string]statusapi.TaskSummary{}
	for _, h := range c.status().Hosts {
		for _, ts := range h.Services[kind] {
			out[h.Hostname] = ts
		}
	}
	return out
}

// plan is GET /v1/plan.
func (c *cluster) plan() planview.Document {
	c.t.Helper()
	var d planview.Document
	if code := c.getJSON("/v1/plan", &d); code != http.StatusOK || d.Plan == nil {
		c.t.Fatalf("GET /v1/plan: %d", code)
	}
	return d
}

// launches counts the tasks of kind launched after seq.
func (c *cluster) launches(seq int, kind string) int {
	n := 0
	for _, r := range c.calls(seq) {
		for _, id := range r.TaskIDs {
			if r.Type == "ACCEPT" && strings.HasPrefix(id, "quobyte."+kind+".") {
				n++
			}
		}
	}
	return n
}
