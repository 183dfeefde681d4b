package chaos

import (
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/quobyte/quobyte-mesos/spec"
	"github.com/quobyte/quobyte-mesos/test/mesossim"
)

// The invariants, by the names the table and violations use.
const (
	invOnePerHost    = "one-per-host"   // never two services of one kind on one host
	invCount         = "count"          // a kind that runs anywhere never launched beyond its count
	invDevice        = "device"         // device-bound services only where their device is
	invStateful      = "stateful-stays" // a stateful service never launched elsewhere while its host is out of sight
	invKillBudget    = "kill-budget"    // down by our own kills: at most max_parallel of a kind, one registry
	invTaskID        = "task-id-unique" // no task ID reused
	invValidCalls    = "valid-calls"    // no call a master refuses whenever it comes
	invNeedlessKill  = "needless-kill"  // no kill of a task wanted as it is (restart, failover: nothing)
	invFrameworkKept = "framework-kept" // the master never removes the framework
	invConverged     = "converged"      // after the faults: converged within the bound, and stays so
	invNoPanic       = "no-panic"       // no panic recovered in the framework
	invNoLeak        = "no-leak"        // goroutines after the runs as before
	invMemory        = "memory-bounded" // live heap within memoryBound
	invInstances     = "one-acts"       // no call from an instance after another subscribed
)

// Invariants lists every invariant name, for the table.
var Invariants = []string{invOnePerHost, invCount, invDevice, invStateful, invKillBudget, invTaskID,
	invValidCalls, invNeedlessKill, invInstances, invFrameworkKept, invConverged, invNoPanic, invNoLeak, invMemory}

// lag bounds how far the framework's view may trail the ground truth: a
// delayed update (at most a second in the schedules), a plan's pacing, an
// apply. Whatever was true within the last lag may have been what the
// framework acted on.
const lag = 2 * time.Second

// deviceLag is how long after a marker is gone a launch for its device may
// still arrive: the prober's report of the removal may be dropped and
// resent (twice, at the agents' retry intervals) before the framework
// sees it.
const deviceLag = 5 * time.Second

// Violation is an invariant broken, when (since the run started) and how.
type Violation struct {
	At        time.Duration
	Invariant string
	Detail    string
}

func (v Violation) String() string {
	return fmt.Sprintf("%8.3fs %-15s %s", v.At.Seconds(), v.Invariant, v.Detail)
}

// specAt is a spec in force from a time on.
type specAt struct {
	from time.Time
	c    *spec.Cluster
}

// event is a framework restart, master failover or leader change, for
// telling what a needless kill followed.
type event struct {
	at   time.Time
	what string
}

// killEntry is a service our own kill took down: its slot (kind and host)
// counts against the kind's budget until it serves again or is no longer
// wanted.
type killEntry struct {
	task *gtask
	at   time.Time
}

// checker checks the invariants against the world. Its hooks run with the
// world's mutex held; so do its periodic checks.
type checker struct {
	w     *world
	start time.Time
	// specs in force, oldest first; events, oldest first.
	specs  []specAt
	events []event
	// checks counts the checks made, by invariant.
	checks     map[string]int
	violations []Violation
	// down holds, by kind, the slots our kills took down.
	down map[string][]killEntry
	// killsSeen are the tasks whose first KILL call has been judged.
	killsSeen map[string]bool
	invalid   int // invalid rejections already reported
}

func newChecker(w *world, start time.Time) *checker {
	return &checker{w: w, start: start, checks: map[string]int{}, down: map[string][]killEntry{}, killsSeen: map[string]bool{}}
}

func (c *checker) violate(at time.Time, inv, format string, args ...any) {
	c.violations = append(c.violations, Violation{At: at.Sub(c.start), Invariant: inv, Detail: fmt.Sprintf(format, args...)})
}

func (c *checker) check(inv string) { c.checks[inv]++ }

// specAtTime is the spec in force at t.
func (c *checker) specAtTime(t time.Time) *spec.Cluster {
	var cur *spec.Cluster
	for _, s := range c.specs {
		if s.from.After(t) {
			break
		}
		cur = s.c
	}
	return cur
}

