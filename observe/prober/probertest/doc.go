// Package probertest provides a fake Mesos agent speaking the agent side of
// the v1 executor API (protobuf events in RecordIO over loopback HTTP), for
// tests of the prober executor, and of anything that runs it, without Mesos.
// It checks the calls' framework and executor IDs and content type, records
// SUBSCRIBE and UPDATE calls for the test to inspect, and can acknowledge,
// drop the stream, or refuse calls like a restarting agent.
package probertest
