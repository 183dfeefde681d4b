package controller

import (
	"sort"
	"time"

	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/spec"
)

// The rolling upgrade, level-triggered: nothing remembers that a rollout is
// under way. Each plan looks at the slots of a kind and counts
//
//   - down: slots not available (missing, starting, unhealthy, being
//     killed, or unknown; an agent lost a moment ago keeps its slots,
//     down, until its host is back or the unreachable timeout has
//     passed: lostSlot), and
//   - in flight: down slots that are not merely old-and-unhealthy — the
//     replacements under way, including new tasks not yet healthy for
//     MinHealthyTime.
//
// It then kills tasks of an old config (Replaces set) while that keeps
// "down" within the kind's budget (MaxParallel, 1 for registries). Killing
// a task that is already down does not take more down, so it needs only a
// free in-flight place. A killed task's slot is empty once the task is
// terminal, and the ordinary placement launches the new config there: on
// the same agent for per-agent kinds (kill first, then launch — their fixed
// ports would clash otherwise), on the best agent for anywhere kinds (we
// chose the same kill-then-launch for them rather than a surge: one rule,
// and no spare agent needed).
//
// A placement change that leaves hosts out is paced the same way: their
// tasks are excluded slots, removed within the same budget, in upgrade
// order, one registry at a time.
//
// A replacement fails when a task of the new config on a host ends before
// it has settled, or is not available HealthyDeadline after its launch
// (replacementFailed: the one rule). The rollout then pauses with the
// reason; with auto_revert, the host also goes back to the configuration it
// ran before (maybeRevert), and stays there until the spec changes.

// maxDown is how many slots of kind k may be down at once during an upgrade.
func (p *planner) maxDown(k spec.Kind) int {
	if k == spec.Registry {
		return 1 // never more than one registry down
	}
	if n := p.c.Upgrade.MaxParallel; n > 1 {
		return n
	}
	return 1
}

// healthOK reports whether t passes its health check, or runs when the
// service has none.
func healthOK(t *snapshot.Task, svc *spec.Service) bool {
	if t.State != snapshot.Running {
		return false
	}
	if svc.Health.Path == "" {
		return true
	}
	return t.Healthy != nil && *t.Healthy
}

// available reports whether a slot serves: a visible task, running,
// healthy, and not being killed.
func (p *planner) available(s slot, svc *spec.Service) bool {
	return s.task != nil && !s.unknown && s.task.KillSent.IsZero() && healthOK(s.task, svc)
}

// settled reports whether a task has been available for MinHealthyTime.
// When the observer does not know since when (after a framework restart),
// the task counts as settled: it ran before we came.
func (p *planner) settled(s slot, svc *spec.Service) bool {
	if !p.available(s, svc) {
		return false
	}
	since := s.task.RunningSince
	if svc.Health.Path != "" {
		since = s.task.HealthySince
	}
	if since.IsZero() {
		return true
	}
	return p.now.Sub(since) >= p.c.Upgrade.MinHealthyTime
}

// kindSettled reports whether every slot of a kind has a task of the
// current config that has settled (see settled); a missing or unknown one
// has not.
func (p *planner) kindSettled(slots []slot, svc *spec.Service) bool {
	for _, s := range slots {
		if s.task == nil || s.unknown || s.task.Config != svc.ConfigHash || !p.settled(s, svc) {
			return false
		}
	}
	return true
}

// pastDeadline reports whether a new-config task has had HealthyDeadline
// since its launch, or since its agent was back in sight when it was lost
// for a while after the launch, and is still not available. An agent out of
// sight holds its tasks' health updates back: a replacement that turned
// healthy meanwhile is not failed for what we could not hear (chaos seed
// 36: a partition during a rollout reverted a healthy registry).
func (p *planner) pastDeadline(s slot, svc *spec.Service) bool {
	d := p.c.Upgrade.HealthyDeadline
	t := s.task
	if d <= 0 || s.unknown || t.LaunchedAt.IsZero() || p.available(s, svc) {
		return false
	}
	from := t.LaunchedAt
	if s.av != nil && s.av.agent.BackSince.After(from) {
		from = s.av.agent.BackSince
	}
	return p.now.Sub(from) >= d
}

