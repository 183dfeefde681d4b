// Package observe folds what Mesos tells the framework into one immutable
// snapshot.Snapshot, and keeps the framework's knowledge of its tasks true
// through reconciliation.
//
// Wiring (cmd does this; Connect and Connection.Run do the first four
// lines from the spec's mesos block):
//
//	conn, _ := mesosconn.New(cfg)                 // the subscription
//	obs := observe.New(observe.Config{Caller: conn.Caller(), OnOffers: actuator.Offers})
//	go obs.Run(ctx)                               // acks and reconciliation
//	go conn.Run(ctx, obs)                         // events -> obs.HandleEvent
//	for range obs.Changed() { plan(spec, obs.Latest()) }
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
//   - After every (re)subscribe: explicit reconciliation of every known
//     non-terminal task, repeated with backoff until each has answered;
//     then implicit reconciliation; Subscription.Reconciled turns true once
//     the answers to it have settled. Implicit reconciliation also runs
//     periodically.
package observe
