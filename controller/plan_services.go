package controller

import (
	"sort"
	"strings"
	"time"

	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/spec"
)

// slot is one wanted instance of a service kind: an agent (per-agent
// kinds) or one of Count instances (kinds that run anywhere), and the task
// that fills it (nil: missing). The rolling upgrade counts slots.
type slot struct {
	av   *agentView // nil for an anywhere slot not yet placed
	task *snapshot.Task
	// unknown is true when we cannot see the task's state (unreachable
	// agent) or cannot tell whether it is still wanted (no prober report).
	unknown bool
	// excluded is true for a task on an agent a placement change left
	// out: it goes, paced like a rollout.
	excluded bool
	// reverted is set when auto_revert sent the slot's host back to its
	// previous configuration.
	reverted *Revert
}

// unknownTask reports whether t may be alive although we cannot see it: on
// an agent the snapshot does not know or marks unreachable, or itself
// UNREACHABLE or UNKNOWN. Such a task is never sent a kill (Mesos cannot
// deliver it); it is decided on again when it is back.
func unknownTask(av *agentView, t *snapshot.Task) bool {
	return av == nil || !av.reachable() || t.State.MaybeAlive()
}

// upgradeOrder returns the kinds in the order a rolling upgrade visits
// them: the spec's Upgrade.Order, then every other kind in start order.
// Services launch in the same order within a plan.
func upgradeOrder(c *spec.Cluster) []spec.Kind {
	seen := map[spec.Kind]bool{}
	var order []spec.Kind
	for _, k := range c.Upgrade.Order {
		if kindIdx(string(k)) >= 0 && !seen[k] {
			seen[k] = true
			order = append(order, k)
		}
	}
	for _, k := range spec.Kinds() {
		if !seen[k] {
			order = append(order, k)
		}
	}
	return order
}

// computeServices plans every service kind with state = "running".
func (p *planner) computeServices() {
	coreWhy := p.coreNotRunning()
	var pending spec.Kind // an earlier kind whose upgrade is not finished
	for _, k := range upgradeOrder(p.c) {
		svc := p.c.Service(k)
		if svc == nil || !svc.Enabled {
			for _, t := range p.liveTasks(k) {
				p.emitKill(string(k), p.ix.agent(t.AgentID), t, reasonDisabled(string(k)), "")
			}
			continue
		}
		var slots []slot
		var missing missingSlots
		if k.DeviceBound() || k == spec.Client {
			slots, missing = p.computePerAgentKind(k, svc)
		} else {
			slots = p.computeAnywhereKind(k, svc, coreWhy)
		}
		// New replacements wait for every earlier kind, and a kind that runs
		// anywhere also for the core: a replacement could not start without
		// it. A kind held only by the core does not hold later kinds back
		// (their health gates pace them; with no registry at all, nothing
		// else could ever move).
		hold, heldByCore := "", false
		switch {
		case !k.DeviceBound() && k != spec.Client && coreWhy != "":
			hold, heldByCore = reasonUpgradeWaitsForCore(k, coreWhy), true
		case pending != "":
			hold = reasonUpgradeWaitsForKind(k, pending)
		}
		// A kind holds later kinds' replacements while it replaces tasks,
		// and until its last replacement has settled (healthy for
		// MinHealthyTime): with no outdated task left, its newest task may
		// still be starting.
		busy := p.computeRollout(k, svc, slots, missing, hold)
		if pending == "" && !heldByCore && (busy || missing.n > 0 || !p.kindSettled(slots, svc)) {
			pending = k
		}
	}
}

