// Package scale measures one performance target of the framework: "a fresh
// cluster converges in at most three allocation intervals after the probers
// report, whatever its size up to 5,000 agents".
//
// Its tests start the simulated Mesos master (test/mesossim, simulated
// mode) with N agents and the framework's composition root
// (cmd/quobyte-mesos/framework) in one process. The agents' runtime is the
// simulated one plus a stand-in for the prober executor, which answers a
// prober launch with the JSON probe.Report the real prober would send
// (DIR_DEVICE on three agents, METADATA_DEVICE on three others, DATA_DEVICE
// on all). A run measures
//
//	T0: the last agent's prober report reaches the framework's observer;
//	T1: the framework plans an empty plan while every wanted task runs
//	    healthy (N probers, 3 registries, 3 metadata, N data, 1 API,
//	    1 webconsole), each launched exactly once;
//
// and reports (T1-T0) / allocation interval, with a breakdown of where the
// time went (launch and RUNNING times per kind, REVIVE/SUPPRESS decisions).
//
// TestConverges_200Agents runs in the default test run (about 20s under
// -race). The larger sizes are benchmarks. All use Mesos' default
// allocation interval of 1s:
//
//	go test -run '^$' -bench Converge -benchtime 1x -timeout 30m ./test/scale
//
// # Figures (2-core development machine, allocation interval 1s, run's default 5s loop tick)
//
//	agents  T0 (s)   T1 (s)     (T1-T0)/interval
//	   200  3.0-3.1  15.2-16.1  12.1-13.1  (test, no -race)
//	 1,000  3.2      16.1-21.1  12.9-18.0
//	 5,000  3.9-4.0  16.2       12.2-12.3
//
// (With a 1s loop tick instead, an earlier version of this harness
// measured 9.9-12.1, 9.9-10.9 and 9.0-9.2.)
//
// The target (at most 3) is missed at every size, and the miss does not
// grow with the size: the time goes to waiting for REVIVEs, not to work.
// A run at 5,000 agents does about 2s of work after T0 (planning, matching,
// ~1s of sequential ACCEPT calls for 5,000 data launches); the rest is:
//
//   - After T0 the offers are gone: the prober launches' ACCEPTs (and,
//     when a plan ran while the reconciliation gate was shut, its DECLINEs)
//     filter the agents'
//     remaining resources for an hour (actuate.DefaultRefuseSeconds), so
//     every later launch needs a REVIVE.
//   - Two REVIVEs are needed: one for registry, metadata and data, and one
//     for API and webconsole, which the planner starts only once a registry
//     runs (by then the offers that carried the core launches are used).
//   - REVIVEs are at least actuate.DefaultReviveMinInterval (5s) apart, and
//     the first one of a run is spent at startup ("looking for new agents",
//     0.1s after subscribing, since offerState.suppressedAt is zero), so the
//     REVIVE the core services need waits too.
//   - A deferred REVIVE is retried only when the loop plans again: without
//     news that is its tick, also 5s. Tick and REVIVE spacing being equal,
//     whether a REVIVE waits 5s or 10s is decided by milliseconds (hence
//     12-18 intervals). Typical timeline: T0 3s, REVIVE 10s, core launched
//     11s, REVIVE 15s (or 20s), API/webconsole launched and T1 16s (or 21s).
//
// What-if, measured on a local copy (not committed): with
// DefaultReviveMinInterval = 1s (Mesos' default allocation interval)
// 200 agents converge in 2.16 intervals and 5,000 in 2.36, with two REVIVEs
// after T0; with 0, 2.16 and 2.30. At 5,000 agents about one interval of
// that is the ~1s of 5,000 sequential ACCEPT calls for the data launches.
package scale
