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
//	agents  T0 (s)    T1 (s)    (T1-T0)/interval                      device marked -> RUNNING
//	   200  5.07-5.09 5.32-5.33 0.24-0.26   (0.26;      0.93-1.12)   0.20 intervals   (0.56-0.80)
//	 1,000  5.15-5.20 5.45-5.51 0.30-0.31   (0.31;      0.90-1.12)   0.20-0.21        (0.34-0.52)
//	 5,000  5.53-5.65 6.34-6.60 0.81-0.96   (0.94-0.99; 2.3-2.9)     0.22-0.33        (0.47-0.94)
//	10,000  5.91-6.40 7.40-7.92 1.29-1.67   (1.96-2.49; 4.4-5.1)     0.23-0.51        (0.76-1.07)
//	        median 1.54 of 16 runs in two batches, 6 of them within 1.5;
//	        1.69-1.87 (median 1.77) in 6 runs while the machine was slower
//	        (its speed varies by 15% from one quarter of an hour to the next)
//
// (In parentheses: the two passes before, the first measured in the same
// way, one to five runs each on a calm machine, load under 1; T0 includes
// the 5 s the framework's first reconciliation waits.) The target of 1.5
// at 10,000 agents is met in about a third of the runs on a calm machine,
// and missed by up to 0.17 intervals in the others; below, where the time
// goes.
//
// Each run also reports cpu-s-T0-T1, the CPU time the whole process
// (framework, simulated master, harness) spent between T0 and T1: about
// 2.3-2.8 s at 10,000 agents when the last report comes before the data
// launches start, 0.35-1.5 s when it comes among them (the probers'
// reports queue behind the first data launches' updates). With
// SCALE_PROFILE=prefix a run writes a CPU profile of that window
// (prefix.cpu) and allocation profiles at its ends (prefix.allocs0,
// prefix.allocs1; go tool pprof -base).
//
// The changes of the pass before (each measured on its own where it
// could be): calls to Mesos are pipelined (observe/mesosconn: 5,000
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
// This pass (1.96-2.49 -> 1.29-1.67), in the order they were made; the
// A/B figures are alternated runs of the code before and after:
//
//   - The simulated master answers pipelined calls in a loop of its own
//     (test/mesossim/pipelined.go): Go's HTTP server wrote each answer
//     with a syscall of its own and started a goroutine and a read per
//     request to notice a client going away. In a profile of the T0-T1
//     window its HTTP serving went from 1.32 s to 0.87 s of CPU.
//   - The actuator logs and records each launch as its ACCEPT is answered,
//     not all of them after the last answer (that took 0.1 s at 10,000
//     launches, before the next plan could start), and 256 goroutines send
//     acknowledgements instead of 64 (each task's three updates wait for
//     one another's acknowledgements: their round trips are the tail).
//     Both: 1.77 against 2.08 intervals, six runs each; the acks alone
//     2.01 against 2.13, five each.
//   - A REVIVE that waiting launches need goes out before the plan's
//     ACCEPTs, not after them (a second later at 10,000 launches), and
//     what a prober's launch leaves of its offer is not filtered: it comes
//     back with the master's next allocation, when the probe's report asks
//     for services there, without a REVIVE. 1.65 against 1.73 and 1.79
//     (five runs each); the gain depends on where the periodic allocation
//     falls in the probers' launches.
//
// A run at 10,000 agents (T0 6.07 s, T1 7.54 s; 1.47 intervals) spends:
//
//   - ~0.17 s from T0 to the REVIVE: the last prober ACCEPTs' answers, and
//     the plan that sees the reports (10,008 launches waiting for offers);
//   - ~0.18 s until the first data ACCEPT: the allocation of 10,000
//     offers, their OFFERS event, and the next plan;
//   - ~0.7 s for the 10,000 data ACCEPTs, with the tasks' STARTING and
//     RUNNING updates and their acknowledgements under way;
//   - ~0.4 s until the last task is healthy and a plan has seen it: each
//     task's three updates each wait for the acknowledgement of the one
//     before, as a Mesos agent's status update manager does.
//
// The window is CPU-bound: the process uses 1.8 of the 2 cores in it. A
// profile of it: the simulated master 42% (decoding the calls 9%,
// carrying them out 17%, HTTP and the rest 16%), the framework 41% (its
// loop 16%, planning and building snapshots about equally, then the
// ACCEPTs; the event stream 6%; the acknowledgements 6%), the garbage
// collector 12% (of both: about 185 MB allocated in the window). Two full
// plans of 10,000 agents lie on the critical path (the one that sees the
// reports, the one that sees the offers), 40-60 ms of wall time each
// although one costs 6-7 ms of CPU alone (controller's benchmark): the
// loop's goroutine shares the cores with hundreds of others.
//
// What would help next: a smaller controller.Action (232 bytes; 10,008 of
// them are most of a fresh plan's allocation), and launching services on
// agents as their probers report instead of after the probers' whole
// Apply (a bounded Apply, re-planned between batches): the data launches
// would overlap the probers' instead of following them.
//
// Tried and dropped this pass:
//
//   - The simulated master in a process of its own (the test binary
//     again): 2.51 intervals against 2.08 in process, and 3.2-3.6 with
//     each process pinned to one core (taskset): the two cores are shared
//     either way, and crossing processes costs more than a goroutine
//     handing over in one runtime.
//   - A REVIVE as soon as an Apply's prober launches are answered, so
//     that their rest comes back before the plan that sees the reports:
//     1.80 against 1.77 (six runs each), no gain the noise lets show.
//
// Tried and dropped before: a short refuse filter (1s) on what prober
// launches leave of their offers, at 5,000 agents before pipelining and
// before offers were held through the first reconciliation: 3.4-4.9
// intervals against 2.3-2.9, the remainders coming back while the prober
// ACCEPTs were still going out, and 5,000 offers a second declined again.
// Now the prober ACCEPTs go out on held offers within one Apply, and no
// filter at all (the rest comes back once, with the next allocation) is
// what helps.
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