// specsIn are the specs in force at some time in [from, to].
func (c *checker) specsIn(from, to time.Time) []*spec.Cluster {
	var out []*spec.Cluster
	if s := c.specAtTime(from); s != nil {
		out = append(out, s)
	}
	for _, s := range c.specs {
		if s.from.After(from) && !s.from.After(to) {
			out = append(out, s.c)
		}
	}
	return out
}

// allowed reports whether c's placement lets host run kind (a prober:
// kind taskid.ProberKind).
func allowed(c *spec.Cluster, host, kind string) bool {
	if !hostMatches(c.Placement.Hosts, host) {
		return false
	}
	if svc := c.Service(spec.Kind(kind)); svc != nil {
		return hostMatches(svc.Hosts, host)
	}
	return true
}

func hostMatches(globs []string, host string) bool {
	if len(globs) == 0 {
		return true
	}
	for _, g := range globs {
		if ok, _ := path.Match(g, host); ok {
			return true
		}
	}
	return false
}

// wantsAsIs reports whether spec c wants task t to go on running as it is:
// its kind enabled, its config current, its host allowed.
func wantsAsIs(c *spec.Cluster, t *gtask) bool {
	if c.Quobyte.State != spec.Running || !allowed(c, t.host, t.kind) {
		return false
	}
	if !t.service() {
		return t.config == c.Prober.ConfigHash
	}
	svc := c.Service(spec.Kind(t.kind))
	return svc != nil && svc.Enabled && svc.ConfigHash == t.config
}

// allowedThroughout reports whether every spec in force during [from, to]
// allows t's host for its kind.
func (c *checker) allowedThroughout(t *gtask, from, to time.Time) bool {
	for _, s := range c.specsIn(from, to) {
		if !allowed(s, t.host, t.kind) {
			return false
		}
	}
	return true
}

// --- hooks: called by the runtimes with the world's mutex held ---

// launched checks a task the moment it reaches its host.
func (c *checker) launched(t *gtask, now time.Time) {
	w := c.w
	c.check(invTaskID)
	if old := w.tasks[t.id]; old != nil {
		c.violate(now, invTaskID, "task ID %s launched again on %s (first on %s at %.3fs)", t.id, t.host, old.host, old.launched.Sub(c.start).Seconds())
	}
	if !t.service() {
		return
	}
	c.check(invOnePerHost)
	if others := w.liveTasks(t.host, t.kind, now); len(others) > 0 {
		c.violate(now, invOnePerHost, "%s %s launched on %s while %s runs there", t.kind, t.id, t.host, ids(others))
	}
	k := spec.Kind(t.kind)
	if !k.DeviceBound() {
		c.check(invCount)
		want := 0
		for _, s := range c.specsIn(now.Add(-lag), now) {
			if svc := s.Service(k); svc != nil {
				want = max(want, svc.Count)
			}
		}
		// Counted: instances not being stopped, on an allowed host the
		// framework has not given up on (out of sight for the unreachable
		// timeout). A host back in sight for less than lag still counts
		// as given up: the framework learns of its return only when the
		// agent has reregistered and the master's updates arrived, and a
		// launch decided before that reaches its host after (seed 1 with
		// two instances, twice under load: the replacement of an API
		// whose host was healed 0.1 s before the launch arrived).
		var live []string
		for _, o := range w.liveTasks("", t.kind, now) {
			h := w.hosts[o.host]
			wasOut := h.out || now.Sub(h.backAt) < lag
			end := now
			if !h.out {
				end = h.backAt
			}
			gaveUp := wasOut && !h.outSince.IsZero() && end.Sub(h.outSince) >= unreachableTime-lag
			if o.killed.IsZero() && h.agentID == o.agentID && !gaveUp && c.allowedThroughout(o, now.Add(-lag), now) {
				live = append(live, o.id+"@"+o.host)
			}
		}
		if len(live) >= want {
			c.violate(now, invCount, "%s %s launched on %s while %d of %d run in sight: %s", t.kind, t.id, t.host, len(live), want, strings.Join(live, " "))
		}
		return
	}
	c.check(invDevice)
	h := w.hosts[t.host]
	if h.deviceWithin(k.DeviceType(), now.Add(-deviceLag), now) {
		return
	}
	c.violate(now, invDevice, "%s %s launched on %s, which has had no %s for %s", t.kind, t.id, t.host, k.DeviceType(), deviceLag)
	c.check(invStateful)
	for _, o := range w.liveTasks("", t.kind, now) {
		if oh := w.hosts[o.host]; oh.out && o.host != t.host {
			c.violate(now, invStateful, "%s %s launched on %s while its own on %s (%s) is out of sight", t.kind, t.id, t.host, o.host, o.id)
		}
	}
}

