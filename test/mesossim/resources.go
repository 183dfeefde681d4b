package mesossim

import (
	"fmt"
	"maps"
	"math"
	"slices"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
)

// The master's resource accounting is kept in a compact form of its own rather
// than in mesos.Resources: it is compared and subtracted for every agent on every
// allocation cycle, and mesos-go's arithmetic clones protobufs at each step.

// unreservedRole is Mesos' name for resources reserved to no role.
const unreservedRole = "*"

// milli is a scalar in thousandths: Mesos keeps scalars at three decimal digits.
type milli int64

func toMilli(f float64) milli  { return milli(math.Round(f * 1000)) }
func (m milli) float() float64 { return float64(m) / 1000 }

type portRange struct{ begin, end uint64 }

// bucket holds the resources of one role. The scalars every agent has
// (cpus, mem, disk) have fields of their own; a map for each bucket was
// most of the simulator's allocation work at 10,000 agents (test/scale).
type bucket struct {
	cpus, mem, disk milli
	other           map[string]milli // any other scalar; nil when none
	ports           []portRange      // sorted, disjoint, not adjacent
}

// fixedScalars are the scalars that have fields in a bucket, in the order
// of their names. (add, sub and holds name the fields themselves: they run
// for every agent of every allocation cycle.)
var fixedScalars = [...]string{"cpus", "disk", "mem"}

// scalar returns the amount of the named scalar (0: none).
func (b *bucket) scalar(name string) milli {
	switch name {
	case "cpus":
		return b.cpus
	case "mem":
		return b.mem
	case "disk":
		return b.disk
	}
	return b.other[name]
}

// addScalar adds v (negative: takes it away) to the named scalar; what
// falls to zero or below is none.
func (b *bucket) addScalar(name string, v milli) {
	var at *milli
	switch name {
	case "cpus":
		at = &b.cpus
	case "mem":
		at = &b.mem
	case "disk":
		at = &b.disk
	default:
		n := b.other[name] + v
		if n <= 0 && v < 0 {
			delete(b.other, name)
			return
		}
		if b.other == nil {
			b.other = map[string]milli{}
		}
		b.other[name] = n
		return
	}
	*at = max(*at+v, 0)
}

// scalars calls f for each scalar that is not none, in the order of
// their names.
func (b *bucket) scalars(f func(name string, v milli)) {
	names := fixedScalars[:]
	if len(b.other) > 0 {
		names = append(slices.Collect(maps.Keys(b.other)), names...)
		slices.Sort(names)
	}
	for _, name := range names {
		if v := b.scalar(name); v > 0 {
			f(name, v)
		}
	}
}

// pool maps a role ("*" for unreserved) to its resources.
type pool map[string]*bucket

func (p pool) bucket(role string) *bucket {
	b := p[role]
	if b == nil {
		b = &bucket{}
		p[role] = b
	}
	return b
}

func (p pool) clone() pool {
	out := make(pool, len(p))
	for role, b := range p {
		nb := *b
		nb.other = maps.Clone(b.other)
		nb.ports = slices.Clone(b.ports)
		out[role] = &nb
	}
	return out
}

func (p pool) add(o pool) {
	for role, ob := range o {
		b := p.bucket(role)
		b.cpus += ob.cpus
		b.mem += ob.mem
		b.disk += ob.disk
		for k, v := range ob.other {
			b.addScalar(k, v)
		}
		for _, r := range ob.ports {
			b.ports = addRange(b.ports, r)
		}
	}
}

// sub removes o from p; callers check contains first.
func (p pool) sub(o pool) {
	for role, ob := range o {
		b := p.bucket(role)
		b.addScalar("cpus", -ob.cpus)
		b.addScalar("mem", -ob.mem)
		b.addScalar("disk", -ob.disk)
		for k, v := range ob.other {
			b.addScalar(k, -v)
		}
		for _, r := range ob.ports {
			b.ports = removeRange(b.ports, r)
		}
	}
}

// contains reports whether o fits in p, role by role; it names the first
// missing resource otherwise.
func (p pool) contains(o pool) (bool, string) {
	for role, ob := range o {
		if name, r, ok := p[role].holds(ob); !ok {
			if name != "" {
				return false, fmt.Sprintf("%s(%s):%g", name, role, ob.scalar(name).float())
			}
			return false, fmt.Sprintf("ports(%s):[%d-%d]", role, r.begin, r.end)
		}
	}
	return true, ""
}

