package actuate

import (
	"reflect"
	"strings"
	"testing"

	mesos "github.com/mesos/mesos-go/api/v1/lib"

	"github.com/quobyte/quobyte-mesos/controller"
	"github.com/quobyte/quobyte-mesos/spec"
)

func TestMatch_Table(t *testing.T) {
	data := spec.Resources{CPUs: 2, Mem: 4096, Disk: 64}
	tests := []struct {
		name       string
		actions    []controller.Action
		offers     []mesos.Offer
		wantOffers []string // offer per assigned action, in order
		wantReason []string // substrings of unmatched reasons, in order
		noOffer    []bool
	}{
		{
			name:       "fits with ports inside ranges",
			actions:    []controller.Action{launch("a1", "node1", spec.Data, data, 7863, 7873)},
			offers:     []mesos.Offer{offer("o1", "a1", "node1", scalar("cpus", 4), scalar("mem", 8192), scalar("disk", 1000), ports([2]uint64{7000, 7870}, [2]uint64{7873, 7873}))},
			wantOffers: []string{"o1"},
		},
		{
			name:       "port outside every range",
			actions:    []controller.Action{launch("a1", "node1", spec.Data, data, 7863, 7873)},
			offers:     []mesos.Offer{offer("o1", "a1", "node1", scalar("cpus", 4), scalar("mem", 8192), scalar("disk", 1000), ports([2]uint64{31000, 32000}, [2]uint64{7863, 7863}))},
			wantReason: []string{"no offer from node1 with cpus=2 mem=4096 disk=64 ports=7863,7873 (offer has: cpus=4 mem=8192 disk=1000, without port 7873)"},
			noOffer:    []bool{false},
		},
		{
			name:       "not enough memory",
			actions:    []controller.Action{launch("a1", "node1", spec.Data, data)},
			offers:     []mesos.Offer{offer("o1", "a1", "node1", scalar("cpus", 4), scalar("mem", 2048), scalar("disk", 1000))},
			wantReason: []string{"no offer from node1 with cpus=2 mem=4096 disk=64 (offer has: cpus=4 mem=2048 disk=1000)"},
			noOffer:    []bool{false},
		},
		{
			name:       "no offer from the agent at all",
			actions:    []controller.Action{launch("a2", "node2", spec.Data, data)},
			offers:     []mesos.Offer{bigOffer("o1", "a1", "node1")},
			wantReason: []string{"no offer from node2 held yet (asks for cpus=2 mem=4096 disk=64)"},
			noOffer:    []bool{true},
		},
		{
			name: "two tasks share an offer",
			actions: []controller.Action{
				launch("a1", "node1", spec.Registry, spec.Resources{CPUs: 1, Mem: 2048}, 7861, 7871),
				launch("a1", "node1", spec.Data, data, 7863, 7873),
			},
			offers:     []mesos.Offer{bigOffer("o1", "a1", "node1")},
			wantOffers: []string{"o1", "o1"},
		},
		{
			name: "no double booking: the second task does not fit what is left",
			actions: []controller.Action{
				launch("a1", "node1", spec.Data, spec.Resources{CPUs: 2, Mem: 4096}, 7863),
				launch("a1", "node1", spec.Metadata, spec.Resources{CPUs: 2, Mem: 4096}, 7862),
			},
			offers:     []mesos.Offer{offer("o1", "a1", "node1", scalar("cpus", 3), scalar("mem", 9000), ports([2]uint64{7860, 7870}))},
			wantOffers: []string{"o1"},
			wantReason: []string{"no offer from node1 with cpus=2 mem=4096 ports=7862 (offer has: cpus=1 mem=4904"},
			noOffer:    []bool{false},
		},
		{
			name: "the same port cannot be booked twice",
			actions: []controller.Action{
				launch("a1", "node1", spec.API, spec.Resources{CPUs: 0.5, Mem: 512}, 7865),
				launch("a1", "node1", spec.Webconsole, spec.Resources{CPUs: 0.5, Mem: 512}, 7865),
			},
			offers:     []mesos.Offer{bigOffer("o1", "a1", "node1")},
			wantOffers: []string{"o1"},
			wantReason: []string{"without port 7865"},
			noOffer:    []bool{false},
		},
		{
			name: "second offer of the agent takes what the first cannot",
			actions: []controller.Action{
				launch("a1", "node1", spec.Data, data),
				launch("a1", "node1", spec.Metadata, data),
			},
			offers: []mesos.Offer{
				offer("o2", "a1", "node1", scalar("cpus", 2), scalar("mem", 4096), scalar("disk", 64)),
				offer("o1", "a1", "node1", scalar("cpus", 2), scalar("mem", 4096), scalar("disk", 64)),
			},
			wantOffers: []string{"o1", "o2"},
		},
		{
			name:       "scalar split over reserved and unreserved",
			actions:    []controller.Action{launch("a1", "node1", spec.Data, data)},
			offers:     []mesos.Offer{offer("o1", "a1", "node1", reserved(scalar("cpus", 1), "quobyte"), allocated(scalar("cpus", 1.5), "quobyte"), scalar("mem", 4096), scalar("disk", 64))},
			wantOffers: []string{"o1"},
		},
		{
			name:       "revocable resources are not used",
			actions:    []controller.Action{launch("a1", "node1", spec.Data, data)},
			offers:     []mesos.Offer{offer("o1", "a1", "node1", revocable(scalar("cpus", 8)), scalar("cpus", 1), scalar("mem", 8192), scalar("disk", 64))},
			wantReason: []string{"offer has: cpus=1 mem=8192 disk=64"},
			noOffer:    []bool{false},
		},
		{
			name:       "kills and probes are not matched",
			actions:    []controller.Action{{Type: controller.Kill, AgentID: "a1", TaskID: "t"}, {Type: controller.Probe, AgentID: "a1", TaskID: "p"}},
			offers:     []mesos.Offer{bigOffer("o1", "a1", "node1")},
			wantOffers: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := match(tt.actions, tt.offers)
			var offers []string
			for _, a := range got.Assigned {
				offers = append(offers, a.OfferID)
			}
			if !reflect.DeepEqual(offers, tt.wantOffers) {
				t.Errorf("assigned offers = %v, want %v", offers, tt.wantOffers)
			}
			if len(got.Unmatched) != len(tt.wantReason) {
				t.Fatalf("unmatched = %+v, want %d", got.Unmatched, len(tt.wantReason))
			}
			for i, u := range got.Unmatched {
				if !strings.Contains(u.Reason, tt.wantReason[i]) {
					t.Errorf("reason %d = %q, want it to contain %q", i, u.Reason, tt.wantReason[i])
				}
				if u.NoOffer != tt.noOffer[i] {
					t.Errorf("NoOffer %d = %v, want %v", i, u.NoOffer, tt.noOffer[i])
				}
			}
		})
	}
}

