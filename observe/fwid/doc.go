// Package fwid persists the Mesos framework ID.
//
// The framework ID is what lets a restarted framework take its tasks back:
// it must be saved before the framework relies on it (before it accepts an
// offer or launches a task under it), so that a crash right after
// SUBSCRIBED never leaves tasks behind under an ID nobody remembers.
//
// Two stores implement Store: a local file (the embedded default, written
// atomically: temp file, fsync, rename, fsync of the directory) and a
// ZooKeeper node (production, shared by every framework instance). Open picks
// one from a URL: "file:///var/lib/quobyte-mesos/framework-id" or
// "zk://zk1:2181,zk2:2181/quobyte-mesos/framework-id".
//
// Load returns "" and no error when no ID has been saved yet.
package fwid
