package agentrt

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"

	"github.com/quobyte/quobyte-mesos/internal/mesosstate"
)

// An agent restarted with checkpointing (slave.cpp recovery, slave/http.cpp
// executor endpoint): command tasks keep running; an executor that
// subscribes again keeps its task, and is answered 503 "Agent has not
// finished recovery" on UPDATE until the reregistration timeout; one that
// does not is killed and its task ends TASK_GONE with
// REASON_EXECUTOR_REREGISTRATION_TIMEOUT.
func TestRestartRecoversExecutorsThatComeBack(t *testing.T) {
	a, rec := newTestAgent(t, func(c *Config) { c.ExecutorReregistrationTimeout = 500 * time.Millisecond })
	fw := frameworkInfo(mesos.FrameworkInfo_Capability_PARTITION_AWARE)
	a.Launch(fw, shellTask("cmd", "sleep 30"))
	a.Launch(fw, executorTask("back-task", shellExecutor("back", "sleep 30")))
	a.Launch(fw, executorTask("gone-task", shellExecutor("gone", "sleep 30")))
	rec.waitState(t, "cmd", mesos.TASK_RUNNING, 10*time.Second)
	url := "http://" + a.Endpoint() + "/api/v1/executor"
	ids := func(eid string) string {
		return fmt.Sprintf(`"framework_id":{"value":%q},"executor_id":{"value":%q}`, testFW, eid)
	}
	for _, eid := range []string{"back", "gone"} {
		res, rr := subscribeJSON(t, url, `{`+ids(eid)+`,"type":"SUBSCRIBE","subscribe":{}}`)
		defer res.Body.Close()
		rr.next(t) // SUBSCRIBED
		rr.next(t) // LAUNCH
	}
	endpoint := a.Endpoint()
	recovered := make(chan time.Time, 1)
	a.Restart(200*time.Millisecond, func() { recovered <- time.Now() })
	restarted := time.Now()

	// Down: nothing answers.
	if res, err := http.Post(url, "application/json", strings.NewReader("{}")); err == nil {
		res.Body.Close()
		t.Errorf("executor API answered %d while the agent is down", res.StatusCode)
	}
	// The executor retries until the agent is back.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		res, err := http.Post(url, "application/json", strings.NewReader("{}"))
		if err == nil {
			res.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the agent did not come back: %v", err)
		}
	}
	res, rr := subscribeJSON(t, url, `{`+ids("back")+`,"type":"SUBSCRIBE","subscribe":{}}`)
	defer res.Body.Close()
	if ev := rr.next(t); ev["type"] != "SUBSCRIBED" {
		t.Fatalf("resubscribing during recovery: %v", ev)
	}
	if a.Endpoint() != endpoint {
		t.Errorf("endpoint changed across the restart: %s -> %s", endpoint, a.Endpoint())
	}
	update := fmt.Sprintf(`{%s,"type":"UPDATE","update":{"status":{"task_id":{"value":"back-task"},"state":"TASK_RUNNING","source":"SOURCE_EXECUTOR","uuid":"%s"}}}`,
		ids("back"), "AAAAAAAAQAAAAAAAAAAAAA==")
	post := func() (int, string) {
		res, err := http.Post(url, "application/json", strings.NewReader(update))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, body := post(); code != http.StatusServiceUnavailable || body != "Agent has not finished recovery" {
		t.Errorf("UPDATE during recovery: %d %q, want 503 \"Agent has not finished recovery\"", code, body)
	}

	var done time.Time
	select {
	case done = <-recovered:
	case <-time.After(10 * time.Second):
		t.Fatal("the agent never finished recovery")
	}
	if d := done.Sub(restarted); d < 700*time.Millisecond {
		t.Errorf("recovered %v after the restart, before down + reregistration timeout", d)
	}
	if code, body := post(); code != http.StatusAccepted {
		t.Errorf("UPDATE after recovery: %d %q", code, body)
	}
	gone := rec.waitFor(t, "gone-task", 10*time.Second, func(s mesos.TaskStatus) bool { return mesosstate.Terminal(s.GetState()) })
	if gone.GetState() != mesos.TASK_GONE || gone.GetReason() != mesos.REASON_EXECUTOR_REREGISTRATION_TIMEOUT ||
		gone.GetSource() != mesos.SOURCE_AGENT || gone.GetMessage() != "Executor did not reregister within 500ms" {
		t.Errorf("executor that did not come back: %s", describe([]mesos.TaskStatus{gone}))
	}
	for _, id := range []string{"cmd", "back-task"} {
		for _, st := range rec.of(id) {
			if mesosstate.Terminal(st.GetState()) {
				t.Errorf("%s ended across the restart: %s", id, describe(rec.of(id)))
			}
		}
	}
}
