package framework

import (
	"context"
	"time"

	"github.com/quobyte/quobyte-mesos/spec"
)

// updateMesos brings a reloaded mesos block to Mesos: the framework name,
// role and failover timeout go out at once with UPDATE_FRAMEWORK (what
// else changed waits for the next start; the reload result says so). A
// failed call is logged by the connection, which resubscribes to apply it.
func (t *term) updateMesos(old, next *spec.Cluster) {
	if old.Mesos.FrameworkName == next.Mesos.FrameworkName && old.Mesos.Role == next.Mesos.Role &&
		old.Mesos.FailoverTimeout == next.Mesos.FailoverTimeout {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = t.conn.Conn.UpdateFramework(ctx, next.Mesos)
}
