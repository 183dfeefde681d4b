package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// What happens while the cluster runs: a device marked at runtime is seen
// within two seconds and gets its service; a crashed service comes back on
// its host; a restarted framework takes every task over without restarting
// any Quobyte service.
func TestRuntime_NewDevice_CrashedService_FrameworkRestart(t *testing.T) {
	c := startCluster(t, clusterOpts{subnet: "127.0.4", registry: 3, metadata: 3, data: 5, version: "v1"})
	c.eventually(convergeWithin, "convergence", func() (bool, string) { return c.converged(fullLayout) })

	// A metadata device marked on the fifth host.
	host := c.hosts[4]
	marked := time.Now()
	c.admin("add-device-marker", map[string]any{"agent": host, "device": "meta9", "content": "device.serial=M9\ndevice.type=METADATA_DEVICE\n"})
	c.eventually(2*time.Second, "the new device in the snapshot", func() (bool, string) {
		for _, h := range c.status().Hosts {
			for _, d := range h.Devices {
				if h.Hostname == host && strings.HasSuffix(d.Path, "/meta9") {
					return true, ""
				}
			}
		}
		return false, "not yet"
	})
	t.Logf("new device seen after %s", time.Since(marked).Round(time.Millisecond))
	withMeta := want{"prober": 5, "registry": 3, "metadata": 4, "data": 5, "api": 1, "webconsole": 1}
	c.eventually(convergeWithin, "a metadata service on the new device", func() (bool, string) { return c.converged(withMeta) })

	// The data service on the second host crashes: it comes back there.
	before := c.taskIDs()
	crashed := strings.TrimSpace(before[c.hosts[1]+"/data"])
	c.admin("kill-task", map[string]any{"task_id": crashed})
	c.eventually(convergeWithin, "the crashed data service back on its host", func() (bool, string) {
		now := strings.TrimSpace(c.taskIDs()[c.hosts[1]+"/data"])
		if now == "" || now == crashed {
			return false, "data on " + c.hosts[1] + ": " + now
		}
		return c.converged(withMeta)
	})

	// A framework restart restarts no Quobyte service.
	before = c.taskIDs()
	c.restartFramework()
	c.eventually(convergeWithin, "convergence after the restart", func() (bool, string) {
		st := c.status()
		if !st.Subscription.Reconciled {
			return false, "not reconciled"
		}
		return c.converged(withMeta)
	})
	if after := c.taskIDs(); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("the restart changed what runs:\nbefore %v\nafter  %v", before, after)
	}
	if n := c.logLines("framework-2", "actuate: launch: task_id="); n != 0 {
		t.Errorf("the restarted framework launched %d tasks, want none", n)
	}
}

// A service that keeps failing backs off: its relaunches slow down, the
// backoff shows in the status, and everything else converges. (Backoff is
// per kind and agent: while one agent holds a failing api, webconsole or s3
// back, the plan places it on another; and per kind as a whole, so that it
// does not hop from agent to agent ever faster.)
func TestFailingServiceBacksOff(t *testing.T) {
	c := startCluster(t, clusterOpts{subnet: "127.0.5", registry: 1, metadata: 1, data: 1, version: "v1"})
	c.writeSpec("v1", "\nservice \"s3\" {\n  enabled = true\n  count   = 1\n  env = {\n    STANDIN_CRASH_AFTER = \"300ms\"\n  }\n  restart {\n    initial_delay = \"1s\"\n    max_delay     = \"16s\"\n  }\n}\n")
	c.restartFramework() // start on the spec with the crashing s3
	small := want{"prober": 5, "registry": 1, "metadata": 1, "data": 1, "api": 1, "webconsole": 1}
	c.eventually(convergeWithin, "backoff of the failing s3", func() (bool, string) {
		st := c.status()
		failures := 0
		for _, b := range st.Backoffs {
			if strings.HasPrefix(b.Item, "s3@") && b.Failures > failures {
				failures = b.Failures
			}
		}
		if failures < 2 {
			return false, fmt.Sprintf("backoffs %+v", st.Backoffs)
		}
		return true, ""
	})
	// Every other service runs healthy meanwhile.
	c.eventually(convergeWithin, "the rest converged", func() (bool, string) {
		st := c.status()
		got := map[string]int{}
		for _, h := range st.Hosts {
			for kind, tasks := range h.Services {
				for _, ts := range tasks {
					if kind == "prober" || (ts.State == "RUNNING" && ts.Healthy != nil && *ts.Healthy) {
						got[kind]++
					}
				}
			}
		}
		for kind, n := range small {
			if got[kind] != n {
				return false, fmt.Sprintf("%v", got)
			}
		}
		return true, ""
	})
	// Backing off, not a tight loop: a service crashing after 300ms and
	// relaunched at once would be launched dozens of times. Backoff is per
	// agent (the failing instance moves to another agent meanwhile) and per
	// kind ("s3@*": every failure on any agent counts), so the launch rate
	// does not grow with the number of agents. The window opens once the
	// kind's hold is at the cap (5 failures: 1+2+4+8s, then 16s).
	c.eventually(2*convergeWithin, "s3 as a whole backing off at the cap", func() (bool, string) {
		for _, b := range c.status().Backoffs {
			if b.Item == "s3@*" && b.Failures >= 5 {
				return true, ""
			}
		}
		return false, fmt.Sprintf("backoffs %+v", c.status().Backoffs)
	})
	start := c.logLines("framework-2", "actuate: launch: task_id=quobyte.s3.")
	time.Sleep(16 * time.Second)
	if n := c.logLines("framework-2", "actuate: launch: task_id=quobyte.s3.") - start; n > 2 {
		t.Errorf("%d launches of the failing s3 in 16s: not backing off", n)
	} else {
		t.Logf("%d launches of the failing s3 in 16s", n)
	}
}

// A master failover drops every stream; the framework resubscribes with the
// same framework ID, reconciles, and restarts no Quobyte service.
func TestMasterFailover_RestartsNothing(t *testing.T) {
	small := want{"prober": 5, "registry": 1, "metadata": 1, "data": 2, "api": 1, "webconsole": 1}
	c := startCluster(t, clusterOpts{subnet: "127.0.7", registry: 1, metadata: 1, data: 2, version: "v1"})
	c.eventually(convergeWithin, "convergence", func() (bool, string) { return c.converged(small) })
	before := c.taskIDs()
	fwID := c.status().Subscription.FrameworkID
	launches := c.logLines("framework", "actuate: launch: task_id=")

	c.admin("failover-master", map[string]any{})
	c.eventually(convergeWithin, "resubscribed and reconciled", func() (bool, string) {
		st := c.status()
		if st.Subscription.Resubscriptions < 1 || !st.Subscription.Reconciled {
			return false, fmt.Sprintf("%+v", st.Subscription)
		}
		return c.converged(small)
	})
	if id := c.status().Subscription.FrameworkID; id != fwID {
		t.Errorf("framework ID after failover %q, want %q", id, fwID)
	}
	if after := c.taskIDs(); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("the failover changed what runs:\nbefore %v\nafter  %v", before, after)
	}
	if n := c.logLines("framework", "actuate: launch: task_id=") - launches; n != 0 {
		t.Errorf("%d tasks launched after the failover, want none", n)
	}
}
