// Package e2e drives the real binaries over real HTTP: mesos-sim (the
// simulated Mesos cluster, tasks as real processes), quobyte-mesos run, and
// the stand-in Quobyte service as the service command. It uses
// examples/local.hcl, the spec of `make run`, with the master's address and
// the framework ID store of each test filled in.
package e2e
