package controller

import (
	"time"

	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/observe/taskid"
	"github.com/quobyte/quobyte-mesos/spec"
)

// Plan computes what must change for the cluster in.Snapshot to become the
// one in.Spec describes. It is pure: the result depends only on in (the time
// is in.Now), it performs no I/O and modifies nothing it is given. Equal
// inputs give equal results, action for action.
//
// The plan is made in phases, each appending to the result in a fixed order:
//
//  1. gate: before the subscription is reconciled, nothing (the task set may
//     be incomplete after a restart);
//  2. probers: one on every eligible reachable agent, whatever the state;
//  3. services: with state = "running", each kind in upgrade order (the
//     spec's Upgrade.Order, then the other kinds in start order): failed
//     replacements and reverts, desired placement, launches and kills, then
//     the rolling-upgrade step; with state = "stopped", the stop groups in
//     reverse start order;
//  4. probes: ask probers with stale reports to report.
func Plan(in Input) *Result {
	c, s := in.Spec, in.Snapshot
	p := &planner{
		c:        c,
		s:        s,
		now:      in.Now,
		holds:    in.Holds,
		reverts:  in.Reverts,
		previous: in.Previous,
		ix:       in.index,
		res: &Result{Generation: s.Generation, SpecHash: c.Hash, Actions: []Action{}, Blocked: []Blocked{},
			Spec: c},
	}
	p.compute()
	p.res.Actions = p.actions.all()
	return p.res
}

// planner holds one Plan call's inputs and the result being built.
type planner struct {
	c        *spec.Cluster
	s        *snapshot.Snapshot
	now      time.Time
	holds    map[string]Hold
	reverts  map[string]Revert
	previous []*spec.Cluster
	ix       *index
	res      *Result
	// actions collects res.Actions until the plan is done.
	actions actionList
	// launched counts the plan's launches by agent position in the index
	// (made with the first): an agent's load is its live tasks and these
	// (the index is shared between plans, so the plan counts its own).
	launched []int32
	// launches is set once a service launch is planned.
	launches bool
	// changes are the kinds' whole paced changes (Result.Changes), by kind
	// index, made as the phases find them.
	changes [numKinds]*KindChange
	// changeText caches changeReason by kind and old config.
	changeText map[string]string
	// relaunched is set, by kind index, when this plan launches a task
	// that completes a replacement.
	relaunched [numKinds]bool
	// hostsBack are the hostnames of reachable, probed agents, made when
	// an agent we cannot see asks for them (superseded).
	hostsBack map[string]bool
	// regHosts is registryHosts, made when first asked for.
	regHosts     []string
	regHostsDone bool
}

// actionList collects a plan's actions in chunks (each as big as all
// before it, up to maxChunk) and copies them into one slice once at the
// end: a fresh 10,000-agent cluster has 40,000 launches, and growing one
// slice (by a quarter at a time, at that size) copied each of them about
// four times.
type actionList struct {
	chunks [][]Action
	n      int
}

// maxChunk bounds a chunk (about 0.9 MB of actions): what a chunk holds
// beyond the plan's actions is allocated for nothing.
const maxChunk = 4096

// reserve makes room for n actions in one chunk, when n is more than the
// first chunk would hold: a plan that knows it launches thousands then
// writes each action once, and all copies nothing.
func (l *actionList) reserve(n int) {
	if l.n == 0 && len(l.chunks) == 0 && n > firstChunk {
		l.chunks = append(l.chunks, make([]Action, 0, n))
	}
}

// firstChunk is the size of the first chunk when none is reserved.
const firstChunk = 16

func (l *actionList) add(a Action) { *l.next() = a }

// next adds a zero action and returns it, to be filled in place: a large
// plan then writes only the fields its actions use.
func (l *actionList) next() *Action {
	if k := len(l.chunks); k == 0 || len(l.chunks[k-1]) == cap(l.chunks[k-1]) {
		l.chunks = append(l.chunks, make([]Action, 0, min(max(firstChunk, l.n), maxChunk)))
	}
	k := len(l.chunks) - 1
	c := l.chunks[k]
	l.chunks[k] = c[:len(c)+1]
	l.n++
	return &l.chunks[k][len(c)]
}

// all returns every action, in order, in one slice (never nil).
func (l *actionList) all() []Action {
	if len(l.chunks) == 1 {
		return l.chunks[0]
	}
	out := make([]Action, 0, l.n)
	for _, c := range l.chunks {
		out = append(out, c...)
	}
	return out
}

