package controller

import (
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/observe/taskid"
	"github.com/quobyte/quobyte-mesos/spec"
)

// Golden scenario files (testdata/*.txt): a story of commands, and after
// each `plan` the plan it must give. Run with -rewrite to regenerate the
// expected plans after a deliberate change, then read the diff.
//
// A file is a list of stanzas separated by blank lines. A stanza is one or
// more commands; when its last command is `plan`, a line "----" follows and
// then the expected plan, one line per action or blocked item. Commands:
//
//	spec key=value...        change the spec: state, api.count, webconsole.count,
//	                         s3, client (true/false), max_parallel, min_healthy_time,
//	                         healthy_deadline, unreachable_timeout, hosts (glob,glob),
//	                         auto_revert (kind,kind or none), config.<kind> (hash),
//	                         version (every kind's hash becomes <kind>v<version>)
//	agent host [TYPE...] [client] [noreport] [unreachable]
//	report host [TYPE...] [client]     the prober's new report
//	reachable host true|false          the agent is partitioned, or back
//	task kind host config [state]      a task appears (default RUNNING, healthy)
//	fail kind host [message]           the live task of kind on host fails
//	healthkill kind host               Mesos kills it after 3 failed health checks
//	unhealthy kind host                it runs but fails its health check
//	restart                  the framework restarts: its memory (Step, failure
//	                         counts) is gone and the subscription not reconciled
//	reconciled               reconciliation has finished
//	plan                     plan through a Step (so failures back off)
//	world                    print the world: agents, live tasks, failure counts
//	apply                    apply the last plan to the fake cluster (launches
//	                         stage, kills take until the next advance)
//	advance duration         time passes; staged tasks run healthy, kills end
var rewrite = flag.Bool("rewrite", false, "rewrite the expected plans of testdata/*.txt")

func TestPlan_Scenarios_Golden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no scenario files in testdata/")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			runScenario(t, file)
		})
	}
}

type scenario struct {
	t     *testing.T
	c     *spec.Cluster
	w     *world
	f     *fakeCluster
	clock *testClock
	step  *Step
	last  *Result
}

