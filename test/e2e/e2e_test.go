package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/quobyte/quobyte-mesos/cmd/quobyte-mesos/statusapi"
)

// The layout of the test clusters: registry and metadata devices on three
// of five agents, data devices on all five.
var fullLayout = want{"prober": 5, "registry": 3, "metadata": 3, "data": 5, "api": 1, "webconsole": 1}

const convergeWithin = 60 * time.Second

// A fresh cluster converges: probers everywhere, one service per device type
// and host, api and webconsole once the registries run; `plan
// -detailed-exitcode` says 2 while changes are pending and 0 once converged.
func TestFreshClusterConverges(t *testing.T) {
	c := startCluster(t, clusterOpts{subnet: "127.0.2", registry: 3, metadata: 3, data: 5, version: "v1"})

	// Right after the start nothing runs yet: the dry run of the spec in
	// force shows pending changes.
	if code, out := c.planExit(c.specPath); code != 2 {
		t.Errorf("plan -detailed-exitcode before convergence = %d, want 2\n%s", code, out)
	}
	c.eventually(convergeWithin, "convergence", func() (bool, string) { return c.converged(fullLayout) })
	if code, out := c.planExit(c.specPath); code != 0 || !strings.Contains(out, "No changes") {
		t.Errorf("plan -detailed-exitcode once converged = %d, want 0\n%s", code, out)
	}
	var h statusapi.HealthReport
	if code := c.getJSON("/v1/health", &h); code != 200 || !h.Healthy {
		t.Errorf("/v1/health = %d %+v", code, h)
	}
	// A candidate spec with another version is a pending change in a dry run,
	// and the dry run touches nothing.
	before := c.taskIDs()
	candidate := filepath.Join(c.dir, "candidate.hcl")
	if err := os.WriteFile(candidate, []byte(c.spec("v2", "")), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out := c.planExit(candidate)
	if code != 2 || !strings.Contains(out, "to replace") {
		t.Errorf("plan of a version change = %d, want 2 with replacements\n%s", code, out)
	}
	time.Sleep(time.Second)
	if after := c.taskIDs(); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("a dry run changed the cluster:\nbefore %v\nafter  %v", before, after)
	}
}

// A broken spec on SIGHUP changes nothing that runs and is reported with its
// position; a valid one then applies, rolling a version change through one
// host at a time, each replacement healthy before the next, registries first.
func TestReloadBrokenThenValidSpecRollsThrough(t *testing.T) {
	c := startCluster(t, clusterOpts{subnet: "127.0.3", registry: 3, metadata: 3, data: 5, version: "v1"})
	c.eventually(convergeWithin, "convergence", func() (bool, string) { return c.converged(fullLayout) })
	before := c.taskIDs()

	// Broken: an unknown service kind and a bad duration.
	c.writeSpec("v2", "\nservice \"registy\" {\n}\nservice \"s3\" {\n  kill_grace = \"soon\"\n}\n")
	c.signal(syscall.SIGHUP)
	c.eventually(10*time.Second, "the failed reload in /v1/status", func() (bool, string) {
		r := c.status().Reload
		return !r.OK && strings.Contains(r.Diagnostics, "spec.hcl:"), fmt.Sprintf("%+v", r)
	})
	r := c.status().Reload
	for _, want := range []string{"registy", "soon"} {
		if !strings.Contains(r.Diagnostics, want) {
			t.Errorf("reload diagnostics lack %q:\n%s", want, r.Diagnostics)
		}
	}
	time.Sleep(2 * time.Second) // give a wrong reload time to do harm
	if after := c.taskIDs(); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("a broken spec changed what runs:\nbefore %v\nafter  %v", before, after)
	}
	if st := c.status(); st.Version != "v1" {
		t.Fatalf("version in force = %q after a broken reload, want v1", st.Version)
	}

	// Valid: the version changes; watch the rollout.
	c.writeSpec("v2", "")
	c.signal(syscall.SIGHUP)
	c.checkRollout(c.watchRollout("v2"))
	if r := c.status().Reload; !r.OK || !strings.Contains(r.Changes, "v2") {
		t.Errorf("last reload %+v", r)
	}
}

