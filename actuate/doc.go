// Package actuate turns a plan (controller.Result) into Mesos scheduler
// calls. It never decides what should run: that is the controller's job. It
// decides only how: which offer a launch goes to, what the TaskInfo looks
// like, when a kill is re-sent, and what to do with offers nobody needs.
//
// The pieces, each usable on its own:
//
//   - Match (pure) assigns launch actions to offers from their agent,
//     subtracting what it assigns so nothing is double-booked, and builds the
//     exact mesos.Resource list for every task (and the prober's executor)
//     from the offered resources, reservations included.
//   - BuildTaskInfo (pure) builds the TaskInfo of a service or of the prober
//     executor's task for one of the three runtimes.
//   - Actuator holds the outstanding offers and applies a plan through a
//     calls.Caller: one ACCEPT per used offer, KILL (re-sent at most every
//     KillRetryInterval), MESSAGE "probe" to probers, DECLINE of unused
//     offers, REVIVE (rate-limited) and SUPPRESS.
//   - Recorder applies nothing and records what it was asked to do: the dry
//     run and tests use it through the Applier interface. CallRecorder is a
//     calls.Caller that records calls instead of sending them.
//   - LoopApplier plugs either into the controller loop (controller.Applier):
//     it takes the spec in force, derives QUOBYTE_REGISTRY from the latest
//     snapshot (RegistryAddrs) and returns failed actions as a
//     *controller.ApplyError.
//
// The caller's duties, in order:
//
//  1. Feed every OFFERS event to HandleOffers and every RESCIND to
//     HandleRescind; call Disconnected when the subscription ends (offers,
//     and Mesos' memory of SUPPRESS, die with it).
//  2. Persist the framework ID before the first Apply: an ACCEPT launches
//     tasks that belong to that ID.
//  3. Call Apply with each new plan. Launched tasks are reported through
//     Config.OnLaunch before Apply returns, so the observer can record them
//     as Launching and the next plan does not launch them again.
//  4. Treat Apply's error as per item: ItemErrors(err) lists the backoff items
//     (controller.Action.Item) whose action failed. Never retry a stale plan:
//     observe and plan again. A plan whose SpecHash is not the spec's hash
//     is refused as a whole: its config hashes belong to another spec.
//
// Offer hygiene: an offer that the plan does not use is declined with a
// long filter (Config.RefuseSeconds), unless the plan still waits for a
// launch on that agent, whose offers are declined with a short filter
// (Config.PendingRefuseSeconds) so that freed resources come back soon. An
// offer is declined only once it has been seen by one Apply: it may have
// arrived after the snapshot the plan was made from. When nothing is to be
// launched the framework SUPPRESSes offers (but not within
// ReviveMinInterval of a REVIVE, whose offers are still on their way); when
// a launch waits for an agent we hold no offer from (or offers are
// suppressed) it REVIVEs, at most once per Config.ReviveMinInterval. A
// launch whose agent's offer is too small does not REVIVE: the offer
// already holds what the agent has for us. While suppressed it REVIVEs
// every Config.DiscoveryInterval anyway, because offers are how the
// framework learns of new agents.
//
// Match does not combine two offers of one agent: when resources are split
// between them, both are declined with the short filter and Mesos offers
// them again as one.
package actuate
