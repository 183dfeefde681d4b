// Package observe folds what Mesos tells the framework into one immutable
// snapshot.Snapshot, and keeps the framework's knowledge of its tasks true
// through reconciliation.
//
// Wiring (cmd does this; Connect and Connection.Run do the first four
// lines from the spec's mesos block):
//
//	conn, _ := mesosconn.New(cfg)                 // the subscription
//	obs := observe.New(observe.Config{Caller: conn.Caller(),
//		OnOffers: func(_ context.Context, o []mesos.Offer) { act.HandleOffers(o) }})
//	go obs.Run(ctx)                               // acks and reconciliation
//	go conn.Run(ctx, obs)                         // events -> obs.HandleEvent
//	// the controller loop plans on every obs.Changed(), from obs.Latest()
//
// Three layers, as in the rest of the project: fold* functions change the
// observer's state for one event (no I/O); HandleEvent/HandleStatus take the
// lock, fold, signal Changed and queue acknowledgements; Run is the
// goroutine shell that sends acknowledgements and reconciliation calls.
// Snapshots are built when read (Latest), once per batch of changes.
//
// Rules, where they apply:
//
//   - Acknowledge after recording: an update's ACKNOWLEDGE is queued only
//     after the update is in the observer's state (every later Latest
//     shows it), so no update Mesos considers delivered goes unseen.
//   - Updates arrive at least once and out of order: an agent or executor
//     update whose uuid was applied before is a repeat, and one older (by
//     its timestamp) than the newest agent update recorded for the task is
//     late; both are ignored (and acknowledged). Master-generated updates
//     (reconciliation answers, TASK_UNREACHABLE) are the master's current
//     view and always apply; their timestamps (the master's clock) are
//     never compared with the agent's.
//   - Task IDs carry what reconciliation drops (kind, config hash), so
//     implicit reconciliation after a restart rebuilds the task set. Task
//     IDs that are not ours are ignored (but acknowledged).
//   - Bad input (malformed prober report, report of another version, unknown
//     enum value, unknown event type) is logged and ignored, never a crash.
//   - Unreachable is unknown, not gone: a task's UnreachableSince comes
//     from the master's unreachable_time, else from when it was first seen
//     unreachable; a reconciliation answer does not move it. A kill sent
//     before is forgotten then (Mesos cannot deliver a kill to an
//     unreachable task), so its fate is decided again when it is back.
//   - Failures are counted and told: a task that ends in failure
//     (snapshot.Task.Failed) counts against its item (Snapshot.Items: how
//     often, and how the last one ended) and is logged at WARN with host,
//     kind, state, reason and Mesos' message. A kill by Mesos for failing
//     the health check (TASK_KILLED, healthy=false, no reason, no kill of
//     ours) is recognised as such (Task.HealthKilled, with the failed checks
//     counted from the healthy=false updates before it).
//   - After every (re)subscribe: explicit reconciliation of every known
//     non-terminal task, repeated with backoff until each has answered;
//     then implicit reconciliation; Subscription.Reconciled turns true once
//     the answers to it have settled. Implicit reconciliation also runs
//     periodically. An observer that knows no past (a restarted framework,
//     a standby that takes over) also asks, in its first round, about a
//     task ID without an agent: the master answers that only once no agent
//     is still to reregister after a failover, and until then an implicit
//     answer would leave their tasks out (recoveryProbeTaskID).
package observe