func revocable(r mesos.Resource) mesos.Resource {
	r.Revocable = &mesos.Resource_RevocableInfo{}
	return r
}

// The resources handed to a task repeat the offered ones' identity
// (reservation, allocation role) and add up to exactly what was asked.
func TestMatch_ResourcesKeepReservations(t *testing.T) {
	o := offer("o1", "a1", "node1",
		allocated(scalar("cpus", 4), "quobyte"),
		reserved(scalar("cpus", 1.5), "quobyte"),
		reserved(scalar("mem", 1024), "quobyte"),
		allocated(scalar("mem", 8192), "quobyte"),
		allocated(scalar("disk", 500), "quobyte"),
		reserved(ports([2]uint64{7861, 7861}), "quobyte"),
		allocated(ports([2]uint64{7000, 8000}), "quobyte"),
	)
	a := launch("a1", "node1", spec.Registry, spec.Resources{CPUs: 2, Mem: 2048, Disk: 64}, 7861, 7871)
	got := match([]controller.Action{a}, []mesos.Offer{o})
	if len(got.Assigned) != 1 {
		t.Fatalf("not assigned: %+v", got.Unmatched)
	}
	rs := got.Assigned[0].Task
	if sum(rs, "cpus") != 2 || sum(rs, "mem") != 2048 || sum(rs, "disk") != 64 {
		t.Errorf("cpus/mem/disk = %v/%v/%v, want 2/2048/64", sum(rs, "cpus"), sum(rs, "mem"), sum(rs, "disk"))
	}
	if p := portsOf(rs); !reflect.DeepEqual(p, []uint64{7861, 7871}) {
		t.Errorf("ports = %v", p)
	}
	// Reserved first: all 1.5 reserved cpus, then 0.5 unreserved; all
	// 1024 reserved mem; port 7861 from the reservation.
	var resCPU, resMem float64
	for _, r := range rs {
		if r.AllocationInfo.GetRole() != "quobyte" {
			t.Errorf("%s lost its allocation info", r.Name)
		}
		if r.IsUnreserved() {
			continue
		}
		if r.ReservationRole() != "quobyte" || r.Reservations[0].GetPrincipal() != "ops" {
			t.Errorf("%s reservation changed: %+v", r.Name, r.Reservations)
		}
		switch r.Name {
		case "cpus":
			resCPU += r.Scalar.Value
		case "mem":
			resMem += r.Scalar.Value
		case "ports":
			if !reflect.DeepEqual(portsOf([]mesos.Resource{r}), []uint64{7861}) {
				t.Errorf("reserved ports = %v", portsOf([]mesos.Resource{r}))
			}
		}
	}
	if resCPU != 1.5 || resMem != 1024 {
		t.Errorf("reserved cpus/mem used = %v/%v, want 1.5/1024", resCPU, resMem)
	}
	for _, r := range rs {
		if err := r.Validate(); err != nil {
			t.Errorf("invalid resource %v: %v", r, err)
		}
	}
}

