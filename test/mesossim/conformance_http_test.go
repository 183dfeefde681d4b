package mesossim

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// The requests in this file are written from the scheduler HTTP API document,
// not produced by a client library.

const docSubscribeJSON = `{
  "type": "SUBSCRIBE",
  "subscribe": {
    "framework_info": {
      "user": "foo",
      "name": "Example HTTP Framework",
      "roles": ["test"],
      "capabilities": [{"type": "MULTI_ROLE"}, {"type": "PARTITION_AWARE"}]
    }
  }
}`

func TestSubscribeJSONFramingHeadersAndEventOrder(t *testing.T) {
	c := startCluster(t, fastConfig(2))
	resp := rawPost(t, c.URL()+schedulerPath, mediaJSON, []byte(docSubscribeJSON), map[string]string{"Accept": mediaJSON})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200", resp.StatusCode)
	}
	if got := resp.Header.Get("Content-Type"); got != mediaJSON {
		t.Errorf("Content-Type %q, want %q", got, mediaJSON)
	}
	if len(resp.TransferEncoding) != 1 || resp.TransferEncoding[0] != "chunked" {
		t.Errorf("Transfer-Encoding %v, want chunked", resp.TransferEncoding)
	}
	if resp.Header.Get(headerStreamID) == "" {
		t.Error("no Mesos-Stream-Id header")
	}
	s := openRawStream(t, resp)
	first := s.nextJSON(t)
	if first["type"] != "SUBSCRIBED" {
		t.Fatalf("first event %v, want SUBSCRIBED", first["type"])
	}
	sub := first["subscribed"].(map[string]any)
	if sub["framework_id"].(map[string]any)["value"] == "" {
		t.Error("SUBSCRIBED has no framework_id")
	}
	if hb, _ := sub["heartbeat_interval_seconds"].(float64); hb != 0.2 {
		t.Errorf("heartbeat_interval_seconds %v, want 0.2", sub["heartbeat_interval_seconds"])
	}
	mi := sub["master_info"].(map[string]any)
	if _, ok := mi["id"]; !ok {
		t.Error("SUBSCRIBED has no master_info.id")
	}
	if caps := fmt.Sprint(mi["capabilities"]); caps != "[map[type:AGENT_UPDATE] map[type:AGENT_DRAINING] map[type:QUOTA_V2]]" {
		t.Errorf("master capabilities %s, want those of a Mesos 1.9+ master by name", caps)
	}
	seen := map[string]bool{}
	for !(seen["HEARTBEAT"] && seen["OFFERS"]) {
		ev := s.nextJSON(t)
		ty := ev["type"].(string)
		if ty != "HEARTBEAT" && ty != "OFFERS" {
			t.Fatalf("unexpected event %s", ty)
		}
		if ty == "OFFERS" {
			offers := ev["offers"].(map[string]any)["offers"].([]any)
			o := offers[0].(map[string]any)
			if o["hostname"] == "" || o["agent_id"] == nil || o["allocation_info"].(map[string]any)["role"] != "test" {
				t.Errorf("offer lacks hostname, agent_id or allocation role: %v", o)
			}
		}
		seen[ty] = true
	}
}

// TestSubscribeAcceptChoosesEncoding: the master answers in JSON whenever
// Accept allows it (a missing Accept allows everything), in protobuf when only
// that is allowed, and 406 otherwise, whatever the request's own encoding.
func TestSubscribeAcceptChoosesEncoding(t *testing.T) {
	c := startCluster(t, fastConfig(1))
	info := partitionAwareInfo("accept")
	call := &scheduler.Call{Type: scheduler.Call_SUBSCRIBE, Subscribe: &scheduler.Call_Subscribe{FrameworkInfo: &info}}
	body, err := call.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ accept, want string }{
		{"", mediaJSON},
		{"*/*", mediaJSON},
		{mediaProtobuf, mediaProtobuf},
		{mediaProtobuf + ", " + mediaJSON, mediaJSON},
		{"application/recordio", ""},
	} {
		resp := rawPost(t, c.URL()+schedulerPath, mediaProtobuf, body, map[string]string{"Accept": tc.accept})
		if tc.want == "" {
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotAcceptable {
				t.Errorf("Accept %q: %d, want 406", tc.accept, resp.StatusCode)
			}
			continue
		}
		if got := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || got != tc.want {
			t.Errorf("Accept %q: %d %q, want 200 %q", tc.accept, resp.StatusCode, got, tc.want)
		}
		s := openRawStream(t, resp)
		if tc.want == mediaJSON {
			if ev := s.nextJSON(t); ev["type"] != "SUBSCRIBED" {
				t.Errorf("Accept %q: first event %v", tc.accept, ev["type"])
			}
		} else if ev := s.nextProto(t); ev.Type != scheduler.Event_SUBSCRIBED {
			t.Errorf("Accept %q: first event %s", tc.accept, ev.Type)
		}
		resp.Body.Close()
	}
}

