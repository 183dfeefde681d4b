// Package controller decides what must change for the cluster to match the
// spec, and runs that decision in a level-triggered loop. It never talks to
// Mesos: it imports the spec and the observer's types only (a test guards
// this), and the actuator carries its plans out.
//
// Three layers, as in etcd's raft:
//
//   - Plan(Input) *Result is pure: no I/O, no clock but Input.Now, no
//     randomness, deterministic (agents and tasks are visited in the
//     snapshot's sorted order; no map order leaks out). Everything it reads
//     is in the Input: the spec, the snapshot as observed, the time, the
//     holds (backoffs), the reverts in force and the earlier specs. The
//     `plan` dry run and `run` use the same function.
//   - Step is synchronous: snapshot (and the previous apply's failed
//     actions) in, plan and the Input it was made from out. It is the
//     controller's memory: failures per item and their holds (backoff/v4,
//     exponential, jittered with an injected random source, capped, never
//     giving up, reset after Restart.ResetAfter of stable running, cleared
//     when the spec changes the item's config), probe requests, reverts,
//     earlier specs, and the planner's index of the last snapshot, which
//     it updates by what changed (the Input carries it; Plan's result is
//     the same without it).
//   - Loop is the goroutine shell: it owns the timers and the channels,
//     plans on every new snapshot, spec reload (Kick), tick and requeue,
//     applies through the Applier, and recovers panics. Its clock is
//     injected.
//
// # What the caller of Plan must do with a Result
//
//  1. Apply Actions in order; never retry an old Result: after an apply,
//     observe again and plan again (the plan is level-triggered).
//  2. Launch / LaunchProber: build a task ID with taskid.New(Kind,
//     ConfigHash, unique suffix) and the TaskInfo from Result.SpecFor(action)
//     (the plan's spec, or a revert's previous one) with Result.RegistryAddrs,
//     and launch on AgentID from an offer that holds Resources and every port
//     in Ports. A launch is planned even when the agent's last offer is too
//     small (its Waiting then says what falls short): keep it until a
//     fitting offer comes or a newer plan drops it. A registry finds itself
//     in RegistryAddrs by the launch's Address.
//  3. Until Mesos answers, show a launched task in the next snapshots in
//     state Launching. Plan counts Launching tasks as present; a task it
//     cannot see is launched again.
//  4. Kill: kill TaskID. Kills stay in every plan until the task is
//     terminal; record when the kill was sent in Task.KillSent, which the
//     Action echoes, and re-send at a measured pace. A kill is never taken
//     back: Plan carries a sent kill through even if the task is wanted
//     again, and fills its slot anew afterwards. Plan never kills a task it
//     cannot see (unreachable): Mesos could not deliver the kill.
//  5. Probe: send the prober executor TaskID a message asking for a report.
//  6. Blocked items and Changes are for people (the plan view, the status
//     page): Changes count the whole of a paced change (a rolling
//     replacement, a placement change, a stop), of which Actions are this
//     plan's step. Blocked items say what waits and why. Neither needs
//     an action.
//  7. Report failed actions in the ApplyReport (FailedAction): only those
//     actions' items back off. Other errors are logged. RequeueAfter asks
//     the loop to plan again then.
//
// # Items
//
// An item is a unit that backs off on its own: snapshot.ItemKey(kind,
// agentID) for every kind, probers included. Kinds that run anywhere (API,
// webconsole, S3) use the agent too, not a slot number: an instance that
// fails on one agent is placed on another while that agent backs off; and
// such a kind also backs off as a whole (kindItem), so that its launch rate
// does not grow with the number of agents. Probe requests have their own
// item, probeItem(agentID), which Step holds for one probe interval after
// each request.
//
// See README.md for the pipeline and a glossary of the words reasons use.
package controller
