// Package actuate turns a plan (controller.Result) into Mesos scheduler
// calls. It never decides what should run: that is the controller's job. It
// decides only how: which offer a launch goes to, what the TaskInfo looks
// like, when a kill is re-sent, and what to do with offers nobody needs.
//
// The pieces:
//
//   - match (pure) assigns launch actions to offers from their agent,
//     subtracting what it assigns so nothing is double-booked, and builds the
//     exact mesos.Resource list for every task (and the prober's executor)
//     from the offered resources, reservations included.
//   - buildTaskInfo (pure) builds the TaskInfo of a service or of the prober
//     executor's task for one of the three runtimes.
//   - Actuator is the controller loop's Applier: it holds the outstanding
//     offers and applies a plan through a calls.Caller: one ACCEPT per used
//     offer, KILL (re-sent at most every KillRetryInterval), MESSAGE "probe"
//     to probers, DECLINE of unused offers, REVIVE (rate-limited) and
//     SUPPRESS. It reports as data (controller.ApplyReport): the actions
//     that failed, with their errors, and when the loop should plan again.
//
// The apply contract: everything Apply needs comes with the plan. A launch is
// built from the spec the plan was made for (controller.Result.Spec), or, when
// auto_revert sends a host back, from the previous spec the Result's Revert
// carries (Result.SpecFor); a launch whose config no spec of the plan has
// fails rather than start a task whose ID lies about its config.
// QUOBYTE_REGISTRY is the plan's RegistryAddrs, computed from the snapshot the
// plan was made from.
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
//     as Launching and the next plan does not launch them again; the full
//     Report (kills sent, offers used and declined) goes to Config.OnReport.
//  4. Hand the ApplyReport's failed actions to the next plan (the loop does):
//     only their items back off. Never retry a stale plan: observe and plan
//     again. Plan again after RequeueAfter when it is set: launches wait for
//     a REVIVE that its rate limit held back.
//
// Offer hygiene: an offer that the plan does not use is declined with a
// long filter (Config.Refuse), unless the plan still waits for a launch on
// that agent, whose offers are declined with a short filter
// (Config.PendingRefuse) so that freed resources come back soon. An
// offer is declined only once it has been seen by one Apply: it may have
// arrived after the snapshot the plan was made from. While the plan is
// gated (a new subscription before its reconciliation) offers are held for
// Config.GatedHold after the gate began, so that the first launches after
// it need no REVIVE, and declined with the short filter after that. When nothing is to be
// launched the framework SUPPRESSes offers (but not within
// ReviveMinInterval of a REVIVE, whose offers are still on their way, nor
// of a prober's launch, whose report is); when
// a launch waits for an agent we hold no offer from (or offers are
// suppressed) it REVIVEs, at most once per Config.ReviveMinInterval, and
// before the plan's ACCEPTs (at scale those take a second, and the offers
// the REVIVE brings are then ready for the next plan). What a launch
// leaves of its offer is filtered for Config.Refuse, except a prober's:
// its report usually asks for services on that agent within the second,
// and the rest comes back with the master's next allocation. A
// launch whose agent's offer is too small does not REVIVE: the offer
// already holds what the agent has for us. While suppressed it REVIVEs
// every Config.DiscoveryInterval anyway, because offers are how the
// framework learns of new agents.
//
// match does not combine two offers of one agent: when resources are split
// between them, both are declined with the short filter and Mesos offers
// them again as one.
package actuate