func TestCallStatusCodes(t *testing.T) {
	c := startCluster(t, fastConfig(1))
	s, streamID, fwID := protoSubscribe(t, c, partitionAwareInfo("codes"))
	offer := s.waitProto(t, isType(scheduler.Event_OFFERS)).Offers.Offers[0]
	decline := &scheduler.Call{Type: scheduler.Call_DECLINE, FrameworkID: &mesos.FrameworkID{Value: fwID},
		Decline: &scheduler.Call_Decline{OfferIDs: []mesos.OfferID{offer.ID}}}

	if code, _ := protoCall(t, c, "", decline); code != http.StatusBadRequest {
		t.Errorf("without Mesos-Stream-Id: %d, want 400", code)
	}
	if code, _ := protoCall(t, c, "not-the-stream", decline); code != http.StatusBadRequest {
		t.Errorf("with a wrong Mesos-Stream-Id: %d, want 400", code)
	}
	unknown := *decline
	unknown.FrameworkID = &mesos.FrameworkID{Value: "no-such-framework"}
	if code, _ := protoCall(t, c, streamID, &unknown); code != http.StatusBadRequest {
		t.Errorf("unknown framework: %d, want 400", code)
	}
	noType := &scheduler.Call{FrameworkID: &mesos.FrameworkID{Value: fwID}}
	if code, body := protoCall(t, c, streamID, noType); code != http.StatusBadRequest || body == "" {
		t.Errorf("call without type: %d %q, want 400 with a message", code, body)
	}
	if code, body := protoCall(t, c, streamID, decline); code != http.StatusAccepted || body != "" {
		t.Errorf("valid DECLINE: %d %q, want 202 with an empty body", code, body)
	}

	resp, err := http.Get(c.URL() + schedulerPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d, want 405", resp.StatusCode)
	}
	for _, ct := range []string{"text/plain", mediaJSON + "; charset=utf-8"} {
		resp = rawPost(t, c.URL()+schedulerPath, ct, []byte(docSubscribeJSON), nil)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnsupportedMediaType {
			t.Errorf("Content-Type %q: %d, want 415 (Mesos compares it exactly)", ct, resp.StatusCode)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, c.URL()+schedulerPath, strings.NewReader(docSubscribeJSON))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("no Content-Type: %d, want 400", resp.StatusCode)
	}
	resp = rawPost(t, c.URL()+schedulerPath, mediaJSON, []byte(docSubscribeJSON), map[string]string{"Accept": "text/html"})
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotAcceptable {
		t.Errorf("Accept text/html: %d, want 406", resp.StatusCode)
	}
	resp = rawPost(t, c.URL()+schedulerPath, mediaJSON, []byte(`{"type": "SUBSCRIBE",`), nil)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || len(b) == 0 {
		t.Errorf("malformed JSON: %d %q, want 400 with a message", resp.StatusCode, b)
	}
	resp = rawPost(t, c.URL()+schedulerPath, mediaJSON, []byte(`{"type": "SUBSCRIBE"}`), nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("SUBSCRIBE without subscribe: %d, want 400", resp.StatusCode)
	}
}

