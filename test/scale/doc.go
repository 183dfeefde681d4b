// Package scale measures the framework at size: a fresh cluster's
// convergence after the probers report (target: at most three allocation
// intervals up to 5,000 agents; raised to 1.5 at 10,000 agents), and the
// memory its state takes at 10,000 agents and 40,000 tasks (target: under
// 200 MiB).
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
//	go test -run '^$' -bench Memory -benchtime 1x ./test/scale
//
// # Figures (2-core development machine, allocation interval 1s)
//
//	agents  T0 (s)  T1 (s)  (T1-T0)/interval
//	   200  3.2     5.2     2.02-2.16  (the test, also under -race)
//	 1,000  3.2     5.2     2.01
//	 5,000  3.8     6.2     2.36
//	10,000  6.0     12.4    6.38       (13.65 before the acknowledgement fix)
//
// The target of 3 is met up to 5,000 agents; 1.5 at 10,000 is missed
// (below). About one interval is the REVIVE that API and webconsole need (the planner starts them only once a
// registry runs, when the offers that carried the core launches are used);
// at 5,000 agents about a third of one is the sequential ACCEPT calls for
// 5,000 data launches.
//
// # 10,000 agents
//
// The first run at 10,000 agents took 13.65 intervals: the observer's
// acknowledgement queue (4,096, one sender) overflowed while 10,000
// probers and then 10,000 data services reported, and every dropped ack
// held its task's next update back by the agents' retry interval (10 s
// here). With a queue of 16,384 and 8 senders no ack is dropped and the
// run takes 6.38 intervals (T0 6.0 s, T1 12.4 s), spent so:
//
//   - ~1 s: the first plan after T0 waits for offers (the probers' ACCEPTs
//     filtered what was left of every agent; one REVIVE, one allocation);
//   - ~2.6 s: 10,000 data ACCEPTs, 8 at a time, CPU-bound here: the
//     simulated master and the framework share 2 busy cores in one process
//     (~200 us of CPU per call; actuate.BenchmarkApply_5000Accepts);
//   - ~1.4 s: API and webconsole start only once a registry runs, and their
//     plan comes after the data apply: one more REVIVE and allocation;
//   - ~0.8 s: the last data services turning healthy.
//
// Reaching 1.5 would need all three: the ACCEPTs on a master of its own
// (or fewer calls: one per agent is Mesos' minimum), API and webconsole
// launched with the first registries (the services retry until a
// registry answers; a policy change, not made here), and the data
// launches riding the offers that return after the probers' ACCEPTs
// (a short refuse filter on prober launches) rather than a REVIVE.
//
// # Memory
//
// BenchmarkMemory_10kAgents_40kTasks feeds an observer the events of a
// converged 10,000-agent cluster (offers held by an actuator, prober
// reports, a RUNNING healthy update of 40,000 tasks) and plans once: 49
// MiB of live heap, 92 MiB RSS for the whole test process (before the
// 10,000-agent round: 44 and 81 MiB; the snapshot's per-agent task
// lists, the kept index and the larger ack queue are the difference).
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
