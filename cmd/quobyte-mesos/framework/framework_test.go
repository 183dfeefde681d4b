package framework

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/quobyte/quobyte-mesos/observe/snapshot"
)

// Issue 11: production's Step must spread backoffs (jitter). With no random
// source (or a constant one) every data service failing on a bad image
// retried in lockstep. The test builds the framework as `run` does and
// fails twenty items at the same moment: their holds must not all end
// together.
func TestNew_StepJittersBackoffs(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "spec.hcl")
	src := fmt.Sprintf(`mesos {
  master             = "http://127.0.0.1:1"
  framework_id_store = "file://%s/framework-id"
}
quobyte {
  runtime = "command"
  command = "true"
}
`, dir)
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := New(Config{SpecFile: path, Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer f.ln.Close()

	now := time.Now()
	items := map[string]snapshot.ItemHistory{}
	for i := range 20 {
		item := snapshot.ItemKey("data", fmt.Sprintf("agent-%d", i))
		items[item] = snapshot.ItemHistory{Failures: 1, Last: snapshot.TaskEnd{TaskID: "quobyte.data.x.1", State: snapshot.Failed, At: now}}
	}
	s := snapshot.New(1, now, snapshot.Subscription{State: snapshot.Subscribed, Reconciled: true}, nil, nil, items)
	in, _ := f.next.step.Next(f.specs.Current(), s, nil)
	ends := map[time.Time]bool{}
	for _, h := range in.Holds {
		ends[h.Until] = true
	}
	if len(in.Holds) != 20 || len(ends) < 10 {
		t.Fatalf("%d holds ending at %d distinct times: items failing together retry together (no jitter)", len(in.Holds), len(ends))
	}
}

// The fence every request to Mesos passes: open without an ha block, shut
// on an instance with one until it wins the election.
func TestFence_OnlyTheLeaderMayAct(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, ha string
		want     error
	}{
		{"one instance", "", nil},
		{"not yet leading", "ha { zookeeper = \"zk://127.0.0.1:1/q\" }\n", errNotLeading},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "spec.hcl")
			src := fmt.Sprintf("mesos {\n  master = \"http://127.0.0.1:1\"\n  framework_id_store = \"file://%s/framework-id\"\n}\nquobyte {\n  runtime = \"command\"\n  command = \"true\"\n}\n%s", dir, tc.ha)
			if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := New(Config{SpecFile: path, Listen: "127.0.0.1:0"})
			if err != nil {
				t.Fatal(err)
			}
			defer f.ln.Close()
			if err := f.fence(); !errors.Is(err, tc.want) {
				t.Errorf("fence = %v, want %v", err, tc.want)
			}
		})
	}
}
