package actuate

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	mesos "github.com/mesos/mesos-go/api/v1/lib"

	"github.com/quobyte/quobyte-mesos/controller"
	"github.com/quobyte/quobyte-mesos/spec"
)

// assignment is a launch action with the offer it goes to and the exact
// resources its task (and, for the prober, its executor) takes from it.
type assignment struct {
	// Action points into the actions given to match.
	Action   *controller.Action
	OfferID  string
	AgentID  string
	Hostname string
	// Task is what the task takes; Executor what the prober's executor
	// takes (nil for services, which run under Mesos' own executors).
	// Those of one match share allocations (arena).
	Task     []mesos.Resource
	Executor []mesos.Resource
}

// Unmatched is a launch action no offer fits, with the reason.
type Unmatched struct {
	Action controller.Action
	Reason string
	// NoOffer is true when we hold no offer at all from the action's agent:
	// reviving offers may help; a too small offer will not grow by it.
	NoOffer bool
}

// matchResult is the outcome of match.
type matchResult struct {
	// Assigned in the order of the actions.
	Assigned  []assignment
	Unmatched []Unmatched
}

// offersByAgent lists the offers of each agent by offer ID, as indexes
// into the offers: first by agent ID, then each one's next (-1: none). A
// fresh cluster has an offer from each of thousands of agents: a list of
// its own for each cost an allocation per agent.
type offersByAgent struct {
	first map[string]int32
	next  []int32
}

func newOffersByAgent(offers []mesos.Offer) offersByAgent {
	by := offersByAgent{first: make(map[string]int32, len(offers)), next: make([]int32, len(offers))}
	for i := range offers {
		id := offers[i].AgentID.Value
		at, ok := by.first[id]
		if !ok || offers[i].ID.Value < offers[at].ID.Value {
			by.first[id], by.next[i] = int32(i), -1
			if ok {
				by.next[i] = at
			}
			continue
		}
		for by.next[at] >= 0 && offers[by.next[at]].ID.Value < offers[i].ID.Value {
			at = by.next[at]
		}
		by.next[i], by.next[at] = by.next[at], int32(i)
	}
	return by
}

// match assigns launch actions (Launch, LaunchProber; others are ignored) to
// offers from their agent. Actions are served in order, so the plan's order
// is its priority; each takes the first offer (by offer ID) that fits its
// cpus, mem, disk and every fixed port, and what it takes is subtracted, so
// several tasks share an offer without double booking. match is pure; its
// result points into actions and offers.
func match(actions []controller.Action, offers []mesos.Offer) matchResult {
	byAgent := newOffersByAgent(offers)
	var ar arena
	pools := make([]pool, len(offers)) // made when first asked for
	poolOf := func(i int32) *pool {
		if pools[i].a == nil {
			pools[i] = newPool(&offers[i], &ar)
		}
		return &pools[i]
	}

	// Each launch's first offer (-1: none, and for other actions), counted
	// first, so that the result is made at its size: while a fresh
	// cluster's offers come in, most of its launches have none.
	firsts := make([]int32, len(actions))
	n, noOffer := 0, 0
	for ai, a := range actions {
		firsts[ai] = -1
		if a.Type != controller.Launch && a.Type != controller.LaunchProber {
			continue
		}
		n++
		if at, ok := byAgent.first[a.AgentID]; ok && a.AgentID != "" {
			firsts[ai] = at
		} else {
			noOffer++
		}
	}
	res := matchResult{Assigned: make([]assignment, 0, n-noOffer)}
	if noOffer > 0 {
		res.Unmatched = make([]Unmatched, 0, noOffer) // (and more if too small an offer leaves some)
	}
	var texts needTexts
	for ai := range actions {
		a := &actions[ai]
		if a.Type != controller.Launch && a.Type != controller.LaunchProber {
			continue
		}
		task, exec := demandOf(a)
		first := firsts[ai]
		if first < 0 {
			res.Unmatched = append(res.Unmatched, Unmatched{Action: *a, NoOffer: true,
				Reason: "no offer from " + hostOf(*a) + " held yet (asks for " + texts.of(task, exec) + ")"})
			continue
		}
		var why string
		assigned := false
		for oi := first; oi >= 0; oi = byAgent.next[oi] {
			o, p := &offers[oi], poolOf(oi)
			if a.Type == controller.LaunchProber && hasExecutor(o, proberExecutorID(a.ConfigHash)) {
				// The executor of an earlier prober is still up: Mesos would
				// run the new task in it, and its ExecutorInfo (the
				// framework URL, resources) need not equal ours any more.
				why = fmt.Sprintf("prober executor %s still runs on %s", proberExecutorID(a.ConfigHash), hostOf(*a))
				continue
			}
			var short string
			var missing int
			if exec != nil {
				short, missing = p.fit(task, *exec)
			} else {
				short, missing = p.fit(task)
			}
			if short != "" {
				why = reasonNoFit(*a, texts.of(task, exec), p, missing)
				continue
			}
			var execRes, taskRes []mesos.Resource
			if exec != nil {
				execRes, short = p.take(*exec)
			}
			if short == "" {
				taskRes, short = p.take(task)
			}
			if short != "" { // fit said it would: a bug, not a full offer
				why = fmt.Sprintf("offer %s lost %s while matching %s on %s", o.ID.Value, short, a.Kind, hostOf(*a))
				continue
			}
			res.Assigned = append(res.Assigned, assignment{
				Action: a, OfferID: o.ID.Value, AgentID: a.AgentID, Hostname: o.Hostname,
				Task: taskRes, Executor: execRes,
			})
			assigned = true
			break
		}
		if !assigned {
			res.Unmatched = append(res.Unmatched, Unmatched{Action: *a, Reason: why})
		}
	}
	return res
}

