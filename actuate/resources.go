package actuate

import (
	"math"
	"sort"
	"strconv"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
)

// Resource names the matcher uses.
const (
	resCPUs  = "cpus"
	resMem   = "mem"
	resDisk  = "disk"
	resPorts = "ports"
)

// Mesos keeps scalar resources with three decimal digits; so do we, as
// integers, so that subtracting 0.1 ten times from 1 leaves exactly 0.
const milli = 1000

func toMilli(v float64) int64                   { return int64(math.Round(v * milli)) }
func fromMilli(m int64) float64                 { return float64(m) / milli }
func fmtMilli(m int64) string                   { return strconv.FormatFloat(fromMilli(m), 'g', -1, 64) }
func scalarValue(v float64) *mesos.Value_Scalar { return &mesos.Value_Scalar{Value: v} }

// entry is one usable resource of an offer with what is left of it. tmpl
// keeps the offered resource's identity (role, reservations, allocation
// info), which every resource we hand to a task must repeat exactly.
type entry struct {
	tmpl     mesos.Resource
	milli    int64        // scalar left
	ranges   mesos.Ranges // ranges left
	reserved bool
}

// pool is what is left of one offer while tasks are assigned to it.
type pool struct {
	entries []entry
}

// usable reports whether the matcher may hand r to a Quobyte task. Revocable
// resources can be taken away under a running service; shared resources,
// resources of a resource provider and disks with DiskInfo (persistent
// volumes, MOUNT/PATH disks) need operations we do not perform.
func usable(r *mesos.Resource) bool {
	if r.Revocable != nil || r.Shared != nil || r.ProviderID != nil || r.Disk != nil {
		return false
	}
	switch r.Name {
	case resCPUs, resMem, resDisk:
		return r.GetType() == mesos.SCALAR && r.Scalar != nil && r.Scalar.Value > 0
	case resPorts:
		return r.GetType() == mesos.RANGES && r.Ranges != nil && len(r.Ranges.Range) > 0
	}
	return false
}

// newPool collects the usable resources of o. Reserved resources come first:
// they are set aside for our role, so using them keeps the unreserved ones
// free for other frameworks.
func newPool(o *mesos.Offer) *pool {
	p := &pool{}
	for i := range o.Resources {
		r := &o.Resources[i]
		if !usable(r) {
			continue
		}
		e := entry{tmpl: *r, reserved: !r.IsUnreserved()}
		e.tmpl.Scalar, e.tmpl.Ranges = nil, nil
		if r.Name == resPorts {
			e.ranges = mesos.Ranges(r.Ranges.Range).Clone().Sort().Squash()
		} else {
			e.milli = toMilli(r.Scalar.Value)
		}
		p.entries = append(p.entries, e)
	}
	sort.SliceStable(p.entries, func(i, j int) bool { return p.entries[i].reserved && !p.entries[j].reserved })
	return p
}

func (p *pool) clone() *pool {
	c := &pool{entries: make([]entry, len(p.entries))}
	copy(c.entries, p.entries)
	for i := range c.entries {
		c.entries[i].ranges = c.entries[i].ranges.Clone()
	}
	return c
}

// scalar sums what is left of the named scalar resource.
func (p *pool) scalar(name string) int64 {
	var n int64
	for _, e := range p.entries {
		if e.tmpl.Name == name {
			n += e.milli
		}
	}
	return n
}

func (p *pool) portEntry(port uint64) int {
	for i, e := range p.entries {
		if e.tmpl.Name != resPorts {
			continue
		}
		for _, r := range e.ranges {
			if r.Begin <= port && port <= r.End {
				return i
			}
		}
	}
	return -1
}

// takeScalar removes m of the named resource, from as many entries as it
// takes, and returns one resource per entry drawn from. ok is false (and
// nothing is guaranteed about p) when not enough is left: callers work on a
// clone.
func (p *pool) takeScalar(name string, m int64) (out []mesos.Resource, ok bool) {
	for i := range p.entries {
		if m <= 0 {
			break
		}
		e := &p.entries[i]
		if e.tmpl.Name != name || e.milli <= 0 {
			continue
		}
		n := min(m, e.milli)
		e.milli -= n
		m -= n
		r := e.tmpl
		r.Scalar = scalarValue(fromMilli(n))
		out = append(out, r)
	}
	return out, m <= 0
}

// takePorts removes the given ports and returns one ports resource per
// entry they came from. missing is the first port not offered (0: none).
func (p *pool) takePorts(ports []int) (out []mesos.Resource, missing int) {
	taken := map[int]mesos.Ranges{} // entry index -> ports taken from it
	var order []int
	for _, port := range ports {
		i := p.portEntry(uint64(port))
		if i < 0 {
			return nil, port
		}
		one := mesos.Value_Range{Begin: uint64(port), End: uint64(port)}
		p.entries[i].ranges = p.entries[i].ranges.Remove(one)
		if _, seen := taken[i]; !seen {
			order = append(order, i)
		}
		taken[i] = append(taken[i], one)
	}
	for _, i := range order {
		r := p.entries[i].tmpl
		r.Ranges = &mesos.Value_Ranges{Range: taken[i].Sort().Squash()}
		out = append(out, r)
	}
	return out, 0
}

// need is what one task or executor asks of an offer, scalars in milli units.
type need struct {
	cpus, mem, disk int64
	ports           []int
}

// take removes n from p. On failure it says what was short (for the
// operator) and p must be discarded.
func (p *pool) take(n need) (out []mesos.Resource, short string, missingPort int) {
	for _, s := range []struct {
		name string
		m    int64
	}{{resCPUs, n.cpus}, {resMem, n.mem}, {resDisk, n.disk}} {
		if s.m <= 0 {
			continue
		}
		rs, ok := p.takeScalar(s.name, s.m)
		if !ok {
			return nil, s.name, 0
		}
		out = append(out, rs...)
	}
	if len(n.ports) > 0 {
		rs, missing := p.takePorts(n.ports)
		if missing != 0 {
			return nil, resPorts, missing
		}
		out = append(out, rs...)
	}
	return out, "", 0
}