// killReceived notes a framework kill reaching a task: a service that
// served, and whose slot is still wanted, is now down by our own kill.
func (c *checker) killReceived(t *gtask, now time.Time) {
	c.resolveDown(now)
	k := spec.Kind(t.kind)
	cur := c.specAtTime(now)
	if !t.service() || cur == nil || !t.servingAt(now) || !c.slotWanted(cur, t, now) {
		return
	}
	for _, o := range c.w.liveTasks(t.host, t.kind, now) {
		if o != t && o.servingAt(now) {
			return // a duplicate goes; the service stays
		}
	}
	if !k.DeviceBound() {
		serving := 0
		for _, o := range c.w.liveTasks("", t.kind, now) {
			if o.servingAt(now) {
				serving++
			}
		}
		if svc := cur.Service(k); svc == nil || serving > svc.Count {
			return // an excess instance goes
		}
	}
	c.down[t.kind] = append(c.down[t.kind], killEntry{task: t, at: now})
	c.check(invKillBudget)
	limit := 1
	if k != spec.Registry {
		for _, s := range c.specsIn(now.Add(-lag), now) {
			limit = max(limit, s.Upgrade.MaxParallel)
		}
	}
	if n := len(c.down[t.kind]); n > limit {
		var what []string
		for _, e := range c.down[t.kind] {
			what = append(what, fmt.Sprintf("%s@%s (killed %.3fs)", e.task.id, e.task.host, e.at.Sub(c.start).Seconds()))
		}
		c.violate(now, invKillBudget, "%d %s down by our kills, at most %d: %s", n, t.kind, limit, strings.Join(what, ", "))
	}
}

// slotWanted reports whether the slot of t (its kind on its host) is still
// wanted by spec cur: the host is allowed and, for a device-bound kind,
// still has the device.
func (c *checker) slotWanted(cur *spec.Cluster, t *gtask, now time.Time) bool {
	h := c.w.hosts[t.host]
	if h.agentID == "" || !allowed(cur, t.host, t.kind) {
		return false
	}
	if k := spec.Kind(t.kind); k.DeviceBound() {
		return h.device(k.DeviceType(), now) != ""
	}
	return true
}

// resolveDown forgets kill entries whose slot serves again — a
// device-bound kind: another task on the same host; a kind that runs
// anywhere: a task launched since, or as many serving as wanted — or is no
// longer wanted, its task gone.
func (c *checker) resolveDown(now time.Time) {
	cur := c.specAtTime(now)
	for kind, entries := range c.down {
		k := spec.Kind(kind)
		var open []killEntry
		used := map[*gtask]bool{}
		serving := 0
		for _, o := range c.w.liveTasks("", kind, now) {
			if o.servingAt(now) {
				serving++
			}
		}
		for _, e := range entries {
			resolved := !e.task.live(now) && (cur == nil || !c.slotWanted(cur, e.task, now))
			if !k.DeviceBound() && cur != nil && cur.Service(k) != nil && serving >= cur.Service(k).Count {
				resolved = true
			}
			for _, o := range c.w.liveTasks(hostOf(e.task, kind), kind, now) {
				if resolved {
					break
				}
				if o != e.task && !used[o] && o.servingAt(now) && (k.DeviceBound() || o.launched.After(e.at)) {
					used[o], resolved = true, true
				}
			}
			if !resolved {
				open = append(open, e)
			}
		}
		c.down[kind] = open
	}
}

// hostOf is where a replacement of t counts: its host for a device-bound
// kind, anywhere ("") otherwise.
func hostOf(t *gtask, kind string) string {
	if spec.Kind(kind).DeviceBound() {
		return t.host
	}
	return ""
}

