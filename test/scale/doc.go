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
//	agents  T0 (s)  T1 (s)  (T1-T0)/interval     device marked -> RUNNING
//	   200  3.1     4.1     0.93-1.12  (2.0)     0.56-0.80 intervals
//	 1,000  3.6     4.6     0.90-1.12  (2.0)     0.34-0.52
//	 5,000  4.0     6.7     2.3-2.9    (2.4)     0.47-0.94
//	10,000  5.2     9.6     4.4-5.1    (6.38)    0.76-1.07
//	10,000  7.6-7.8 11.3-12.7 3.7-4.9            0.75-0.86  (simulator cheaper, below)
//
// (In parentheses: before this round. Two to four runs each, on a machine
// other builds shared; a run at 5,000 varies by half an interval, and
// one taken while another benchmark ran took 4.6.) The target
// of 1.5 at 10,000 agents is missed; below, where the time goes and what
// it would take.
//
// This round took out one allocation round at every size: API and
// webconsole now start with the first registries (controller README,
// "Registry first, not before"), so nothing waits for a registry to run
// and for a second REVIVE. Up to 1,000 agents a fresh cluster converges
// in about the one allocation after its probers reported (0.9-1.1).
//
// # 10,000 agents
//
// A run at 10,000 agents (T0 5.23 s, T1 10.35 s; 5.1 intervals) spends:
//
//   - ~1.3 s from T0 to the first ACCEPT: the REVIVE goes out at once, its
//     offers came with the next allocation (up to an interval; since then
//     the simulator allocates at once on a REVIVE, as Mesos does), and an
//     OFFERS event of 10,000 offers takes its time to encode and decode;
//   - ~2.3 s: 10,000 data ACCEPTs, 8 at a time, CPU-bound: the simulated
//     master and the framework share 2 busy cores in one process;
//   - ~1.0 s until the last data task's RUNNING arrives and ~0.55 s until
//     the last healthy one: every task sends STARTING, RUNNING and a
//     healthy RUNNING, each acknowledged by a call before the agent sends
//     the next (30,000 updates and 30,000 ACKNOWLEDGE calls after the
//     ACCEPTs).
//
// So 1.5 intervals would leave half a second for 10,000 ACCEPTs and
// 30,000 acknowledgements: 40,000 calls, 12 us each on both ends
// together. The calls cost far more here (actuate's
// BenchmarkApply_5000Accepts_FrameworkSide, a minimal master in another
// process: the framework spends 67-91 us of CPU per ACCEPT, of which
// net/http alone takes 39-47 us — BenchmarkHTTP_5000Posts_Floor — and
// mesos-go's request building 10, the TaskInfo 7, the garbage collector
// 15; even a master that parses nothing spends 20-30 us a call, in its
// syscalls). Mesos takes one ACCEPT per agent and one ACKNOWLEDGE per
// update, so fewer calls are not to be had. It would take calls that cost
// a tenth: HTTP/1.1 pipelining over a few connections (libprocess answers
// pipelined requests in order), so that one write and one read carry many
// calls, which net/http does not do; and a master on cores of its own.
//
// Tried and dropped: a short refuse filter (1s) on what prober launches
// leave of their offers, so that the data launches could use the returning
// offers without waiting for a REVIVE's allocation. At 5,000 agents it
// made things worse (3.4-4.9 intervals against 2.3-2.9): the remainders
// came back while the prober ACCEPTs were still going out, and 5,000
// offers a second, each declined again, cost more than the one REVIVE
// they spared.
//
// # The simulator's share
//
// The simulated master shares the process and the 2 cores, so what it
// spends per call is taken from the framework. Profiled at 10,000 agents
// (go test -cpuprofile, one run each, the machine loaded by other work
// during the first): its scheduler handler 2.82 s -> 2.05 s of CPU, its
// allocation cycles 1.52 s -> 0.60 s, GC (the whole process) 2.31 s ->
// 1.93 s; 16.6 s -> 14.8 s of samples in all. What changed: each call is
// read and decoded once (the call log and the refusal count had read it
// again and decoded it a second time); a cycle reads each agent's available
// resources kept in step instead of recomputing them and checks refuse
// filters without copying (test/mesossim's BenchmarkAllocate5000Agents:
// 101 -> 66 ms CPU and 335,000 -> 175,000 allocations a cycle;
// _Refused, a cycle with nothing to offer: 38 -> 12 ms, 65,000 -> 3); and,
// as Mesos' allocator does, a REVIVE (or SUBSCRIBE) starts an allocation
// at once instead of waiting for the next periodic one (up to an interval).
// In the runs above the REVIVE left 0.25-0.5 s after T0 and the first data
// launch 1.9-2.4 s after the REVIVE: that is the framework's side now (the
// simulator's cycle offering 10,000 agents takes about 0.15 s). Two runs
// at 10,000 agents gave 3.70 and 4.87 intervals, so the run-to-run spread
// (an interval) is larger than what the simulator gave back; the target of
// 1.5 is still missed.
//
// # A device marked
//
// With options.MarkDevice a run goes on after convergence: once the
// framework has suppressed offers (as a cluster at rest has), the last
// agent's simulated prober reports a new METADATA_DEVICE unasked
// (mesossim's Cluster.ExecutorReport, as the real prober does when a
// marker appears), and the run measures until the metadata service there
// is RUNNING. The framework has the report within a millisecond; the
// launch waits for the REVIVE's allocation (up to an interval); then the
// ACCEPT and the task's RUNNING: 0.34-1.07 intervals, within the target
// of one allocation interval plus the launch. The real prober sees a new
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