// Many small tasks on one offer take exactly what is there, to the last
// thousandth, and nothing more (no float drift).
func TestMatch_ExactExhaustion(t *testing.T) {
	o := offer("o1", "a1", "node1", scalar("cpus", 1), scalar("mem", 1000))
	var acts []controller.Action
	for range 11 {
		acts = append(acts, launch("a1", "node1", spec.API, spec.Resources{CPUs: 0.1, Mem: 100}))
	}
	got := match(acts, []mesos.Offer{o})
	if len(got.Assigned) != 10 || len(got.Unmatched) != 1 {
		t.Fatalf("assigned %d, unmatched %d; want 10 and 1", len(got.Assigned), len(got.Unmatched))
	}
	var all []mesos.Resource
	for _, a := range got.Assigned {
		all = append(all, a.Task...)
	}
	if sum(all, "cpus") != 1 || sum(all, "mem") != 1000 {
		t.Errorf("booked cpus/mem = %v/%v", sum(all, "cpus"), sum(all, "mem"))
	}
}

// The prober takes an executor share and a task share from one offer,
// and is not launched where its executor still runs.
func TestMatch_Prober(t *testing.T) {
	c := dockerCluster(t)
	a := launchProber("a1", "node1", c)
	got := match([]controller.Action{a}, []mesos.Offer{bigOffer("o1", "a1", "node1")})
	if len(got.Assigned) != 1 {
		t.Fatalf("unmatched: %+v", got.Unmatched)
	}
	as := got.Assigned[0]
	total := c.Prober.Resources
	if got := sum(as.Executor, "cpus") + sum(as.Task, "cpus"); toMilli(got) != toMilli(total.CPUs) {
		t.Errorf("prober cpus = %v, want %v", got, total.CPUs)
	}
	if sum(as.Executor, "mem") < 32 || sum(as.Task, "mem") <= 0 || sum(as.Task, "cpus") <= 0 || sum(as.Executor, "cpus") < 0.01 {
		t.Errorf("executor %v / task %v: both need cpus and mem", as.Executor, as.Task)
	}

	busy := bigOffer("o2", "a1", "node1")
	busy.ExecutorIDs = []mesos.ExecutorID{{Value: proberExecutorID(c.Prober.ConfigHash)}}
	got = match([]controller.Action{a}, []mesos.Offer{busy})
	if len(got.Unmatched) != 1 || !strings.Contains(got.Unmatched[0].Reason, "still runs on node1") {
		t.Errorf("prober matched although its executor runs: %+v", got)
	}
}

func TestSplitProberResources(t *testing.T) {
	for _, tt := range []struct {
		total, exec, task spec.Resources
	}{
		{spec.Resources{CPUs: 0.1, Mem: 64}, spec.Resources{CPUs: 0.09, Mem: 56}, spec.Resources{CPUs: 0.01, Mem: 8}},
		{spec.Resources{CPUs: 0.01, Mem: 16, Disk: 10}, spec.Resources{CPUs: 0.01, Mem: 32, Disk: 10}, spec.Resources{CPUs: 0.01, Mem: 8}},
	} {
		e, k := splitProberResources(tt.total)
		if e != tt.exec || k != tt.task {
			t.Errorf("split(%+v) = %+v, %+v; want %+v, %+v", tt.total, e, k, tt.exec, tt.task)
		}
	}
}

// An agent's offers are tried by offer ID, whatever order they come in.
func TestMatch_OffersOfAnAgentByID(t *testing.T) {
	one := spec.Resources{CPUs: 1, Mem: 100}
	small := func(id, agent string) mesos.Offer {
		return offer(id, agent, "node-"+agent, scalar("cpus", 1), scalar("mem", 100))
	}
	var acts []controller.Action
	for range 4 {
		acts = append(acts, launch("a1", "node-a1", spec.API, one))
	}
	got := match(acts, []mesos.Offer{small("o3", "a1"), small("o1", "a1"), small("x", "a2"), small("o4", "a1"), small("o2", "a1")})
	var offers []string
	for _, a := range got.Assigned {
		offers = append(offers, a.OfferID)
	}
	if want := []string{"o1", "o2", "o3", "o4"}; !reflect.DeepEqual(offers, want) {
		t.Errorf("assigned offers = %v, want %v", offers, want)
	}
}