// coreNotRunning says why the core services do not run yet ("" when they
// do). The core runs when every wanted registry has a RUNNING task, or when
// the spec names an external registry.
func (p *planner) coreNotRunning() string {
	if p.c.Quobyte.Registry != "" {
		return ""
	}
	svc := p.c.Service(spec.Registry)
	if svc == nil || !svc.Enabled {
		return coreNoRegistryWanted
	}
	wanted, unknown := 0, 0
	for _, av := range p.ix.agents {
		switch p.wantOnAgent(spec.Registry, svc, av) {
		case wantYes:
		case wantUnknown:
			unknown++
			continue
		default:
			continue
		}
		wanted++
		running := false
		for _, t := range av.live[idxRegistry] {
			running = running || (t.State == snapshot.Running && !t.State.MaybeAlive())
		}
		if !running {
			return coreRegistryNotRunning(av.host())
		}
	}
	switch {
	case wanted > 0:
		return ""
	case unknown > 0:
		return coreWaitingForReports
	}
	return coreNoRegistryWanted
}

type wantState int

const (
	wantYes     wantState = iota // wanted on this agent
	wantUnknown                  // cannot tell: unreachable, or no prober report yet
	// Not wanted here, because the agent is outside the (service's)
	// placement, or the prober found no device of the kind's type, or no
	// client mount point.
	wantNoOutside
	wantNoDevice
	wantNoClientMount
)

// wantOnAgent decides whether a per-agent kind is wanted on av.
func (p *planner) wantOnAgent(k spec.Kind, svc *spec.Service, av *agentView) wantState {
	switch {
	case !av.reachable():
		return wantUnknown
	case !av.eligible || (len(svc.Hosts) > 0 && !hostMatches(svc.Hosts, av.agent.Hostname)):
		return wantNoOutside
	case !av.probed:
		return wantUnknown
	case av.wants&(1<<kindIdx(string(k))) != 0:
		return wantYes
	case k == spec.Client:
		return wantNoClientMount
	}
	return wantNoDevice
}

// notWantedReason says why kind k is not wanted on av. It is built only
// when a task is killed for it: formatting it for every agent costs more
// than the rest of a plan at 10,000 agents.
func notWantedReason(w wantState, k spec.Kind, av *agentView) string {
	switch w {
	case wantNoDevice:
		return reasonDeviceGone(k.DeviceType(), av.host())
	case wantNoClientMount:
		return reasonClientMountGone(av.host())
	}
	return reasonOutsidePlacement(av.host())
}

// computePerAgentKind places a device-bound kind (or the client): one task
// on each agent whose prober found the device type (or the client mount
// point). Such services never move: on an agent we cannot see, whatever
// runs there is left alone and nothing replaces it elsewhere. A task on an
// agent the placement no longer allows becomes an excluded slot, which the
// rollout removes at its pace (computeRollout); a task whose device is gone
// is killed at once. On an agent sent back to its previous configuration
// (auto_revert), that configuration is what runs.
func (p *planner) computePerAgentKind(k spec.Kind, svc *spec.Service) ([]slot, missingSlots) {
	i := kindIdx(string(k))
	kind := string(k)
	ports := servicePorts(svc)
	current := p.ix.configID(svc.ConfigHash)
	var slots []slot // only those the rollout must look at (see quiet)
	var missing missingSlots
	for j, av := range p.ix.agents {
		tasks := av.live[i]
		switch want := p.wantOnAgent(k, svc, av); want {
		case wantYes:
		case wantUnknown:
			switch {
			case p.superseded(av):
				// Its host is back under another agent: what this one
				// ran is gone, whatever we last heard of it.
			case len(tasks) > 0:
				slots = append(slots, slot{av: av, task: pickBest(tasks, svc.ConfigHash), unknown: true})
			case p.lostSlot(k, svc, av):
				slots = append(slots, slot{av: av, unknown: true})
			}
			continue
		case wantNoOutside:
			if len(tasks) > 0 {
				keep := pickBest(tasks, svc.ConfigHash)
				p.killDuplicates(kind, av, tasks, keep, svc.ConfigHash, "")
				slots = append(slots, slot{av: av, task: keep, excluded: true})
			}
			continue
		default:
			for _, t := range tasks {
				p.emitKill(kind, av, t, notWantedReason(want, k, av), "")
			}
			continue
		}
		target, tsvc, tports := svc.ConfigHash, svc, ports
		keep := pickBest(tasks, target)
		rv := p.maybeRevert(k, svc, av)
		oldReason := ""
		if rv != nil {
			// Only the previous configuration may stay; it is launched once
			// the failed one is gone (the fixed ports allow one at a time).
			target, tsvc = rv.To, rv.Spec.Service(k)
			tports = servicePorts(tsvc)
			keep = pickBest(withConfig(tasks, target), target)
			oldReason = reasonRevert(rv.To, rv.Reason)
		}
		p.killDuplicates(kind, av, tasks, keep, target, oldReason)
		if f := av.factsOf(i); rv == nil && f.config != 0 && f.config == current && p.settledFacts(f, svc) {
			continue // quiet, told by the view alone (taskFacts)
		}
		switch s := (slot{av: av, task: keep, reverted: rv}); {
		case len(tasks) == 0 && rv == nil && !replacementPending(k, s, svc.ConfigHash):
			missing.add(j, len(p.ix.agents))
		case !p.quiet(s, svc):
			slots = append(slots, s)
		}
		if len(tasks) == 0 {
			reason := "" // the plain one
			if rv != nil {
				reason = reasonLaunchRevert(k, av.host(), rv.To)
			}
			p.maybeLaunch(Launch, kind, av, j, target, tsvc.Resources, tports, reason)
		}
	}
	return slots, missing
}

