package chaos

import (
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"

	"github.com/quobyte/quobyte-mesos/observe/taskid"
	"github.com/quobyte/quobyte-mesos/spec"
)

// world is the simulated cluster's ground truth: every task the agents'
// runtimes have run (which host, since when, until when, whether it
// serves), every host's devices, and the specs in force over time. The
// invariants are checked against it, never against the framework's view.
// One mutex guards all of it; the checker's hooks run under it.
type world struct {
	mu    sync.Mutex
	now   func() time.Time
	tasks map[string]*gtask // every task ever launched, by ID
	hosts map[string]*ghost
	chk   *checker
}

// gtask is one task as its host knows it.
type gtask struct {
	id, kind, config, host, agentID string
	frameworkID                     string
	executorID                      *mesos.ExecutorID
	rt                              *agentRuntime
	info                            mesos.TaskInfo

	launched time.Time
	// listening is when the service answers at all (after a slow start).
	listening time.Time
	// ended is when the task stopped running (zero while it runs).
	ended    time.Time
	endState mesos.TaskState
	// killed is when a kill reached the task (framework, health check or
	// shutdown); healthKill marks Mesos' health-check kill.
	killed     time.Time
	healthKill bool
	fwKill     bool

	neverHealthy bool
	registries   []string // hostnames of QUOBYTE_REGISTRY
	// registered is when a metadata/data/api/webconsole service first
	// reached a registry (the stand-in's health needs that once).
	registered time.Time

	// serving is the task's real health, updated at each health check:
	// changes are kept, with their times, for the kill checks.
	serving []servingChange
	hc      *healthState
}

type servingChange struct {
	at time.Time
	on bool
}

// live reports whether t runs at time at.
func (t *gtask) live(at time.Time) bool {
	return !t.launched.After(at) && (t.ended.IsZero() || t.ended.After(at))
}

// servingAt reports whether t served at time at (per its last health
// evaluation before at).
func (t *gtask) servingAt(at time.Time) bool {
	on := false
	for _, c := range t.serving {
		if c.at.After(at) {
			break
		}
		on = c.on
	}
	return on && t.live(at)
}

// servingThroughout reports whether t served during all of [from, to].
func (t *gtask) servingThroughout(from, to time.Time) bool {
	if !t.servingAt(from) {
		return false
	}
	for _, c := range t.serving {
		if c.at.After(from) && !c.at.After(to) && !c.on {
			return false
		}
	}
	return t.ended.IsZero() || t.ended.After(to)
}

func (t *gtask) setServing(at time.Time, on bool) {
	if n := len(t.serving); n > 0 && t.serving[n-1].on == on {
		return
	}
	t.serving = append(t.serving, servingChange{at, on})
}

// describe says what t is and how it runs, for messages.
func (t *gtask) describe(now time.Time) string {
	state := "starting"
	switch {
	case !t.ended.IsZero():
		state = "ended " + t.endState.String()
	case !t.killed.IsZero():
		state = "being killed"
	case t.servingAt(now):
		state = "serving"
	}
	return fmt.Sprintf("%s on %s (agent %s), launched %s ago, %s", t.id, t.host, t.agentID, now.Sub(t.launched).Round(time.Millisecond), state)
}

func (t *gtask) service() bool { return t.kind != taskid.ProberKind }

// ghost is one host: its devices (marker files in its host directory, kept
// here with their history) and the agents it has run.
type ghost struct {
	name, dir string
	// devices maps a device type to its history of (time, directory):
	// "" while the type has no device.
	devices map[spec.DeviceType][]deviceChange
	// agentID is the host's current agent ("" while it has none: removed).
	agentID string
	// out is true while the master cannot see the agent (partitioned,
	// restarting); outSince when that began (the last time it did).
	out      bool
	outSince time.Time
	// backAt is when the master could see the agent again, last.
	backAt time.Time
}

type deviceChange struct {
	at  time.Time
	dir string
}

