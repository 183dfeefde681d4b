// Package mesosconn keeps the framework subscribed to the leading Mesos
// master, whatever happens to the connection.
//
// Conn.Run loops forever (until its context ends): find the leader, SUBSCRIBE
// (mesos-go httpsched, protobuf codec), feed every event to a Handler in
// stream order, and when the stream ends — error, ERROR event, leader change,
// silent master — resubscribe with exponential backoff (jitter, capped, never
// giving up) under the same framework ID.
//
// Every other call goes out with HTTP/1.1 pipelining (pipeline.go): a few
// kept-alive connections to the pinned leader, each carrying many requests
// at once, the answers read in request order, as Mesos' libprocess sends
// them. Concurrent callers share writes and reads, so that 5,000 ACCEPTs
// cost the framework 75-120 ms of CPU on loopback where net/http alone cost
// 180-220 ms (BenchmarkApply_5000Accepts_FrameworkSide and
// BenchmarkHTTP_5000Posts_Floor in actuate). Where an HTTP proxy is
// configured for the master, calls go through mesos-go and net/http as
// before. A call whose context ends before its answer closes its
// connection (the calls behind it on that connection fail, their outcome
// unknown, as with any lost answer); the next call dials anew. So does a
// call unanswered for Config.CallTimeout: one watch per connection looks at
// its oldest call's age, rather than a timer per call. A master's plain
// answers (HTTP/1.1, a final status, a Content-Length) are parsed from the
// read buffer without a header map, anything else by net/http (answer.go,
// fuzzed against net/http's ReadResponse).
//
// Ordering rules, in the order they apply:
//
//  1. The framework ID is loaded from the fwid.Store before the first
//     SUBSCRIBE; a failing load is retried, never skipped (subscribing
//     without the ID would register a second framework).
//  2. On SUBSCRIBED with an ID the store does not hold yet, the ID is saved
//     BEFORE the subscription is reported as subscribed and before any
//     later event reaches the Handler: nothing may be launched under an ID
//     that a restart would forget. If the save fails the subscription is
//     dropped and retried (with the same ID, kept in memory).
//  3. Only then is the Caller bound to this subscription; while no
//     subscription is up, calls fail at once with ErrNotSubscribed.
//
// When ZooKeeper names a new leading master, Run subscribes to it at once,
// even in the middle of a backoff. After a successful TEARDOWN through the
// Caller, the end of the subscription ends Run (nil): the framework is gone.
//
// ERROR events end the subscription and Run resubscribes, except that after
// "Framework failed over" (another instance subscribed under our ID) it
// waits MaxBackoff first, and after "Framework has been removed" it logs
// that only removing the stored ID (an operator's decision) can help.
//
// Workarounds for mesos-go v0.0.11 (see DESIGN.md):
//
//   - Leader pinning: mesos-go sends only SUBSCRIBE to a 307's target and
//     later calls to the original host. Here the HTTP layer follows the
//     SUBSCRIBE redirect itself and rewrites every request of the
//     subscription to the leader's host. A 307 on any later call means the
//     leader changed: the subscription ends (the pipeline ends it as
//     mesos-go does), and Run resubscribes.
//   - A failing call must not end a healthy subscription: without
//     EndpointCandidates mesos-go treats every call error as "no master".
//     An empty candidate selector makes errors come back to the caller
//     unchanged; only 307 and 403 (subscription lost) end the subscription,
//     on either call path. Errors are mesos-go's apierrors on both.
//   - No heartbeat watchdog in mesos-go: Run drops a subscription that
//     delivered no event for WatchdogIntervals heartbeat intervals.
package mesosconn
