package controller

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/observe/taskid"
	"github.com/quobyte/quobyte-mesos/spec"
)

// This file indexes a snapshot for planning: tasks by agent and kind, and
// which agents the placement allows. It is part of the pure planner.

// kindIndex numbers the task kinds Plan manages, so per-agent task lists are
// arrays rather than maps (cheaper at 10,000 agents, and no map order).
const (
	idxRegistry = iota
	idxAPI
	idxWebconsole
	idxS3
	idxMetadata
	idxData
	idxClient
	idxProber
	numKinds
)

// kindIdx returns the index of a task kind, or -1 for kinds Plan ignores
// (foreign kinds: a newer framework's, or garbage).
func kindIdx(kind string) int {
	switch kind {
	case string(spec.Registry):
		return idxRegistry
	case string(spec.API):
		return idxAPI
	case string(spec.Webconsole):
		return idxWebconsole
	case string(spec.S3):
		return idxS3
	case string(spec.Metadata):
		return idxMetadata
	case string(spec.Data):
		return idxData
	case string(spec.Client):
		return idxClient
	case taskid.ProberKind:
		return idxProber
	}
	return -1
}

// agentView is one agent with our tasks on it, as Plan needs it. It is
// derived from the snapshot (and the placement) only, never changed once
// built, and shared between the indexes of successive snapshots while the
// agent and its tasks stay the same.
type agentView struct {
	agent *snapshot.Agent
	// tasks is the snapshot's list of the agent's tasks (AgentTasks) the
	// view was built from: the next snapshot's view is this one when its
	// agent and list are the very same.
	tasks []*snapshot.Task
	// eligible is true when the agent matches the cluster placement (host
	// globs and attributes). A service's own Hosts narrow it further.
	eligible bool
	// up is agent.Reachable, probed is agent.Probe != nil, and probedAt
	// the report's ReceivedAt: read from the view, which a plan walks in
	// order, rather than from 10,000 agents spread over the heap.
	up, probed bool
	probedAt   time.Time
	// described is true once we know what the placement needs of the
	// agent: its hostname (from an offer or its prober's report) and its
	// attributes (from an offer) when the placement names some. A
	// framework that restarted knows its agents first from
	// reconciliation, by their IDs alone.
	described bool
	// live are our non-terminal tasks by kind index, sorted by task ID.
	live [numKinds][]*snapshot.Task
	// replaced is, per kind, the most recently updated terminal task we
	// killed: a launch of another config names it in Replaces, so a rolling
	// upgrade reads as one step, and a failed replacement reverts to it.
	replaced [numKinds]*snapshot.Task
	// load counts our live tasks here; anywhere kinds go to the least
	// loaded (counting the launches the plan adds: planner.placeAnywhere).
	load int
	// deviceTypes holds a bit per device type the latest report found
	// (deviceBit), read once instead of scanning the report per kind.
	deviceTypes uint8
	// wants holds a bit per kind index (1<<k) of the per-agent kinds the
	// agent may want: the prober always, a device-bound kind when the
	// report found its device type, the client when it found the client
	// mount point. missing holds those of them with no live task here;
	// the index counts them (index.missing) to size a plan's actions.
	wants, missing uint8
	// facts are those of the only live task of each kind a converged
	// plan asks about (factsOf).
	facts [5]taskFacts
}

// factsOf returns the facts of the kind of index k: the per-agent kinds
// and the prober have them, the others (nil) are few and asked of in
// other ways.
func (av *agentView) factsOf(k int) *taskFacts {
	switch k {
	case idxRegistry:
		return &av.facts[0]
	case idxMetadata:
		return &av.facts[1]
	case idxData:
		return &av.facts[2]
	case idxClient:
		return &av.facts[3]
	case idxProber:
		return &av.facts[4]
	}
	return nil
}

