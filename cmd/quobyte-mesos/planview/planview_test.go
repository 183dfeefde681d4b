package planview

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/quobyte/quobyte-mesos/controller"
)

func samplePlan() *controller.Result {
	return &controller.Result{
		Generation: 7,
		SpecHash:   "abc",
		Actions: []controller.Action{
			{Type: controller.Launch, Hostname: "node2", Kind: "data", ConfigHash: "c2", Reason: "DATA_DEVICE on node2"},
			{Type: controller.Kill, Hostname: "node1", Kind: "metadata", TaskID: "quobyte.metadata.c1.x", Replaces: "quobyte.metadata.c1.x", Reason: "config changed"},
			{Type: controller.Kill, Hostname: "node1", Kind: "api", TaskID: "quobyte.api.c1.y", Reason: "not wanted"},
			{Type: controller.LaunchProber, Hostname: "node3", Kind: "prober", ConfigHash: "p1", Reason: "no prober"},
			{Type: controller.Probe, Hostname: "node3", Kind: "prober", TaskID: "quobyte.prober.p1.z", Reason: "report stale"},
		},
		Blocked: []controller.Blocked{{Hostname: "node4", Kind: "data", Reason: "waiting for the prober on node4"}},
	}
}

func TestSummarize_CountsReplacementsOnce(t *testing.T) {
	r := samplePlan()
	// The launch half of the same replacement must not count twice.
	r.Actions = append(r.Actions, controller.Action{Type: controller.Launch, Hostname: "node1", Kind: "metadata", ConfigHash: "c2", Replaces: "quobyte.metadata.c1.x"})
	got := Summarize(r)
	want := Summary{Launch: 2, Replace: 1, Stop: 1, Probe: 1, Blocked: 1}
	if got != want {
		t.Fatalf("Summarize = %+v, want %+v", got, want)
	}
	if line := got.Line(); line != "Plan: 2 to launch, 1 to replace, 1 to stop. 1 blocked." {
		t.Fatalf("Line = %q", line)
	}
}

func TestSummary_ProbesAloneAreNoChange(t *testing.T) {
	r := &controller.Result{Actions: []controller.Action{{Type: controller.Probe, Kind: "prober", TaskID: "t"}}}
	s := Summarize(r)
	if s.HasChanges() {
		t.Fatalf("probe-only plan reported as changes: %+v", s)
	}
	if !strings.HasPrefix(s.Line(), "No changes") {
		t.Fatalf("Line = %q", s.Line())
	}
}

func TestText_GroupsByHostWithSymbols(t *testing.T) {
	var buf bytes.Buffer
	if err := NewDocument(samplePlan(), nil, nil).Text(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"  node1\n    ~ metadata   stop quobyte.metadata.c1.x (to be replaced)\n        because config changed\n",
		"    - api        stop quobyte.api.c1.y\n",
		"  node2\n    + data       launch with config c2\n        because DATA_DEVICE on node2\n",
		"    ? prober     ask quobyte.prober.p1.z to probe\n",
		"Blocked:\n    node4        data       waiting for the prober on node4\n",
		"Plan: 2 to launch, 1 to replace, 1 to stop. 1 blocked.\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q\n--- output:\n%s", want, out)
		}
	}
	if strings.Index(out, "node1") > strings.Index(out, "node2") {
		t.Errorf("hosts not sorted:\n%s", out)
	}
}

func TestJSON_RoundTrips(t *testing.T) {
	var buf bytes.Buffer
	if err := NewDocument(samplePlan(), nil, nil).JSON(&buf); err != nil {
		t.Fatal(err)
	}
	var doc Document
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, buf.String())
	}
	if !doc.Changes || doc.Summary.Launch != 2 || len(doc.Plan.Actions) != 5 {
		t.Fatalf("unexpected document %+v", doc)
	}
}

// A dry run whose only change is in the mesos block says so, and counts it
// as a change; services not running healthy do not turn it into "No
// changes to make".
func TestText_MesosBlockChanges(t *testing.T) {
	doc := NewDocument(&controller.Result{}, nil, nil)
	if doc.Changes {
		t.Fatal("an empty plan has changes")
	}
	doc = doc.WithMesos([]string{`mesos.role: "a" -> "b", applied live with UPDATE_FRAMEWORK`, "mesos.master changes at the next start"})
	doc.Services = &ServiceHealth{Total: 2, NotHealthy: 1}
	var buf bytes.Buffer
	if err := doc.Text(&buf); err != nil {
		t.Fatal(err)
	}
	want := "\nThe mesos block:\n    mesos.role: \"a\" -> \"b\", applied live with UPDATE_FRAMEWORK\n    mesos.master changes at the next start\n"
	if out := buf.String(); !doc.Changes || !strings.Contains(out, want) ||
		!strings.HasSuffix(out, "No changes to tasks. 2 changes of the mesos block. 1 of 2 services is not running healthy.\n") {
		t.Errorf("changes %v, text:\n%s", doc.Changes, out)
	}
}
