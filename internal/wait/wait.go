// Package wait has the one way the framework's loops wait: a timer that a
// context's end (or a signal) cuts short. Retry loops in several packages
// (the Mesos subscription, ZooKeeper leader detection and election) share
// it rather than each keeping a copy.
package wait

import (
	"context"
	"time"
)

// Sleep waits d; it returns false, at once, when ctx ends first.
func Sleep(ctx context.Context, d time.Duration) bool { return SleepOrSignal(ctx, d, nil) }

// SleepOrSignal waits d, or until signal is closed (a nil signal never
// is); it returns false, at once, when ctx ends first.
func SleepOrSignal(ctx context.Context, d time.Duration, signal <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-signal:
		return true
	case <-ctx.Done():
		return false
	}
}
