// Package scale measures one performance target of the framework: "a fresh
// cluster converges in at most three allocation intervals after the probers
// report, whatever its size up to 5,000 agents".
//
// Its tests start the simulated Mesos master (test/mesossim, simulated
// mode) with N agents and the framework's composition root
// (cmd/quobyte-mesos/framework) in one process. The agents run the simulated
// runtime; its ExecutorData hook stands in for the prober executor and
// answers a prober launch with the JSON probe.Report the real prober would send
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
// # Figures (2-core development machine, allocation interval 1s)
//
//	agents  T0 (s)  T1 (s)  (T1-T0)/interval
//	   200  3.2     5.2     2.02-2.16  (the test, also under -race)
//	 1,000  3.2     5.2     2.01
//	 5,000  3.8     6.2     2.36
//
// The target (at most 3) is met at every size. About one interval is the
// REVIVE that API and webconsole need (the planner starts them only once a
// registry runs, when the offers that carried the core launches are used);
// at 5,000 agents about a third of one is the sequential ACCEPT calls for
// 5,000 data launches.
//
// # History
//
// This harness first measured 12-18 intervals at every size: the time went
// to waiting for REVIVEs, not to work. Every ACCEPT and DECLINE filters an
// agent's remaining resources for an hour, so each later launch needs a
// REVIVE; REVIVEs were spaced 5s apart; a deferred REVIVE was retried only
// at the loop's next plan (its 5s tick when nothing happens); the first
// REVIVE of a run was spent at startup by the discovery REVIVE; and offers
// declined before reconciliation were refused for an hour. The fixes:
// REVIVEs 1s apart (actuate.DefaultReviveMinInterval), a re-plan scheduled
// for when a deferred REVIVE may go (cmd/quobyte-mesos/framework), the
// discovery REVIVE only while suppressed, and short decline filters and no
// SUPPRESS while the plan is gated on reconciliation (controller.Result.Gated).
package scale
