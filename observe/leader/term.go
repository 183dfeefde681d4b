package leader

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrNotLeader is what Term.Check returns once the term is over or its
// lease has run out.
var ErrNotLeader = errors.New("not the leader")

// ErrResigned ends a term given up on purpose (the instance is stopping).
var ErrResigned = errors.New("leadership given up: this instance is stopping")

// Term is one leadership of this instance: from winning the election until
// the lease runs out, the session or node is lost, or the instance resigns.
type Term struct {
	// Session is the ZooKeeper session the term was won in; Node the
	// election node.
	Session int64
	Node    string
	// Won is when the election was won.
	Won time.Time

	ctx    context.Context
	cancel context.CancelCauseFunc
	// lapsed is the cause a term ends with when its lease runs out.
	lapsed error

	mu    sync.Mutex
	lease time.Time // carries a monotonic reading: immune to wall-clock jumps
}

func newTerm(session int64, node string, won, lease time.Time, timeout time.Duration) *Term {
	ctx, cancel := context.WithCancelCause(context.Background())
	lapsed := fmt.Errorf("lease ran out: no answer from ZooKeeper for %s (half the session timeout %s), so the session may have expired and another instance may lead",
		timeout/leaseFraction, timeout)
	return &Term{Session: session, Node: node, Won: won, ctx: ctx, cancel: cancel, lapsed: lapsed, lease: lease}
}

// Check returns nil while this instance may act: the term has not ended and
// its lease still runs. Ask it right before every request to Mesos. Once it
// has returned an error it never returns nil again.
func (t *Term) Check() error {
	if err := context.Cause(t.ctx); err != nil {
		return fmt.Errorf("%w: %w", ErrNotLeader, err)
	}
	t.mu.Lock()
	lease := t.lease
	t.mu.Unlock()
	if !time.Now().Before(lease) {
		// The lease keeper ends the term on its timer; a check that comes
		// first must not wait for it.
		t.end(t.lapsed)
		return fmt.Errorf("%w: %w", ErrNotLeader, context.Cause(t.ctx))
	}
	return nil
}

// Context ends when the term does; everything a leader runs should use it.
func (t *Term) Context() context.Context { return t.ctx }

// Done is closed when the term ends.
func (t *Term) Done() <-chan struct{} { return t.ctx.Done() }

// Err says why the term ended (nil while it lasts).
func (t *Term) Err() error { return context.Cause(t.ctx) }

// Lease is when the lease runs out unless renewed.
func (t *Term) Lease() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lease
}

// extend moves the lease to until if that is later (never back).
func (t *Term) extend(until time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if until.After(t.lease) {
		t.lease = until
	}
}

// end ends the term with cause; only the first cause counts.
func (t *Term) end(cause error) { t.cancel(cause) }
