package benchcpu

import (
	"syscall"
	"time"
)

// rusageThread is Linux's RUSAGE_THREAD (not exported by package syscall).
const rusageThread = 1

// threadCPU returns the CPU time (user+system) the calling OS thread has
// used. Benchmarks lock their goroutine to its thread and report this per
// operation: on a shared, busy machine wall time measures the neighbours.
func threadCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