// containsRoles reports whether what o holds unreserved or reserved to role
// (what o.restrict(role) returns) fits in p, without copying it.
func (p pool) containsRoles(o pool, role string) bool {
	for r, ob := range o {
		if r != unreservedRole && r != role {
			continue
		}
		if _, _, ok := p[r].holds(ob); !ok {
			return false
		}
	}
	return true
}

// holds reports whether o fits in b (nil: empty); otherwise it returns the
// first scalar that does not fit, or ("", the port range) when the ports do not.
func (b *bucket) holds(o *bucket) (string, portRange, bool) {
	var none bucket
	if b == nil {
		b = &none
	}
	for _, s := range [...]struct {
		name string
		have milli
		want milli
	}{{"cpus", b.cpus, o.cpus}, {"mem", b.mem, o.mem}, {"disk", b.disk, o.disk}} {
		if s.want > s.have {
			return s.name, portRange{}, false
		}
	}
	for k, v := range o.other {
		if v > b.other[k] {
			return k, portRange{}, false
		}
	}
	for _, r := range o.ports {
		if !containsRange(b.ports, r) {
			return "", r, false
		}
	}
	return "", portRange{}, true
}

func (p pool) isEmpty() bool {
	for _, b := range p {
		if b.cpus > 0 || b.mem > 0 || b.disk > 0 || len(b.ports) > 0 {
			return false
		}
		for _, v := range b.other {
			if v > 0 {
				return false
			}
		}
	}
	return true
}

// restrict returns the part of p a framework with the given roles may be offered:
// unreserved resources and those reserved to one of the roles.
func (p pool) restrict(roles ...string) pool {
	out := pool{}
	for _, role := range append([]string{unreservedRole}, roles...) {
		if b, ok := p[role]; ok {
			out[role] = b
		}
	}
	return out.clone()
}

// resourceRole is the role a resource is reserved to, in either of Mesos'
// formats: the reservations stack (refinement) or the deprecated role field.
func resourceRole(r mesos.Resource) string {
	if n := len(r.Reservations); n > 0 {
		return r.Reservations[n-1].GetRole()
	}
	if r.Reservation != nil && r.Reservation.GetRole() != "" {
		return r.Reservation.GetRole()
	}
	if r.Role != nil && *r.Role != "" {
		return *r.Role
	}
	return unreservedRole
}

// poolFromResources converts resources from a TaskInfo or ExecutorInfo. It rejects
// what this simulator does not model (sets, disks with sources, revocable
// resources) with a message in Mesos' words.
func poolFromResources(rs []mesos.Resource) (pool, error) {
	p := pool{}
	for _, r := range rs {
		if r.Name == "" {
			return nil, fmt.Errorf("invalid resource: empty name")
		}
		if r.Revocable != nil || r.Disk != nil || r.Shared != nil || r.ProviderID != nil {
			return nil, fmt.Errorf("resource %q: revocable, shared, disk-info and provider resources are not offered by this cluster", r.Name)
		}
		switch r.GetType() {
		case mesos.SCALAR:
			if r.Scalar == nil || r.Scalar.Value < 0 || math.IsNaN(r.Scalar.Value) || math.IsInf(r.Scalar.Value, 0) {
				return nil, fmt.Errorf("invalid scalar resource %q", r.Name)
			}
			p.bucket(resourceRole(r)).addScalar(r.Name, toMilli(r.Scalar.Value))
		case mesos.RANGES:
			if r.Ranges == nil {
				return nil, fmt.Errorf("invalid ranges resource %q: no ranges", r.Name)
			}
			if r.Name != "ports" {
				return nil, fmt.Errorf("ranges resource %q is not offered by this cluster", r.Name)
			}
			b := p.bucket(resourceRole(r))
			for _, rg := range r.Ranges.Range {
				if rg.Begin > rg.End {
					return nil, fmt.Errorf("invalid range [%d-%d] in %q", rg.Begin, rg.End, r.Name)
				}
				pr := portRange{rg.Begin, rg.End}
				if overlaps(b.ports, pr) {
					return nil, fmt.Errorf("overlapping ranges in %q", r.Name)
				}
				b.ports = addRange(b.ports, pr)
			}
		default:
			return nil, fmt.Errorf("resource %q of type %s is not offered by this cluster", r.Name, r.GetType())
		}
	}
	return p, nil
}