// taskFacts are what a converged plan asks of the only live task of a
// kind on an agent, copied into the view when it is built: reading them
// from 40,000 tasks spread over the heap cost a converged 10,000-agent
// plan more than all the rest (quiet, computeProbers, computeProbes).
type taskFacts struct {
	// config is the task's config (index.configs); 0 when the kind has
	// not exactly one live task here.
	config uint32
	// serving: RUNNING and no kill sent; healthy: Mesos said it passes
	// its health check.
	serving, healthy bool
	// The task's RunningSince and HealthySince.
	runningSince, healthySince time.Time
}

// settledFacts is planner.settled for the slot of f's task, when the task
// is visible: serving (and healthy, when the service has a health check)
// for MinHealthyTime, or since we do not know when.
func (p *planner) settledFacts(f *taskFacts, svc *spec.Service) bool {
	since := f.runningSince
	if svc.Health.Path != "" {
		if !f.healthy {
			return false
		}
		since = f.healthySince
	}
	return f.serving && (since.IsZero() || p.now.Sub(since) >= p.c.Upgrade.MinHealthyTime)
}

// deviceBit is the bit of device type t in agentView.deviceTypes.
func deviceBit(t spec.DeviceType) uint8 {
	switch t {
	case spec.DirDevice:
		return 1
	case spec.MetadataDevice:
		return 2
	case spec.DataDevice:
		return 4
	}
	return 0
}

// hasDevice reports whether the agent's latest report found a device of type t.
func (av *agentView) hasDevice(t spec.DeviceType) bool { return av.deviceTypes&deviceBit(t) != 0 }

func (av *agentView) host() string {
	if av.agent.Hostname != "" {
		return av.agent.Hostname
	}
	return av.agent.ID
}

// reachable reports whether the planner may decide on av: Mesos can reach
// it and we can tell whether the placement allows it (described). An agent
// not yet described is unknown, as an unreachable one is: nothing is
// launched there and nothing killed (its tasks are not "outside the
// placement"); an offer or a prober's report describes it soon.
func (av *agentView) reachable() bool { return av.up && av.described }

// index is the planner's view of a snapshot: its agents with their tasks
// by kind, and which agents the placement allows. Step keeps the index of
// the last snapshot and builds the next one from it (indexFor), so that a
// plan's work and allocation follow what changed, not the cluster's size;
// Plan builds one itself when its Input has none that fits.
type index struct {
	snap *snapshot.Snapshot
	// placement is the one eligible was computed for.
	placement spec.Placement
	agents    []*agentView // sorted by agent ID, as in the snapshot
	// orphans are live tasks on agents the snapshot does not know, by kind:
	// unknown, not gone, exactly like tasks on an unreachable agent.
	orphans [numKinds][]*snapshot.Task
	// missing counts, by kind index, the reachable eligible agents whose
	// agentView.missing has the kind's bit: an upper bound of the
	// launches of the kind a plan makes (with no Hosts of its own).
	missing [numKinds]int
	// configs numbers the config hashes of live tasks (taskFacts.config),
	// from 1. Indexes of later snapshots share it while no new config
	// comes, and copy it to add one: once built, it is never written.
	configs map[string]uint32
}

// configID returns the number of config hash in ix.configs, 0 when no
// live task has it.
func (ix *index) configID(hash string) uint32 { return ix.configs[hash] }

// intern returns the number of config hash, adding it to a copy of the
// table the first time this index adds one (owned says whether it has).
func (ix *index) intern(hash string, owned *bool) uint32 {
	if id, ok := ix.configs[hash]; ok {
		return id
	}
	if !*owned {
		ix.configs, *owned = maps.Clone(ix.configs), true
		if ix.configs == nil {
			ix.configs = map[string]uint32{}
		}
	}
	id := uint32(len(ix.configs) + 1)
	ix.configs[hash] = id
	return id
}

