package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/quobyte/quobyte-mesos/test/mesossim"
)

// The partition tests' timings: mesos-sim notices a cut agent after
// pingTimeouts missed pings of pingTimeout (as a master's
// --agent_ping_timeout x --max_agent_ping_timeouts), and the spec gives an
// unreachable stateless task unreachableTimeout before it is replaced.
const (
	pingTimeout        = 500 * time.Millisecond
	pingTimeouts       = 4
	noticeAfter        = pingTimeout * pingTimeouts
	unreachableTimeout = 10 * time.Second
)

// smallLayout: every device-bound service on the first host, api and
// webconsole elsewhere.
var smallLayout = want{"prober": 5, "registry": 1, "metadata": 1, "data": 1, "api": 1, "webconsole": 1}

// Issue 10, bug 1: the agent holding the api is partitioned. The api is not
// replaced at once, and never sent a KILL (Mesos cannot deliver it: it
// answers with a reconciliation). A partition healed within
// unreachable_timeout changes nothing: the api comes back healthy and is
// not killed by a kill sent while it was away. A longer one gets the api
// replaced elsewhere unreachable_timeout after the agent became unreachable
// (counted from then, not from the task's last update), and once the agent
// is back the plan decides again: one of the two apis is killed, the other
// kept, nothing relaunched.
func TestPartition_APIReplacedAfterUnreachableTimeout_DecidedAgainOnReturn(t *testing.T) {
	c := startCluster(t, clusterOpts{subnet: "127.0.30", registry: 1, metadata: 1, data: 1, version: "v1",
		simArgs: []string{"--agent-ping-timeout", pingTimeout.String(), "--max-agent-ping-timeouts", fmt.Sprint(pingTimeouts)},
		edits:   [][2]string{{`unreachable_timeout = "30s"`, `unreachable_timeout = "` + unreachableTimeout.String() + `"`}},
	})
	c.eventually(convergeWithin, "convergence", func() (bool, string) { return c.converged(smallLayout) })
	apiHost, api := c.onlyTask("api")
	if apiHost == c.hosts[0] {
		t.Fatalf("the api runs on %s with the registry: partitioning it would stop the core", apiHost)
	}

	// A partition healed before unreachable_timeout: nothing happens.
	seq := lastSeq(c.calls(0))
	c.admin("partition-agent", map[string]any{"agent": apiHost})
	c.waitAgentState(apiHost, "unreachable", noticeAfter+5*time.Second)
	unreachableAt := time.Now()
	c.waitTaskState(apiHost, "api", api, "UNREACHABLE")
	time.Sleep(time.Until(unreachableAt.Add(unreachableTimeout / 2)))
	c.admin("heal-agent", map[string]any{"agent": apiHost})
	c.eventually(convergeWithin, "the api back healthy", func() (bool, string) { return c.converged(smallLayout) })
	time.Sleep(3 * time.Second) // time for a stale kill to do harm
	if h, now := c.onlyTask("api"); h != apiHost || now != api {
		t.Errorf("after a short partition the api is %s on %s, want %s on %s", now, h, api, apiHost)
	}
	for _, r := range c.calls(seq) {
		if r.Type == "KILL" || (r.Type == "ACCEPT" && launchesKind(r, "api")) {
			t.Errorf("a partition shorter than unreachable_timeout caused %s %v (seq %d)", r.Type, r.TaskIDs, r.Seq)
		}
	}

	// A partition longer than unreachable_timeout: the api is replaced
	// elsewhere, counted from when the agent became unreachable.
	seq = lastSeq(c.calls(0))
	cut := time.Now()
	c.admin("partition-agent", map[string]any{"agent": apiHost})
	c.waitAgentState(apiHost, "unreachable", noticeAfter+5*time.Second)
	seen := time.Now() // the master marked it unreachable in [cut+noticeAfter, seen]
	var launch mesossim.CallRecord
	c.eventually(unreachableTimeout+20*time.Second, "a replacement api launched", func() (bool, string) {
		for _, r := range c.calls(seq) {
			if r.Type == "ACCEPT" && launchesKind(r, "api") {
				launch = r
				return true, ""
			}
		}
		return false, "no api launch since the cut"
	})
	earliest, latest := cut.Add(noticeAfter+unreachableTimeout), seen.Add(unreachableTimeout+8*time.Second)
	if launch.Time.Before(earliest) || launch.Time.After(latest) {
		t.Errorf("replacement api launched %s after the cut, want within [%s, %s] (unreachable after %s, then unreachable_timeout %s)",
			launch.Time.Sub(cut).Round(time.Millisecond), earliest.Sub(cut).Round(time.Millisecond),
			latest.Sub(cut).Round(time.Millisecond), noticeAfter, unreachableTimeout)
	}
	t.Logf("replacement api launched %s after the cut (the agent unreachable after %s, seen %s after it)",
		launch.Time.Sub(cut).Round(time.Millisecond), noticeAfter, seen.Sub(cut).Round(time.Millisecond))
	replacement := launch.TaskIDs[0]
	c.eventually(convergeWithin, "the replacement api running healthy", func() (bool, string) {
		h, id := c.healthyTask("api")
		return id == replacement && h != apiHost, fmt.Sprintf("healthy api %q on %q", id, h)
	})
	time.Sleep(2 * time.Second) // time for kills of the unreachable api to show
	beforeHeal := lastSeq(c.calls(0))
	for _, r := range c.calls(seq) {
		if r.Type == "KILL" {
			t.Errorf("KILL %v (seq %d) while %s was unreachable: Mesos cannot deliver it", r.TaskIDs, r.Seq, apiHost)
		}
	}

	// The agent comes back: two apis, one of them goes.
	c.admin("heal-agent", map[string]any{"agent": apiHost})
	c.eventually(convergeWithin, "one api again", func() (bool, string) { return c.converged(smallLayout) })
	_, kept := c.onlyTask("api")
	killed := map[string]bool{}
	for _, r := range c.calls(beforeHeal) {
		switch {
		case r.Type == "KILL":
			killed[r.TaskIDs[0]] = true
		case r.Type == "ACCEPT" && launchesKind(r, "api"):
			t.Errorf("api launched again after the heal: %v (seq %d)", r.TaskIDs, r.Seq)
		}
	}
	if (kept != api && kept != replacement) || len(killed) != 1 || killed[kept] || !(killed[api] || killed[replacement]) {
		t.Errorf("after the heal: kept %s, killed %v; want one of %s and %s kept and the other killed", kept, keys(killed), api, replacement)
	}
}

