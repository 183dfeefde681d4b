package agentrt

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// recordReader reads RecordIO ("<length>\n<bytes>") records off a stream.
type recordReader struct{ r *bufio.Reader }

func (rr recordReader) next(t *testing.T) map[string]any {
	t.Helper()
	line, err := rr.r.ReadString('\n')
	if err != nil {
		t.Fatalf("read record length: %v", err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("bad record length %q", line)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(rr.r, buf); err != nil {
		t.Fatalf("read record: %v", err)
	}
	var ev map[string]any
	if err := json.Unmarshal(buf, &ev); err != nil {
		t.Fatalf("record is not JSON: %v: %s", err, buf)
	}
	return ev
}

// TestExecutorAPIWireFormat speaks the executor API as the Mesos docs
// describe it, with plain HTTP and JSON, on behalf of an executor process
// that never subscribes itself.
func TestExecutorAPIWireFormat(t *testing.T) {
	a, rec := newTestAgent(t, nil)
	a.Launch(frameworkInfo(), executorTask("w1", shellExecutor("wire", "sleep 30")))
	url := "http://" + a.Endpoint() + "/api/v1/executor"
	ids := fmt.Sprintf(`"framework_id":{"value":%q},"executor_id":{"value":"wire"}`, testFW)

	res, rr := subscribeJSON(t, url, `{`+ids+`,"type":"SUBSCRIBE","subscribe":{}}`)
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if len(res.TransferEncoding) != 1 || res.TransferEncoding[0] != "chunked" {
		t.Errorf("Transfer-Encoding = %v, want chunked", res.TransferEncoding)
	}

	sub := rr.next(t)
	if sub["type"] != "SUBSCRIBED" {
		t.Fatalf("first event = %v", sub)
	}
	s := sub["subscribed"].(map[string]any)
	if s["agent_info"].(map[string]any)["hostname"] != "host-1.example" ||
		s["executor_info"].(map[string]any)["executor_id"].(map[string]any)["value"] != "wire" ||
		s["framework_info"].(map[string]any)["id"].(map[string]any)["value"] != testFW ||
		s["container_id"] == nil {
		t.Errorf("SUBSCRIBED = %v", s)
	}
	if ev := rr.next(t); ev["type"] != "LAUNCH" {
		t.Fatalf("second event = %v", ev)
	}

	uuid := newUUID()
	data := base64.StdEncoding.EncodeToString([]byte("report"))
	update := fmt.Sprintf(`{%s,"type":"UPDATE","update":{"status":{"task_id":{"value":"w1"},"state":"TASK_RUNNING","source":"SOURCE_EXECUTOR","uuid":%q,"data":%q}}}`,
		ids, base64.StdEncoding.EncodeToString(uuid), data)
	post := func(body string) int {
		res, err := http.Post(url, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := post(update); code != http.StatusAccepted {
		t.Fatalf("UPDATE: %d", code)
	}
	st := rec.waitFor(t, "w1", 10*time.Second, hasData("report"))
	if st.GetAgentID().GetValue() != "agent-S1" || !bytes.Equal(st.UUID, uuid) {
		t.Errorf("relayed update: %+v", st)
	}
	ack := rr.next(t)
	if ack["type"] != "ACKNOWLEDGED" || ack["acknowledged"].(map[string]any)["uuid"] != base64.StdEncoding.EncodeToString(uuid) {
		t.Errorf("after UPDATE: %v", ack)
	}
	// The same update again (as after a lost acknowledgement) is
	// acknowledged but not relayed a second time.
	if code := post(update); code != http.StatusAccepted {
		t.Fatalf("UPDATE resent: %d", code)
	}
	if ack := rr.next(t); ack["type"] != "ACKNOWLEDGED" {
		t.Errorf("after resent UPDATE: %v", ack)
	}
	if n := len(rec.of("w1")); n != 1 {
		t.Errorf("duplicate update relayed: %s", describe(rec.of("w1")))
	}

	if code := post(`{` + ids + `,"type":"MESSAGE","message":{"data":"aGk="}}`); code != http.StatusAccepted {
		t.Errorf("MESSAGE: %d", code)
	}
	waitMessage(t, rec, "hi")
	if code := post(`{` + ids + `,"type":"HEARTBEAT"}`); code != http.StatusAccepted {
		t.Errorf("HEARTBEAT: %d", code)
	}

	if err := a.Message(testFW, "wire", []byte("to executor")); err != nil {
		t.Fatal(err)
	}
	if ev := rr.next(t); ev["type"] != "MESSAGE" || ev["message"].(map[string]any)["data"] != base64.StdEncoding.EncodeToString([]byte("to executor")) {
		t.Errorf("MESSAGE event = %v", ev)
	}
	a.Kill(testFW, "w1", 2*time.Second)
	ev := rr.next(t)
	if ev["type"] != "KILL" || ev["kill"].(map[string]any)["task_id"].(map[string]any)["value"] != "w1" ||
		fmt.Sprint(ev["kill"].(map[string]any)["kill_policy"]) != "map[grace_period:map[nanoseconds:2e+09]]" {
		t.Errorf("KILL event = %v", ev)
	}
	a.ShutdownFramework(testFW)
	if ev := rr.next(t); ev["type"] != "SHUTDOWN" {
		t.Errorf("after ShutdownFramework: %v", ev)
	}
}

// FuzzExecutorAPI feeds arbitrary bodies to the executor endpoint: every
// answer must be a well-formed HTTP error, never a panic.
func FuzzExecutorAPI(f *testing.F) {
	f.Add([]byte(`{"type":"SUBSCRIBE","framework_id":{"value":"f"},"executor_id":{"value":"e"},"subscribe":{}}`), false)
	f.Add([]byte(`{"type":"UPDATE","framework_id":{"value":"f"},"executor_id":{"value":"e"},"update":{"status":{}}}`), false)
	f.Add([]byte{0x0a, 0x03, 0x0a, 0x01, 0x65, 0x12, 0x03, 0x0a, 0x01, 0x66, 0x18, 0x02}, true)
	a, _ := newTestAgent(f, nil)
	f.Fuzz(func(t *testing.T, body []byte, protobuf bool) {
		ct := mediaJSON
		if protobuf {
			ct = mediaProtobuf
		}
		req := httptest.NewRequest(http.MethodPost, "/api/v1/executor", bytes.NewReader(body))
		req.Header.Set("Content-Type", ct)
		w := httptest.NewRecorder()
		a.serveExecutorAPI(w, req)
		if w.Code < 400 || w.Code > 499 {
			t.Fatalf("status %d for %q", w.Code, body)
		}
	})
}

// subscribeJSON subscribes with a JSON body, retrying while the executor
// process is still being started.
func subscribeJSON(t *testing.T, url, body string) (*http.Response, recordReader) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode == http.StatusOK {
			return res, recordReader{bufio.NewReader(res.Body)}
		}
		res.Body.Close()
		if time.Now().After(deadline) {
			t.Fatalf("SUBSCRIBE: status %d", res.StatusCode)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestExecutorResubscribes: a second SUBSCRIBE replaces the first stream,
// gets SUBSCRIBED again (no second LAUNCH) and has its unacknowledged
// updates relayed.
func TestExecutorResubscribes(t *testing.T) {
	a, rec := newTestAgent(t, nil)
	a.Launch(frameworkInfo(), executorTask("rs1", shellExecutor("resub", "sleep 30")))
	url := "http://" + a.Endpoint() + "/api/v1/executor"
	ids := fmt.Sprintf(`"framework_id":{"value":%q},"executor_id":{"value":"resub"}`, testFW)

	first, rr1 := subscribeJSON(t, url, `{`+ids+`,"type":"SUBSCRIBE","subscribe":{}}`)
	defer first.Body.Close()
	if ev := rr1.next(t); ev["type"] != "SUBSCRIBED" {
		t.Fatalf("first event = %v", ev)
	}
	if ev := rr1.next(t); ev["type"] != "LAUNCH" {
		t.Fatalf("second event = %v", ev)
	}

	uuid := base64.StdEncoding.EncodeToString(newUUID())
	resub := fmt.Sprintf(`{%s,"type":"SUBSCRIBE","subscribe":{"unacknowledged_updates":[{"status":{"task_id":{"value":"rs1"},"state":"TASK_RUNNING","source":"SOURCE_EXECUTOR","uuid":%q,"data":"cmVzZW50"}}]}}`, ids, uuid)
	second, rr2 := subscribeJSON(t, url, resub)
	defer second.Body.Close()
	if ev := rr2.next(t); ev["type"] != "SUBSCRIBED" {
		t.Fatalf("after resubscribing: %v", ev)
	}
	if ev := rr2.next(t); ev["type"] != "ACKNOWLEDGED" || ev["acknowledged"].(map[string]any)["uuid"] != uuid {
		t.Errorf("resent update not acknowledged: %v", ev)
	}
	rec.waitFor(t, "rs1", 10*time.Second, hasData("resent"))
	if _, err := rr1.r.ReadByte(); err == nil {
		t.Error("the replaced subscription stream is still open")
	}
}
