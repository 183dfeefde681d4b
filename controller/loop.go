package controller

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/spec"
)

// Source gives the latest snapshot and says when there is a newer one.
type Source interface {
	// Latest returns the newest snapshot, nil before the first.
	Latest() *snapshot.Snapshot
	// Changed receives (coalesced) whenever Latest has changed.
	Changed() <-chan struct{}
}

// SpecSource returns the spec in force. A SIGHUP reload swaps what it
// returns; the reloader then calls Loop.Kick.
type SpecSource func() *spec.Cluster

// Applier carries a plan out: it is the actuator in `run` and a recorder in
// tests and in the dry run. It returns an *ApplyError for actions that
// failed, so that only their items back off; any other error is logged.
type Applier interface {
	Apply(ctx context.Context, r *Result) error
}

// LoopConfig wires a Loop.
type LoopConfig struct {
	Spec    SpecSource
	Source  Source
	Applier Applier
	Step    *Step
	// Tick is the period of planning without news: backoff holds expire,
	// reports go stale, upgrades wait for time to pass. Default 5s.
	Tick time.Duration
	// MinInterval spaces plans when news comes faster (a plan of a
	// 10,000-agent cluster costs ~12 ms of CPU; a busy event stream must not
	// keep a core planning). Default 100ms.
	MinInterval time.Duration
	// OnPlan, if set, sees every plan after it was applied, with the apply
	// error (status page, metrics). It runs on the loop's goroutine.
	OnPlan func(*Result, error)
	Logger hclog.Logger
}

// Loop is the thin goroutine shell around Step: it owns the ticker and
// channels, and decides when to plan. Its ordering rules:
//
//  1. Events (a new snapshot, a spec reload, a tick) only mark work dirty;
//     one iteration plans once for all of them.
//  2. Every iteration plans from the latest snapshot and the spec in force,
//     then applies that plan; a plan is never retried: after a failed or
//     half-done apply, the next iteration observes and plans again.
//  3. Failed actions are handed to the next Step, which backs off their
//     items; the loop then plans again at once (once), so the holds show.
//  4. A panic in planning or applying is logged and the loop goes on.
type Loop struct {
	cfg  LoopConfig
	kick chan struct{}
	// failures of the last apply, for the next Step.
	failures []ActionError
	last     atomic.Pointer[Result]
	lastSnap atomic.Pointer[snapshot.Snapshot]
}

// NewLoop returns a loop; Run starts it.
func NewLoop(cfg LoopConfig) *Loop {
	if cfg.Tick <= 0 {
		cfg.Tick = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	if cfg.Step == nil {
		cfg.Step = NewStep(StepConfig{})
	}
	if cfg.MinInterval <= 0 {
		cfg.MinInterval = 100 * time.Millisecond
	}
	return &Loop{cfg: cfg, kick: make(chan struct{}, 1)}
}

// Kick asks for a plan soon (e.g. after a spec reload). It never blocks.
func (l *Loop) Kick() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// Run plans and applies until ctx ends, then returns ctx's error.
func (l *Loop) Run(ctx context.Context) error {
	ticker := time.NewTicker(l.cfg.Tick)
	defer ticker.Stop()
	dirty, retried := true, false
	var lastStart time.Time
	for {
		if dirty {
			if wait := l.cfg.MinInterval - time.Since(lastStart); wait > 0 {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(wait):
				}
			}
			lastStart = time.Now()
			// After failed actions, plan again at once (once: a kill that
			// keeps failing must not spin), so their holds take effect.
			if l.iterate(ctx) && !retried {
				retried = true
				continue
			}
			retried = false
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-l.cfg.Source.Changed():
		case <-l.kick:
		case <-ticker.C:
		}
		dirty = true
	}
}

// iterate runs one plan-and-apply, recovering panics. It reports whether
// actions failed, in which case the caller plans again at once.
func (l *Loop) iterate(ctx context.Context) (again bool) {
	defer func() {
		if r := recover(); r != nil {
			l.cfg.Logger.Error("controller iteration panicked; continuing", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			again = false
		}
	}()
	if ctx.Err() != nil {
		return false
	}
	_, failed := l.RunOnce(ctx)
	return failed > 0 && ctx.Err() == nil
}

// LastPlan returns the last plan applied (nil before the first). Safe to
// call from any goroutine; the plan must not be modified.
func (l *Loop) LastPlan() *Result { return l.last.Load() }

// LastPlanned returns the snapshot the last plan was made from, with the
// backoff holds in force then (nil before the first). Safe to call from any
// goroutine; it must not be modified.
func (l *Loop) LastPlanned() *snapshot.Snapshot { return l.lastSnap.Load() }

// RunOnce plans once from the latest snapshot and applies the plan. It
// returns the plan (nil without a snapshot or spec) and how many actions
// failed. Tests and the status page's dry run drive the loop through it.
func (l *Loop) RunOnce(ctx context.Context) (*Result, int) {
	c := l.cfg.Spec()
	s := l.cfg.Source.Latest()
	if c == nil || s == nil {
		return nil, 0
	}
	r := l.cfg.Step.Next(c, s, l.failures)
	l.lastSnap.Store(l.cfg.Step.Planned())
	l.failures = nil
	err := l.cfg.Applier.Apply(ctx, r)
	l.last.Store(r)
	if l.cfg.OnPlan != nil {
		l.cfg.OnPlan(r, err)
	}
	if err != nil {
		l.failures = actionErrors(err)
		l.cfg.Logger.Warn("applying the plan failed", "generation", r.Generation, "failed_actions", len(l.failures), "error", err)
		return r, len(l.failures)
	}
	return r, 0
}
