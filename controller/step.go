package controller

import (
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/spec"
)

// Clock tells the time. The loop's is the wall clock; tests advance their own.
type Clock interface {
	Now() time.Time
}

// WallClock is the real clock.
type WallClock struct{}

// Now returns the wall-clock time.
func (WallClock) Now() time.Time { return time.Now() }

// ActionError is the failure of one action when a plan was applied. An
// Applier returns them inside an *ApplyError, so the loop can back off the
// failed items and no others.
type ActionError struct {
	Action Action
	Err    error
}

func (e ActionError) Error() string {
	return fmt.Sprintf("%s %s on %s: %v", e.Action.Type, e.Action.Kind, e.Action.Hostname, e.Err)
}

func (e ActionError) Unwrap() error { return e.Err }

// ApplyError collects the actions of a plan that failed. Actions not listed
// are taken as done (or under way).
type ApplyError struct {
	Failed []ActionError
}

func (e *ApplyError) Error() string {
	if len(e.Failed) == 1 {
		return "apply: " + e.Failed[0].Error()
	}
	return fmt.Sprintf("apply: %d actions failed, first: %v", len(e.Failed), e.Failed[0])
}

// Default restart policy for items whose kind has none in the spec (the
// prober) or whose spec leaves a field zero.
const (
	defaultInitialDelay = 5 * time.Second
	defaultMaxDelay     = 5 * time.Minute
	defaultResetAfter   = 10 * time.Minute
)

// Backoff shape. Delays double from Restart.InitialDelay up to
// Restart.MaxDelay, then each is spread by ±JitterFactor so that items
// failing together do not retry together. With InitialDelay 5s, MaxDelay 5m:
//
//	failure   1    2    3    4    5    6    7...
//	delay     5s   10s  20s  40s  80s  160s 300s (each ±20%)
//
// backoff/v4 computes the unjittered sequence (its own randomization is off
// because it reads the global random source); the jitter is applied here
// with the injected random function, so tests are deterministic.
const (
	backoffMultiplier = 2.0
	JitterFactor      = 0.2
)

// StepConfig configures a Step.
type StepConfig struct {
	// Clock is the time source (default WallClock{}). Plans are made at
	// Clock.Now(), not at the snapshot's time: a periodic tick must see
	// holds expire even when no new snapshot came.
	Clock Clock
	// Random returns a number in [0, 1) for jitter (default: 0.5, i.e. no
	// jitter). Production passes rand.Float64 of a private source.
	Random func() float64
}

// Step is the synchronous middle layer of the controller: snapshot in,
// plan out, with the per-item failure memory between calls. It is not
// safe for concurrent use; Loop calls it from one goroutine.
type Step struct {
	clock  Clock
	random func() float64
	items  map[string]*itemState
	// counted holds IDs of failed tasks already counted, so a terminal task
	// seen in many snapshots is one failure.
	counted map[string]bool
	// probeAsked holds, per probe item, until when not to ask again.
	probeAsked map[string]time.Time
	// planned is the snapshot the last Next planned from.
	planned *snapshot.Snapshot
}

// itemState is the failure memory of one item.
type itemState struct {
	kind     string
	failures int
	policy   *backoff.ExponentialBackOff
	until    time.Time
	lastErr  string
}

// Planned returns the snapshot the last Next planned from: the observed one
// with the holds (backoffs) and time of that plan. Nil before the first.
func (st *Step) Planned() *snapshot.Snapshot { return st.planned }

// NewStep returns a Step with no failures remembered.
func NewStep(cfg StepConfig) *Step {
	if cfg.Clock == nil {
		cfg.Clock = WallClock{}
	}
	if cfg.Random == nil {
		cfg.Random = func() float64 { return 0.5 }
	}
	return &Step{clock: cfg.Clock, random: cfg.Random, items: map[string]*itemState{}, counted: map[string]bool{},
		probeAsked: map[string]time.Time{}}
}

// Next records the failures seen in s and in applyFailures (the failed
// actions of the previous apply), forgets items that have run stably, and
// returns the plan for (c, s) at the clock's time with the current holds.
func (st *Step) Next(c *spec.Cluster, s *snapshot.Snapshot, applyFailures []ActionError) *Result {
	now := st.clock.Now()
	if s.Time.After(now) {
		now = s.Time // never plan in the snapshot's past
	}
	st.observeTaskFailures(c, s, now)
	for _, f := range applyFailures {
		st.fail(c, f.Action.Kind, f.Action.Item, now, f.Error())
	}
	st.forgetStable(c, s, now)

	holds := make(map[string]snapshot.Backoff, len(s.Backoffs)+len(st.items))
	for k, b := range s.Backoffs {
		holds[k] = b
	}
	for k, it := range st.items {
		if it.until.After(now) {
			holds[k] = snapshot.Backoff{Failures: it.failures, Until: it.until, LastError: it.lastErr}
		}
	}
	for k, until := range st.probeAsked {
		switch {
		case !until.After(now):
			delete(st.probeAsked, k)
		case !holds[k].Until.After(until):
			holds[k] = snapshot.Backoff{Until: until}
		}
	}
	planned := s.WithBackoffs(holds)
	planned.Time = now // planned is a copy; s is untouched
	st.planned = planned
	r := Plan(c, planned)
	for _, a := range r.Actions {
		if a.Type == Probe && c.Prober.Interval > 0 {
			st.probeAsked[a.Item] = now.Add(c.Prober.Interval)
		}
	}
	return r
}

