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
	// 10,000-agent cluster after an update costs ~5-10 ms of CPU; a busy
	// event stream must not keep a core planning). Default 100ms.
	MinInterval time.Duration
	// Now is the clock (default time.Now). The loop's pacing reads it; it
	// waits with timers of the differences.
	Now func() time.Time
	// OnPlan, if set, sees every plan after it was applied, with what it was
	// made from and the apply's report (status page, metrics). It runs on
	// the loop's goroutine.
	OnPlan func(Input, *Result, ApplyReport)
	Logger hclog.Logger
}

// Loop is the thin goroutine shell around Step: it owns the timers and
// channels, and decides when to plan. Its ordering rules:
//
//  1. Events (a new snapshot, a spec reload, a tick, a requeue) only mark
//     work dirty; one iteration plans once for all of them.
//  2. Every iteration plans from the latest snapshot and the spec in force,
//     then applies that plan; a plan is never retried: after a failed or
//     half-done apply, the next iteration observes and plans again.
//  3. Failed actions are handed to the next Step, which backs off their
//     items; the loop then plans again at once (once), so the holds show.
//  4. An apply's RequeueAfter schedules the next plan then, if no news
//     comes first; every plan replaces the schedule with its own.
//  5. A panic in planning or applying is logged and the loop goes on.
type Loop struct {
	cfg  LoopConfig
	kick chan struct{}
	// failed are the failed actions of the last apply, for the next Step.
	failed []FailedAction
	last   atomic.Pointer[planned]
}

// planned is a plan with what it was made from.
type planned struct {
	in Input
	r  *Result
}

// NewLoop returns a loop; Run starts it.
func NewLoop(cfg LoopConfig) *Loop {
	if cfg.Tick <= 0 {
		cfg.Tick = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Step == nil {
		cfg.Step = NewStep(StepConfig{Now: cfg.Now})
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
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	dirty, retried := true, false
	var lastStart, requeueAt time.Time
	for {
		if dirty {
			if wait := l.cfg.MinInterval - l.cfg.Now().Sub(lastStart); wait > 0 {
				timer.Reset(wait)
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-timer.C:
				}
			}
			lastStart = l.cfg.Now()
			rep := l.iterate(ctx)
			requeueAt = time.Time{}
			if rep.RequeueAfter > 0 {
				requeueAt = lastStart.Add(rep.RequeueAfter)
			}
			// After failed actions, plan again at once (once: a kill that
			// keeps failing must not spin), so their holds take effect.
			if len(rep.Failed) > 0 && !retried && ctx.Err() == nil {
				retried = true
				continue
			}
			retried = false
		}
		next := lastStart.Add(l.cfg.Tick)
		if !requeueAt.IsZero() && requeueAt.Before(next) {
			next = requeueAt
		}
		timer.Reset(max(next.Sub(l.cfg.Now()), 0))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-l.cfg.Source.Changed():
		case <-l.kick:
		case <-timer.C:
		}
		dirty = true
	}
}

// iterate runs one plan-and-apply, recovering panics, and returns the
// apply's report.
func (l *Loop) iterate(ctx context.Context) (rep ApplyReport) {
	defer func() {
		if r := recover(); r != nil {
			l.cfg.Logger.Error("controller iteration panicked; continuing", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			rep = ApplyReport{}
		}
	}()
	if ctx.Err() != nil {
		return ApplyReport{}
	}
	_, rep = l.runOnce(ctx)
	return rep
}

// Last returns the last plan applied and what it was made from (a nil
// Result before the first). Safe to call from any goroutine; neither may
// be modified.
func (l *Loop) Last() (Input, *Result) {
	p := l.last.Load()
	if p == nil {
		return Input{}, nil
	}
	return p.in, p.r
}

// runOnce plans once from the latest snapshot and applies the plan. It
// returns the plan (nil without a snapshot or spec) and the apply's report.
// Only Run and tests call it: it is not safe beside Run.
func (l *Loop) runOnce(ctx context.Context) (*Result, ApplyReport) {
	c := l.cfg.Spec()
	s := l.cfg.Source.Latest()
	if c == nil || s == nil {
		return nil, ApplyReport{}
	}
	in, r := l.cfg.Step.Next(c, s, l.failed)
	rep := l.cfg.Applier.Apply(ctx, r)
	l.failed = rep.Failed
	l.last.Store(&planned{in: in, r: r})
	if l.cfg.OnPlan != nil {
		l.cfg.OnPlan(in, r, rep)
	}
	for _, f := range rep.Failed {
		l.cfg.Logger.Warn("action failed; its item backs off", "generation", r.Generation, "type", f.Action.Type,
			"kind", f.Action.Kind, "host", f.Action.Hostname, "item", f.Action.Item(), "error", f.Error)
	}
	for _, e := range rep.Errors {
		l.cfg.Logger.Warn("applying the plan", "generation", r.Generation, "error", e)
	}
	return r, rep
}
