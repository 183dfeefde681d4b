package actuate

import (
	"context"
	"errors"
	"fmt"

	"github.com/quobyte/quobyte-mesos/controller"
	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/spec"
)

// LoopApplier adapts an Applier (Actuator or Recorder) to the controller
// loop's controller.Applier: it fetches the spec in force and derives
// QUOBYTE_REGISTRY from the latest snapshot for every plan, and turns
// failed actions into a *controller.ApplyError so that only their items
// back off.
type LoopApplier struct {
	Applier Applier
	// Spec returns the spec in force (the loop's SpecSource). A plan made
	// from another spec is not applied (Actuator.Apply checks the hash).
	Spec func() *spec.Cluster
	// Snapshot returns the latest snapshot (the loop's Source.Latest).
	Snapshot func() *snapshot.Snapshot
	// OnReport, if set, receives every report (status API, metrics).
	OnReport func(Report)
}

// Apply implements controller.Applier.
func (l *LoopApplier) Apply(ctx context.Context, r *controller.Result) error {
	c := l.Spec()
	if c == nil {
		return fmt.Errorf("apply generation %d: no spec", r.Generation)
	}
	var s *snapshot.Snapshot
	if l.Snapshot != nil {
		s = l.Snapshot()
	}
	rep, err := l.Applier.Apply(ctx, r, c, RegistryAddrs(c, s))
	if l.OnReport != nil {
		l.OnReport(rep)
	}
	return ToApplyError(err)
}

// ToApplyError returns err with its item errors gathered into one
// *controller.ApplyError (found by errors.As), joined with err itself so
// that nothing it says is lost. It returns err unchanged when it holds no
// item errors.
func ToApplyError(err error) error {
	items := ItemErrors(err)
	if len(items) == 0 {
		return err
	}
	ae := &controller.ApplyError{Failed: make([]controller.ActionError, len(items))}
	for i, ie := range items {
		ae.Failed[i] = controller.ActionError{Action: ie.Action, Err: ie.Err}
	}
	return errors.Join(ae, err)
}