// settledRun reports whether a task that ended had settled before: it ran
// (or, with a health check, was healthy without a break) for
// MinHealthyTime, and for some time at all.
func (p *planner) settledRun(e snapshot.TaskEnd, svc *spec.Service) bool {
	d := e.RanFor
	if svc.Health.Path != "" {
		d = e.HealthyFor
	}
	return d > 0 && d >= p.c.Upgrade.MinHealthyTime
}

// replacementFailed says how the service's current config failed on av
// ("" when it has not): its task there is not available HealthyDeadline
// after its launch, or its latest task there ended (after since) before it
// had settled. This is the one rule by which a rollout pauses, and by which
// auto_revert sends a host back.
func (p *planner) replacementFailed(k spec.Kind, svc *spec.Service, av *agentView, since time.Time) string {
	hash := svc.ConfigHash
	if live := pickBest(withConfig(av.live[kindIdx(string(k))], hash), hash); live != nil {
		s := slot{av: av, task: live}
		switch {
		case p.settled(s, svc):
			return ""
		case p.pastDeadline(s, svc):
			return whyNotHealthy(p.c.Upgrade.HealthyDeadline)
		}
	}
	h, ok := p.s.Items[snapshot.ItemKey(string(k), av.agent.ID)]
	if ok && h.Last.Config == hash && !h.Last.At.Before(since) && !p.settledRun(h.Last, svc) {
		return whyFailed(h.Last)
	}
	return ""
}

// maybeRevert returns the revert in force for kind k on av, deciding a new
// one when the replacement of the config av ran before (the task we killed
// there) has failed and auto_revert is on for k. A revert stays while the
// spec's config is the one that failed; nil when there is none.
func (p *planner) maybeRevert(k spec.Kind, svc *spec.Service, av *agentView) *Revert {
	old := av.replaced[kindIdx(string(k))]
	if (len(p.reverts) == 0 && (old == nil || old.Config == svc.ConfigHash)) || !p.c.Upgrade.AutoRevertsKind(k) {
		return nil // the common case, decided without building the item key
	}
	item := snapshot.ItemKey(string(k), av.agent.ID)
	rv, ok := p.reverts[item]
	if !ok || rv.From != svc.ConfigHash || rv.Spec == nil || rv.Spec.Service(k) == nil {
		if old == nil || old.Config == svc.ConfigHash {
			return nil
		}
		prev := p.specOf(string(k), old.Config) // (an earlier spec: old.Config is not the spec's)
		why := p.replacementFailed(k, svc, av, old.UpdatedAt)
		if prev == nil || why == "" {
			return nil
		}
		rv = Revert{Item: item, Kind: string(k), AgentID: av.agent.ID, Hostname: av.host(),
			From: svc.ConfigHash, To: old.Config, Reason: why, Spec: prev}
	}
	p.res.Reverts = append(p.res.Reverts, rv)
	return &rv
}

// needsRollout reports whether any slot holds a task of another config or
// one with a kill sent, or is to go, or waits for the launch that completes
// a replacement: only then has computeRollout anything to do.
func needsRollout(k spec.Kind, slots []slot, hash string) bool {
	for _, s := range slots {
		if s.excluded || s.reverted != nil || (s.task != nil && (s.task.Config != hash || !s.task.KillSent.IsZero())) ||
			replacementPending(k, s, hash) {
			return true
		}
	}
	return false
}

// replacementPending reports whether s is an empty slot whose task of
// another config we killed: its successor is yet to run.
func replacementPending(k spec.Kind, s slot, hash string) bool {
	if s.task != nil || s.av == nil {
		return false
	}
	old := s.av.replaced[kindIdx(string(k))]
	return old != nil && old.Config != hash
}