// rolloutSample is one look at a rollout: per kind, the hosts where it is
// down or flapping, and its running tasks of the current config.
type rolloutSample struct {
	// down counts, per kind, the hosts the rollout has taken down: the
	// service missing, being killed, or its new-config task not yet
	// healthy. A task that runs but fails a health check after it passed
	// one (or one of the old config, healthy before the rollout) counts
	// as flapping instead: the framework did not take it down (a health
	// check can fail on a loaded machine), and the planner counts it
	// against the budget before it kills anything else.
	down     map[string]int
	flapping map[string]int
	current  map[string]int
}

// watchRollout samples /v1/status until version is in force and the full
// layout has converged on it.
func (c *cluster) watchRollout(version string) []rolloutSample {
	c.t.Helper()
	var trace []rolloutSample
	seenHealthy := map[string]bool{}
	c.eventually(3*convergeWithin, "the rollout to "+version, func() (bool, string) {
		st := c.status()
		s := rolloutSample{down: map[string]int{}, flapping: map[string]int{}, current: map[string]int{}}
		for _, h := range st.Hosts {
			for kind, tasks := range h.Services {
				if kind == "prober" {
					continue
				}
				healthy, wasHealthy := false, false
				for _, ts := range tasks {
					if ts.State == "RUNNING" && ts.Healthy != nil && *ts.Healthy {
						healthy = true
						seenHealthy[ts.TaskID] = true
					}
					if ts.Current && ts.State == "RUNNING" {
						s.current[kind]++
					}
					if ts.State == "RUNNING" && (!ts.Current || seenHealthy[ts.TaskID]) {
						wasHealthy = true
					}
				}
				switch {
				case healthy:
				case wasHealthy:
					s.flapping[kind]++
				default:
					s.down[kind]++
				}
			}
		}
		for kind, n := range fullLayout {
			if kind == "prober" {
				continue
			}
			s.down[kind] += n - countHosts(st, kind)
		}
		trace = append(trace, s)
		if st.Version != version {
			return false, "version in force " + st.Version
		}
		return c.converged(fullLayout)
	})
	return trace
}

// checkRollout checks a rollout's samples: one host at a time per kind
// (max_parallel = 1), every registry replaced before any metadata service.
func (c *cluster) checkRollout(trace []rolloutSample) {
	c.t.Helper()
	registryDoneAt, metadataStartedAt := -1, -1
	for i, s := range trace {
		for kind, n := range s.down {
			if n > 1 {
				c.t.Errorf("sample %d: %d %s down at once (max_parallel = 1): %+v", i, n, kind, s)
			}
		}
		for kind, n := range s.flapping {
			if n > 0 {
				c.t.Logf("sample %d: %d %s running unhealthy after a passed health check: %+v", i, n, kind, s)
			}
		}
		if registryDoneAt < 0 && s.current["registry"] == 3 {
			registryDoneAt = i
		}
		if metadataStartedAt < 0 && s.current["metadata"] > 0 {
			metadataStartedAt = i
		}
	}
	if metadataStartedAt >= 0 && registryDoneAt > metadataStartedAt {
		c.t.Errorf("metadata was replaced (sample %d) before every registry (sample %d)", metadataStartedAt, registryDoneAt)
	}
}

// countHosts counts the hosts with at least one live task of kind.
func countHosts(st statusapi.Status, kind string) int {
	n := 0
	for _, h := range st.Hosts {
		if len(h.Services[kind]) > 0 {
			n++
		}
	}
	return n
}

// Agents named like storage-node-01.dc1.example.com, names that resolve
// nowhere (as on many test clusters): the services reach each other by the
// agents' IPs (examples/local.hcl sets quobyte.address = "ip", and Mesos
// offers carry each agent's IP), so the cluster converges; its
// QUOBYTE_REGISTRY names the registries by IP. Before, every service was
// given hostnames it could not dial and nothing converged.
func TestDottedHostnamesConvergeByIP(t *testing.T) {
	c := startCluster(t, clusterOpts{subnet: "127.0.17", version: "v1", clusterFile: "examples/cluster-dotted-names.json"})
	c.eventually(convergeWithin, "convergence", func() (bool, string) { return c.converged(fullLayout) })
	if st := c.status(); st.Hosts[0].Hostname != "storage-node-01.dc1.example.com" {
		t.Errorf("hosts %+v", st.Hosts)
	}
	// The data service on the first agent registered with a registry it
	// was given by IP (its status page, on the data service's status port).
	resp, err := http.Get("http://127.0.17.1:7873/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), "registered with: 127.0.17.") {
		t.Errorf("the data service did not register with a registry by IP:\n%s", page)
	}
}
