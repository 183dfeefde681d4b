package actuate

import (
	"math"
	"slices"
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
	p := &pool{entries: make([]entry, 0, len(o.Resources))}
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
	slices.SortStableFunc(p.entries, func(a, b entry) int { // reserved first
		switch {
		case a.reserved == b.reserved:
			return 0
		case a.reserved:
			return -1
		}
		return 1
	})
	return p
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

// portEntry returns the entry holding port and the index of its range
// there; -1, -1 when no entry offers it.
func (p *pool) portEntry(port uint64) (entry, rng int) {
	for i, e := range p.entries {
		if e.tmpl.Name != resPorts {
			continue
		}
		for j, r := range e.ranges {
			if r.Begin <= port && port <= r.End {
				return i, j
			}
		}
	}
	return -1, -1
}

// removePort takes port out of range j of entry i, in place (the pool owns
// its ranges): a match of 15,000 launches would otherwise copy every
// entry's ranges for every port it books.
func (p *pool) removePort(i, j int, port uint64) {
	rs := p.entries[i].ranges
	r := rs[j]
	switch {
	case r.Begin == port && r.End == port:
		rs = append(rs[:j], rs[j+1:]...)
	case r.Begin == port:
		rs[j].Begin++
	case r.End == port:
		rs[j].End--
	default: // split into [Begin, port-1] and [port+1, End]
		rs = slices.Insert(rs, j+1, mesos.Value_Range{Begin: port + 1, End: r.End})
		rs[j].End = port - 1
	}
	p.entries[i].ranges = rs
}

// takeScalar removes m of the named resource, from as many entries as it
// takes, and appends one resource per entry drawn from to out. ok is false
// (and nothing is guaranteed about p) when not enough is left.
func (p *pool) takeScalar(out []mesos.Resource, name string, m int64) (_ []mesos.Resource, ok bool) {
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
		out = append(out, e.tmpl)
		out[len(out)-1].Scalar = scalarValue(fromMilli(n))
	}
	return out, m <= 0
}

// takePorts removes the given ports and appends one ports resource per
// entry they came from to out, in the order of the first port each gave.
// missing is the first port not offered (0: none).
func (p *pool) takePorts(out []mesos.Resource, ports []int) (_ []mesos.Resource, missing int) {
	var buf [8]int
	src := buf[:0] // the entry each port came from
	for _, port := range ports {
		i, j := p.portEntry(uint64(port))
		if i < 0 {
			return out, port
		}
		p.removePort(i, j, uint64(port))
		src = append(src, i)
	}
	for k, i := range src {
		if slices.Index(src, i) < k {
			continue // this entry's resource is out already
		}
		var pbuf [8]uint64
		mine := pbuf[:0]
		for m, port := range ports {
			if src[m] == i {
				mine = append(mine, uint64(port))
			}
		}
		out = append(out, p.entries[i].tmpl)
		out[len(out)-1].Ranges = &mesos.Value_Ranges{Range: portRanges(mine)}
	}
	return out, 0
}

// portRanges turns distinct ports into sorted ranges, neighbours joined
// (what Ranges.Sort().Squash() gives, in one allocation).
func portRanges(ports []uint64) []mesos.Value_Range {
	slices.Sort(ports)
	n := 1
	for k := 1; k < len(ports); k++ {
		if ports[k] != ports[k-1]+1 {
			n++
		}
	}
	rs := make([]mesos.Value_Range, 0, n)
	for k, port := range ports {
		if k > 0 && port == ports[k-1]+1 {
			rs[len(rs)-1].End = port
			continue
		}
		rs = append(rs, mesos.Value_Range{Begin: port, End: port})
	}
	return rs
}

// need is what one task or executor asks of an offer, scalars in milli units.
type need struct {
	cpus, mem, disk int64
	ports           []int
}

// fit says what p lacks to hold every one of needs (drawn one after the
// other), without changing p: short names the resource ("" when all fit),
// missingPort the first port not offered. The needs' ports are distinct.
func (p *pool) fit(needs ...need) (short string, missingPort int) {
	var sum need
	for _, n := range needs {
		sum.cpus += n.cpus
		sum.mem += n.mem
		sum.disk += n.disk
	}
	for _, s := range sum.scalars() {
		if s.m > 0 && p.scalar(s.name) < s.m {
			return s.name, 0
		}
	}
	for _, n := range needs {
		for _, port := range n.ports {
			if i, _ := p.portEntry(uint64(port)); i < 0 {
				return resPorts, port
			}
		}
	}
	return "", 0
}

type namedScalar struct {
	name string
	m    int64
}

func (n need) scalars() [3]namedScalar {
	return [3]namedScalar{{resCPUs, n.cpus}, {resMem, n.mem}, {resDisk, n.disk}}
}

// take removes n from p and returns the resources it took. Call it only
// for what fit accepted: on failure p is left half-taken.
func (p *pool) take(n need) (out []mesos.Resource, short string) {
	out = make([]mesos.Resource, 0, 4) // cpus, mem, disk, ports
	for _, s := range n.scalars() {
		if s.m <= 0 {
			continue
		}
		var ok bool
		if out, ok = p.takeScalar(out, s.name, s.m); !ok {
			return nil, s.name
		}
	}
	if len(n.ports) > 0 {
		var missing int
		if out, missing = p.takePorts(out, n.ports); missing != 0 {
			return nil, resPorts
		}
	}
	return out, ""
}