func slotHost(s slot) string {
	if s.av != nil {
		return s.av.host()
	}
	return s.task.AgentID
}

// rollout is what classifyRollout finds in the slots of one kind.
type rollout struct {
	down, inFlight int
	// outdated counts the slots to change: an old config, or excluded.
	outdated int
	// carried are kills sent before, which go out again whatever the gates
	// say (a half-killed task must finish dying), in slot order.
	carried []carriedKill
	// candidates may be killed now, within the budget.
	candidates []slot
	unknownOld []slot
	// paused are why no further replacement may start (failed ones).
	paused []pausedSlot
	// unsettled is the first current-config slot not yet settled.
	unsettled *slot
	// downHosts name the first few slots down before this plan.
	downHosts []string
}

// noteDown counts slot s as down, naming the first few hosts.
func (ro *rollout) noteDown(s slot) {
	ro.down++
	if len(ro.downHosts) < 3 && (s.av != nil || s.task != nil) {
		ro.downHosts = append(ro.downHosts, slotHost(s))
	}
}

type carriedKill struct {
	s                slot
	reason, replaces string
}

type pausedSlot struct {
	s      slot // av nil: the kind as a whole
	reason string
}

// computeRollout advances the rolling upgrade of kind k by one step and
// reports whether k still has tasks to change (old config, or on excluded
// hosts). A non-empty hold says why no new replacement may start now (an
// earlier kind in upgrade order is not done, or the core does not run).
func (p *planner) computeRollout(k spec.Kind, svc *spec.Service, slots []slot, missing missingSlots, hold string) bool {
	if !needsRollout(k, slots, svc.ConfigHash) {
		return false // the common case: nothing old, no kill to carry through
	}
	slots = missing.with(p.ix.agents, slots)
	ro := p.classifyRollout(k, svc, slots)
	p.countChange(k, svc, slots)
	for _, c := range ro.carried {
		p.emitKill(string(k), c.s.av, c.s.task, c.reason, c.replaces)
	}
	if ro.outdated == 0 {
		return false
	}
	p.selectReplacements(k, svc, ro, hold)
	return true
}

// classifyRollout counts a kind's slots as down, in flight, outdated, and
// sorts out which may be replaced, which wait, and which failed. It emits
// nothing.
func (p *planner) classifyRollout(k spec.Kind, svc *spec.Service, slots []slot) *rollout {
	hash := svc.ConfigHash
	ro := &rollout{}
	for j := range slots {
		s := slots[j]
		switch {
		case s.reverted != nil:
			ro.outdated++
			ro.paused = append(ro.paused, pausedSlot{s, reasonUpgradeReverted(k, s.av.host(), s.reverted.To, s.reverted.Reason)})
		case s.task == nil:
			ro.noteDown(s)
			ro.inFlight++
			if s.av != nil && !s.unknown {
				if why := p.replacementFailed(k, svc, s.av, time.Time{}); why != "" {
					ro.paused = append(ro.paused, pausedSlot{s, reasonUpgradePaused(k, s.av.host(), why)})
				}
			}
		case s.task.Config != hash || s.excluded:
			ro.outdated++
			switch {
			case s.unknown:
				ro.noteDown(s)
				ro.inFlight++
				ro.unknownOld = append(ro.unknownOld, s)
			case !s.task.KillSent.IsZero() || s.task.State == snapshot.Killing:
				ro.noteDown(s)
				ro.inFlight++
				reason, replaces := p.changeReason(string(k), s.task.Config, hash), s.task.ID
				if s.excluded {
					reason, replaces = reasonOutsidePlacement(slotHost(s)), ""
				}
				ro.carried = append(ro.carried, carriedKill{s, reason, replaces})
			default:
				if !p.available(s, svc) {
					ro.noteDown(s)
				}
				ro.candidates = append(ro.candidates, s)
			}
		case !s.task.KillSent.IsZero() && !s.unknown:
			// A task of the current config we once asked to die (say, the
			// spec said stopped, then running again): a kill is carried
			// through, never taken back; its slot is then filled anew.
			ro.noteDown(s)
			ro.inFlight++
			ro.carried = append(ro.carried, carriedKill{s, reasonFinishKill(p.now.Sub(s.task.KillSent)), ""})
		default:
			if p.settled(s, svc) {
				continue
			}
			ro.noteDown(s)
			ro.inFlight++
			if ro.unsettled == nil {
				ro.unsettled = &slots[j]
			}
			if s.av != nil && !s.unknown {
				if why := p.replacementFailed(k, svc, s.av, time.Time{}); why != "" {
					ro.paused = append(ro.paused, pausedSlot{s, reasonUpgradePaused(k, s.av.host(), why)})
				}
			}
		}
	}
	// An anywhere kind whose instances fail backs off as a whole.
	if !k.DeviceBound() && k != spec.Client {
		if h, ok := p.held(kindItem(string(k)), hash); ok {
			ro.paused = append(ro.paused, pausedSlot{slot{}, reasonUpgradePausedKind(k, h.LastError)})
		}
	}
	return ro
}

