package scale

import (
	"context"
	"testing"
	"time"
)

// targetIntervals is the target: a fresh cluster converges within three
// allocation intervals after the probers report.
const targetIntervals = 3.0

// TestConverges_200Agents is the target at a size the default (-race) test
// run affords, at Mesos' default allocation interval of 1s (the framework's
// own delays are fixed in seconds, so a shorter interval would only make
// a miss look larger in intervals).
func TestConverges_200Agents(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 200 simulated agents")
	}
	res, err := run(context.Background(), options{
		Agents:             200,
		AllocationInterval: time.Second,
		Timeout:            50 * time.Second,
		Logf:               t.Logf,
		MarkDevice:         true,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res)
	if res.Intervals > targetIntervals {
		t.Errorf("converged %.2f allocation intervals after the probers reported, target at most %.0f", res.Intervals, targetIntervals)
	}
}

// BenchmarkConverge_1000Agents and BenchmarkConverge_5000Agents measure a
// fresh cluster's convergence at Mesos' default allocation interval of 1s.
// Each iteration is a whole cluster; run them with -benchtime 1x.
func BenchmarkConverge_1000Agents(b *testing.B) { benchConverge(b, 1000) }

func BenchmarkConverge_5000Agents(b *testing.B) { benchConverge(b, 5000) }

func BenchmarkConverge_10000Agents(b *testing.B) { benchConverge(b, 10000) }

func benchConverge(b *testing.B, agents int) {
	var intervals, toProbed, toConverged, mark float64
	for i := 0; i < b.N; i++ {
		res, err := run(context.Background(), options{
			Agents:             agents,
			AllocationInterval: time.Second,
			Timeout:            10 * time.Minute,
			Logf:               b.Logf,
			MarkDevice:         true,
		})
		if err != nil {
			b.Fatal(err)
		}
		b.Log(res)
		intervals += res.Intervals
		toProbed += res.Probed.Seconds()
		toConverged += res.Converged.Seconds()
		mark += res.MarkIntervals
	}
	n := float64(b.N)
	b.ReportMetric(intervals/n, "intervals")
	b.ReportMetric(toProbed/n, "s-to-T0")
	b.ReportMetric(toConverged/n, "s-to-T1")
	b.ReportMetric(mark/n, "mark-intervals")
	b.ReportMetric(0, "ns/op") // one op is a whole cluster: the metrics above say it
}
