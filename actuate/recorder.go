package actuate

import (
	"context"
	"fmt"
	"sync"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"

	"github.com/quobyte/quobyte-mesos/controller"
	"github.com/quobyte/quobyte-mesos/spec"
)

// Recorded is one plan a Recorder was asked to apply.
type Recorded struct {
	Generation    uint64
	SpecHash      string
	RegistryAddrs string
	Actions       []controller.Action
}

// Recorder is an Applier that sends nothing: it records each plan and
// reports what an Actuator would have been asked to do (launches without
// task or offer IDs: those exist only when a real offer is taken). The dry
// run (`plan`) and the controller loop's tests use it.
type Recorder struct {
	mu      sync.Mutex
	applied []Recorded
	// Err, if set, is returned by Apply (as the error of every action's
	// item), to test how a caller handles failures.
	Err error
}

// Apply records plan.
func (r *Recorder) Apply(ctx context.Context, plan *controller.Result, c *spec.Cluster, registryAddrs string) (Report, error) {
	if plan == nil || c == nil {
		return Report{}, fmt.Errorf("apply: plan and spec are required")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.applied = append(r.applied, Recorded{
		Generation: plan.Generation, SpecHash: c.Hash, RegistryAddrs: registryAddrs,
		Actions: append([]controller.Action(nil), plan.Actions...),
	})
	rep := Report{Generation: plan.Generation, DryRun: true}
	for _, a := range plan.Actions {
		switch a.Type {
		case controller.Launch, controller.LaunchProber:
			rep.Launched = append(rep.Launched, LaunchedTask{AgentID: a.AgentID, Hostname: a.Hostname, Kind: a.Kind,
				ConfigHash: a.ConfigHash, Item: a.Item, Reason: a.Reason})
		case controller.Kill:
			rep.Killed = append(rep.Killed, taskRef(a))
		case controller.Probe:
			rep.Probed = append(rep.Probed, taskRef(a))
		}
		if r.Err != nil {
			rep.Errors = append(rep.Errors, &ItemError{Item: a.Item, Type: a.Type, TaskID: a.TaskID, Err: r.Err, Action: a})
		}
	}
	if err := errorsOf(rep.Errors, nil); err != nil {
		return rep, fmt.Errorf("apply generation %d: %w", plan.Generation, err)
	}
	return rep, nil
}

// Applied returns the plans recorded so far, oldest first.
func (r *Recorder) Applied() []Recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Recorded(nil), r.applied...)
}

// CallRecorder is a calls.Caller that records calls instead of sending
// them. Fail, if set, decides the error of each call (nil: success).
type CallRecorder struct {
	mu    sync.Mutex
	calls []*scheduler.Call
	Fail  func(*scheduler.Call) error
}

// Call records c and answers as Fail says.
func (r *CallRecorder) Call(ctx context.Context, c *scheduler.Call) (mesos.Response, error) {
	r.mu.Lock()
	r.calls = append(r.calls, c)
	fail := r.Fail
	r.mu.Unlock()
	if fail != nil {
		if err := fail(c); err != nil {
			return nil, err
		}
	}
	return nil, ctx.Err()
}

// Calls returns the recorded calls, oldest first.
func (r *CallRecorder) Calls() []*scheduler.Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*scheduler.Call(nil), r.calls...)
}

// OfType returns the recorded calls of type t.
func (r *CallRecorder) OfType(t scheduler.Call_Type) []*scheduler.Call {
	var out []*scheduler.Call
	for _, c := range r.Calls() {
		if c.Type == t {
			out = append(out, c)
		}
	}
	return out
}

// Reset forgets the recorded calls.
func (r *CallRecorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = nil
}