// missingSlots marks, by agent position in the index, the slots of a
// per-agent kind that merely miss their task: no task at all, nothing to
// revert to, no replacement to complete. A fresh cluster has one on every
// agent; they ask nothing of the rollout unless it has other slots to
// change, so they are only marked (a bit each) and made into slots then
// (with).
type missingSlots struct {
	bits []uint64
	n    int
}

func (m *missingSlots) add(j, agents int) {
	if m.bits == nil {
		m.bits = make([]uint64, (agents+63)/64)
	}
	m.bits[j/64] |= 1 << (j % 64)
	m.n++
}

// with returns slots and the missing ones, in agent order (slots are of
// agents in index order, at most one each).
func (m missingSlots) with(agents []*agentView, slots []slot) []slot {
	if m.n == 0 {
		return slots
	}
	out := make([]slot, 0, len(slots)+m.n)
	for j, av := range agents {
		for len(slots) > 0 && slots[0].av == av {
			out = append(out, slots[0])
			slots = slots[1:]
		}
		if m.bits[j/64]&(1<<(j%64)) != 0 {
			out = append(out, slot{av: av})
		}
	}
	return append(out, slots...)
}

// lostSlot reports whether av, an agent we cannot see with no live task of
// kind k, still counts as a slot of k (down) for the rolling upgrade: its
// last report called for k there, and it was lost less than the
// unreachable timeout ago (the caller has checked that its host has not
// come back under another agent: superseded). A replacement lost with its
// agent leaves the service down: without this its slot vanished with the
// agent and the rollout took the next host down. After the timeout the
// host is given up, as an instance of a kind that runs anywhere is.
func (p *planner) lostSlot(k spec.Kind, svc *spec.Service, av *agentView) bool {
	return k.DeviceBound() && !av.agent.Reachable && av.eligible && av.hasDevice(k.DeviceType()) &&
		hostMatches(svc.Hosts, av.agent.Hostname) && p.now.Sub(av.agent.UnreachableSince) < p.c.Placement.UnreachableTimeout
}

