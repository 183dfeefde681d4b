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
		if k.DeviceBound() || k == spec.Client {
			slots = p.computePerAgentKind(k, svc)
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
		busy := p.computeRollout(k, svc, slots, hold)
		if pending == "" && !heldByCore && (busy || !p.kindSettled(slots, svc)) {
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
	case !av.eligible || !hostMatches(svc.Hosts, av.agent.Hostname):
		return wantNoOutside
	case av.agent.Probe == nil:
		return wantUnknown
	case k == spec.Client:
		if av.agent.Probe.Report.ClientMountPoint {
			return wantYes
		}
		return wantNoClientMount
	}
	if av.hasDevice(k.DeviceType()) {
		return wantYes
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
func (p *planner) computePerAgentKind(k spec.Kind, svc *spec.Service) []slot {
	i := kindIdx(string(k))
	kind := string(k)
	ports := servicePorts(svc)
	var slots []slot // only those the rollout must look at (see quiet)
	for _, av := range p.ix.agents {
		tasks := av.live[i]
		switch want := p.wantOnAgent(k, svc, av); want {
		case wantYes:
		case wantUnknown:
			switch {
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
		if s := (slot{av: av, task: keep, reverted: rv}); !p.quiet(s, svc) {
			slots = append(slots, s)
		}
		if len(tasks) == 0 {
			// (Reasons are built only for launches: formatting one per
			// agent would cost more than the rest of a 10,000-agent plan.)
			reason := reasonLaunchDeviceService(k, av.host())
			switch {
			case rv != nil:
				reason = reasonLaunchRevert(k, av.host(), rv.To)
			case k == spec.Client:
				reason = reasonLaunchClient(av.host())
			}
			p.maybeLaunch(Launch, kind, av, target, tsvc.Resources, tports, reason)
		}
	}
	return slots
}

// lostSlot reports whether av, an agent we cannot see with no live task of
// kind k, still counts as a slot of k (down) for the rolling upgrade: its
// last report called for k there, it was lost less than the unreachable
// timeout ago, and its host has not come back under another agent (an
// agent restarted with a wiped work directory registers under a new ID,
// and that agent's slot counts instead). A replacement lost with its agent
// leaves the service down: without this its slot vanished with the agent
// and the rollout took the next host down. After the timeout the host is
// given up, as an instance of a kind that runs anywhere is.
func (p *planner) lostSlot(k spec.Kind, svc *spec.Service, av *agentView) bool {
	if !k.DeviceBound() || av.agent.Reachable || !av.eligible || !av.hasDevice(k.DeviceType()) ||
		!hostMatches(svc.Hosts, av.agent.Hostname) || p.now.Sub(av.agent.UnreachableSince) >= p.c.Placement.UnreachableTimeout {
		return false
	}
	for _, o := range p.ix.agents { // rare: only agents lost a moment ago get here
		if o != av && o.agent.Hostname == av.agent.Hostname && o.reachable() && o.agent.Probe != nil {
			return false
		}
	}
	return true
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
			p.emitKill(kind, av, t, reasonReplacedBy(hash), t.ID)
		default:
			p.emitKill(kind, av, t, reasonDuplicate(kind, av.host(), keep.ID), "")
		}
	}
}

// computeAnywhereKind places a kind that runs anywhere (API, webconsole,
// S3): Count instances, at most one per agent, spread over the eligible
// agents with the fewest of our tasks. New instances start only once the
// core runs; running ones are kept when it stops.
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
	if coreWhy != "" {
		p.block(kind, nil, kind, reasonWaitingForCore(k, coreWhy))
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
	failed := p.failedAgents(kind, svc.ConfigHash)
	launched := p.launchesByAgent()
	excluded := map[*agentView]bool{}
	var heldBack []*agentView
	for ; missing > 0; missing-- {
		var best *agentView
		bestFit := 0
		for _, av := range p.ix.agents {
			if !av.reachable() || !av.eligible || len(av.live[i]) > 0 || excluded[av] ||
				!hostMatches(svc.Hosts, av.agent.Hostname) {
				continue
			}
			// Agents where the kind failed come last, then by offer fit,
			// then by load.
			fit := offerRank(av, svc.Resources, ports) + 4*failed[av.agent.ID]
			if best == nil || fit < bestFit || (fit == bestFit && lessLoaded(av, best, launched)) {
				best, bestFit = av, fit
			}
		}
		if best == nil {
			break
		}
		excluded[best] = true
		item := snapshot.ItemKey(kind, best.agent.ID)
		if _, ok := p.held(item, svc.ConfigHash); ok {
			heldBack = append(heldBack, best)
			if len(heldBack) >= wanted+maxPassedOver {
				break // do not scan a big cluster once per agent backing off
			}
			missing++ // try the next agent for this instance
			continue
		}
		if p.maybeLaunch(Launch, kind, best, svc.ConfigHash, svc.Resources, ports,
			reasonLaunchAnywhere(k, placed, wanted, best.host(), lost)) {
			launched[best.agent.ID]++
		}
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

// launchesByAgent counts the launches planned so far, by agent: an
// agent's load is its live tasks and these (the index is shared between
// plans, so the plan counts its own launches here).
func (p *planner) launchesByAgent() map[string]int {
	out := map[string]int{}
	for _, c := range p.actions.chunks {
		for _, a := range c {
			if a.Type == Launch || a.Type == LaunchProber {
				out[a.AgentID]++
			}
		}
	}
	return out
}

// lessLoaded orders agents for an anywhere kind: fewer of our tasks
// (launched counts those this plan launches), then hostname and ID.
func lessLoaded(a, b *agentView, launched map[string]int) bool {
	if la, lb := a.load+launched[a.agent.ID], b.load+launched[b.agent.ID]; la != lb {
		return la < lb
	}
	if a.agent.Hostname != b.agent.Hostname {
		return a.agent.Hostname < b.agent.Hostname
	}
	return a.agent.ID < b.agent.ID
}