func (p *planner) compute() {
	if sub := p.s.Subscription; sub.State != snapshot.Subscribed || !sub.Reconciled {
		reason := reasonWaitingForReconciliation
		if sub.State != snapshot.Subscribed {
			reason = reasonNotSubscribed(sub.State)
		}
		p.res.Blocked = append(p.res.Blocked, Blocked{Kind: "*", Item: "subscription", Reason: reason})
		p.res.Gated = true
		return
	}
	p.ix = indexFor(p.c, p.s, p.ix) // Step's, when it is of this snapshot
	p.actions.reserve(p.launchBound())
	p.computeProbers()
	if p.c.Quobyte.State == spec.Stopped {
		p.computeStop()
	} else {
		p.computeServices()
	}
	p.computeProbes()
	if p.launches { // only launches of services need it
		p.res.RegistryAddrs = p.registryAddrs()
	}
	p.collectChanges()
}

// launchBound is at most how many launches the plan makes, counted from
// the index (index.missing) and the anywhere kinds' Count: what its
// actions reserve. A kind with Hosts of its own is left out (the index
// counts every agent with its device), so a bound that is too low only
// costs a copy.
func (p *planner) launchBound() int {
	n := p.ix.missing[idxProber]
	if p.c.Quobyte.State == spec.Stopped {
		return n
	}
	for _, k := range spec.Kinds() {
		svc := p.c.Service(k)
		switch {
		case svc == nil || !svc.Enabled:
		case !k.DeviceBound() && k != spec.Client:
			n += svc.Count
		case len(svc.Hosts) == 0:
			n += p.ix.missing[kindIdx(string(k))]
		}
	}
	return n
}

// --- emitting actions and blocked items ---

// emitKill plans to kill t, unless we cannot see t (unknownTask): Mesos
// cannot deliver a kill to a task on an unreachable agent (the master
// answers with a reconciliation), so none is sent, and the task is decided
// on again when it is back. This is the one place that rule is kept. av
// is nil for a task on an agent the snapshot does not know.
func (p *planner) emitKill(kind string, av *agentView, t *snapshot.Task, reason, replaces string) {
	if unknownTask(av, t) {
		return
	}
	host := t.AgentID
	if av != nil {
		host = av.host()
	}
	p.actions.add(Action{
		Type:     Kill,
		AgentID:  t.AgentID,
		Hostname: host,
		Kind:     kind,
		TaskID:   t.ID,
		Replaces: replaces,
		reason:   reason,
		KillSent: t.KillSent,
	})
}

func (p *planner) block(kind string, av *agentView, item, reason string) {
	b := Blocked{Kind: kind, Item: item, Reason: reason}
	if av != nil {
		b.AgentID = av.agent.ID
		b.Hostname = av.host()
	}
	p.res.Blocked = append(p.res.Blocked, b)
}

// held returns item's hold if it keeps a launch of config hash back now. A
// hold after failures of another config does not: a spec change (or a
// revert) clears the backoff of the items whose configuration it changes.
func (p *planner) held(item, hash string) (Hold, bool) {
	h, ok := p.holds[item]
	if !ok || !h.Until.After(p.now) || (h.Config != "" && hash != "" && h.Config != hash) {
		return Hold{}, false
	}
	return h, true
}

// heldBack reports whether item is held back from launching config hash
// now and, if so, records why as a blocked item.
func (p *planner) heldBack(kind string, av *agentView, item, hash string) bool {
	h, ok := p.held(item, hash)
	if ok {
		p.block(kind, av, item, reasonBackingOff(h.Until.Sub(p.now), h))
	}
	return ok
}

// heldBackLaunch is heldBack for a launch of kind on av. The item's key is
// made only when a hold has it: a plan may launch tens of thousands.
func (p *planner) heldBackLaunch(kind string, av *agentView, hash string) bool {
	if len(p.holds) == 0 {
		return false
	}
	var buf [96]byte // (m[string(b)] looks up without allocating)
	if _, ok := p.holds[string(append(append(append(buf[:0], kind...), '@'), av.agent.ID...))]; !ok {
		return false
	}
	return p.heldBack(kind, av, snapshot.ItemKey(kind, av.agent.ID), hash)
}