// superseded reports whether av is an agent we cannot see whose host is
// back under another agent ID, reachable and probed: an agent restarted
// with a wiped work directory registers anew, and Mesos removes the old
// one ("a new agent registered at the same address") with its tasks. The
// old agent's tasks may still look alive to us (their end was lost with
// a dropped stream, and reconciliation answers TASK_UNKNOWN, which is not
// terminal), but they count for nothing: otherwise the host's slot stayed
// unknown and the rolling upgrade waited for it for good (chaos seed 25).
func (p *planner) superseded(av *agentView) bool {
	if av.agent.Reachable || av.agent.Hostname == "" {
		return false
	}
	if p.hostsBack == nil { // rare: only agents we cannot see get here
		p.hostsBack = map[string]bool{}
		for _, o := range p.ix.agents {
			if o.reachable() && o.probed {
				p.hostsBack[o.agent.Hostname] = true
			}
		}
	}
	return p.hostsBack[av.agent.Hostname]
}

// quiet reports whether a slot of a per-agent kind asks nothing of the
// rollout: a visible task of the kind's config that has settled, no kill
// sent, on a host the placement allows, not reverted. classifyRollout
// skips such a slot, kindSettled and needsRollout pass it, so
// computePerAgentKind does not collect it: a settled 10,000-agent kind
// then costs no allocation per plan.
func (p *planner) quiet(s slot, svc *spec.Service) bool {
	return s.reverted == nil && !s.excluded && s.task != nil && s.task.Config == svc.ConfigHash && p.settled(s, svc)
}

// killDuplicates kills every task in tasks but keep (at most one task of a
// kind per agent: the fixed ports allow no more). Tasks of another config
// than hash are killed as replaced (or for oldReason, when given).
func (p *planner) killDuplicates(kind string, av *agentView, tasks []*snapshot.Task, keep *snapshot.Task, hash, oldReason string) {
	for _, t := range tasks {
		switch {
		case t == keep:
		case t.Config != hash && oldReason != "":
			p.emitKill(kind, av, t, oldReason, t.ID)
		case t.Config != hash:
			p.emitKill(kind, av, t, p.changeReason(kind, t.Config, hash), t.ID)
		default:
			p.emitKill(kind, av, t, reasonDuplicate(kind, av.host(), keep.ID), "")
		}
	}
}

// computeAnywhereKind places a kind that runs anywhere (API, webconsole,
// S3): Count instances, at most one per agent, spread over the eligible
// agents with the fewest of our tasks. New instances start as soon as a
// registry host is known (registryUnknown), with the first registries;
// running ones are kept when the core stops.
//
// A task we cannot see counts as running until Placement.UnreachableTimeout
// after it became unreachable; then another instance is placed elsewhere.
// It is never sent a kill (Mesos cannot deliver it): once it is back, it is
// one more candidate and the excess is killed then.
func (p *planner) computeAnywhereKind(k spec.Kind, svc *spec.Service, coreWhy string) []slot {
	i := kindIdx(string(k))
	kind := string(k)
	timeout := p.c.Placement.UnreachableTimeout

	var candidates []slot
	var lost string // an instance given up for unreachable, for the launch reason
	consider := func(av *agentView, tasks []*snapshot.Task) {
		var visible []*snapshot.Task
		for _, t := range tasks {
			switch unknown := unknownTask(av, t); {
			case unknown && p.unreachableFor(av, t) >= timeout:
				if lost == "" {
					host := t.AgentID
					if av != nil {
						host = av.host()
					}
					lost = reasonLostInstance(host, p.unreachableFor(av, t))
				}
			case unknown:
				candidates = append(candidates, slot{av: av, task: t, unknown: true})
			case !av.eligible || !hostMatches(svc.Hosts, av.agent.Hostname):
				p.emitKill(kind, av, t, reasonOutsidePlacement(av.host()), "")
			default:
				visible = append(visible, t)
			}
		}
		if len(visible) > 0 {
			keep := pickBest(visible, svc.ConfigHash)
			p.killDuplicates(kind, av, visible, keep, svc.ConfigHash, "")
			candidates = append(candidates, slot{av: av, task: keep})
		}
	}
	for _, av := range p.ix.agents {
		if len(av.live[i]) > 0 {
			consider(av, av.live[i])
		}
	}
	for _, t := range p.ix.orphans[i] {
		consider(nil, []*snapshot.Task{t})
	}

	// Keep the Count best: current config, then available, then visible.
	sort.SliceStable(candidates, func(a, b int) bool {
		return p.slotRank(candidates[a], svc) < p.slotRank(candidates[b], svc)
	})
	want := svc.Count
	for j := want; j < len(candidates); j++ {
		c := candidates[j]
		p.emitKill(kind, c.av, c.task, reasonExcess(k, want), "")
	}
	if len(candidates) > want {
		candidates = candidates[:want]
	}
	missing := want - len(candidates)
	if missing <= 0 {
		return candidates
	}
	if why := p.registryUnknown(coreWhy); why != "" {
		p.block(kind, nil, kind, reasonWaitingForCore(k, why))
	} else {
		// Instances no agent can take are not "down" for the rolling
		// upgrade: counting them would stall it for good.
		missing = p.placeAnywhere(k, svc, len(candidates), missing, lost)
	}
	for ; missing > 0; missing-- {
		candidates = append(candidates, slot{})
	}
	return candidates
}