func (c *checker) frameworkRemoved(t *gtask, now time.Time) {
	c.violate(now, invFrameworkKept, "the master removed the framework: %s on %s killed", t.id, t.host)
}

// --- periodic checks, with the world's mutex held ---

// periodic updates what changes with time alone: slots down by our kills
// that serve again. (Two services of a kind on a host can only begin with
// a launch, where launched checks it.)
func (c *checker) periodic(now time.Time) {
	c.check(invKillBudget)
	c.resolveDown(now)
}

// killCalled judges the first KILL call for a task, made at tc: needless
// when the task was wanted as it is throughout [tc-lag, tc] — running, its
// config and host what every spec in force then wanted, its device there,
// no other task of its kind on its host (nor beyond its count), not past
// its healthy deadline unhealthy, and launched before that window.
func (c *checker) killCalled(taskID string, tc time.Time) {
	if c.killsSeen[taskID] {
		return
	}
	c.killsSeen[taskID] = true
	c.check(invNeedlessKill)
	t := c.w.tasks[taskID]
	from := tc.Add(-lag)
	if t == nil || !t.live(tc) || t.launched.After(from) {
		return
	}
	h := c.w.hosts[t.host]
	if h.agentID != t.agentID {
		return
	}
	for _, s := range c.specsIn(from, tc) {
		if !wantsAsIs(s, t) {
			return
		}
	}
	k := spec.Kind(t.kind)
	if t.service() && k.DeviceBound() && !h.deviceThroughout(k.DeviceType(), from, tc) {
		return
	}
	overlapping := 0
	for _, o := range c.w.tasks {
		if o.kind == t.kind && !o.launched.After(tc) && (o.ended.IsZero() || o.ended.After(from)) {
			if o != t && o.host == t.host {
				return // a duplicate (at some time in the window)
			}
			overlapping++
		}
	}
	if t.service() && !k.DeviceBound() {
		for _, s := range c.specsIn(from, tc) {
			if svc := s.Service(k); svc != nil && overlapping > svc.Count {
				return // an excess instance
			}
		}
	}
	if t.service() && tc.Sub(t.launched) >= healthyDeadline-lag {
		if !t.servingThroughout(from, tc) {
			return // not healthy by its deadline: a failed replacement
		}
		if h.out || h.backAt.After(t.launched) {
			// Its host was out of the master's sight since the launch:
			// the agent held the task's health updates, and the
			// framework judged the deadline on what it could see (seed
			// 36: healthy, its updates held by a partition until after
			// the deadline).
			return
		}
	}
	after := ""
	for _, e := range c.events {
		if !e.at.After(tc) && tc.Sub(e.at) < 5*lag {
			after = fmt.Sprintf(" (%.1fs after %s)", tc.Sub(e.at).Seconds(), e.what)
		}
	}
	state := "starting"
	if t.servingAt(tc) {
		state = "serving"
	}
	c.violate(tc, invNeedlessKill, "KILL of %s %s on %s, %s, wanted as it is%s", t.kind, t.id, t.host, state, after)
}

// calls judges the new call records: KILL calls, and the master's count
// of invalid calls.
func (c *checker) calls(recs []mesossim.CallRecord, rej mesossim.Rejections, now time.Time) {
	for _, r := range recs {
		if r.Type == "KILL" && len(r.TaskIDs) == 1 {
			c.killCalled(r.TaskIDs[0], r.Time)
		}
	}
	c.check(invValidCalls)
	if rej.Invalid > c.invalid {
		n := rej.Invalid - c.invalid
		var msgs []string
		for i := len(rej.Recent) - 1; i >= 0 && len(msgs) < n; i-- {
			if r := rej.Recent[i]; r.Invalid {
				msgs = append(msgs, fmt.Sprintf("%s %d %q", r.Call, r.Status, r.Message))
			}
		}
		c.violate(now, invValidCalls, "%d call(s) refused by the master: %s", n, strings.Join(msgs, "; "))
		c.invalid = rej.Invalid
	}
}

func ids(ts []*gtask) string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.id
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}
