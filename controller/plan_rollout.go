package controller

import (
	"sort"

	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/spec"
)

// The rolling upgrade, level-triggered: nothing remembers that a rollout is
// under way. Each plan looks at the slots of a kind and counts
//
//   - down: slots not available (missing, starting, unhealthy, being
//     killed, or unknown), and
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
// since its launch and is still not available.
func (p *planner) pastDeadline(s slot, svc *spec.Service) bool {
	d := p.c.Upgrade.HealthyDeadline
	t := s.task
	return d > 0 && !s.unknown && !t.LaunchedAt.IsZero() && !p.available(s, svc) && p.now.Sub(t.LaunchedAt) >= d
}

// needsRollout reports whether any slot holds a task of another config or
// one with a kill sent: only then has computeRollout anything to do.
func needsRollout(slots []slot, hash string) bool {
	for _, s := range slots {
		if s.task != nil && (s.task.Config != hash || !s.task.KillSent.IsZero()) {
			return true
		}
	}
	return false
}

func slotHost(s slot) string {
	if s.av != nil {
		return s.av.host()
	}
	return s.task.AgentID
}

// computeRollout advances the rolling upgrade of kind k by one step and
// reports whether k still has tasks of an old config. A non-empty hold
// says why no new replacement may start now (an earlier kind in upgrade
// order has old tasks left, or the core does not run).
// Kills already sent are re-issued whatever the gates say: a half-killed
// task must finish dying.
func (p *planner) computeRollout(k spec.Kind, svc *spec.Service, slots []slot, hold string) bool {
	kind := string(k)
	hash := svc.ConfigHash
	limit := p.maxDown(k)
	if !needsRollout(slots, hash) {
		return false // the common case: nothing old, no kill to carry through
	}

	down, inFlight, outdated := 0, 0, 0
	var candidates []slot
	var unknownOld, paused []slot
	var unsettled *slot
	for j := range slots {
		s := slots[j]
		switch {
		case s.task == nil:
			down++
			inFlight++
		case s.task.Config != hash:
			outdated++
			switch {
			case s.unknown:
				down++
				inFlight++
				unknownOld = append(unknownOld, s)
			case !s.task.KillSent.IsZero() || s.task.State == snapshot.Killing:
				down++
				inFlight++
				p.emitKill(kind, s.av, s.task, reasonReplacedBy(hash), s.task.ID)
			default:
				if !p.available(s, svc) {
					down++
				}
				candidates = append(candidates, s)
			}
		case !s.task.KillSent.IsZero() && !s.unknown:
			// A task of the current config we once asked to die (say, the
			// spec said stopped, then running again): a kill is carried
			// through, never taken back; its slot is then filled anew.
			down++
			inFlight++
			p.emitKill(kind, s.av, s.task, reasonFinishKill(p.now.Sub(s.task.KillSent)), "")
		default:
			if p.settled(s, svc) {
				continue
			}
			down++
			inFlight++
			if unsettled == nil {
				unsettled = &slots[j]
			}
			if p.pastDeadline(s, svc) {
				paused = append(paused, s)
			}
		}
	}
	if outdated == 0 {
		return false
	}
	switch {
	case hold != "":
		p.block(kind, nil, kind, hold)
		return true
	case len(paused) > 0:
		for _, s := range paused {
			p.block(kind, s.av, snapshot.ItemKey(kind, s.task.AgentID),
				reasonUpgradePaused(k, slotHost(s), p.c.Upgrade.HealthyDeadline))
		}
		return true
	}
	for _, s := range unknownOld {
		p.block(kind, s.av, snapshot.ItemKey(kind, s.task.AgentID), reasonUpgradeWaitsForUnknown(k, slotHost(s)))
	}

	// Replace the tasks that are down anyway first, then by host.
	sort.SliceStable(candidates, func(a, b int) bool {
		aa, ba := p.available(candidates[a], svc), p.available(candidates[b], svc)
		if aa != ba {
			return !aa
		}
		return slotHost(candidates[a]) < slotHost(candidates[b])
	})
	waiting := 0
	for _, s := range candidates {
		switch {
		case !p.available(s, svc) && inFlight < limit:
			inFlight++
		case p.available(s, svc) && down < limit && inFlight < limit:
			down++
			inFlight++
		default:
			waiting++
			continue
		}
		p.emitKill(kind, s.av, s.task, reasonReplacedBy(hash), s.task.ID)
	}
	if waiting > 0 {
		if unsettled != nil && unsettled.task != nil {
			p.block(kind, unsettled.av, snapshot.ItemKey(kind, unsettled.task.AgentID),
				reasonUpgradeWaitsForHealthy(k, slotHost(*unsettled), p.c.Upgrade.MinHealthyTime))
		} else {
			p.block(kind, nil, kind, reasonUpgradeWaitsForSlot(k, down, limit))
		}
	}
	return true
}
