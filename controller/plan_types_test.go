package controller

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/quobyte/quobyte-mesos/spec"
)

// An action's JSON (/v1/plan, the remote dry run) is what it was when the
// item and the reason were fields: the lines below are what the Action of
// before wrote for the same actions.
func TestAction_JSON_SameAsBeforeAndReadBack(t *testing.T) {
	acts := []Action{
		Action{Type: Launch, AgentID: "a1", Hostname: "node1", Kind: "data", ConfigHash: "c1", Replaces: "quobyte.data.c0.x",
			Resources: spec.Resources{CPUs: 1, Mem: 2048, Disk: 64}, Ports: []int{7863, 7873}, Address: "10.0.0.1", Waiting: "needs cpus=1"}.WithReason("replaces it"),
		Action{Type: Kill, AgentID: "a2", Hostname: "node2", Kind: "api", TaskID: "quobyte.api.c1.y", KillSent: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}.WithReason("not wanted"),
		Action{Type: Probe, AgentID: "a3", Hostname: "node3", Kind: "prober", TaskID: "quobyte.prober.p.z"}.WithReason("stale"),
		{Type: Launch, AgentID: "a4", Hostname: "node4", Kind: "metadata", ConfigHash: "c2"},
	}
	want := []string{
		`{"type":"launch","agent_id":"a1","hostname":"node1","kind":"data","config_hash":"c1","replaces":"quobyte.data.c0.x","item":"data@a1","reason":"replaces it","resources":{"CPUs":1,"Mem":2048,"Disk":64},"ports":[7863,7873],"address":"10.0.0.1","waiting":"needs cpus=1"}`,
		`{"type":"kill","agent_id":"a2","hostname":"node2","kind":"api","task_id":"quobyte.api.c1.y","item":"api@a2","reason":"not wanted","resources":{"CPUs":0,"Mem":0,"Disk":0},"kill_sent":"2026-01-02T03:04:05Z"}`,
		`{"type":"probe","agent_id":"a3","hostname":"node3","kind":"prober","task_id":"quobyte.prober.p.z","item":"probe@a3","reason":"stale","resources":{"CPUs":0,"Mem":0,"Disk":0}}`,
		`{"type":"launch","agent_id":"a4","hostname":"node4","kind":"metadata","config_hash":"c2","item":"metadata@a4","reason":"METADATA_DEVICE on node4 has no metadata service","resources":{"CPUs":0,"Mem":0,"Disk":0}}`,
	}
	for i, a := range acts {
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != want[i] {
			t.Errorf("JSON of %s:\n got %s\nwant %s", a.Type, b, want[i])
		}
		var back Action
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if back.Item() != a.Item() || back.Reason() != a.Reason() {
			t.Errorf("read back %s: item %q reason %q, want %q %q", a.Type, back.Item(), back.Reason(), a.Item(), a.Reason())
		}
		back.reason, a.reason = "", ""
		if diff := cmp.Diff(a, back, cmp.AllowUnexported(Action{})); diff != "" {
			t.Errorf("read back %s (-wrote +read):\n%s", a.Type, diff)
		}
	}
}

// The plain reasons of launches are made when asked for, with the words
// reasons.go has for them; other actions have none unless given one.
func TestAction_PlainReasons(t *testing.T) {
	for _, tc := range []struct {
		a    Action
		want string
	}{
		{Action{Type: LaunchProber, Hostname: "n1", Kind: "prober"}, reasonLaunchProber("n1")},
		{Action{Type: Launch, Hostname: "n1", Kind: "data"}, "DATA_DEVICE on n1 has no data service"},
		{Action{Type: Launch, Hostname: "n1", Kind: "client"}, reasonLaunchClient("n1")},
		{Action{Type: Launch, Hostname: "n1", Kind: "api"}, ""},
		{Action{Type: Kill, Hostname: "n1", Kind: "data"}, ""},
		{Action{Type: Launch, Hostname: "n1", Kind: "data"}.WithReason("other"), "other"},
	} {
		if got := tc.a.Reason(); got != tc.want {
			t.Errorf("%+v: reason %q, want %q", tc.a, got, tc.want)
		}
	}
}
