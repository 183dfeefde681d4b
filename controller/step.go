package controller

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/observe/taskid"
	"github.com/quobyte/quobyte-mesos/spec"
)

// Default restart policy for items whose kind has none in the spec (the
// prober) or whose spec leaves a field zero.
const (
	defaultInitialDelay = 5 * time.Second
	defaultMaxDelay     = 5 * time.Minute
	defaultResetAfter   = 10 * time.Minute
)

// Backoff shape. Delays double from Restart.InitialDelay up to
// Restart.MaxDelay, then each is spread by ±jitterFactor so that items
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
	jitterFactor      = 0.2
)

// StepConfig configures a Step.
type StepConfig struct {
	// Now is the clock (default time.Now). Plans are made at Now(), not at
	// the snapshot's time: a periodic tick must see holds expire even when
	// no new snapshot came.
	Now func() time.Time
	// Random returns a number in [0, 1) for jitter (default: a private
	// source seeded at random). Tests pass a fixed one.
	Random func() float64
}

// maxPrevious bounds how many earlier specs a Step keeps for auto_revert.
const maxPrevious = 4

// Step is the synchronous middle layer of the controller: snapshot in,
// plan out, with the controller's memory between calls: per-item failures
// and their holds, probe requests, reverts, earlier specs. It is not safe
// for concurrent use; Loop calls it from one goroutine.
type Step struct {
	now    func() time.Time
	random func() float64
	items  map[string]*itemState
	// counted holds, per item, how many of the snapshot's failures
	// (snapshot.ItemHistory.Failures) have been counted already.
	counted map[string]int
	// probeAsked holds, per probe item, until when not to ask again.
	probeAsked map[string]time.Time
	// reverts are those of the last plan (Result.Reverts), by item.
	reverts map[string]Revert
	// current is the spec of the last plan; previous the ones before it,
	// newest first.
	current  *spec.Cluster
	previous []*spec.Cluster
	// ix is the index of the last snapshot planned, the next one's start.
	ix *index
}

// itemState is the failure memory of one item.
type itemState struct {
	kind string
	// config is the config hash that failed ("" for failures of no config).
	config   string
	failures int
	policy   *backoff.ExponentialBackOff
	until    time.Time
	lastErr  string
}

// NewStep returns a Step with no failures remembered.
func NewStep(cfg StepConfig) *Step {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Random == nil {
		cfg.Random = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())).Float64
	}
	return &Step{now: cfg.Now, random: cfg.Random, items: map[string]*itemState{}, counted: map[string]int{},
		probeAsked: map[string]time.Time{}, reverts: map[string]Revert{}}
}

// Next records the failures seen in s and in failed (the failed actions of
// the previous apply), forgets items that have run stably or whose config
// the spec changed, and plans for (c, s) at the clock's time. It returns
// the plan and the Input it was made from.
func (st *Step) Next(c *spec.Cluster, s *snapshot.Snapshot, failed []FailedAction) (Input, *Result) {
	now := st.now()
	if s.Time.After(now) {
		now = s.Time // never plan in the snapshot's past
	}
	st.rememberSpec(c)
	st.observeTaskFailures(c, s, now)
	for _, f := range failed {
		cfg := ""
		if f.Action.Type == Launch || f.Action.Type == LaunchProber {
			cfg = f.Action.ConfigHash
		}
		st.fail(c, f.Action.Kind, f.Action.Item(), cfg, now, fmt.Sprintf("%s %s on %s: %s", f.Action.Type, f.Action.Kind, f.Action.Hostname, f.Error))
	}
	st.forgetStable(c, s, now)
	st.forgetChanged(c)

	st.ix = indexFor(c, s, st.ix)
	in := Input{Spec: c, Snapshot: s, Now: now, Holds: st.holds(now), Reverts: st.reverts, Previous: st.previous, index: st.ix}
	r := Plan(in)
	for _, a := range r.Actions {
		if a.Type == Probe && c.Prober.Interval > 0 {
			st.probeAsked[a.Item()] = now.Add(c.Prober.Interval)
		}
	}
	st.reverts = make(map[string]Revert, len(r.Reverts))
	for _, rv := range r.Reverts {
		st.reverts[rv.Item] = rv
	}
	return in, r
}