// Ports booked one by one from inside the offered ranges (unsorted and
// overlapping as offered) split them more often than a pool has room
// for; each task gets its own resources, and the offers are not changed.
func TestMatch_ManyPortsOwnResourcesOffersUnchanged(t *testing.T) {
	makeOffers := func() []mesos.Offer {
		return []mesos.Offer{
			offer("o1", "a1", "node1", scalar("cpus", 16), scalar("mem", 16000), scalar("disk", 100),
				ports([2]uint64{8000, 9000}, [2]uint64{7000, 8000}, [2]uint64{7500, 7600})),
			bigOffer("o2", "a2", "node2"),
		}
	}
	offers := makeOffers()
	var acts []controller.Action
	for i := range 12 {
		acts = append(acts, launch("a1", "node1", spec.API, spec.Resources{CPUs: 1, Mem: 1000}, 7010+20*i, 8990-20*i))
	}
	acts = append(acts, launch("a2", "node2", spec.Data, spec.Resources{CPUs: 1, Mem: 1000}, 7863))
	got := match(acts, offers)
	if len(got.Assigned) != len(acts) {
		t.Fatalf("assigned %d of %d: %+v", len(got.Assigned), len(acts), got.Unmatched)
	}
	for i, as := range got.Assigned {
		want := []uint64{uint64(acts[i].Ports[0])}
		if len(acts[i].Ports) > 1 {
			want = append(want, uint64(acts[i].Ports[1]))
		}
		if p := portsOf(as.Task); !reflect.DeepEqual(p, want) {
			t.Errorf("task %d: ports %v, want %v", i, p, want)
		}
		if as.Action != &acts[i] {
			t.Errorf("task %d: assigned action %p, want the given one %p", i, as.Action, &acts[i])
		}
	}
	// No task's resources reach into another's: appending to one leaves
	// the next as it was, and no value is shared.
	next := append([]mesos.Resource(nil), got.Assigned[1].Task...)
	_ = append(got.Assigned[0].Task, scalar("cpus", 99))
	if !reflect.DeepEqual(got.Assigned[1].Task, next) {
		t.Errorf("appending to task 0's resources changed task 1's: %v", got.Assigned[1].Task)
	}
	values := map[any]bool{}
	for _, as := range got.Assigned {
		for _, r := range as.Task {
			v := any(r.Scalar)
			if r.Ranges != nil {
				v = r.Ranges
			}
			if values[v] {
				t.Errorf("value %v of %s handed out twice", v, r.Name)
			}
			values[v] = true
		}
	}
	if !reflect.DeepEqual(offers, makeOffers()) {
		t.Errorf("offers changed: %v", offers)
	}
}

// Launches waiting for their agents' first offers each say what they ask,
// the same as any other launch asking the same.
func TestMatch_NoOfferReasons(t *testing.T) {
	c := dockerCluster(t)
	data := spec.Resources{CPUs: 2, Mem: 4096, Disk: 64}
	acts := []controller.Action{
		launch("a1", "node1", spec.Data, data, 7863, 7873),
		launch("a2", "node2", spec.Metadata, data, 7862, 7872),
		launch("a3", "node3", spec.Data, data, 7863, 7873),
		launch("a4", "node4", spec.Data, data),
		launchProber("a5", "node5", c),
		launch("a6", "node6", spec.Data, spec.Resources{CPUs: 1, Mem: 4096, Disk: 64}, 7863, 7873),
	}
	got := match(acts, []mesos.Offer{bigOffer("o9", "a9", "node9")})
	want := []string{
		"no offer from node1 held yet (asks for cpus=2 mem=4096 disk=64 ports=7863,7873)",
		"no offer from node2 held yet (asks for cpus=2 mem=4096 disk=64 ports=7862,7872)",
		"no offer from node3 held yet (asks for cpus=2 mem=4096 disk=64 ports=7863,7873)",
		"no offer from node4 held yet (asks for cpus=2 mem=4096 disk=64)",
		"no offer from node5 held yet (asks for " + formatScalars(toMilli(c.Prober.Resources.CPUs), toMilli(c.Prober.Resources.Mem), toMilli(c.Prober.Resources.Disk)) + ")",
		"no offer from node6 held yet (asks for cpus=1 mem=4096 disk=64 ports=7863,7873)",
	}
	if len(got.Unmatched) != len(want) {
		t.Fatalf("unmatched %d, want %d", len(got.Unmatched), len(want))
	}
	for i, u := range got.Unmatched {
		if u.Reason != want[i] || !u.NoOffer || u.Action.AgentID != acts[i].AgentID {
			t.Errorf("unmatched %d = %q (no offer %v, agent %s), want %q", i, u.Reason, u.NoOffer, u.Action.AgentID, want[i])
		}
	}
}
