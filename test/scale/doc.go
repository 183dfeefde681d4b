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
// -race): it checks that the cluster converges with every service launched
// once, and fails only beyond a guard of 12 intervals, because make test
// runs it beside the other packages on loaded machines. The figures against
// the target are the benchmarks' (200 agents and up), which also report
// the marked device's time as mark-intervals. All use Mesos'
// default allocation interval of 1s:
//
//	go test -run '^$' -bench Converge -benchtime 1x -timeout 30m ./test/scale
//	go test -run '^$' -bench Memory -benchtime 1x ./test/scale
//
// # Figures (2-core development machine, allocation interval 1s)
//
//	agents  T0 (s)   T1 (s)   (T1-T0)/interval        device marked -> RUNNING
//	   200  5.05-5.07 5.31-5.32 0.26         (0.93-1.12)   0.20 intervals   (0.56-0.80)
//	 1,000  5.13-5.14 5.44-5.45 0.31         (0.90-1.12)   0.20-0.21        (0.34-0.52)
//	 5,000  5.38-5.53 6.32-6.52 0.94-0.99    (2.3-2.9)     0.23-0.25        (0.47-0.94)
//	10,000  5.77-6.40 7.83-8.67 1.96-2.49    (4.4-5.1)     0.27-0.50        (0.76-1.07)
//
// (In parentheses: before this pass. One to five runs each on a calm
// machine, load under 1; T0 includes the 5 s the framework's first
// reconciliation waits.) The target of 1.5 at 10,000 agents is still
// missed, by half an interval; below, where the time goes.
//
// Four changes made the difference, each measured on its own where it
// could be: calls to Mesos are pipelined (observe/mesosconn: 5,000
// ACCEPTs cost the framework 75-104 ms of CPU instead of 335-455), the
// simulated master spends less per call and per allocation (below), a
// REVIVE is answered by an allocation at once, as Mesos' allocator does
// (it used to wait for the next periodic one, up to an interval), and the
// framework holds the offers it gets before its first reconciliation ends
// instead of declining them (actuate's Config.GatedHold): the probers
// launch on them without a REVIVE, so the REVIVE that the data launches
// need is not held back by ReviveMinInterval. That last change took
// 200 agents from 1.06-1.17 intervals to 0.26.
//
// # 10,000 agents
//
// A run at 10,000 agents (T0 6.17 s, T1 8.13 s; 1.96 intervals) spends:
//
//   - until T0, the probers' Apply: 10,000 ACCEPTs from 5.12 s to 6.20 s;
//     the last report comes before it ends, and the next plan (with the
//     data launches) only after;
//   - ~0.2 s from T0 to the REVIVE (6.36 s): the probers' Apply ending and
//     the next plan; the offers come at once;
//   - ~1.0 s: 10,000 data ACCEPTs, and the tasks' STARTING and RUNNING
//     updates with their acknowledgements, the simulated master taking
//     most of the two cores;
//   - ~0.7 s until the last task is healthy (each task's third update,
//     acknowledged like the others).
//
// A CPU profile of the run (go test -cpuprofile) puts about half of all
// samples in the simulated master: its net/http server alone a third
// (2.5 s of 7.6 s; Go's server writes each answer with its own syscall,
// pipelined or not), its handler and allocation cycles the rest; the
// framework's loop (plans and applies) took 1.2 s and its event stream
// 0.7 s. A master on cores of its own, as Mesos' is, would leave the
// framework most of the two; what is left to win on our side is small
// next to that.
//
// Tried and dropped: a short refuse filter (1s) on what prober launches
// leave of their offers, so that the data launches could use the returning
// offers without waiting for a REVIVE's allocation. At 5,000 agents it
// made things worse (3.4-4.9 intervals against 2.3-2.9): the remainders
// came back while the prober ACCEPTs were still going out, and 5,000
// offers a second, each declined again, cost more than the one REVIVE
// they spared. (Measured before pipelining; holding the offers of the
// gated start does what it was meant to, without the re-offers.)
//
// # The simulator's share
//
// Profiled at 10,000 agents before and after the simulator's pass (one
// run each, the machine loaded by other work during the first): its
// scheduler handler 2.82 s -> 2.05 s of CPU, its allocation cycles 1.52 s
// -> 0.60 s, GC (the whole process) 2.31 s -> 1.93 s; 16.6 s -> 14.8 s of
// samples in all. What changed: each call is read and decoded once (the
// call log and the refusal count had read it again and decoded it a
// second time); a cycle reads each agent's available resources kept in
// step instead of recomputing them and checks refuse filters without
// copying (test/mesossim's BenchmarkAllocate5000Agents: 101 -> 66 ms CPU
// and 335,000 -> 175,000 allocations a cycle; _Refused, a cycle with
// nothing to offer: 38 -> 12 ms, 65,000 -> 3); and a REVIVE (or
// SUBSCRIBE) starts an allocation at once.
//
// # A device marked
//
// With options.MarkDevice a run goes on after convergence: once the
// framework has suppressed offers (as a cluster at rest has), the last
// agent's simulated prober reports a new METADATA_DEVICE unasked
// (mesossim's Cluster.ExecutorReport, as the real prober does when a
// marker appears), and the run measures until the metadata service there
// is RUNNING. The framework has the report within a millisecond; its
// REVIVE is answered by an allocation at once (as in Mesos); then the
// ACCEPT and the task's RUNNING: 0.20-0.50 intervals (0.34-1.07 when a
// REVIVE waited for the next periodic allocation), within the target of
// one allocation interval plus the launch. The real prober sees a new
// marker file within ~250 ms (README, benchmarks) before it reports.
//
// # Memory
//
// BenchmarkMemory_10kAgents_40kTasks feeds an observer the events of a
// converged 10,000-agent cluster (offers held by an actuator, prober
// reports, a RUNNING healthy update of 40,000 tasks) and plans once: 52
// MiB of live heap, 93 MiB RSS for the whole test process (before the
// 10,000-agent round: 44 and 81 MiB; the snapshot's per-agent task
// lists, the kept index and the larger ack queue are the difference; 3
// MiB of it are the index's task facts, this round).
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
