package mesosconn

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/mesos/mesos-go/api/v1/lib/httpcli"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler/calls"

	"github.com/quobyte/quobyte-mesos/spec"
)

// UpdateFramework brings the live part of a changed mesos block to Mesos:
// the framework name, role and failover timeout, which a Mesos 1.9+ master
// changes on a live subscription (Master::updateFramework). They are sent
// at once with UPDATE_FRAMEWORK and carried by every later SUBSCRIBE;
// without a subscription the next SUBSCRIBE carries them. NextStart says
// what else changed.
//
// UPDATE_FRAMEWORK replaces the set of suppressed roles with none, so the
// framework gets offers for all its roles until it suppresses again. When
// the call fails (a master before 1.9 answers 400), the subscription is
// dropped so that the next SUBSCRIBE carries the change, and the error is
// returned.
func (c *Conn) UpdateFramework(ctx context.Context, m spec.Mesos) error {
	want := FromSpec(m).Framework
	c.mu.Lock()
	next := c.cfg.Framework
	next.Name, next.Role, next.FailoverTimeout = want.Name, want.Role, want.FailoverTimeout
	next.setDefaults()
	changed := next != c.cfg.Framework
	c.cfg.Framework = next
	s := c.session
	c.mu.Unlock()
	if !changed {
		return nil
	}
	if s == nil {
		c.log.Info("framework info changed; the next SUBSCRIBE carries it", "name", next.Name, "role", next.Role, "failover_timeout", next.FailoverTimeout)
		return nil
	}
	resp, err := c.call(ctx, calls.UpdateFramework(*next.frameworkInfo(s.frameworkID)))
	if resp != nil {
		resp.Close()
	}
	if isEmptyOK(err) {
		err = nil
	}
	if err != nil {
		c.log.Warn("UPDATE_FRAMEWORK failed; resubscribing to apply the change", "error", err)
		c.Resubscribe()
		return fmt.Errorf("update framework: %w", err)
	}
	c.log.Info("framework updated", "name", next.Name, "role", next.Role, "failover_timeout", next.FailoverTimeout)
	return nil
}

// isEmptyOK recognises mesos-go v0.0.11's complaint about a 200 OK without
// a body: it expects one with the codec's Content-Type for every 200, but
// Master::updateFramework answers UPDATE_FRAMEWORK with a bare 200 OK.
func isEmptyOK(err error) bool {
	var pe httpcli.ProtocolError
	return errors.As(err, &pe) && string(pe) == `unexpected content type: ""`
}

// liveSettings are the mesos block's settings UpdateFramework applies to a
// running framework, as spec paths.
var liveSettings = map[string]bool{"mesos.framework_name": true, "mesos.role": true, "mesos.failover_timeout": true}

// MesosChanges says what putting next in force instead of old would do to
// the framework's place in Mesos: each changed setting of the mesos block
// that goes out at once ("mesos.role: \"quobyte\" -> \"storage\", applied
// live with UPDATE_FRAMEWORK"), then those that wait for the next start
// (NextStart). A dry run shows them beside the plan.
func MesosChanges(old, next *spec.Cluster) []string {
	var out []string
	for _, c := range spec.Diff(old, next) {
		if liveSettings[c.Path] {
			out = append(out, c.String()+", applied live with UPDATE_FRAMEWORK")
		}
	}
	return append(out, NextStart(old.Mesos, next.Mesos)...)
}

// NextStart lists what changed between two mesos blocks that a running
// framework cannot apply: where the masters are, how it authenticates and
// where its framework ID is kept. One entry per field, such as
// "mesos.master changes at the next start".
func NextStart(old, next spec.Mesos) []string {
	var out []string
	for _, f := range []struct {
		name string
		same bool
	}{
		{"master", slices.Equal(old.Masters, next.Masters)},
		{"zk", old.ZK == next.ZK},
		{"principal", old.Principal == next.Principal},
		{"secret_file", old.SecretFile == next.SecretFile},
		{"ca_file", old.CAFile == next.CAFile},
		{"framework_id_store", old.FrameworkIDStore == next.FrameworkIDStore},
	} {
		if !f.same {
			out = append(out, "mesos."+f.name+" changes at the next start")
		}
	}
	return out
}