// selectReplacements applies the gates to a classified rollout and kills
// what the budget allows: tasks down anyway first, then by host.
func (p *planner) selectReplacements(k spec.Kind, svc *spec.Service, ro *rollout, hold string) {
	kind, hash := string(k), svc.ConfigHash
	limit := p.maxDown(k)
	switch {
	case hold != "":
		p.block(kind, nil, kind, hold)
		return
	case len(ro.paused) > 0:
		// The rollout is what is paused: its item is the kind's, so that
		// the host's own item appears once, in its launch or kill (the
		// retry, or the revert) or its backoff.
		for _, ps := range ro.paused {
			p.block(kind, ps.s.av, kind, ps.reason)
		}
		return
	}
	for _, s := range ro.unknownOld {
		p.block(kind, s.av, snapshot.ItemKey(kind, s.task.AgentID), reasonUpgradeWaitsForUnknown(k, slotHost(s)))
	}

	candidates := ro.candidates
	sort.SliceStable(candidates, func(a, b int) bool {
		aa, ba := p.available(candidates[a], svc), p.available(candidates[b], svc)
		if aa != ba {
			return !aa
		}
		return slotHost(candidates[a]) < slotHost(candidates[b])
	})
	waiting, started, downBefore := 0, 0, ro.down
	for _, s := range candidates {
		switch {
		case !p.available(s, svc) && ro.inFlight < limit:
			ro.inFlight++
		case p.available(s, svc) && ro.down < limit && ro.inFlight < limit:
			ro.down++
			ro.inFlight++
		default:
			waiting++
			continue
		}
		started++
		if s.excluded {
			p.emitKill(kind, s.av, s.task, reasonOutsidePlacement(slotHost(s)), "")
		} else {
			p.emitKill(kind, s.av, s.task, p.changeReason(kind, s.task.Config, hash), s.task.ID)
		}
	}
	switch {
	case waiting == 0:
	case ro.unsettled != nil && ro.unsettled.task != nil:
		u := ro.unsettled
		p.block(kind, u.av, snapshot.ItemKey(kind, u.task.AgentID),
			reasonUpgradeWaitsForHealthy(k, slotHost(*u), p.c.Upgrade.MinHealthyTime))
	case started == 0 && !p.relaunched[kindIdx(kind)]:
		// Only what was down before this plan is said to be down. When
		// this plan takes the rollout a step (a kill, or the launch that
		// completes a replacement), the others merely wait their turn:
		// Result.Changes counts them, and no blocked item says it again.
		p.block(kind, nil, kind, reasonUpgradeWaitsForSlot(k, downBefore, ro.downHosts, limit))
	}
}