// onlyTask is the host and task ID of the one live task of kind.
func (c *cluster) onlyTask(kind string) (host, taskID string) {
	c.t.Helper()
	var found []string
	for _, h := range c.status().Hosts {
		for _, ts := range h.Services[kind] {
			host, taskID = h.Hostname, ts.TaskID
			found = append(found, ts.TaskID+" on "+h.Hostname)
		}
	}
	if len(found) != 1 {
		c.t.Fatalf("%d %s tasks, want 1: %v", len(found), kind, found)
	}
	return host, taskID
}

// healthyTask is a task of kind running healthy, and its host ("" if none).
func (c *cluster) healthyTask(kind string) (host, taskID string) {
	for _, h := range c.status().Hosts {
		for _, ts := range h.Services[kind] {
			if ts.State == "RUNNING" && ts.Healthy != nil && *ts.Healthy {
				return h.Hostname, ts.TaskID
			}
		}
	}
	return "", ""
}

// waitTaskState waits until the framework reports task of kind on host in
// state.
func (c *cluster) waitTaskState(host, kind, taskID, state string) {
	c.t.Helper()
	c.eventually(10*time.Second, fmt.Sprintf("%s %s on %s", kind, state, host), func() (bool, string) {
		for _, h := range c.status().Hosts {
			for _, ts := range h.Services[kind] {
				if h.Hostname == host && ts.TaskID == taskID {
					return string(ts.State) == state, string(ts.State)
				}
			}
		}
		return false, "not reported"
	})
}

// waitAgentState waits until the simulated master holds host's agent in
// state (active, unreachable, ...).
func (c *cluster) waitAgentState(host, state string, within time.Duration) {
	c.t.Helper()
	c.eventually(within, "agent "+host+" "+state, func() (bool, string) {
		for _, a := range c.simState().Agents {
			if a.Hostname == host {
				return a.State == state, a.State
			}
		}
		return false, "no such agent"
	})
}

// launchesKind reports whether an ACCEPT launches a task of kind.
func launchesKind(r mesossim.CallRecord, kind string) bool {
	for _, id := range r.TaskIDs {
		if strings.HasPrefix(id, "quobyte."+kind+".") {
			return true
		}
	}
	return false
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
