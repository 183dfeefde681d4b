// Package leader elects one leader among the framework instances that share
// a ZooKeeper path and a framework name, and fences it: an instance acts on
// Mesos only while Term.Check says it still leads.
//
// # The election
//
// Each instance joins with an ephemeral sequential node
// <path>/election/<framework name>/..candidate-NNNNNNNNNN holding its Member
// data (URL, spec hash, version). The lowest sequence leads; every other
// candidate watches only its predecessor (no herd: a leader's end wakes one
// instance), and on a change lists the candidates again, because a
// predecessor may leave while the leader stays. The nodes are the
// membership too: every instance watches them, so each status names the
// leader with its URL and every instance's spec hash.
//
// # Why a lease, and why half the session timeout
//
// ZooKeeper ends an ephemeral node when the server expires its session: the
// timeout T (negotiated: the server grants between 2 and 20 of its ticks)
// after the server last heard from the client. The client learns of that
// expiry only when it reconnects, which a partitioned client never does. So
// an instance cut off from ZooKeeper must assume, once T could have passed,
// that its node is gone and a standby leads; waiting for StateExpired would
// let two leaders act. Disconnected is no proof either way: the connection
// may come back within the same session, or the session may be long gone.
//
// The leader therefore holds a lease. It reads its own node every T/6; a
// read sent at s and answered (node present, owned by this session) proves
// the server heard from the session at or after s, so the session lives at
// least until s+T. The lease runs to s+T/2: the leader stops at the latest
// T/2 after its last proof, while a successor can start at the earliest T
// after it (the server's expiry, then the watch, then its own reads and the
// Mesos subscription). The other half of T absorbs clock-rate differences,
// scheduling delays and a call already on the wire. A short ZooKeeper
// outage (a server restart, a reconnect to another server within T/2)
// costs nothing; a longer one ends the term even though the session may
// come back: safety first.
//
// go-zookeeper does not expose the timeout the server granted; it logs it
// ("authenticated: id=..., timeout=..."). The elector reads that log call
// (format string and arguments, not text) and will not lead before it knows
// the granted timeout, so a library that stopped logging it fails closed.
//
// # The caller's duties
//
//  1. Run(ctx, lead) calls lead(term) when this instance wins, and waits for
//     it to return before it joins again or gives its node up: lead must
//     return only once nothing it started can reach Mesos any more.
//  2. Every request to Mesos asks term.Check first, right before it is
//     sent (observe/mesosconn's Config.Fence), and everything lead runs
//     uses term.Context(), which ends when the term does.
//  3. A term never resumes: after it ends, for whatever reason, the elector
//     closes its session and joins again with a new one, so an instance acts
//     again only after it has won in a new session. Ending ctx gives the
//     leadership up at once (after lead has returned): the session is closed
//     and the next candidate takes over without waiting for a timeout.
//
// Mesos adds a fence of its own: the new leader subscribes with the same
// framework ID, the master fails the old subscription over ("Framework
// failed over") and refuses calls carrying the old stream ID.
package leader
