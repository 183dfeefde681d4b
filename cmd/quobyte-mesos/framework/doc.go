// Package framework is the composition root of `quobyte-mesos run`: it holds
// the spec in force (reloaded on SIGHUP), wires the observer, the controller
// loop and the actuator together, and answers the status API.
//
// With the spec's ha block, instances elect a leader (observe/leader) and
// only the leader acts: each leadership is a term of its own (subscription,
// observer, actuator, loop, built from the spec in force), which reconciles
// and adopts every task as a restart would. A standby loads and validates
// the spec, serves the status API and reloads on SIGHUP; it observes
// nothing.
//
// The status API's listener also serves the dashboard (package dashboard)
// and the event log it shows (package events): the parts report here what
// they did (the actuator's launches and kills, the observer's failures via
// observe.Config.OnFailure, the loop's plans, reloads, the subscription,
// the leadership) and events.go turns each report into events.
//
// Ordering rules kept here:
//  1. The spec is validated completely before it replaces the one in force.
//  2. The framework ID is persisted before it is relied on (observe/fwid).
//  3. Every request to Mesos passes the fence (mesosconn's Config.Fence):
//     while this instance does not lead, nothing reaches Mesos.
//  4. A term's work has stopped before the leadership is given up or
//     sought again (lead returns only then).
//  5. Stopping (SIGTERM) closes the subscription without TEARDOWN: Quobyte
//     keeps running and the next start (or a standby, at once) picks its
//     tasks up.
package framework