// registryUnknown says why new instances of a kind that runs anywhere
// cannot be placed yet ("" when they can): they start with the first
// registries, as soon as QUOBYTE_REGISTRY can name one — the spec's
// external registry, or a host where a registry runs or is to run
// (registryHosts) — and, like metadata and data, retry until a registry
// answers; the core need not run. coreWhy (coreNotRunning) says why when
// no registry host is known. Replacements still wait for the core
// (computeServices): their predecessors are killed first.
func (p *planner) registryUnknown(coreWhy string) string {
	if coreWhy == "" || p.c.Quobyte.Registry != "" {
		return ""
	}
	if svc := p.c.Service(spec.Registry); svc != nil && svc.Enabled && len(p.registryHosts()) > 0 {
		return ""
	}
	return coreWhy
}

// unreachableFor is how long a task we cannot see has been out of sight:
// since the task became unreachable, else since its agent did, else (a
// task on an agent the snapshot does not know) since its last update.
func (p *planner) unreachableFor(av *agentView, t *snapshot.Task) time.Duration {
	since := t.UnreachableSince
	if since.IsZero() && av != nil && !av.reachable() {
		since = av.agent.UnreachableSince
	}
	if since.IsZero() {
		since = t.UpdatedAt
	}
	return p.now.Sub(since)
}

// slotRank orders candidate slots of an anywhere kind: lower is kept first.
func (p *planner) slotRank(s slot, svc *spec.Service) int {
	r := 0
	if s.task.Config != svc.ConfigHash {
		r += 4
	}
	if !p.available(s, svc) {
		r += 2
	}
	if s.unknown {
		r++
	}
	return r
}

