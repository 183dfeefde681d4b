package actuate

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mesos/mesos-go/api/v1/lib/scheduler"

	"github.com/quobyte/quobyte-mesos/controller"
	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/spec"
)

var _ controller.Applier = (*LoopApplier)(nil)

func TestLoopApplier(t *testing.T) {
	c := dockerCluster(t)
	s := snapshot.New(1, time.Unix(1, 0), snapshot.Subscription{},
		[]*snapshot.Agent{{ID: "a1", Hostname: "node1"}},
		[]*snapshot.Task{{ID: "r1", Kind: "registry", AgentID: "a1", State: snapshot.Running}}, nil)
	rec := &Recorder{}
	var reports []Report
	l := &LoopApplier{Applier: rec, Spec: func() *spec.Cluster { return c }, Snapshot: func() *snapshot.Snapshot { return s },
		OnReport: func(r Report) { reports = append(reports, r) }}
	plan := &controller.Result{Generation: 4, SpecHash: c.Hash, Actions: []controller.Action{dataAction("a1", "node1")}}
	if err := l.Apply(context.Background(), plan); err != nil {
		t.Fatal(err)
	}
	if got := rec.Applied(); len(got) != 1 || got[0].RegistryAddrs != "node1:7861" || len(reports) != 1 {
		t.Errorf("applied %+v, reports %d", got, len(reports))
	}

	rec.Err = errors.New("boom")
	err := l.Apply(context.Background(), plan)
	var ae *controller.ApplyError
	if !errors.As(err, &ae) || len(ae.Failed) != 1 || ae.Failed[0].Action.Item != "data@a1" || ae.Failed[0].Err != rec.Err {
		t.Errorf("err = %v", err)
	}
}

// A plan made from another spec is not applied: its config hashes would
// not match the TaskInfos built from the spec in force.
func TestApply_StaleSpecNotApplied(t *testing.T) {
	r := newRig(t)
	_, err := r.act.Apply(context.Background(), &controller.Result{SpecHash: "other", Actions: []controller.Action{dataAction("a1", "node1")}}, r.c, "")
	if err == nil || len(ItemErrors(err)) != 0 || len(r.calls.Calls()) != 0 {
		t.Errorf("err = %v, calls %v", err, r.types())
	}
	if len(r.calls.OfType(scheduler.Call_REVIVE)) != 0 {
		t.Error("revived for a stale plan")
	}
}
