package snapshot

import (
	"slices"
	"strings"
	"time"
)

// Change is what changed between two snapshots: agents added or replaced,
// tasks added or replaced (matched by ID), tasks removed (by ID). Agents
// are never removed (an agent Mesos removed stays, unreachable).
type Change struct {
	Agents  []*Agent
	Tasks   []*Task
	Removed []string
}

// Next returns the snapshot after s with ch applied, at generation gen,
// time at, with sub and items (which it takes ownership of; nil: none).
// Everything ch does not touch is shared with s: the task lists of agents
// whose tasks did not change (AgentTasks) are the same slices, so building
// a generation costs a copy of the two sorted pointer lists and work in
// proportion to the change, not a sort of every task. ch's slices are
// reordered.
func (s *Snapshot) Next(gen uint64, at time.Time, sub Subscription, ch Change, items map[string]ItemHistory) *Snapshot {
	if items == nil {
		items = map[string]ItemHistory{}
	}
	n := &Snapshot{Generation: gen, Time: at, Subscription: sub, Items: items}
	slices.SortFunc(ch.Agents, byAgentID)
	ch.Agents = slices.CompactFunc(ch.Agents, func(a, b *Agent) bool { return a.ID == b.ID })
	n.Agents, n.onAgent = s.mergeAgents(ch.Agents)

	// Which tasks changed, and on which agents they were or are.
	slices.SortFunc(ch.Tasks, byTaskID)
	slices.Sort(ch.Removed)
	gone := make(map[string]bool, len(ch.Tasks)+len(ch.Removed))
	touched := map[string]bool{} // agent IDs whose task lists change
	for _, id := range ch.Removed {
		gone[id] = true
	}
	for _, t := range ch.Tasks {
		gone[t.ID] = true
		touched[t.AgentID] = true
	}
	var oldTasks []*Task // the versions in s of what changed
	n.Tasks, oldTasks = mergeTasks(s.Tasks, ch.Tasks, ch.Removed)
	for _, t := range oldTasks {
		touched[t.AgentID] = true
	}
	for _, a := range ch.Agents {
		if _, known := s.agentIndex(a.ID); !known {
			touched[a.ID] = true // it may adopt orphans
		}
	}
	if len(touched) == 0 {
		n.orphans = s.orphans
		return n
	}

	// Rebuild the lists of the touched agents, and the orphans: what they
	// had that did not change, plus the new versions, in ID order.
	lists := map[string][]*Task{}
	keep := func(t *Task) {
		if touched[t.AgentID] && !gone[t.ID] {
			lists[t.AgentID] = append(lists[t.AgentID], t)
		}
	}
	for id := range touched {
		if i, ok := s.agentIndex(id); ok {
			for _, t := range s.onAgent[i] {
				keep(t)
			}
		}
	}
	orphansTouched := false
	for _, t := range s.orphans {
		if touched[t.AgentID] {
			orphansTouched = true
			keep(t)
		}
	}
	for _, t := range ch.Tasks {
		lists[t.AgentID] = append(lists[t.AgentID], t)
	}
	if len(ch.Agents) == 0 {
		n.onAgent = slices.Clone(n.onAgent) // s's own: not to be written
	}
	for id := range touched {
		l := lists[id]
		slices.SortFunc(l, byTaskID)
		if i, ok := n.agentIndex(id); ok {
			n.onAgent[i] = l
		} else {
			orphansTouched = true
		}
	}
	n.orphans = s.orphans
	if orphansTouched {
		n.orphans = nil
		for _, t := range s.orphans {
			if !touched[t.AgentID] {
				n.orphans = append(n.orphans, t)
			}
		}
		for id, l := range lists {
			if _, ok := n.agentIndex(id); !ok {
				n.orphans = append(n.orphans, l...)
			}
		}
		slices.SortFunc(n.orphans, byTaskID)
	}
	return n
}

// mergeAgents returns s's agents with the sorted, distinct upd added or
// replacing those of the same ID, and the task lists aligned with them
// (s's for known agents; new agents start with none).
func (s *Snapshot) mergeAgents(upd []*Agent) ([]*Agent, [][]*Task) {
	if len(upd) == 0 {
		return s.Agents, s.onAgent // both immutable: shared
	}
	agents := make([]*Agent, 0, len(s.Agents)+len(upd))
	lists := make([][]*Task, 0, len(s.Agents)+len(upd))
	i, j := 0, 0
	for i < len(s.Agents) || j < len(upd) {
		switch {
		case j == len(upd) || (i < len(s.Agents) && s.Agents[i].ID < upd[j].ID):
			agents, lists = append(agents, s.Agents[i]), append(lists, s.onAgent[i])
			i++
		case i == len(s.Agents) || upd[j].ID < s.Agents[i].ID:
			agents, lists = append(agents, upd[j]), append(lists, nil)
			j++
		default: // the same agent, changed
			agents, lists = append(agents, upd[j]), append(lists, s.onAgent[i])
			i, j = i+1, j+1
		}
	}
	return agents, lists
}

// mergeTasks returns old with the sorted upd added or replacing those of
// the same ID and the sorted removed taken out, and the versions in old of
// what changed. It copies the runs between changes whole: a generation
// with a few changes costs one copy of the list, not a look-up per task.
func mergeTasks(old, upd []*Task, removed []string) (merged, replaced []*Task) {
	if len(upd) == 0 && len(removed) == 0 {
		return old, nil
	}
	merged = make([]*Task, 0, len(old)+len(upd))
	prev, i, j := 0, 0, 0
	for i < len(upd) || j < len(removed) {
		var id string
		var t *Task // the new version; nil when removed
		if j == len(removed) || (i < len(upd) && upd[i].ID <= removed[j]) {
			t, id = upd[i], upd[i].ID
			i++
			if j < len(removed) && removed[j] == id {
				j++
			}
		} else {
			id = removed[j]
			j++
		}
		pos, found := slices.BinarySearchFunc(old[prev:], id, func(t *Task, id string) int { return strings.Compare(t.ID, id) })
		pos += prev
		merged = append(merged, old[prev:pos]...)
		if found {
			replaced = append(replaced, old[pos])
			pos++
		}
		if t != nil {
			merged = append(merged, t)
		}
		prev = pos
	}
	return append(merged, old[prev:]...), replaced
}
