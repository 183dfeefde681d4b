package actuate

import (
	"cmp"
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

func toMilli(v float64) int64   { return int64(math.Round(v * milli)) }
func fromMilli(m int64) float64 { return float64(m) / milli }
func fmtMilli(m int64) string   { return strconv.FormatFloat(fromMilli(m), 'g', -1, 64) }

// slab hands out slices of T carved from shared chunks, each twice as big
// as the one before, up to slabMax Ts: a match of 15,000 launches then
// makes a few dozen allocations instead of eight per launch, and what a
// chunk holds beyond what is used is at most one chunk. The slices it
// hands out have no room beyond their length, so an append to one copies
// it rather than writing over its neighbour.
type slab[T any] struct {
	free []T
	size int // of the last chunk
}

const slabMax = 4096

// room returns an empty slice with room for n Ts at the slab's free
// position; keep then takes what was appended to it.
func (s *slab[T]) room(n int) []T {
	if n > len(s.free) {
		s.size = min(max(2*s.size, 16), slabMax)
		s.free = make([]T, max(n, s.size))
	}
	return s.free[:0:n]
}

// keep takes used, a slice room returned with what was appended to it
// within its room, from the slab and returns it.
func (s *slab[T]) keep(used []T) []T {
	s.free = s.free[len(used):]
	return used[:len(used):len(used)]
}

// alloc returns n zero Ts.
func (s *slab[T]) alloc(n int) []T {
	out := s.room(n)[:n]
	clear(out) // (a room not kept may have been written)
	return s.keep(out)
}

// arena holds what one match hands out: its pools' entries and the
// resources its tasks take, with their values. Every task's resources
// are its own (no two share an element), but they share allocations: all
// are used together, by the ACCEPTs of one apply.
type arena struct {
	entries   slab[entry]
	resources slab[mesos.Resource]
	scalars   slab[mesos.Value_Scalar]
	rangeSets slab[mesos.Value_Ranges]
	ranges    slab[mesos.Value_Range]
}

func (a *arena) scalar(m int64) *mesos.Value_Scalar {
	v := &a.scalars.alloc(1)[0]
	v.Value = fromMilli(m)
	return v
}

// entry is one usable resource of an offer with what is left of it. tmpl
// is the offered resource: its identity (role, reservations, allocation
// info) is what every resource we hand to a task must repeat exactly.
type entry struct {
	tmpl     *mesos.Resource
	milli    int64        // scalar left
	ranges   mesos.Ranges // ranges left
	reserved bool
}

// appendOut appends the resource e hands to a task to out and returns it
// there: tmpl's identity, without its value (the caller sets the part
// taken).
func (e *entry) appendOut(out []mesos.Resource) ([]mesos.Resource, *mesos.Resource) {
	out = append(out, *e.tmpl)
	r := &out[len(out)-1]
	r.Scalar, r.Ranges = nil, nil
	return out, r
}

// pool is what is left of one offer while tasks are assigned to it.
type pool struct {
	entries []entry
	a       *arena // where the pool's entries and what is taken live
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

// portsRoom is how many more port ranges than offered a pool makes room
// for: a port booked from inside a range splits it in two, and a few
// services book a few ports each.
const portsRoom = 4

// newPool collects the usable resources of o, which must outlive the pool
// and not change. Reserved resources come first: they are set aside for
// our role, so using them keeps the unreserved ones free for other
// frameworks.
func newPool(o *mesos.Offer, a *arena) pool {
	p := pool{entries: a.entries.room(len(o.Resources)), a: a}
	for i := range o.Resources {
		r := &o.Resources[i]
		if !usable(r) {
			continue
		}
		e := entry{tmpl: r, reserved: !r.IsUnreserved()}
		if r.Name == resPorts {
			rs := a.ranges.alloc(len(r.Ranges.Range) + portsRoom)[:0]
			e.ranges = squashRanges(sortRanges(append(rs, r.Ranges.Range...)))
		} else {
			e.milli = toMilli(r.Scalar.Value)
		}
		p.entries = append(p.entries, e)
	}
	p.entries = a.entries.keep(p.entries)
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

// sortRanges sorts rs in place as mesos.Ranges.Sort does (by begin, then
// end), without boxing it in a sort.Interface.
func sortRanges(rs []mesos.Value_Range) []mesos.Value_Range {
	slices.SortFunc(rs, func(a, b mesos.Value_Range) int {
		if c := cmp.Compare(a.Begin, b.Begin); c != 0 {
			return c
		}
		return cmp.Compare(a.End, b.End)
	})
	return rs
}

// squashRanges merges overlapping and adjoining sorted ranges in place, as
// mesos.Ranges.Squash does into a new slice.
func squashRanges(rs []mesos.Value_Range) []mesos.Value_Range {
	if len(rs) < 2 {
		return rs
	}
	out := rs[:1]
	for _, r := range rs[1:] { // (out never passes the range read)
		switch last := &out[len(out)-1]; {
		case 1+last.End < r.Begin: // neither overlapping nor adjoining
			out = append(out, r)
		case last.End <= r.End:
			last.End = r.End
		}
	}
	return out
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
		var r *mesos.Resource
		out, r = e.appendOut(out)
		r.Scalar = p.a.scalar(n)
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
		var r *mesos.Resource
		out, r = p.entries[i].appendOut(out)
		r.Ranges = &p.a.rangeSets.alloc(1)[0]
		r.Ranges.Range = p.portRanges(mine)
	}
	return out, 0
}

// portRanges turns distinct ports into sorted ranges, neighbours joined
// (what Ranges.Sort().Squash() gives), in p's arena.
func (p *pool) portRanges(ports []uint64) []mesos.Value_Range {
	slices.Sort(ports)
	n := 1
	for k := 1; k < len(ports); k++ {
		if ports[k] != ports[k-1]+1 {
			n++
		}
	}
	rs := p.a.ranges.room(n)
	for k, port := range ports {
		if k > 0 && port == ports[k-1]+1 {
			rs[len(rs)-1].End = port
			continue
		}
		rs = append(rs, mesos.Value_Range{Begin: port, End: port})
	}
	return p.a.ranges.keep(rs)
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
	out = p.a.resources.room(len(p.entries)) // (each entry gives at most one)
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
	return p.a.resources.keep(out), ""
}