// maybeLaunch emits a launch of kind on av unless its item backs off. A
// launch is emitted even when the agent's last offer is too small: the
// actuator holds it until a fitting offer comes. The action then says in
// Waiting what falls short, so an operator sees why nothing starts.
// An empty reason is the plain one (Action.Reason).
//
// at is av's position in the index.
func (p *planner) maybeLaunch(typ ActionType, kind string, av *agentView, at int, hash string, res spec.Resources, ports []int, reason string) bool {
	if p.heldBackLaunch(kind, av, hash) {
		return false
	}
	if p.launched == nil {
		p.launched = make([]int32, len(p.ix.agents))
	}
	p.launched[at]++
	a := p.actions.next()
	a.Type = typ
	a.AgentID = av.agent.ID
	a.Hostname = av.host()
	a.Kind = kind
	a.ConfigHash = hash
	a.reason = reason
	a.Resources = res
	a.Ports = ports
	if k := kindIdx(kind); k >= 0 {
		if old := av.replaced[k]; old != nil && old.Config != hash {
			// We killed a task of another config here and it is gone: this
			// launch completes its replacement.
			a.Replaces = old.ID
			change := p.changeReason(kind, old.Config, hash)
			if p.specOf(kind, hash) == p.c { // (a revert keeps its reason)
				a.reason = reasonLaunchReplacement(old.ID, change)
			}
			if sk := spec.Kind(kind); !sk.DeviceBound() && sk != spec.Client {
				// (A per-agent kind's slots count their own: countChange.)
				ch := p.change(kind)
				ch.Replace++
				if ch.Change == "" {
					ch.Change = change
				}
			}
			p.relaunched[k] = true
		}
	}
	if typ == Launch {
		a.Address = p.address(av)
	}
	if o := av.agent.LastOffer; o != nil {
		if fits, missing := offerFits(o, res, ports); !fits {
			a.Waiting = p.offerShortfall(av, res, missing)
		}
	}
	p.launches = p.launches || typ == Launch
	return true
}

// --- probers ---

// computeProbers keeps one prober of the current config on every eligible
// reachable agent. A prober of another config is killed first and its
// successor launched once it is gone (one executor per agent); probers need
// no health gating, so all are replaced at once.
func (p *planner) computeProbers() {
	hash := proberConfigHash(p.c)
	current := p.ix.configID(hash)
	const kind = taskid.ProberKind
	for j, av := range p.ix.agents {
		tasks := av.live[idxProber]
		if !av.reachable() {
			continue // unknown, not gone: nothing to decide
		}
		if f := av.factsOf(idxProber); av.eligible && f.config != 0 && f.config == current && (av.probed || p.c.Quobyte.State == spec.Stopped) {
			continue // the one prober is of the current config and has reported (taskFacts)
		}
		if !av.eligible {
			for _, t := range tasks {
				p.emitKill(kind, av, t, reasonOutsidePlacement(av.host()), "")
			}
			continue
		}
		keep := pickBest(withConfig(tasks, hash), hash)
		p.killDuplicates(kind, av, tasks, keep, hash, "")
		for _, t := range tasks {
			if t.Config != hash {
				p.change(kind).Replace++
				break // one prober per agent is replaced, however many ran
			}
		}
		if len(tasks) == 0 {
			p.maybeLaunch(LaunchProber, kind, av, j, hash, p.c.Prober.Resources, nil, "")
		} else if keep != nil && av.agent.Probe == nil && p.c.Quobyte.State != spec.Stopped {
			// (Without a prober of the current config, its launch, its
			// backoff or the kill of the old one says why the agent has
			// no report: one item, said once.)
			p.block(kind, av, snapshot.ItemKey(kind, av.agent.ID), reasonWaitingForProber(av.host()))
		}
	}
}

// computeProbes asks running probers for a report when the last one is
// older than three probe intervals (the keep-alive was missed), or when a
// prober has run a whole interval without reporting — or runs since we do
// not know when: after a framework restart, reports are not replayed.
// Once asked, a prober is not asked again while its probe item is held
// (Step holds it for one interval after each request).
func (p *planner) computeProbes() {
	interval := p.c.Prober.Interval
	if interval <= 0 {
		return
	}
	hash := proberConfigHash(p.c)
	current := p.ix.configID(hash)
	for _, av := range p.ix.agents {
		// An agent not yet described is asked too: its prober's report
		// names its host.
		if !av.up || (av.described && !av.eligible) {
			continue
		}
		if f := av.factsOf(idxProber); f.config != 0 && f.config == current && av.probed && p.now.Sub(av.probedAt) <= 3*interval {
			continue // its report is fresh (taskFacts)
		}
		t := pickBest(withConfig(av.live[idxProber], hash), hash)
		if t == nil || t.State != snapshot.Running || !t.KillSent.IsZero() {
			continue
		}
		var reason string
		switch pr := av.agent.Probe; {
		case pr == nil:
			since := t.RunningSince
			if since.IsZero() {
				since = t.UpdatedAt
			}
			if !since.IsZero() && p.now.Sub(since) < interval {
				continue // a fresh prober reports on its own
			}
			reason = reasonProbeNoReport(av.host(), p.now.Sub(since))
			if since.IsZero() {
				reason = reasonProbeNoReport(av.host(), 0)
			}
		case p.now.Sub(pr.ReceivedAt) > 3*interval:
			reason = reasonProbeStale(av.host(), p.now.Sub(pr.ReceivedAt))
		default:
			continue
		}
		item := probeItem(av.agent.ID)
		if _, ok := p.held(item, ""); ok {
			continue // asked recently
		}
		p.actions.add(Action{
			Type:     Probe,
			AgentID:  av.agent.ID,
			Hostname: av.host(),
			Kind:     taskid.ProberKind,
			TaskID:   t.ID,
			reason:   reason,
		})
	}
}

