package observe

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/quobyte/quobyte-mesos/observe/internal/fakemaster"
	"github.com/quobyte/quobyte-mesos/observe/mesosconn"
	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/spec"
)

func TestConnect_FromSpecSubscribesAndPublishes(t *testing.T) {
	m := fakemaster.Start(t, 0)
	idFile := filepath.Join(t.TempDir(), "state", "framework-id")
	c, err := Connect(spec.Mesos{
		Masters:          []string{m.URL()},
		FrameworkName:    "quobyte",
		Role:             "storage",
		FailoverTimeout:  time.Hour,
		FrameworkIDStore: "file://" + idFile,
	}, Options{
		Observer: Config{ImplicitSettle: 100 * time.Millisecond},
		Conn:     func(c *mesosconn.Config) { c.InitialBackoff = 10 * time.Millisecond },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := c.Observer.Latest().Subscription
		if s.State == snapshot.Subscribed && s.Reconciled && s.FrameworkID == "fw-1" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not subscribed and reconciled: %+v", s)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if fi := m.Subscribes()[0].GetSubscribe().GetFrameworkInfo(); fi.GetRole() != "storage" || fi.GetName() != "quobyte" {
		t.Fatalf("framework info %+v", fi)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func TestConnect_NeedsStore(t *testing.T) {
	if _, err := Connect(spec.Mesos{Masters: []string{"http://m:5050"}}, Options{}); err == nil {
		t.Fatal("Connect without a framework id store succeeded")
	}
	if _, err := Connect(spec.Mesos{FrameworkIDStore: "file:///tmp/x"}, Options{}); err == nil {
		t.Fatal("Connect without masters succeeded")
	}
}
