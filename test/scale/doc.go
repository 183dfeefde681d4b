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
//	agents  T0 (s)    T1 (s)    (T1-T0)/interval             device marked -> RUNNING
//	   200  5.05-5.06 5.31-5.32 0.26        (0.24-0.26)     0.20 intervals
//	 1,000  5.11-5.15 5.33-5.35 0.20-0.22   (0.30-0.31)     0.20
//	 5,000  5.46-5.56 6.06-6.37 0.57-0.87   (0.81-0.96)     0.22-0.34
//	10,000  5.82-6.03 7.18-7.53 1.25-1.60   (1.29-1.67)     0.29-0.56
//	        median 1.38 of 12 runs, 10 of them within 1.5 (the pass
//	        before: median 1.54 of 16, 6 within 1.5)
//
// (In parentheses: the pass before, measured in the same way; four runs
// each below 10,000 agents, on a calm machine, load under 1; T0 includes
// the 5 s the framework's first reconciliation waits.) The machine's speed
// varies by 15-20% from one quarter of an hour to the next, so each
// change below was judged on runs of the code before and after it,
// alternated: 8 such pairs of this pass's start and its end gave 1.31-1.95
// (median 1.61) against 1.19-1.74 (median 1.37), T1 7.86 s against 7.40 s
// on average, and 4.99 s of CPU to converge against 4.03.
//
// Each run reports the CPU the whole process (framework, simulated
// master, harness) used: cpu-s-T0-T1 between T0 and T1 (about 1.9-2.4 s at
// 10,000 agents when the last report comes before the data launches
// start, less when it comes among them: the probers' reports then queue
// behind the first data launches' updates), and cpu-s-launch from the
// first reconciliation to T1, all the work of starting the cluster
// (3.6-4.2 s at 10,000 agents), which moves less with where T0 falls and
// is the figure to compare for a change that cuts work. A run also prints
// the cores it used in each 100 ms from the reconciliation to T1, which
// shows where it waited rather than worked. With SCALE_PROFILE=prefix a
// run writes a CPU profile of the T0-T1 window (prefix.cpu) and allocation
// profiles at its ends (prefix.allocs0, prefix.allocs1; go tool pprof
// -base).
//
// # This pass: less work on both sides of the wire
//
// The window from T0 to T1 is CPU-bound (the process uses 1.8-2.0 of the 2
// cores in it, except for about 0.1 s around the REVIVE), so this pass cut
// work, the largest first, each change judged on alternated runs:
//
//   - The simulated master's resources keep cpus, mem and disk in fields,
//     not in a map per role (test/mesossim/resources.go): an allocation
//     cycle of 5,000 agents 51-61 -> 39-49 ms of CPU, one with nothing to
//     offer 7-10 -> 2-3 ms; at 10,000 agents 1.65 -> 1.45 intervals
//     (medians of six alternated runs), 4.61 -> 4.37 s of CPU to converge.
//     The allocation after the REVIVE lies on the critical path: from the
//     REVIVE to the offers in the framework took about 250 ms.
//   - The simulated master parses a framework's plain requests from its
//     read buffer, its header map and strings reused
//     (test/mesossim/pipelined_request.go; net/http's ReadRequest for
//     anything else, fuzzed against it): 3 allocations a call instead of
//     14, one context per connection instead of one per call: 4.71 ->
//     4.43 s of CPU to converge (six alternated runs).
//   - The framework parses the master's plain answers the same way
//     (observe/mesosconn/answer.go), reads no body where an answer has
//     none (io.ReadAll's 512-byte buffer for each 202 was 20 MB of a
//     start), and bounds a pipelined call's wait with one watch per
//     connection instead of a context and timer per call; its event log
//     builds only the events it keeps (events.Log.AddN: 10,000 launch
//     events were formatted and 9,000 dropped on the loop's goroutine
//     before its next plan). Each of these is below what six alternated
//     runs can show; together with the above they make the 19% less CPU.
//
// Tried and dropped this pass:
//
//   - A bounded Apply (at most 2,000 ACCEPTs, the rest of the plan at
//     once in the next), so that services launch while later probers
//     still do. With the plan's order (probers first) T1 did not move
//     (7.74-7.80 s against 7.60-7.73): the extra plans cost what the
//     overlap saved. With services first, T1-T0 fell to 0.77-0.84
//     intervals, but only because T0 moved later (the probers' launches
//     waited), and T1 was later (8.19-8.70 s against 8.14-8.19): a better
//     figure, not a faster start.
//   - A REVIVE as soon as an Apply's prober launches are answered (again,
//     timed this time): the offers it brings took about 285 ms to reach
//     the framework instead of 224, their allocation sharing the cores
//     with the plan that sees the reports; median 1.66 against 1.64 (eight
//     alternated runs).
//   - Planning less often while launches settle (plans spaced by three
//     times the last plan's cost, instead of 100 ms): 1.74-1.82 against
//     1.54-1.70; convergence is then seen later. Planning more often (50
//     ms): no difference.
//   - 1,024 acknowledgement senders instead of 256: the acknowledgements
//     then compete with the ACCEPTs (the data launches took 0.9-1.4 s
//     instead of 0.6-0.7); median 1.70 against 1.57.
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
// The pass before (1.96-2.49 -> 1.29-1.67), in the order they were
// made; the A/B figures are alternated runs of the code before and after:
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
// A run at 10,000 agents in the pass before (T0 6.07 s, T1 7.54 s; 1.47
// intervals) spent:
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
// A profile of the window then: the simulated master 42% (decoding the
// calls 9%, carrying them out 17%, HTTP and the rest 16%), the framework
// 41% (its loop 16%, planning and building snapshots about equally, then
// the ACCEPTs; the event stream 6%; the acknowledgements 6%), the garbage
// collector 12% (of both: about 185 MB allocated in the window). After
// this pass's changes to the simulator: its HTTP serving 32% of the
// window, the framework's loop 16%, its event stream 9%, its
// acknowledgements and ACCEPTs 7% each. Two full plans of 10,000 agents
// lie on the critical path (the one that sees the reports, the one that
// sees the offers), 40-100 ms of wall time each although one costs 6-7 ms
// of CPU alone (controller's benchmark): the loop's goroutine shares the
// cores with hundreds of others.
//
// What would help next: the framework's own work per launch and update
// (decoding events with mesos-go, folding them, building a snapshot and
// an index per plan: each now a few per cent of the window), and on the
// simulator's side the decoding of ACCEPTs (mesos-go's TaskInfo) and the
// OFFERS event of 10,000 offers. The window has no idle time left to win
// by reordering: only less work moves T1.
//
// Tried and dropped in the pass before:
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
