package chaos

import (
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
)

// healthState is Mesos' health checker for one task (as
// test/mesossim/agentrt/health.go runs it against real processes): the
// first check after delay_seconds, then every interval_seconds; failures
// within grace_period_seconds of the launch are ignored until the first
// success; every failure after that is reported (healthy=false), a success
// only when the task turns healthy; after consecutive_failures failures in
// a row the task is killed (TASK_KILLED, healthy=false).
type healthState struct {
	delay, interval, grace time.Duration
	maxFailures            uint32
	start                  time.Time
	healthy, succeeded     bool
	failures               uint32
}

func newHealthState(hc mesos.HealthCheck, now time.Time) *healthState {
	h := &healthState{
		delay:       seconds(hc.GetDelaySeconds()),
		interval:    seconds(hc.GetIntervalSeconds()),
		grace:       seconds(hc.GetGracePeriodSeconds()),
		maxFailures: hc.GetConsecutiveFailures(),
		start:       now,
	}
	if h.interval <= 0 {
		h.interval = 10 * time.Second // Mesos' default
	}
	return h
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// scheduleCheck runs the task's next health check after d.
func (rt *agentRuntime) scheduleCheck(t *gtask, d time.Duration) {
	time.AfterFunc(d, func() {
		w := rt.w
		w.mu.Lock()
		defer w.mu.Unlock()
		if rt.closed || !t.ended.IsZero() || !t.killed.IsZero() {
			return
		}
		now := w.now()
		ok := w.evaluate(t, now)
		t.setServing(now, ok)
		h := t.hc
		reason := mesos.REASON_TASK_HEALTH_CHECK_STATUS_UPDATED.Enum()
		switch {
		case ok:
			h.succeeded, h.failures = true, 0
			if !h.healthy {
				h.healthy = true
				rt.enqueueStatus(t, mesos.TASK_RUNNING, boolPtr(true), reason, "")
			}
		case !h.succeeded && now.Sub(h.start) <= h.grace:
			// ignored within the grace period
		default:
			h.failures++
			h.healthy = false
			rt.enqueueStatus(t, mesos.TASK_RUNNING, boolPtr(false), reason, "")
			if h.maxFailures > 0 && h.failures >= h.maxFailures {
				t.killed, t.healthKill = now, true
				rt.stop(t, killGrace, boolPtr(false))
				return
			}
		}
		rt.scheduleCheck(t, h.interval)
	})
}

func boolPtr(b bool) *bool { return &b }