// toResources renders p as Mesos resources for an offer to a framework with the
// given allocation role. With refinement (the framework's RESERVATION_REFINEMENT
// capability) reserved resources carry a reservations stack; otherwise the
// pre-refinement form, the role field, is used.
func (p pool) toResources(allocRole string, refinement bool) []mesos.Resource {
	roles := slices.Sorted(maps.Keys(p))
	out := make([]mesos.Resource, 0, 4*len(roles))
	// Resources share their strings and allocation info: an offer is
	// encoded as it is sent, and nothing changes it.
	alloc := &mesos.Resource_AllocationInfo{Role: &allocRole}
	for _, role := range roles {
		b := p[role]
		b.scalars(func(name string, v milli) {
			r := newResource(name, &role, alloc, refinement)
			t := mesos.SCALAR
			r.Type = &t
			r.Scalar = &mesos.Value_Scalar{Value: v.float()}
			out = append(out, r)
		})
		if len(b.ports) > 0 {
			r := newResource("ports", &role, alloc, refinement)
			t := mesos.RANGES
			r.Type = &t
			r.Ranges = &mesos.Value_Ranges{Range: make([]mesos.Value_Range, len(b.ports))}
			for i, pr := range b.ports {
				r.Ranges.Range[i] = mesos.Value_Range{Begin: pr.begin, End: pr.end}
			}
			out = append(out, r)
		}
	}
	return out
}

func newResource(name string, role *string, alloc *mesos.Resource_AllocationInfo, refinement bool) mesos.Resource {
	r := mesos.Resource{Name: name, AllocationInfo: alloc}
	if refinement {
		if *role != unreservedRole {
			st := mesos.Resource_ReservationInfo_STATIC
			r.Reservations = []mesos.Resource_ReservationInfo{{Type: &st, Role: role}}
		}
		return r
	}
	r.Role = role
	return r
}

func strPtr(s string) *string { return &s }

// addRange merges r into rs (sorted, disjoint, not adjacent) in place.
func addRange(rs []portRange, r portRange) []portRange {
	i := 0 // rs[:i] end before r with a gap
	for i < len(rs) && rs[i].end < r.begin && r.begin-rs[i].end > 1 {
		i++
	}
	j := i // rs[i:j] overlap or touch r
	for j < len(rs) && (rs[j].begin <= r.end || rs[j].begin-r.end == 1) {
		r.begin, r.end = min(r.begin, rs[j].begin), max(r.end, rs[j].end)
		j++
	}
	if i == j {
		rs = append(rs, portRange{})
		copy(rs[i+1:], rs[i:])
		rs[i] = r
		return rs
	}
	rs[i] = r
	return append(rs[:i+1], rs[j:]...)
}

func removeRange(rs []portRange, r portRange) []portRange {
	var out []portRange
	for _, x := range rs {
		if x.end < r.begin || x.begin > r.end {
			out = append(out, x)
			continue
		}
		if x.begin < r.begin {
			out = append(out, portRange{x.begin, r.begin - 1})
		}
		if x.end > r.end {
			out = append(out, portRange{r.end + 1, x.end})
		}
	}
	return out
}

func containsRange(rs []portRange, r portRange) bool {
	for _, x := range rs {
		if x.begin <= r.begin && r.end <= x.end {
			return true
		}
	}
	return false
}

func overlaps(rs []portRange, r portRange) bool {
	for _, x := range rs {
		if !(x.end < r.begin || x.begin > r.end) {
			return true
		}
	}
	return false
}

// agentPool builds an agent's total resources from its configuration: reservations
// are carved out of the totals.
func agentPool(a AgentConfig) (pool, error) {
	p := pool{}
	un := p.bucket(unreservedRole)
	un.cpus, un.mem, un.disk = toMilli(a.CPUs), toMilli(a.Mem), toMilli(a.Disk)
	for _, r := range a.Ports {
		if r[0] > r[1] {
			return nil, fmt.Errorf("agent %s: invalid port range [%d-%d]", a.Hostname, r[0], r[1])
		}
		un.ports = addRange(un.ports, portRange{r[0], r[1]})
	}
	for role, amounts := range a.Reservations {
		if role == "" || role == unreservedRole {
			return nil, fmt.Errorf("agent %s: reservation needs a role other than %q", a.Hostname, unreservedRole)
		}
		rb := p.bucket(role)
		for name, v := range amounts {
			m := toMilli(v)
			if un.scalar(name) < m {
				return nil, fmt.Errorf("agent %s: reservation %s(%s):%g exceeds the agent's total", a.Hostname, name, role, v)
			}
			un.addScalar(name, -m)
			rb.addScalar(name, m)
		}
	}
	return p, nil
}