// holds returns every remembered item's hold (whether its Until has passed
// or not: placement prefers agents where a kind has not failed), and the
// probe requests in force, pruning expired ones.
func (st *Step) holds(now time.Time) map[string]Hold {
	holds := make(map[string]Hold, len(st.items)+len(st.probeAsked))
	for k, it := range st.items {
		holds[k] = Hold{Failures: it.failures, Until: it.until, LastError: it.lastErr, Config: it.config}
	}
	for k, until := range st.probeAsked {
		switch {
		case !until.After(now):
			delete(st.probeAsked, k)
		case !holds[k].Until.After(until):
			holds[k] = Hold{Until: until}
		}
	}
	return holds
}

// rememberSpec keeps the specs in force before c, newest first, for
// auto_revert.
func (st *Step) rememberSpec(c *spec.Cluster) {
	if st.current != nil && st.current.Hash != c.Hash {
		prev := []*spec.Cluster{st.current}
		for _, p := range st.previous {
			if p.Hash != c.Hash && p.Hash != st.current.Hash && len(prev) < maxPrevious {
				prev = append(prev, p)
			}
		}
		st.previous = prev
	}
	st.current = c
}

// observeTaskFailures counts the task failures the observer recorded since
// the last call (snapshot.Snapshot.Items) as failures of their items; a
// failure of an instance of a kind that runs anywhere counts against the
// kind as a whole too (kindItem).
func (st *Step) observeTaskFailures(c *spec.Cluster, s *snapshot.Snapshot, now time.Time) {
	items := make([]string, 0, len(s.Items))
	for item := range s.Items {
		items = append(items, item)
	}
	sort.Strings(items) // the random source is drawn in a fixed order
	for _, item := range items {
		h := s.Items[item]
		n := h.Failures - st.counted[item]
		if n < 0 { // a new observer counts from zero
			n = h.Failures
		}
		st.counted[item] = h.Failures
		kind, _, _ := strings.Cut(item, "@")
		if kindIdx(kind) < 0 {
			continue
		}
		k := spec.Kind(kind)
		wholeKind := kind != taskid.ProberKind && !k.DeviceBound() && k != spec.Client
		for ; n > 0; n-- {
			st.fail(c, kind, item, h.Last.Config, now, h.Last.Describe())
			if wholeKind {
				st.fail(c, kind, kindItem(kind), h.Last.Config, now, h.Last.Describe())
			}
		}
	}
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

// fail records one failure of item (of config, "" when none) and sets its
// hold. A failure of another config than the remembered one starts afresh.
func (st *Step) fail(c *spec.Cluster, kind, item, config string, now time.Time, why string) {
	if item == "" {
		return
	}
	it := st.items[item]
	if it == nil || (config != "" && it.config != config) {
		r := restartPolicy(c, kind)
		it = &itemState{kind: kind, config: config, policy: backoff.NewExponentialBackOff(
			backoff.WithInitialInterval(r.InitialDelay),
			backoff.WithMaxInterval(r.MaxDelay),
			backoff.WithMultiplier(backoffMultiplier),
			backoff.WithRandomizationFactor(0),
			backoff.WithMaxElapsedTime(0), // never give up
			backoff.WithClockProvider(clockFunc(st.now)),
		)}
		st.items[item] = it
	}
	it.failures++
	it.lastErr = why
	it.until = now.Add(jitter(it.policy.NextBackOff(), st.random()))
}

// jitter spreads d by ±jitterFactor using r in [0, 1).
func jitter(d time.Duration, r float64) time.Duration {
	return time.Duration(float64(d) * (1 + jitterFactor*(2*r-1)))
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

// forgetChanged drops the memory of items whose failed config is no longer
// wanted: neither the spec's config for the kind nor the one a revert runs.
// A spec change thus clears the backoff of the items it changes (a version
// put back after a bad one starts at once).
func (st *Step) forgetChanged(c *spec.Cluster) {
	for item, it := range st.items { // deletion only: order irrelevant
		if it.config == "" || it.config == wantedConfig(c, it.kind) {
			continue
		}
		if rv, ok := st.reverts[item]; ok && rv.To == it.config {
			continue
		}
		delete(st.items, item)
	}
}

// wantedConfig is the config hash the spec wants for kind.
func wantedConfig(c *spec.Cluster, kind string) string {
	if kind == taskid.ProberKind {
		return proberConfigHash(c)
	}
	if svc := c.Service(spec.Kind(kind)); svc != nil {
		return svc.ConfigHash
	}
	return ""
}
