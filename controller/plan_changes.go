package controller

import (
	"github.com/quobyte/quobyte-mesos/observe/taskid"
	"github.com/quobyte/quobyte-mesos/spec"
)

// The whole of a paced change (Result.Changes) and what a replacement
// changes (its reasons). Part of the pure planner.

// specOf returns the spec in force or the newest earlier one in which kind
// (a service kind or the prober) has config hash; nil when none has.
func (p *planner) specOf(kind, hash string) *spec.Cluster {
	for i := -1; i < len(p.previous); i++ {
		c := p.c
		if i >= 0 {
			c = p.previous[i]
		}
		if kind == taskid.ProberKind {
			if proberConfigHash(c) == hash {
				return c
			}
		} else if svc := c.Service(spec.Kind(kind)); svc != nil && svc.ConfigHash == hash {
			return c
		}
	}
	return nil
}

// changeReason says what replacing a task of kind with config from by
// config to changes: the settings that differ between the spec from
// belongs to and the one in force (when to is the spec's own), else the
// hashes. It is cached per plan: a rollout replaces many tasks of one
// config.
func (p *planner) changeReason(kind, from, to string) string {
	key := kind + "\x00" + from + "\x00" + to
	if r, ok := p.changeText[key]; ok {
		return r
	}
	var changes []spec.Change
	if old := p.specOf(kind, from); old != nil && old != p.c && p.specOf(kind, to) == p.c {
		if kind == taskid.ProberKind {
			changes = spec.ProberDiff(old, p.c)
		} else {
			changes = spec.ConfigDiff(old, p.c, spec.Kind(kind))
		}
	}
	r := reasonConfigChange(changes, from, to)
	if p.changeText == nil {
		p.changeText = map[string]string{}
	}
	p.changeText[key] = r
	return r
}

// change returns the whole change of kind in this plan, made on first use.
func (p *planner) change(kind string) *KindChange {
	i := kindIdx(kind)
	if p.changes[i] == nil {
		p.changes[i] = &KindChange{Kind: kind}
	}
	return p.changes[i]
}

// collectChanges puts the kinds' changes into the result in the order they
// are made: probers, then the upgrade order (with state = "stopped", the
// stop order).
func (p *planner) collectChanges() {
	order := []string{taskid.ProberKind}
	if p.c.Quobyte.State == spec.Stopped {
		for _, g := range stopGroups() {
			for _, k := range g {
				order = append(order, string(k))
			}
		}
	} else {
		for _, k := range upgradeOrder(p.c) {
			order = append(order, string(k))
		}
	}
	for _, k := range order {
		ch := p.changes[kindIdx(k)]
		if ch == nil || ch.Replace+ch.Stop == 0 {
			continue
		}
		if k != taskid.ProberKind && p.c.Quobyte.State != spec.Stopped {
			ch.AtATime = p.maxDown(spec.Kind(k))
		}
		p.res.Changes = append(p.res.Changes, *ch)
	}
}

// countChange adds a kind's outdated slots to its whole change: tasks of
// another config to replace (a host sent back by auto_revert included, and
// an empty slot whose successor is yet to run), and tasks on hosts the
// placement left out to stop.
func (p *planner) countChange(k spec.Kind, svc *spec.Service, slots []slot) {
	ch := p.change(string(k))
	for _, s := range slots {
		switch {
		case s.reverted != nil:
			ch.Replace++
		case replacementPending(k, s, svc.ConfigHash):
			ch.Replace++
			if ch.Change == "" {
				ch.Change = p.changeReason(string(k), s.av.replaced[kindIdx(string(k))].Config, svc.ConfigHash)
			}
		case s.task == nil:
		case s.excluded:
			ch.Stop++
		case s.task.Config != svc.ConfigHash:
			ch.Replace++
			if ch.Change == "" {
				ch.Change = p.changeReason(string(k), s.task.Config, svc.ConfigHash)
			}
		}
	}
}
