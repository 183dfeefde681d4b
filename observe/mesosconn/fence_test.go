package mesosconn

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quobyte/quobyte-mesos/observe/internal/fakemaster"
)

// Config.Fence: once it refuses, no request reaches the master — neither a
// call of the live subscription nor the SUBSCRIBE that follows when the
// subscription drops — and calls fail with ErrFenced and the fence's reason.
func TestFence_RefusedRequestsNeverReachTheMaster(t *testing.T) {
	m := fakemaster.Start(t, 0)
	notLeading := errors.New("not leading: test")
	var fenced atomic.Bool
	h := start(t, Config{Masters: []string{m.URL()}, Fence: func() error {
		if fenced.Load() {
			return notLeading
		}
		return nil
	}})
	h.waitSubscriptions(t, 1)
	if err := decline(t, h.conn.Caller()); err != nil {
		t.Fatalf("decline while the fence is open: %v", err)
	}
	calls, subscribes := len(m.Calls()), len(m.Subscribes())

	fenced.Store(true)
	err := decline(t, h.conn.Caller())
	if !errors.Is(err, ErrFenced) || !errors.Is(err, notLeading) {
		t.Fatalf("decline while fenced: %v, want ErrFenced wrapping the fence's error", err)
	}
	m.DropStream() // Run tries to subscribe again, and must not get through
	time.Sleep(300 * time.Millisecond)
	if got := len(m.Calls()); got != calls {
		t.Errorf("the master got %d calls after the fence closed", got-calls)
	}
	if got := len(m.Subscribes()); got != subscribes {
		t.Errorf("the master got %d SUBSCRIBEs after the fence closed", got-subscribes)
	}

	fenced.Store(false)
	h.waitSubscriptions(t, 2)
}