// indexFor returns the index of s for c's placement. Views of prev (the
// index of an earlier snapshot of the same observer; nil: none) are reused
// for agents whose agent and task list (snapshot.AgentTasks) are the same
// slices, as snapshot.Next leaves them: only changed agents are indexed
// anew.
func indexFor(c *spec.Cluster, s *snapshot.Snapshot, prev *index) *index {
	if prev != nil && prev.snap == s && samePlacement(prev.placement, c.Placement) {
		return prev
	}
	ix := &index{snap: s, placement: c.Placement, agents: make([]*agentView, len(s.Agents))}
	if prev != nil {
		ix.configs = prev.configs // (its numbers stay valid)
		if !samePlacement(prev.placement, c.Placement) {
			prev = nil // eligibility changed everywhere
		}
	}
	var fresh []int // agents to index anew
	j := 0
	for i, a := range s.Agents {
		for prev != nil && j < len(prev.agents) && prev.agents[j].agent.ID < a.ID {
			j++
		}
		if prev != nil && j < len(prev.agents) && prev.agents[j].agent == a && sameList(prev.agents[j].tasks, s.AgentTasks(i)) {
			ix.agents[i] = prev.agents[j]
			continue
		}
		fresh = append(fresh, i)
	}
	views := make([]agentView, len(fresh)) // one allocation for all
	live := 0
	for _, i := range fresh {
		for _, t := range s.AgentTasks(i) {
			if kindIdx(t.Kind) >= 0 && !t.State.Terminal() {
				live++
			}
		}
	}
	backing := make([]*snapshot.Task, live) // the live lists of all, likewise
	owned := false
	var last [numKinds]struct { // the config each kind's last task had: most share one
		config string
		id     uint32
	}
	for n, i := range fresh {
		av := &views[n]
		backing = av.fill(c.Placement, s.Agents[i], s.AgentTasks(i), backing)
		for k, live := range av.live {
			f := av.factsOf(k)
			if f == nil || len(live) != 1 {
				continue
			}
			t := live[0]
			if t.Config != last[k].config || last[k].id == 0 {
				last[k].config, last[k].id = t.Config, ix.intern(t.Config, &owned)
			}
			*f = taskFacts{config: last[k].id,
				serving: t.State == snapshot.Running && t.KillSent.IsZero(), healthy: t.Healthy != nil && *t.Healthy,
				runningSince: t.RunningSince, healthySince: t.HealthySince}
		}
		ix.agents[i] = av
	}
	for _, t := range s.Orphans() {
		if k := kindIdx(t.Kind); k >= 0 && !t.State.Terminal() {
			ix.orphans[k] = append(ix.orphans[k], t)
		}
	}
	for _, av := range ix.agents {
		if av.missing != 0 && av.reachable() && av.eligible {
			for k := range numKinds {
				ix.missing[k] += int(av.missing >> k & 1)
			}
		}
	}
	return ix
}

// fill makes av the view of agent a with tasks (sorted by ID), taking its
// live lists from the front of backing, and returns the rest of backing.
func (av *agentView) fill(p spec.Placement, a *snapshot.Agent, tasks, backing []*snapshot.Task) []*snapshot.Task {
	av.agent, av.tasks = a, tasks
	av.eligible = placementAllows(p, a)
	av.up, av.probed = a.Reachable, a.Probe != nil
	av.described = a.Hostname != "" && (len(p.Attributes) == 0 || a.LastOffer != nil)
	if a.Probe != nil {
		av.probedAt = a.Probe.ReceivedAt
		for _, d := range a.Probe.Report.Devices {
			for _, t := range d.Types {
				av.deviceTypes |= deviceBit(t)
			}
		}
	}
	var counts [numKinds]int
	for _, t := range tasks {
		if k := kindIdx(t.Kind); k >= 0 && !t.State.Terminal() {
			counts[k]++
		}
	}
	for k, n := range counts {
		av.live[k], backing = backing[:0:n], backing[n:]
	}
	for _, t := range tasks { // sorted by ID, so every list is too
		k := kindIdx(t.Kind)
		switch {
		case k < 0:
		case t.State.Terminal():
			if !t.KillSent.IsZero() && (av.replaced[k] == nil || t.UpdatedAt.After(av.replaced[k].UpdatedAt)) {
				av.replaced[k] = t
			}
		default:
			av.live[k] = append(av.live[k], t)
			av.load++
		}
	}
	wants := uint8(1) << idxProber
	for _, k := range [...]spec.Kind{spec.Registry, spec.Metadata, spec.Data} {
		if av.hasDevice(k.DeviceType()) {
			wants |= 1 << kindIdx(string(k))
		}
	}
	if a.Probe != nil && a.Probe.Report.ClientMountPoint {
		wants |= 1 << idxClient
	}
	av.wants = wants
	for k := range numKinds {
		if wants>>k&1 != 0 && len(av.live[k]) == 0 {
			av.missing |= 1 << k
		}
	}
	return backing
}

