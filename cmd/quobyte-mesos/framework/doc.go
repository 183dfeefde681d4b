// Package framework is the composition root of `quobyte-mesos run`: it holds
// the spec in force (reloaded on SIGHUP), wires the observer, the controller
// loop and the actuator together, and answers the status API.
//
// Ordering rules kept here:
//  1. The spec is validated completely before it replaces the one in force.
//  2. The framework ID is persisted before it is relied on (observe/fwid).
//  3. Stopping (SIGTERM) closes the subscription without TEARDOWN: Quobyte
//     keeps running and the next start picks its tasks up.
package framework
