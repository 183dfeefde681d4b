package chaos

import (
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
)

// Table renders the figures of a set of runs: one line per seed, then the
// faults injected by kind, the checks made by invariant, the violations and
// the slowest convergence after the faults stopped.
func Table(results []Result) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "seed\tfaults\tskipped\tchecks\tviolations\tsettle (intervals)\tlaunches\tkills\tcalls\tstale calls\tpeak heap MiB\t")
	faults, checks := map[string]int{}, map[string]int{}
	var total Result
	slowest, slowSeed, failedToSettle := -1.0, int64(0), 0
	for _, r := range results {
		nf, ns, nc := 0, 0, 0
		for k, n := range r.Faults {
			faults[string(k)] += n
			nf += n
		}
		for _, n := range r.Skipped {
			ns += n
		}
		for k, n := range r.Checks {
			checks[k] += n
			nc += n
		}
		settle := fmt.Sprintf("%.1f", r.SettleIntervals())
		if r.Settle < 0 {
			settle = "-"
			failedToSettle++
		} else if r.SettleIntervals() > slowest {
			slowest, slowSeed = r.SettleIntervals(), r.Seed
		}
		fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%d\t%s\t%d\t%d\t%d\t%d\t%d\t\n", r.Seed, nf, ns, nc, len(r.Violations), settle,
			r.Launches, r.Kills, r.Calls, r.Stale, r.PeakHeap>>20)
		total.Violations = append(total.Violations, r.Violations...)
		total.Launches += r.Launches
		total.Kills += r.Kills
		total.Calls += r.Calls
		total.PeakHeap = max(total.PeakHeap, r.PeakHeap)
	}
	tw.Flush()
	nf, nc := 0, 0
	for _, n := range faults {
		nf += n
	}
	for _, n := range checks {
		nc += n
	}
	fmt.Fprintf(&b, "\n%d seeds, %d faults injected, %d invariant checks, %d violations, %d launches, %d kills, %d scheduler calls, peak heap %d MiB\n",
		len(results), nf, nc, len(total.Violations), total.Launches, total.Kills, total.Calls, total.PeakHeap>>20)
	if slowest >= 0 {
		fmt.Fprintf(&b, "slowest convergence after the faults stopped: %.1f allocation intervals (seed %d; bound %d)\n", slowest, slowSeed, SettleBound)
	}
	if failedToSettle > 0 {
		fmt.Fprintf(&b, "%d run(s) did not converge within the bound\n", failedToSettle)
	}
	fmt.Fprintf(&b, "faults by kind: %s\n", counts(faults))
	fmt.Fprintf(&b, "checks by invariant: %s\n", counts(checks))
	return b.String()
}

func counts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}