func TestNonLeaderRedirects(t *testing.T) {
	cfg := fastConfig(1)
	cfg.Masters = 2
	c := startCluster(t, cfg)
	urls := c.MasterURLs()
	if len(urls) != 2 || urls[0] != c.URL() {
		t.Fatalf("MasterURLs %v, leader %s", urls, c.URL())
	}
	resp := rawPost(t, urls[1]+schedulerPath, mediaJSON, []byte(docSubscribeJSON), nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect {
		t.Fatalf("non-leader: %d, want 307", resp.StatusCode)
	}
	// master/http.cpp Master::Http::redirect: scheme-less, and the path as
	// the master process saw it, with libprocess' /master delegate prefix.
	want := "//" + strings.TrimPrefix(urls[0], "http://") + "/master" + schedulerPath
	if loc := resp.Header.Get("Location"); loc != want {
		t.Errorf("Location %q, want %q", loc, want)
	}
	resp = rawPost(t, urls[1]+"/master"+schedulerPath+"?x=1", mediaJSON, []byte(docSubscribeJSON), nil)
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); loc != want+"?x=1" {
		t.Errorf("Location for /master%s?x=1: %q, want %q", schedulerPath, loc, want+"?x=1")
	}
	// The leader serves the scheduler API under /master too.
	resp = rawPost(t, "http:"+want, mediaJSON, []byte(docSubscribeJSON), nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("SUBSCRIBE at the redirect's target: %d, want 200", resp.StatusCode)
	}
	c.FailoverMaster()
	if c.URL() != urls[1] {
		t.Fatalf("after failover the leader is %s, want %s", c.URL(), urls[1])
	}
	resp = rawPost(t, urls[0]+schedulerPath, mediaJSON, []byte(docSubscribeJSON), nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect {
		t.Fatalf("old leader after failover: %d, want 307", resp.StatusCode)
	}
}

func TestBasicAuthentication(t *testing.T) {
	cfg := fastConfig(1)
	cfg.Credentials = &Credentials{Principal: "fw", Secret: "s3cret"}
	c := startCluster(t, cfg)
	resp := rawPost(t, c.URL()+schedulerPath, mediaJSON, []byte(docSubscribeJSON), nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("without credentials: %d, want 401 with WWW-Authenticate", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodPost, c.URL()+schedulerPath, strings.NewReader(docSubscribeJSON))
	req.Header.Set("Content-Type", mediaJSON)
	req.SetBasicAuth("fw", "s3cret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("with credentials: %d, want 200", resp.StatusCode)
	}
}

func TestJSONEventsLeaveUnsetFieldsOut(t *testing.T) {
	c := startCluster(t, fastConfig(1))
	resp := rawPost(t, c.URL()+schedulerPath, mediaJSON, []byte(docSubscribeJSON), map[string]string{"Accept": mediaJSON})
	s := openRawStream(t, resp)
	for {
		select {
		case b := <-s.frames:
			if strings.Contains(string(b), "null") {
				t.Fatalf("event with null members: %s", b)
			}
			if strings.Contains(string(b), `"OFFERS"`) {
				return
			}
		case <-time.After(waitLimit):
			t.Fatal("no OFFERS")
		}
	}
}

func TestStateAndHealthEndpoints(t *testing.T) {
	cfg := fastConfig(2)
	cfg.Masters = 2
	c := startCluster(t, cfg)
	get := func(url string) *http.Response {
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	for _, path := range []string{"/state", "/master/state"} {
		resp := get(c.URL() + path)
		var st State
		err := json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || len(st.Agents) != 2 || st.ActivatedAgents != 2 || st.Leader == "" {
			t.Fatalf("%s: %d %v %+v", path, resp.StatusCode, err, st)
		}
	}
	if resp := get(c.MasterURLs()[1] + "/state"); resp.StatusCode != http.StatusTemporaryRedirect {
		t.Fatalf("/state on the standby: %d, want 307", resp.StatusCode)
	}
	for _, u := range c.MasterURLs() {
		if resp := get(u + "/health"); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s/health: %d", u, resp.StatusCode)
		}
	}
}