// probeItem is the item of probe requests to the prober on agentID: Step
// holds it for a probe interval after each request, so that a prober that
// does not answer is asked once an interval, not on every plan.
func probeItem(agentID string) string { return snapshot.ItemKey("probe", agentID) }

// kindItem is the item of a kind that runs anywhere as a whole: every
// failure of one of its instances counts against it too, and while it is
// held no instance is placed anew, so a crashing service's launch rate
// does not grow with the number of agents.
func kindItem(kind string) string { return snapshot.ItemKey(kind, "*") }

// pickBest chooses which of the live tasks of one kind on one agent holds
// the agent's slot: a task not being killed before others, then a running
// one, then one not failing its health check, then one of the current
// config, then the lowest ID; nil when none.
// Serving comes before config: of an old task that runs and a new one
// that does not (they cannot both bind the kind's ports), the old one is
// kept and replaced by the rolling upgrade, within its budget.
func pickBest(tasks []*snapshot.Task, hash string) *snapshot.Task {
	var best *snapshot.Task
	for _, t := range tasks {
		if best == nil || betterTask(t, best, hash) {
			best = t
		}
	}
	return best
}

func betterTask(a, b *snapshot.Task, hash string) bool {
	if a.KillSent.IsZero() != b.KillSent.IsZero() {
		return a.KillSent.IsZero()
	}
	if (a.State == snapshot.Running) != (b.State == snapshot.Running) {
		return a.State == snapshot.Running
	}
	if failingHealth(a) != failingHealth(b) {
		return !failingHealth(a)
	}
	if (a.Config == hash) != (b.Config == hash) {
		return a.Config == hash
	}
	return a.ID < b.ID
}

// failingHealth reports whether Mesos said t fails its health check.
func failingHealth(t *snapshot.Task) bool { return t.Healthy != nil && !*t.Healthy }

// withConfig returns the tasks of config hash (a new slice only when some
// are of another config).
func withConfig(tasks []*snapshot.Task, hash string) []*snapshot.Task {
	for i, t := range tasks {
		if t.Config != hash {
			out := append([]*snapshot.Task{}, tasks[:i]...)
			for _, u := range tasks[i+1:] {
				if u.Config == hash {
					out = append(out, u)
				}
			}
			return out
		}
	}
	return tasks
}

// --- state = "stopped" ---

// stopGroups returns the stop order: the reverse of Quobyte's start order,
// so data stops before metadata, and the registry, which everything else
// needs, stops last.
func stopGroups() [][]spec.Kind {
	return [][]spec.Kind{
		{spec.Data},
		{spec.Metadata},
		{spec.API, spec.Webconsole, spec.S3, spec.Client},
		{spec.Registry},
	}
}

// computeStop kills every service task, group by group: a group's kills go
// out only once every task of the groups before it is terminal. A task we
// cannot see is not sent a kill (Mesos cannot deliver it): the stop waits
// for its agent. Probers and devices are left alone.
func (p *planner) computeStop() {
	var waitFor []spec.Kind // the first group with tasks left: its kinds that have some
	left := 0
	for _, group := range stopGroups() {
		var groupKinds []spec.Kind
		groupLeft := 0
		for _, k := range group {
			tasks := p.liveTasks(k)
			if len(tasks) == 0 {
				continue
			}
			if left > 0 {
				p.block(string(k), nil, string(k), reasonStopWaits(k, waitFor, left))
			} else {
				for _, t := range tasks {
					av := p.ix.agent(t.AgentID)
					if unknownTask(av, t) {
						host := t.AgentID
						if av != nil {
							host = av.host()
						}
						p.block(string(k), av, snapshot.ItemKey(string(k), t.AgentID), reasonStopWaitsForUnknown(k, host))
						continue
					}
					p.emitKill(string(k), av, t, reasonStopped, "")
				}
			}
			groupKinds = append(groupKinds, k)
			groupLeft += len(tasks)
			p.change(string(k)).Stop += len(tasks)
		}
		if left == 0 && groupLeft > 0 {
			waitFor, left = groupKinds, groupLeft
		}
	}
}

// liveTasks returns every live task of kind k, agent by agent, orphans last.
func (p *planner) liveTasks(k spec.Kind) []*snapshot.Task {
	i := kindIdx(string(k))
	var out []*snapshot.Task
	for _, av := range p.ix.agents {
		out = append(out, av.live[i]...)
	}
	return append(out, p.ix.orphans[i]...)
}