// failedState reports whether a task that ended in state ts without a kill
// from us failed: a service is never meant to end, so FINISHED counts, and
// so does KILLED (Mesos kills a task that fails its health check). GONE
// does not: the agent was removed, which says nothing about the service.
func failedState(ts snapshot.TaskState) bool {
	switch ts {
	case snapshot.Failed, snapshot.Error, snapshot.Lost, snapshot.Dropped, snapshot.Finished, snapshot.Killed:
		return true
	}
	return false
}

// observeTaskFailures counts each task that failed since the last call
// as a failure of its item (kind on agent).
func (st *Step) observeTaskFailures(c *spec.Cluster, s *snapshot.Snapshot, now time.Time) {
	seen := make(map[string]bool, len(st.counted))
	for _, t := range s.Tasks {
		if kindIdx(t.Kind) < 0 || !failedState(t.State) || !t.KillSent.IsZero() {
			continue
		}
		seen[t.ID] = true
		if st.counted[t.ID] {
			continue
		}
		why := fmt.Sprintf("task %s %s", t.ID, t.State)
		if t.Reason != "" {
			why += " (" + t.Reason + ")"
		}
		if t.Message != "" {
			why += ": " + t.Message
		}
		st.fail(c, t.Kind, snapshot.ItemKey(t.Kind, t.AgentID), now, why)
	}
	st.counted = seen // forget tasks the observer has dropped
}

func restartPolicy(c *spec.Cluster, kind string) spec.Restart {
	var r spec.Restart
	if svc := c.Service(spec.Kind(kind)); svc != nil {
		r = svc.Restart
	}
	if r.InitialDelay <= 0 {
		r.InitialDelay = defaultInitialDelay
	}
	if r.MaxDelay < r.InitialDelay {
		r.MaxDelay = max(defaultMaxDelay, r.InitialDelay)
	}
	if r.ResetAfter <= 0 {
		r.ResetAfter = defaultResetAfter
	}
	return r
}

// clockFunc adapts the Step's clock for backoff/v4.
type clockFunc func() time.Time

func (f clockFunc) Now() time.Time { return f() }

// fail records one failure of item and sets its hold.
func (st *Step) fail(c *spec.Cluster, kind, item string, now time.Time, why string) {
	if item == "" {
		return
	}
	it := st.items[item]
	if it == nil {
		r := restartPolicy(c, kind)
		it = &itemState{kind: kind, policy: backoff.NewExponentialBackOff(
			backoff.WithInitialInterval(r.InitialDelay),
			backoff.WithMaxInterval(r.MaxDelay),
			backoff.WithMultiplier(backoffMultiplier),
			backoff.WithRandomizationFactor(0),
			backoff.WithMaxElapsedTime(0), // never give up
			backoff.WithClockProvider(clockFunc(st.clock.Now)),
		)}
		st.items[item] = it
	}
	it.failures++
	it.lastErr = why
	it.until = now.Add(jitter(it.policy.NextBackOff(), st.random()))
}

// jitter spreads d by ±JitterFactor using r in [0, 1).
func jitter(d time.Duration, r float64) time.Duration {
	return time.Duration(float64(d) * (1 + JitterFactor*(2*r-1)))
}

// forgetStable drops the memory of items that have been fine for the
// kind's Restart.ResetAfter: a task of the item running that long, or no
// failure for that long after the hold ended (the item may not be wanted
// any more).
func (st *Step) forgetStable(c *spec.Cluster, s *snapshot.Snapshot, now time.Time) {
	if len(st.items) == 0 {
		return
	}
	for _, t := range s.Tasks {
		if t.State != snapshot.Running || t.RunningSince.IsZero() {
			continue
		}
		item := snapshot.ItemKey(t.Kind, t.AgentID)
		if it := st.items[item]; it != nil && now.Sub(t.RunningSince) >= restartPolicy(c, it.kind).ResetAfter {
			delete(st.items, item)
		}
	}
	for item, it := range st.items { // deletion only: order irrelevant
		if now.Sub(it.until) >= restartPolicy(c, it.kind).ResetAfter {
			delete(st.items, item)
		}
	}
}

// Holds returns the items currently backing off, sorted, for status pages.
func (st *Step) Holds() []string {
	out := make([]string, 0, len(st.items))
	for k := range st.items {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// actionErrors extracts per-action failures from an Apply error.
func actionErrors(err error) []ActionError {
	var ae *ApplyError
	if errors.As(err, &ae) {
		return ae.Failed
	}
	return nil
}
