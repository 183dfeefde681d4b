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
			controller.Action{Type: controller.Launch, Hostname: "node2", Kind: "data", ConfigHash: "c2"}.WithReason("DATA_DEVICE on node2"),
			controller.Action{Type: controller.Kill, Hostname: "node1", Kind: "metadata", TaskID: "quobyte.metadata.c1.x", Replaces: "quobyte.metadata.c1.x"}.WithReason("config changed"),
			controller.Action{Type: controller.Kill, Hostname: "node1", Kind: "api", TaskID: "quobyte.api.c1.y"}.WithReason("not wanted"),
			controller.Action{Type: controller.LaunchProber, Hostname: "node3", Kind: "prober", ConfigHash: "p1"}.WithReason("no prober"),
			controller.Action{Type: controller.Probe, Hostname: "node3", Kind: "prober", TaskID: "quobyte.prober.p1.z"}.WithReason("report stale"),
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

// The summary counts the whole of a paced change, kind by kind, each at
// its pace when it differs from the others', then this plan's step.
func TestSummarize_WholeChangeThenNow(t *testing.T) {
	r := &controller.Result{
		Actions: []controller.Action{{Type: controller.Kill, Hostname: "node1", Kind: "registry", TaskID: "quobyte.registry.r1.x", Replaces: "quobyte.registry.r1.x"}},
		Changes: []controller.KindChange{
			{Kind: "prober", Replace: 5},
			{Kind: "registry", Replace: 3, AtATime: 1},
			{Kind: "data", Replace: 5, Stop: 2, AtATime: 2},
		},
		Blocked: []controller.Blocked{{Kind: "data", Reason: "upgrade of data waits until every registry runs the new config, settled"}},
	}
	s := Summarize(r)
	if s.ToReplace != 13 || s.ToStop != 2 || s.Replace != 1 {
		t.Errorf("summary %+v", s)
	}
	want := "Plan: 13 to replace, rolling 2 at a time: prober 5 (all at once), registry 3 (one at a time), data 5; 2 to stop, 2 at a time: data 2." +
		" Now: 0 to launch, 1 to replace, 0 to stop. 1 blocked."
	if got := s.Line(); got != want {
		t.Errorf("Line =\n%q, want\n%q", got, want)
	}
	stopped := Summarize(&controller.Result{Changes: []controller.KindChange{{Kind: "data", Stop: 5}, {Kind: "registry", Stop: 3}}})
	if got, want := stopped.Line(), "Plan: 8 to stop, kind by kind: data 5, registry 3. Now: 0 to launch, 0 to replace, 0 to stop."; got != want {
		t.Errorf("stopped: Line = %q, want %q", got, want)
	}
	if !stopped.HasChanges() {
		t.Error("a stop under way is no change")
	}
}

// A launch that waits for an offer to fit says why under its own line, and
// is counted, not listed as blocked besides.
func TestText_WaitingLaunch(t *testing.T) {
	r := &controller.Result{Actions: []controller.Action{controller.Action{Type: controller.Launch, Hostname: "node4", Kind: "data", ConfigHash: "d1",
		Waiting: "needs cpus=1, largest offer from node4 cpus=0.2"}.WithReason("DATA_DEVICE on node4 has no data service")}}
	var buf bytes.Buffer
	if err := NewDocument(r, nil, nil).Text(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"    + data       launch with config d1\n        because DATA_DEVICE on node4 has no data service\n        waiting: needs cpus=1, largest offer from node4 cpus=0.2\n",
		"Plan: 1 to launch, 0 to replace, 0 to stop. 1 launch waits for resources.\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Blocked") {
		t.Errorf("a waiting launch listed as blocked:\n%s", out)
	}
}