// device returns the host's device directory of type t at time at.
func (h *ghost) device(t spec.DeviceType, at time.Time) string {
	dir := ""
	for _, c := range h.devices[t] {
		if c.at.After(at) {
			break
		}
		dir = c.dir
	}
	return dir
}

// deviceThroughout reports whether the host had a device of type t during
// all of [from, to].
func (h *ghost) deviceThroughout(t spec.DeviceType, from, to time.Time) bool {
	if h.device(t, from) == "" {
		return false
	}
	for _, c := range h.devices[t] {
		if c.at.After(from) && !c.at.After(to) && c.dir == "" {
			return false
		}
	}
	return true
}

// deviceWithin reports whether the host had a device of type t at any time
// in [from, to].
func (h *ghost) deviceWithin(t spec.DeviceType, from, to time.Time) bool {
	if h.device(t, from) != "" {
		return true
	}
	for _, c := range h.devices[t] {
		if c.at.After(from) && !c.at.After(to) && c.dir != "" {
			return true
		}
	}
	return false
}

func (h *ghost) setDevice(t spec.DeviceType, at time.Time, dir string) {
	h.devices[t] = append(h.devices[t], deviceChange{at, dir})
}

func newWorld(now func() time.Time) *world {
	return &world{now: now, tasks: map[string]*gtask{}, hosts: map[string]*ghost{}}
}

// liveTasks returns the tasks running at time at on host (all hosts when
// ""), of kind (all when ""), sorted by ID.
func (w *world) liveTasks(host, kind string, at time.Time) []*gtask {
	var out []*gtask
	for _, t := range w.tasks {
		if (host == "" || t.host == host) && (kind == "" || t.kind == kind) && t.live(at) {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// evaluate decides whether t serves now, as the stand-in decides its
// health (test/standin): it listens once its slow start is over; a
// registry is healthy while a majority of the registries it lists run;
// other kinds need to have reached a registry once, and metadata and data
// then catch up for a while; a never-healthy version never is; a service
// being stopped is not.
func (w *world) evaluate(t *gtask, now time.Time) bool {
	switch {
	case !t.live(now) || !t.killed.IsZero() || now.Before(t.listening) || t.neverHealthy:
		return false
	case !t.service():
		return true
	case t.kind == string(spec.Registry):
		up := 0
		for _, h := range t.registries {
			for _, o := range w.liveTasks(h, string(spec.Registry), now) {
				if o.killed.IsZero() && !now.Before(o.listening) {
					up++
					break
				}
			}
		}
		return 2*up > len(t.registries)
	}
	if t.registered.IsZero() {
		for _, h := range t.registries {
			for _, o := range w.liveTasks(h, string(spec.Registry), now) {
				if o.killed.IsZero() && !now.Before(o.listening) {
					t.registered = now
				}
			}
		}
		if t.registered.IsZero() {
			return false
		}
	}
	switch spec.Kind(t.kind) {
	case spec.Metadata, spec.Data:
		return now.Sub(t.registered) >= catchUp
	}
	return true
}

// catchUp is how long a metadata or data service takes from registration to
// healthy (the stand-in's STANDIN_CATCHUP, shortened).
const catchUp = 300 * time.Millisecond

// registryHosts reads QUOBYTE_REGISTRY (host:port,...) as hostnames.
func registryHosts(env map[string]string) []string {
	var out []string
	for _, a := range strings.Split(env["QUOBYTE_REGISTRY"], ",") {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		if h, _, err := net.SplitHostPort(a); err == nil {
			a = h
		}
		out = append(out, a)
	}
	return out
}

// taskEnv is a command task's environment as a map.
func taskEnv(ti mesos.TaskInfo) map[string]string {
	env := map[string]string{}
	if ti.Command == nil || ti.Command.Environment == nil {
		return env
	}
	for _, v := range ti.Command.Environment.Variables {
		env[v.Name] = v.GetValue()
	}
	return env
}