func runScenario(t *testing.T, file string) {
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld()
	clock := &testClock{now: w.now}
	sc := &scenario{t: t, c: testCluster(), w: w, f: &fakeCluster{w: w, slow: true}, clock: clock,
		step: NewStep(StepConfig{Now: clock.Now, Random: half})}
	var out strings.Builder
	stanzas := strings.Split(strings.TrimSpace(string(src)), "\n\n")
	for i, stanza := range stanzas {
		cmds, want, hasWant := strings.Cut(stanza, "\n----")
		var got []string
		for _, line := range strings.Split(cmds, "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			got = sc.run(line)
		}
		if i > 0 {
			out.WriteString("\n\n")
		}
		out.WriteString(strings.TrimSpace(cmds))
		if got == nil && !hasWant {
			continue
		}
		out.WriteString("\n----")
		for _, l := range got {
			out.WriteString("\n" + l)
		}
		if *rewrite {
			continue
		}
		wantLines := []string{}
		for _, l := range strings.Split(strings.TrimPrefix(want, "\n"), "\n") {
			if l != "" {
				wantLines = append(wantLines, l)
			}
		}
		if diff := cmp.Diff(wantLines, got); diff != "" {
			t.Fatalf("%s, stanza %d:\n%s\n(-want +got):\n%s", file, i+1, strings.TrimSpace(cmds), diff)
		}
	}
	if *rewrite {
		if err := os.WriteFile(file, []byte(out.String()+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// run executes one command; it returns the plan lines for `plan`, else nil.
func (sc *scenario) run(line string) []string {
	t := sc.t
	f := strings.Fields(line)
	args := f[1:]
	switch f[0] {
	case "spec":
		sc.specChange(args)
	case "agent":
		a := sc.w.agent(args[0])
		sc.setReport(a, args[1:])
	case "report":
		sc.setReport(sc.agent(args[0]), args[1:])
	case "reachable":
		a := sc.agent(args[0])
		a.Reachable, a.UnreachableSince = args[1] == "true", time.Time{}
		if !a.Reachable {
			a.UnreachableSince = sc.w.now
		}
	case "task":
		st := snapshot.Running
		if len(args) > 3 {
			st = snapshot.TaskState(args[3])
		}
		sc.w.task(args[0], args[2], sc.agent(args[1]), st)
	case "restart":
		sc.step = NewStep(StepConfig{Now: sc.clock.Now, Random: half})
		sc.w.sub.Reconciled = false
		sc.w.items = map[string]snapshot.ItemHistory{}
		for _, tk := range sc.w.tasks { // reconciliation does not say when
			tk.LaunchedAt, tk.KillSent = time.Time{}, time.Time{}
		}
	case "reconciled":
		sc.w.sub.Reconciled = true
	case "world":
		return sc.w.describe()
	case "fail", "unhealthy", "healthkill":
		live := sc.w.liveOn(args[0], sc.agent(args[1]).ID)
		if len(live) != 1 {
			t.Fatalf("%s: %d live %s tasks on %s", line, len(live), args[0], args[1])
		}
		tk := live[0]
		switch f[0] {
		case "fail":
			sc.w.end(tk, snapshot.Failed, "", strings.Join(args[2:], " "))
		case "healthkill":
			tk.HealthKilled, tk.HealthFailures = true, 3
			sc.w.end(tk, snapshot.Killed, "", "Command exited with status 0")
		default:
			no := false
			tk.Healthy, tk.HealthySince = &no, time.Time{}
		}
	case "plan":
		sc.clock.now = sc.w.now
		_, sc.last = sc.step.Next(sc.c, sc.w.snap(), nil)
		lines := render(sc.last)
		if lines == nil {
			lines = []string{}
		}
		return lines
	case "apply":
		if sc.last == nil {
			t.Fatalf("apply before plan")
		}
		sc.f.apply(sc.last)
	case "advance":
		d, err := time.ParseDuration(args[0])
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		sc.f.advance(d)
		for _, a := range sc.w.agents { // probers keep reporting
			if a.Probe != nil {
				a.Probe.ReceivedAt = sc.w.now
			}
		}
	default:
		t.Fatalf("unknown command %q", line)
	}
	return nil
}

func (sc *scenario) agent(host string) *snapshot.Agent {
	a := sc.w.agents["a-"+host]
	if a == nil {
		sc.t.Fatalf("no agent %s", host)
	}
	return a
}

func (sc *scenario) setReport(a *snapshot.Agent, args []string) {
	var types []spec.DeviceType
	client, report := false, true
	for _, arg := range args {
		switch arg {
		case "client":
			client = true
		case "noreport":
			report = false
		case "unreachable":
			a.Reachable = false
		default:
			types = append(types, spec.DeviceType(arg))
		}
	}
	fresh := sc.w.agent(a.Hostname, types...) // a new report for the same agent
	fresh.Reachable = a.Reachable
	fresh.Probe.Report.ClientMountPoint = client
	if !report {
		fresh.Probe = nil
	}
	*a = *fresh
	sc.w.agents[a.ID] = a
}

func (sc *scenario) specChange(args []string) {
	t := sc.t
	c := withNewConfig(sc.c, "") // a copy
	c.Hash = sc.c.Hash + "+"
	for _, kv := range args {
		key, val, _ := strings.Cut(kv, "=")
		var err error
		switch {
		case key == "state":
			c.Quobyte.State = spec.State(val)
		case key == "api.count":
			c.Services[spec.API].Count, err = strconv.Atoi(val)
		case key == "webconsole.count":
			c.Services[spec.Webconsole].Count, err = strconv.Atoi(val)
		case key == "s3":
			c.Services[spec.S3].Enabled = val == "true"
		case key == "client":
			c.Services[spec.Client].Enabled = val == "true"
		case key == "max_parallel":
			c.Upgrade.MaxParallel, err = strconv.Atoi(val)
		case key == "min_healthy_time":
			c.Upgrade.MinHealthyTime, err = time.ParseDuration(val)
		case key == "healthy_deadline":
			c.Upgrade.HealthyDeadline, err = time.ParseDuration(val)
		case key == "hosts":
			c.Placement.Hosts = strings.Split(val, ",")
		case key == "unreachable_timeout":
			c.Placement.UnreachableTimeout, err = time.ParseDuration(val)
		case key == "auto_revert":
			c.Upgrade.AutoRevert = nil
			for _, k := range strings.Split(val, ",") {
				if k != "none" {
					c.Upgrade.AutoRevert = append(c.Upgrade.AutoRevert, spec.Kind(k))
				}
			}
		case key == "version":
			// A new version changes every service's config hash; the
			// hashes stay readable: <kind>v<version without dots>.
			c.Quobyte.Version = val
			for k, svc := range c.Services {
				svc.ConfigHash = string(k) + "v" + strings.ReplaceAll(val, ".", "")
			}
		case strings.HasPrefix(key, "config."):
			svc := c.Services[spec.Kind(strings.TrimPrefix(key, "config."))]
			if svc == nil {
				t.Fatalf("spec %s: no such kind", kv)
			}
			svc.ConfigHash = val
		default:
			err = fmt.Errorf("unknown key")
		}
		if err != nil {
			t.Fatalf("spec %s: %v", kv, err)
		}
	}
	sc.c = c
}

// describe prints the world: each agent with its state and report, its live
// tasks, and the failure counts the observer would show.
func (w *world) describe() []string {
	var out []string
	for _, id := range slices.Sorted(maps.Keys(w.agents)) {
		a := w.agents[id]
		l := "agent " + a.Hostname
		if !a.Reachable {
			l += " unreachable"
		}
		if a.Probe == nil {
			l += " noreport"
		} else {
			for _, d := range a.Probe.Report.Devices {
				for _, t := range d.Types {
					l += " " + string(t)
				}
			}
		}
		out = append(out, l)
		for _, k := range append([]string{taskid.ProberKind}, kindNames()...) {
			for _, t := range w.liveOn(k, id) {
				l := fmt.Sprintf("  %s %s", t.ID, t.State)
				if t.Healthy != nil && !*t.Healthy {
					l += " unhealthy"
				}
				if !t.KillSent.IsZero() {
					l += " kill-sent"
				}
				out = append(out, l)
			}
		}
	}
	for _, item := range slices.Sorted(maps.Keys(w.items)) {
		h := w.items[item]
		out = append(out, fmt.Sprintf("failures %s: %d, last: %s", item, h.Failures, h.Last.Describe()))
	}
	return out
}
