package framework

import (
	"strings"
	"testing"
	"time"

	"github.com/quobyte/quobyte-mesos/actuate"
	"github.com/quobyte/quobyte-mesos/cmd/quobyte-mesos/events"
	"github.com/quobyte/quobyte-mesos/cmd/quobyte-mesos/statusapi"
	"github.com/quobyte/quobyte-mesos/controller"
	"github.com/quobyte/quobyte-mesos/observe/mesosconn"
	"github.com/quobyte/quobyte-mesos/observe/snapshot"
)

func TestFailureEvent_SaysWhatMesosSaid(t *testing.T) {
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	e := failureEvent("data", "host-1", snapshot.TaskEnd{TaskID: "quobyte.data.c.1", State: snapshot.Failed,
		Reason: "REASON_COMMAND_EXECUTOR_FAILED", Message: "Command exited with status 1", At: at, RanFor: 2500 * time.Millisecond})
	want := events.Event{Type: events.Failure, Time: at, Host: "host-1", Kind: "data", TaskID: "quobyte.data.c.1", State: "FAILED",
		Text: "data on host-1 ended FAILED after running 3s", Reason: "REASON_COMMAND_EXECUTOR_FAILED", Message: "Command exited with status 1"}
	if e != want {
		t.Errorf("got  %+v\nwant %+v", e, want)
	}
	e = failureEvent("api", "host-2", snapshot.TaskEnd{State: snapshot.Killed, HealthKilled: true, HealthFailures: 3})
	if e.Text != "api on host-2 was killed by Mesos after 3 failed health checks" {
		t.Errorf("health kill: %q", e.Text)
	}
}

func TestReportEvents_LaunchesAndKillsWithTheirReasons(t *testing.T) {
	n, event := reportEvents(actuate.Report{
		Launched: []actuate.LaunchedTask{{TaskID: "quobyte.data.c.2", AgentID: "a1", Hostname: "host-1", Kind: "data", ConfigHash: "c", Reason: "DATA_DEVICE on host-1 has no data service"}},
		Killed:   []actuate.TaskRef{{TaskID: "quobyte.api.o.3", AgentID: "a2", Reason: "replaced by config n"}},
	})
	if n != 2 {
		t.Fatalf("%d events, want 2", n)
	}
	evs := []events.Event{event(0), event(1)}
	if e := evs[0]; e.Type != events.Launch || e.Host != "host-1" || e.Kind != "data" || e.Reason != "DATA_DEVICE on host-1 has no data service" ||
		e.Text != "launched data on host-1 with config c" {
		t.Errorf("launch %+v", e)
	}
	if e := evs[1]; e.Type != events.Kill || e.Host != "a2" || e.Kind != "api" || e.Reason != "replaced by config n" {
		t.Errorf("kill %+v", e)
	}
	apply := applyEvents(controller.ApplyReport{Failed: []controller.FailedAction{{
		Action: controller.Action{Type: controller.Launch, Kind: "s3"}.WithReason("0 of 1 s3 placed"), Error: "no offer fits"}}})
	if len(apply) != 1 || apply[0].Text != "launch of s3 on any host failed" || apply[0].Message != "no offer fits" {
		t.Errorf("apply %+v", apply)
	}
}

func TestReloadEvent(t *testing.T) {
	ok := reloadEvent(statusapi.Reload{File: "s.hcl", OK: true, SpecHash: "h2", Changes: `quobyte.version: "1" -> "2"`})
	if ok.Type != events.Reload || ok.Text != "spec h2 in force: s.hcl" || ok.Message != `quobyte.version: "1" -> "2"` {
		t.Errorf("%+v", ok)
	}
	bad := reloadEvent(statusapi.Reload{File: "s.hcl", SpecHash: "h1", Diagnostics: "s.hcl:3:5: Unsupported argument"})
	if bad.Type != events.ReloadFailed || !strings.Contains(bad.Text, "the spec in force stays h1") || bad.Message != "s.hcl:3:5: Unsupported argument" {
		t.Errorf("%+v", bad)
	}
}

// The subscription is told when it is made and when it ends; failed
// attempts (retried with backoff) are not.
func TestSubscriptionEvent(t *testing.T) {
	st := func(s snapshot.SubscriptionState, subs int) mesosconn.Status {
		return mesosconn.Status{State: s, Subscriptions: subs, Master: "http://m:5050", FrameworkID: "fw", LastError: "stream ended"}
	}
	for _, tc := range []struct {
		prev snapshot.SubscriptionState
		st   mesosconn.Status
		want string
	}{
		{"", st(snapshot.Subscribing, 0), ""},
		{snapshot.Subscribing, st(snapshot.Subscribed, 1), "subscribed to http://m:5050 as framework fw"},
		{snapshot.Subscribed, st(snapshot.Subscribed, 1), ""},
		{snapshot.Subscribed, st(snapshot.Disconnected, 1), "the Mesos subscription ended"},
		{snapshot.Subscribing, st(snapshot.Disconnected, 1), ""},
		{snapshot.Subscribing, st(snapshot.Subscribed, 2), "resubscribed to http://m:5050 as framework fw"},
	} {
		e, ok := subscriptionEvent(tc.prev, tc.st)
		if ok != (tc.want != "") || e.Text != tc.want {
			t.Errorf("%s -> %s: %v %q, want %q", tc.prev, tc.st.State, ok, e.Text, tc.want)
		}
	}
}
