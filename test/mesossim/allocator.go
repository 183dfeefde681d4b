package mesossim

import (
	"maps"
	"net"
	"slices"
	"strconv"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// Mesos' default minimum allocatable resources: an offer needs at least
// 0.01 cpus or 32 MB of memory to be worth making.
var (
	minCPUs = toMilli(0.01)
	minMem  = toMilli(32)
)

// allocate runs one allocation cycle: every connected framework gets, per agent
// and per unsuppressed role, one offer of what is neither used nor offered
// (so resources in an outstanding offer are not offered again, but resources
// freed meanwhile are, in a further offer, as Mesos' allocator does), unless
// its filter for the agent holds them back. Offers go out as one OFFERS event
// per framework.
func (m *master) allocate() {
	m.mu.Lock()
	defer m.unlock()
	if m.closed {
		return
	}
	now := time.Now()
	fws := m.sortedFrameworks()
	if len(fws) == 0 {
		return
	}
	// Rotate the order so that no framework always comes first.
	start := m.allocCycle % len(fws)
	m.allocCycle++
	agents := m.activeAgents()
	for i := range fws {
		fw := fws[(start+i)%len(fws)]
		if fw.stream == nil {
			continue
		}
		var offers []mesos.Offer
		for _, a := range agents {
			if f, ok := fw.filters[a.id]; ok && !now.Before(f.until) {
				delete(fw.filters, a.id)
			}
			offers = m.offerAgent(fw, a, offers)
		}
		if len(offers) > 0 {
			m.send(fw, &scheduler.Event{Type: scheduler.Event_OFFERS, Offers: &scheduler.Event_Offers{Offers: offers}})
		}
	}
}

// generateOffers asks for an allocation cycle at once, besides the periodic
// ones, as Mesos' allocator does when a framework subscribes (addFramework,
// activateFramework) or revives (reviveOffers): its generateOffers
// dispatches an allocation run, and requests made while one is pending
// share it.
func (m *master) generateOffers() {
	select {
	case m.allocateNow <- struct{}{}:
	default:
	}
}

// offerAgent appends the offers fw gets on agent a.
func (m *master) offerAgent(fw *framework, a *agent, offers []mesos.Offer) []mesos.Offer {
	if !allocatable(a.avail, "") {
		return offers // nothing worth offering
	}
	for _, role := range fw.roles {
		if fw.suppressed[role] || !allocatable(a.avail, role) {
			continue
		}
		if f, ok := fw.filters[a.id]; ok && f.res.containsRoles(a.avail, role) {
			continue // refused: nothing new on this agent since the framework declined
		}
		res := a.avail.restrict(role)
		a.offer(res)
		o := &offer{id: m.masterID + "-O" + strconv.Itoa(m.nextOffer), fw: fw, agent: a, role: role, res: res}
		m.nextOffer++
		m.offers[o.id] = o
		fw.offers[o.id] = o
		a.offers[o.id] = o
		offers = append(offers, m.offerProto(o))
	}
	return offers
}

// use, unuse, offer and unoffer move resources between the agent's
// available ones and those used by tasks and executors or offered.
func (a *agent) use(p pool)     { a.used.add(p); a.avail.sub(p) }
func (a *agent) unuse(p pool)   { a.used.sub(p); a.avail.add(p) }
func (a *agent) offer(p pool)   { a.offered.add(p); a.avail.sub(p) }
func (a *agent) unoffer(p pool) { a.offered.sub(p); a.avail.add(p) }

// allocatable reports whether what p holds unreserved or reserved to role
// (all roles when role is "") is worth an offer.
func allocatable(p pool, role string) bool {
	var cpus, mem milli
	for r, b := range p {
		if role == "" || r == role || r == unreservedRole {
			cpus += b.cpus
			mem += b.mem
		}
	}
	return cpus >= minCPUs || mem >= minMem
}

// offerAttributes are an agent's attributes as offers carry them, by name.
func offerAttributes(cfg AgentConfig) []mesos.Attribute {
	attrs := make([]mesos.Attribute, 0, len(cfg.Attributes))
	for _, k := range slices.Sorted(maps.Keys(cfg.Attributes)) {
		attrs = append(attrs, mesos.Attribute{Name: k, Type: mesos.TEXT, Text: &mesos.Value_Text{Value: cfg.Attributes[k]}})
	}
	return attrs
}

// offerURL is the agent's URL in its offers: its runtime's own HTTP
// server when it has one, otherwise the hostname and the Mesos agent's
// default port. A Mesos master puts the agent's address (its --ip) in the
// URL too; here that is the simulated host's address, which its tasks get
// as LIBPROCESS_IP.
func offerURL(cfg AgentConfig, endpoint string) *mesos.URL {
	host := cfg.Hostname
	port := int32(5051)
	if h, p, err := net.SplitHostPort(endpoint); err == nil {
		if n, err := strconv.Atoi(p); err == nil {
			host, port = h, int32(n)
		}
	}
	return &mesos.URL{Scheme: "http", Address: mesos.Address{Hostname: &host, IP: strPtr(cfg.ip()), Port: port}, Path: strPtr("/slave(1)")}
}

// offerProto renders an offer. Its attributes and URL are the agent's,
// shared by every offer of it: events are encoded as they are sent and
// nothing changes them.
func (m *master) offerProto(o *offer) mesos.Offer {
	a := o.agent
	var execIDs []mesos.ExecutorID
	for _, t := range a.tasks {
		if t.fw == o.fw && t.executorID != "" && !t.terminal {
			execIDs = appendUniqueExecutor(execIDs, t.executorID)
		}
	}
	return mesos.Offer{
		ID:             mesos.OfferID{Value: o.id},
		FrameworkID:    mesos.FrameworkID{Value: o.fw.id},
		AgentID:        mesos.AgentID{Value: a.id},
		Hostname:       a.cfg.Hostname,
		URL:            a.url,
		Resources:      o.res.toResources(o.role, o.fw.refinement),
		Attributes:     a.attrs,
		ExecutorIDs:    execIDs,
		AllocationInfo: &mesos.Resource_AllocationInfo{Role: strPtr(o.role)},
	}
}

func appendUniqueExecutor(ids []mesos.ExecutorID, id string) []mesos.ExecutorID {
	for _, x := range ids {
		if x.Value == id {
			return ids
		}
	}
	return append(ids, mesos.ExecutorID{Value: id})
}

// removeOffer takes an offer out of circulation and returns its resources to
// the pool; with rescind the framework is told with a RESCIND event.
func (m *master) removeOffer(o *offer, rescind bool) {
	if m.offers[o.id] != o {
		return // already gone; its resources were returned then
	}
	delete(m.offers, o.id)
	delete(o.fw.offers, o.id)
	delete(o.agent.offers, o.id)
	o.agent.unoffer(o.res)
	if rescind {
		m.send(o.fw, &scheduler.Event{Type: scheduler.Event_RESCIND, Rescind: &scheduler.Event_Rescind{OfferID: mesos.OfferID{Value: o.id}}})
	}
}

func (m *master) rescindAll(fw *framework, tell bool) {
	for _, o := range fw.offers {
		m.removeOffer(o, tell)
	}
}

func (m *master) rescindAgentOffers(a *agent) {
	for _, o := range a.offers {
		m.removeOffer(o, true)
	}
}

// offerFilter is a framework's refusal of resources on one agent. As in
// Mesos, it holds back only offers that fit within the refused resources: once
// more becomes free on the agent (a task ended), the agent is offered again.
type offerFilter struct {
	until time.Time // wall clock
	res   pool
}

// refuse installs a filter for the resources a framework declined (or left
// unused in an ACCEPT) on an agent.
func (m *master) refuse(fw *framework, agentID string, filters *mesos.Filters, refused pool) {
	d := m.cfg.OfferRefuseDefault
	if filters != nil && filters.RefuseSeconds != nil {
		d = time.Duration(*filters.RefuseSeconds * float64(time.Second))
	}
	if d <= 0 || refused.isEmpty() {
		return
	}
	f := offerFilter{until: time.Now().Add(d), res: refused.clone()}
	if old, ok := fw.filters[agentID]; ok && time.Now().Before(old.until) {
		// Declining several offers of one agent refuses all of them.
		f.res.add(old.res)
		if old.until.After(f.until) {
			f.until = old.until
		}
	}
	fw.filters[agentID] = f
}