// demandOf is what a launch asks of an offer: the action's resources and
// ports for a service; for the prober the action's resources split between
// its executor and its task.
func demandOf(a *controller.Action) (task need, exec *need) {
	if a.Type == controller.LaunchProber {
		e, t := splitProberResources(a.Resources)
		en := needOf(e, nil)
		return needOf(t, nil), &en
	}
	return needOf(a.Resources, a.Ports), nil
}

func needOf(r spec.Resources, ports []int) need {
	n := need{cpus: toMilli(r.CPUs), mem: toMilli(r.Mem), disk: toMilli(r.Disk)}
	if distinctPositive(ports) {
		n.ports = ports // the plan's own list (never modified): no copy per launch
		return n
	}
	for _, p := range ports {
		if p > 0 && !slices.Contains(n.ports, p) {
			n.ports = append(n.ports, p)
		}
	}
	return n
}

// distinctPositive reports whether ports holds no zero and no repeat.
func distinctPositive(ports []int) bool {
	for i, p := range ports {
		if p <= 0 || slices.Contains(ports[:i], p) {
			return false
		}
	}
	return true
}

func hasExecutor(o *mesos.Offer, id string) bool {
	for _, e := range o.ExecutorIDs {
		if e.Value == id {
			return true
		}
	}
	return false
}

func hostOf(a controller.Action) string {
	if a.Hostname != "" {
		return a.Hostname
	}
	if a.AgentID != "" {
		return "agent " + a.AgentID
	}
	return "an unnamed agent"
}

// reasonNoFit says what a launch asks and what the offer has left, e.g.
// "no offer from node4 with cpus=4 mem=4096 ports=7863,7873 (offer has:
// cpus=2 mem=8192 disk=1000, without port 7863)".
func reasonNoFit(a controller.Action, asks string, left *pool, missingPort int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "no offer from %s with %s (offer has: %s", hostOf(a), asks,
		formatScalars(left.scalar(resCPUs), left.scalar(resMem), left.scalar(resDisk)))
	if missingPort != 0 {
		fmt.Fprintf(&b, ", without port %d", missingPort)
	}
	b.WriteString(")")
	return b.String()
}

// needTexts remembers formatNeed's text by need: the launches of a kind
// ask the same, and while a fresh cluster's offers come in, tens of
// thousands of launches wait and each says what it asks.
type needTexts []needText

type needText struct {
	n    need
	text string
}

// maxNeedTexts bounds needTexts: there are about as many needs as kinds.
const maxNeedTexts = 16

// of returns formatNeed(task, exec).
func (c *needTexts) of(task need, exec *need) string {
	t := totalNeed(task, exec)
	for _, e := range *c {
		if e.n.cpus == t.cpus && e.n.mem == t.mem && e.n.disk == t.disk && slices.Equal(e.n.ports, t.ports) {
			return e.text
		}
	}
	text := formatNeed(task, exec)
	if len(*c) < maxNeedTexts {
		*c = append(*c, needText{t, text})
	}
	return text
}

// totalNeed is what a launch asks for, its executor's share included.
func totalNeed(task need, exec *need) need {
	if exec != nil {
		task.cpus += exec.cpus
		task.mem += exec.mem
		task.disk += exec.disk
	}
	return task
}

// formatNeed writes the total a launch asks for (executor included).
func formatNeed(task need, exec *need) string {
	t := totalNeed(task, exec)
	s := formatScalars(t.cpus, t.mem, t.disk)
	if len(t.ports) > 0 {
		ps := make([]string, len(t.ports))
		for i, p := range t.ports {
			ps[i] = strconv.Itoa(p)
		}
		s += " ports=" + strings.Join(ps, ",")
	}
	return s
}

func formatScalars(cpus, mem, disk int64) string {
	s := "cpus=" + fmtMilli(cpus) + " mem=" + fmtMilli(mem)
	if disk > 0 {
		s += " disk=" + fmtMilli(disk)
	}
	return s
}