// agent returns the view of the agent with the given ID, or nil.
func (ix *index) agent(id string) *agentView {
	i, ok := slices.BinarySearchFunc(ix.agents, id, func(av *agentView, id string) int { return strings.Compare(av.agent.ID, id) })
	if !ok {
		return nil
	}
	return ix.agents[i]
}

// sameList reports whether a and b are the same slice (not merely equal).
func sameList(a, b []*snapshot.Task) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// samePlacement reports whether two placements admit the same agents.
func samePlacement(a, b spec.Placement) bool {
	return slices.Equal(a.Hosts, b.Hosts) && maps.Equal(a.Attributes, b.Attributes)
}

// placementAllows reports whether the cluster placement admits agent a:
// its hostname matches one of the host globs (none: all hosts) and every
// required attribute is equal.
func placementAllows(p spec.Placement, a *snapshot.Agent) bool {
	if !hostMatches(p.Hosts, a.Hostname) {
		return false
	}
	for k, want := range p.Attributes { // order irrelevant: all must hold
		if got, ok := a.Attributes[k]; !ok || got != want {
			return false
		}
	}
	return true
}

// hostMatches reports whether host matches any glob; an empty list matches
// every host. Malformed globs match nothing (the spec loader rejects them).
func hostMatches(globs []string, host string) bool {
	if len(globs) == 0 {
		return true
	}
	for _, g := range globs {
		if ok, err := path.Match(g, host); err == nil && ok {
			return true
		}
	}
	return false
}

// proberConfigHash identifies everything a prober task is launched with
// that comes from the spec. A prober whose task ID carries another hash is
// replaced. It is the loader's c.Prober.ConfigHash; for a Cluster built by
// hand without one (tests), a hash of the same settings computed here. The
// hash is short hex, valid in a task ID.
func proberConfigHash(c *spec.Cluster) string {
	if c.Prober.ConfigHash != "" {
		return c.Prober.ConfigHash
	}
	p := c.Prober
	h := sha256.New()
	fmt.Fprintf(h, "prober/v1\x00%s\x00%s\x00%s\x00%s\x00%d\x00%g\x00%g\x00%g",
		p.Mode, p.Artifact, p.ClientMountPoint, c.Quobyte.DeviceRoot, int64(p.Interval/time.Millisecond),
		p.Resources.CPUs, p.Resources.Mem, p.Resources.Disk)
	return hex.EncodeToString(h.Sum(nil))[:10]
}

// servicePorts returns the fixed ports a service needs, sorted, without
// duplicates or zeros.
func servicePorts(svc *spec.Service) []int {
	var ports []int
	for _, p := range svc.Ports { // sorted below
		if p > 0 {
			ports = append(ports, p)
		}
	}
	sort.Ints(ports)
	out := ports[:0]
	for i, p := range ports {
		if i == 0 || p != ports[i-1] {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// offerFits reports whether offer o can hold a task needing r and ports;
// when a port is missing it is returned.
func offerFits(o *snapshot.Offer, r spec.Resources, ports []int) (fits bool, missingPort int) {
	if o.Resources.CPUs < r.CPUs || o.Resources.Mem < r.Mem || o.Resources.Disk < r.Disk {
		return false, 0
	}
	for _, p := range ports {
		if !portOffered(o.Ports, p) {
			return false, p
		}
	}
	return true, 0
}

func portOffered(ranges []snapshot.PortRange, port int) bool {
	for _, r := range ranges {
		if uint64(port) >= r.Begin && uint64(port) <= r.End {
			return true
		}
	}
	return false
}
