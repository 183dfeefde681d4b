package mesosconn

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/quobyte/quobyte-mesos/observe/fwid"
	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/spec"
	"github.com/quobyte/quobyte-mesos/test/mesossim"
)

// UPDATE_FRAMEWORK reaches the simulated master (which follows
// master.cpp's Master::updateFramework) and changes the framework's role
// and name on the live subscription; a resubscription keeps them.
func TestUpdateFramework_ChangesRoleOnTheMaster(t *testing.T) {
	sim, err := mesossim.Start(context.Background(), mesossim.Config{Agents: []mesossim.AgentConfig{mesossim.DefaultAgent("agent1")}})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	m := spec.Mesos{Masters: []string{sim.URL()}, FrameworkName: "quobyte-test", FailoverTimeout: time.Hour}
	cfg := FromSpec(m)
	cfg.Store = fwid.NewFileStore(filepath.Join(t.TempDir(), "id"))
	cfg.InitialBackoff, cfg.MaxBackoff = 20*time.Millisecond, 200*time.Millisecond
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = c.Run(ctx, &recorder{store: cfg.Store}) }()
	eventually(t, "subscribed", func() bool { return c.Status().State == snapshot.Subscribed })
	if roles := sim.State().Frameworks[0].Roles; !reflect.DeepEqual(roles, []string{"*"}) {
		t.Fatalf("roles before: %v", roles)
	}

	m.Role, m.FrameworkName = "storage", "quobyte-renamed"
	if err := c.UpdateFramework(ctx, m); err != nil {
		t.Fatal(err)
	}
	fw := sim.State().Frameworks[0]
	if !reflect.DeepEqual(fw.Roles, []string{"storage"}) || fw.Name != "quobyte-renamed" {
		t.Fatalf("after UpdateFramework: roles %v name %q", fw.Roles, fw.Name)
	}
	c.Resubscribe()
	eventually(t, "subscribed again", func() bool { return c.Status().Subscriptions >= 2 })
	if roles := sim.State().Frameworks[0].Roles; !reflect.DeepEqual(roles, []string{"storage"}) {
		t.Fatalf("roles after resubscribing: %v", roles)
	}
}

func TestNextStart(t *testing.T) {
	old := spec.Mesos{Masters: []string{"http://m1:5050"}, Role: "a", FrameworkIDStore: "file:///x"}
	next := old
	next.Role = "b"
	if got := NextStart(old, next); len(got) != 0 {
		t.Errorf("role change needs no restart, got %v", got)
	}
	next.Masters = []string{"http://m2:5050"}
	next.Principal = "p"
	want := []string{"mesos.master changes at the next start", "mesos.principal changes at the next start"}
	if got := NextStart(old, next); !reflect.DeepEqual(got, want) {
		t.Errorf("NextStart = %v, want %v", got, want)
	}
}

// A dry run's account of a changed mesos block: the live settings with
// their values, then what waits for the next start; nothing for a spec
// whose mesos block is unchanged.
func TestMesosChanges(t *testing.T) {
	load := func(mesos string) *spec.Cluster {
		t.Helper()
		src := "mesos {\n" + mesos + "\n}\nquobyte {\n  version = \"1\"\n  runtime = \"command\"\n  command = \"q\"\n}\n"
		c, diags := spec.LoadBytes([]byte(src), "t.hcl")
		if diags.HasErrors() {
			t.Fatalf("%s: %v", src, diags)
		}
		return c
	}
	old := load(`master = "http://m1:5050"`)
	next := load(`master = "http://m2:5050"
  role = "storage"
  failover_timeout = "24h"`)
	want := []string{
		`mesos.failover_timeout: "672h" -> "24h", applied live with UPDATE_FRAMEWORK`,
		`mesos.role: "quobyte" -> "storage", applied live with UPDATE_FRAMEWORK`,
		"mesos.master changes at the next start",
	}
	if got := MesosChanges(old, next); !reflect.DeepEqual(got, want) {
		t.Errorf("MesosChanges =\n%q\nwant\n%q", got, want)
	}
	if got := MesosChanges(old, load(`master = "http://m1:5050"`)); len(got) != 0 {
		t.Errorf("MesosChanges of an unchanged block = %q", got)
	}
}
