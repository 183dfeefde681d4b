// Package benchcpu reports what a benchmark costs in CPU time of the thread
// that runs it. On a shared, busy machine wall time measures the
// neighbours; the thread's own CPU time (user+system, GC work done by other
// threads excluded) stays put, so before-and-after figures taken hours
// apart, or interleaved with other people's builds, can be compared.
package benchcpu

import (
	"runtime"
	"testing"
)

// Start locks the calling goroutine to its OS thread and notes the
// thread's CPU time. The returned stop reports the CPU time since then per
// b.N operation as "cpu-ms/op" (on Linux only: elsewhere nothing is
// reported) and unlocks the thread. Call Start after the setup, right
// before the loop, and stop right after it.
func Start(b *testing.B) (stop func()) {
	runtime.LockOSThread()
	t0, ok := threadCPU()
	return func() {
		t1, ok1 := threadCPU()
		runtime.UnlockOSThread()
		if ok && ok1 && b.N > 0 {
			b.ReportMetric(float64(t1-t0)/float64(b.N)/1e6, "cpu-ms/op")
		}
	}
}