// placeAnywhere launches missing instances of an anywhere kind, one agent
// at a time: an eligible reachable agent without a live task of the kind
// and not backing off for it, preferring agents whose last offer fits,
// then fewer of our tasks, then hostname and ID (deterministic). Each pick
// raises the agent's load, so instances spread. It returns how many
// instances have an agent (launched now, or waiting for a backoff there).
//
// While the kind as a whole backs off (its instances failed, on whatever
// agents), nothing is placed: a crashing service would otherwise move from
// agent to agent, its launch rate growing with the number of agents.
func (p *planner) placeAnywhere(k spec.Kind, svc *spec.Service, placed, missing int, lost string) (placeable int) {
	i := kindIdx(string(k))
	kind := string(k)
	ports := servicePorts(svc)
	wanted := placed + missing
	if p.heldBack(kind, nil, kindItem(kind), svc.ConfigHash) {
		return missing
	}
	// Agents where the kind failed come last, then by offer fit, then by
	// load. A pick changes no other agent's rank, so the loop below takes
	// them in the order of one scan, which keeps the few it can take.
	type candidate struct {
		av            *agentView
		at, fit, load int
	}
	better := func(a, b candidate) bool {
		if a.fit != b.fit {
			return a.fit < b.fit
		}
		return lessLoaded(a.av, b.av, a.load, b.load)
	}
	failed := p.failedAgents(kind, svc.ConfigHash)
	most := missing + wanted + maxPassedOver // (picks: placed, or passed over below)
	top := make([]candidate, 0, most)
	for j, av := range p.ix.agents {
		if !av.reachable() || !av.eligible || len(av.live[i]) > 0 || (len(svc.Hosts) > 0 && !hostMatches(svc.Hosts, av.agent.Hostname)) {
			continue
		}
		load := av.load
		if p.launched != nil {
			load += int(p.launched[j])
		}
		c := candidate{av: av, at: j, load: load}
		if len(top) == most && top[most-1].fit == 0 && !lessLoaded(av, top[most-1].av, load, top[most-1].load) {
			continue // (the common case, told without reading the agent's offer)
		}
		c.fit = offerRank(av, svc.Resources, ports)
		if failed != nil {
			c.fit += 4 * failed[av.agent.ID]
		}
		if len(top) == most && !better(c, top[most-1]) {
			continue
		}
		at := sort.Search(len(top), func(x int) bool { return better(c, top[x]) })
		if len(top) < most {
			top = append(top, candidate{})
		}
		copy(top[at+1:], top[at:len(top)-1])
		top[at] = c
	}
	var heldBack []*agentView
	for ; missing > 0 && len(top) > 0; missing-- {
		best, at := top[0].av, top[0].at
		top = top[1:]
		item := snapshot.ItemKey(kind, best.agent.ID)
		if _, ok := p.held(item, svc.ConfigHash); ok {
			heldBack = append(heldBack, best)
			if len(heldBack) >= wanted+maxPassedOver {
				break // (a big cluster may have thousands backing off)
			}
			missing++ // try the next agent for this instance
			continue
		}
		p.maybeLaunch(Launch, kind, best, at, svc.ConfigHash, svc.Resources, ports,
			reasonLaunchAnywhere(k, placed, wanted, best.host(), lost))
		placed++
		placeable++
	}
	if missing > 0 {
		// Explain the shortfall: the agents backing off, else no agent at all.
		for j, av := range heldBack {
			if j >= missing {
				break
			}
			p.heldBack(kind, av, snapshot.ItemKey(kind, av.agent.ID), svc.ConfigHash)
		}
		if len(heldBack) < missing {
			p.block(kind, nil, kind, reasonNoEligibleAgent(k, placed, wanted))
		}
	}
	return placeable + min(len(heldBack), missing)
}

// failedAgents counts, by agent ID, the failures of config hash of kind on
// each agent where it failed (few: read from the holds once per kind, not
// once per agent).
func (p *planner) failedAgents(kind, hash string) map[string]int {
	var out map[string]int
	for item, h := range p.holds {
		agent, ok := strings.CutPrefix(item, kind+"@")
		if !ok || agent == "*" || (h.Config != "" && h.Config != hash) {
			continue
		}
		if out == nil {
			out = map[string]int{}
		}
		out[agent] = h.Failures
	}
	return out
}

// maxPassedOver bounds how many agents backing off placeAnywhere passes
// over before it gives up for this plan: each pass scans every agent.
const maxPassedOver = 32

// offerRank: 0 the last offer fits, 1 no offer known yet, 2 it does not fit.
func offerRank(av *agentView, r spec.Resources, ports []int) int {
	o := av.agent.LastOffer
	if o == nil {
		return 1
	}
	if fits, _ := offerFits(o, r, ports); fits {
		return 0
	}
	return 2
}

// lessLoaded orders agents for an anywhere kind: fewer of our tasks (la
// and lb count those this plan launches), then hostname and ID.
func lessLoaded(a, b *agentView, la, lb int) bool {
	if la != lb {
		return la < lb
	}
	if c := strings.Compare(a.agent.Hostname, b.agent.Hostname); c != 0 { // (one pass over both)
		return c < 0
	}
	return a.agent.ID < b.agent.ID
}
