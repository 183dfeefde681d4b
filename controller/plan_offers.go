package controller

import (
	"sort"
	"strings"

	"github.com/quobyte/quobyte-mesos/observe/taskid"
	"github.com/quobyte/quobyte-mesos/spec"
)

// What keeps a launch waiting, said from what the snapshot knows of the
// agent's offers (Action.Waiting). Part of the pure planner.

// offerShortfall says why av's last offer cannot hold a task needing r (or
// lacks missingPort), naming only what falls short: the roles of
// resources reserved for others, a need beyond anything the agent has had
// for us, or the largest (or last) offer.
func (p *planner) offerShortfall(av *agentView, r spec.Resources, missingPort int) string {
	a, host, role := av.agent, av.host(), p.c.Mesos.Role
	var why []string
	var foreign []string
	for rl := range a.LastOffer.Reserved {
		if rl != role && !strings.HasPrefix(role, rl+"/") { // an ancestor's reservations are ours to use
			foreign = append(foreign, rl)
		}
	}
	if len(foreign) > 0 {
		sort.Strings(foreign)
		why = append(why, reasonForeignReservation(host, foreign, role))
	}
	last := a.LastOffer.Resources
	most := spec.Resources{CPUs: max(a.MostOffered.CPUs, last.CPUs), Mem: max(a.MostOffered.Mem, last.Mem), Disk: max(a.MostOffered.Disk, last.Disk)}
	short := shortOf(r, last)
	switch ours, known := p.ourResources(av); {
	case short == spec.Resources{}:
		why = append(why, reasonOfferLacksPort(host, missingPort))
	case known && shortOf(r, addResources(most, ours)) != spec.Resources{}:
		bound := addResources(most, ours)
		why = append(why, reasonNeverFits(host, shortOf(r, bound), bound, role))
	default:
		why = append(why, reasonOfferShort(host, short, last, most))
	}
	return strings.Join(why, "; ")
}

// ourResources sums what our live tasks on av ask for, from the spec (or
// the earlier spec) of each one's config; known is false when a task's
// config is in none of them.
func (p *planner) ourResources(av *agentView) (sum spec.Resources, known bool) {
	for k := range av.live {
		for _, t := range av.live[k] {
			r, ok := p.resourcesOf(t.Kind, t.Config)
			if !ok {
				return sum, false
			}
			sum = addResources(sum, r)
		}
	}
	return sum, true
}

// resourcesOf returns what a task of kind with config hash asks for.
func (p *planner) resourcesOf(kind, hash string) (spec.Resources, bool) {
	if c := p.specOf(kind, hash); c != nil {
		if kind == taskid.ProberKind {
			return c.Prober.Resources, true
		}
		return c.Service(spec.Kind(kind)).Resources, true
	}
	return spec.Resources{}, false
}

func addResources(a, b spec.Resources) spec.Resources {
	return spec.Resources{CPUs: a.CPUs + b.CPUs, Mem: a.Mem + b.Mem, Disk: a.Disk + b.Disk}
}
