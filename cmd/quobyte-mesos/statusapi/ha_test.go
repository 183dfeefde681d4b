package statusapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/quobyte/quobyte-mesos/observe/leader"
)

// election returns a view of two instances: a (node c-1, at leaderURL,
// running spec h1) leads; b (node c-2, running otherHash) stands by. This
// instance is b for role Standby, a for role Leader.
func election(role leader.Role, leaderURL, otherHash string) leader.Status {
	a := leader.Member{Node: "c-1", ID: "a:7888", URL: leaderURL, SpecHash: "h1", Leader: true}
	b := leader.Member{Node: "c-2", ID: "b:7888", URL: "http://b:7888", SpecHash: otherHash}
	st := leader.Status{Role: role, Reason: "waiting for c-1 to end", Connected: true, Self: b, Members: []leader.Member{a, b}}
	if role == leader.Leader {
		st.Self, st.Reason = a, "won the election"
	}
	st.Leader = &st.Members[0]
	return st
}

func TestHA_StandbyHealth(t *testing.T) {
	for _, tc := range []struct {
		name      string
		st        leader.Status
		code      int
		wantInBod string
	}{
		{"connected standby", election(leader.Standby, "http://a:7888", "h1"), 200, `"role": "standby"`},
		{"disconnected standby", func() leader.Status {
			st := election(leader.Standby, "http://a:7888", "h1")
			st.Connected = false
			return st
		}(), 503, "without a connection to ZooKeeper"},
		{"out of the election", leader.Status{Role: leader.Joining, Reason: "connecting to ZooKeeper", LeftBecause: "leadership ended: lease ran out", LeftAt: t0},
			503, `"not in the leader election: connecting to ZooKeeper",
    "left it 2026-11-25T10:00:00Z: leadership ended: lease ran out"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := tc.st
			h := Handler(Config{Source: &fakeSource{}, HA: func() leader.Status { return st }})
			code, body := get(t, h, "GET", "/v1/health", "")
			if code != tc.code || !strings.Contains(body, tc.wantInBod) {
				t.Fatalf("got %d %s", code, body)
			}
		})
	}
	// The leader's health is the usual one, with its role.
	h := Handler(Config{Source: newFake(), Now: func() time.Time { return t0 }, HA: func() leader.Status { return election(leader.Leader, "http://a:7888", "h1") }})
	if code, body := get(t, h, "GET", "/v1/health", ""); code != 200 || !strings.Contains(body, `"role": "leader"`) {
		t.Fatalf("leader health: %d %s", code, body)
	}
}

// Every instance's status shows the election and its own spec hash; the
// leader's lists the instances that run another spec.
func TestHA_StatusNamesLeaderAndSpecMismatch(t *testing.T) {
	f := newFake() // spec hash h1
	st := election(leader.Leader, "http://a:7888", "h2")
	h := Handler(Config{Source: f, Now: func() time.Time { return t0 }, HA: func() leader.Status { return st }})
	code, body := get(t, h, "GET", "/v1/status", "")
	var got Status
	if err := json.Unmarshal([]byte(body), &got); code != 200 || err != nil {
		t.Fatalf("%d %v %s", code, err, body)
	}
	if got.HA == nil || got.HA.Role != leader.Leader || got.SpecHash != "h1" || got.HA.Leader == nil || got.HA.Leader.URL != "http://a:7888" {
		t.Fatalf("status ha %+v", got.HA)
	}
	if len(got.HA.SpecMismatch) != 1 || got.HA.SpecMismatch[0].ID != "b:7888" {
		t.Errorf("spec_mismatch %+v, want the standby b, which runs h2", got.HA.SpecMismatch)
	}
	// Without HA there is no ha member at all.
	_, body = get(t, Handler(Config{Source: f}), "GET", "/v1/status", "")
	if strings.Contains(body, `"ha"`) {
		t.Errorf("single instance status has ha: %s", body)
	}
}

// A standby answers /v1/plan and /v1/snapshot from the leader, with the
// client's credentials, and never forwards a forwarded request again.
func TestHA_StandbyForwardsPlanToTheLeader(t *testing.T) {
	var gotAuth, gotForwarded string
	lead := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth, gotForwarded = r.Header.Get("Authorization"), r.Header.Get(headerForwarded)
		writeJSON(w, http.StatusOK, map[string]string{"from": "leader", "path": r.Method + " " + r.URL.Path})
	}))
	defer lead.Close()
	st := election(leader.Standby, lead.URL, "h1")
	h := Handler(Config{Source: &fakeSource{}, HA: func() leader.Status { return st }})

	for _, ep := range []struct{ method, path string }{{"GET", "/v1/plan"}, {"POST", "/v1/plan"}, {"GET", "/v1/snapshot"}} {
		rec := request(t, h, ep.method, ep.path, "spec", "Bearer tok")
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"from": "leader"`) || !strings.Contains(rec.Body.String(), ep.method+" "+ep.path) {
			t.Errorf("%s %s on a standby: %d %s", ep.method, ep.path, rec.Code, rec.Body)
		}
		if rec.Result().Header.Get(headerLeader) != lead.URL || gotAuth != "Bearer tok" || gotForwarded != "http://b:7888" {
			t.Errorf("%s %s: leader header %q, leader got auth %q forwarded-by %q", ep.method, ep.path, rec.Result().Header.Get(headerLeader), gotAuth, gotForwarded)
		}
	}
	req := httptest.NewRequest("GET", "/v1/plan", nil)
	req.Header.Set(headerForwarded, "http://c:7888")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 503 || !strings.Contains(rec.Body.String(), "leadership is changing") {
		t.Errorf("forwarded request: %d %s, want 503", rec.Code, rec.Body)
	}
	// No leader known: 503 with the election.
	noLeader := leader.Status{Role: leader.Joining, Reason: "connecting to ZooKeeper"}
	h = Handler(Config{Source: &fakeSource{}, HA: func() leader.Status { return noLeader }})
	if code, body := get(t, h, "GET", "/v1/plan", ""); code != 503 || !strings.Contains(body, "knows no leader") {
		t.Errorf("no leader: %d %s", code, body)
	}
}

// POST /v1/reload does what SIGHUP does, behind the same authentication as
// the other endpoints that are not public.
func TestReload_AuthenticatedLikeTheOtherWriteEndpoints(t *testing.T) {
	f := newFake()
	f.cluster.StatusAPI.AuthFile = writeCreds(t, "bearer s3cr3t\n")
	reloads := 0
	ok := true
	h := Handler(Config{Source: f, Reload: func() (Reload, error) {
		reloads++
		if !ok {
			return Reload{OK: false, SpecHash: "h1", Diagnostics: "spec.hcl:3:1: Unsupported argument"}, errors.New("invalid")
		}
		return Reload{OK: true, SpecHash: "h2", Changes: `quobyte.version: "1" -> "2"`}, nil
	}})
	if rec := request(t, h, "POST", "/v1/reload", "", ""); rec.Code != 401 || reloads != 0 {
		t.Fatalf("reload without credentials: %d, %d reloads", rec.Code, reloads)
	}
	if rec := request(t, h, "GET", "/v1/reload", "", "Bearer s3cr3t"); rec.Code != 405 || reloads != 0 {
		t.Fatalf("GET /v1/reload: %d, %d reloads", rec.Code, reloads)
	}
	rec := request(t, h, "POST", "/v1/reload", "", "Bearer s3cr3t")
	if rec.Code != 200 || reloads != 1 || !strings.Contains(rec.Body.String(), `"spec_hash": "h2"`) {
		t.Fatalf("reload: %d %s", rec.Code, rec.Body)
	}
	ok = false
	rec = request(t, h, "POST", "/v1/reload", "", "Bearer s3cr3t")
	if rec.Code != 422 || !strings.Contains(rec.Body.String(), "Unsupported argument") {
		t.Fatalf("failed reload: %d %s", rec.Code, rec.Body)
	}
}

// Routes of other packages (the dashboard's) sit behind the same
// authentication; "GET /{$}" replaces the list of endpoints; a route marked
// Leader is forwarded by a standby, the others are answered where asked.
func TestRoutes_AuthenticatedAndForwardedLikeTheAPI(t *testing.T) {
	lead := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"from": "leader"})
	}))
	defer lead.Close()
	f := newFake()
	f.cluster.StatusAPI.AuthFile = writeCreds(t, "bearer s3cr3t\n")
	here := func(what string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, map[string]string{"from": what}) })
	}
	routes := []Route{{Pattern: "GET /{$}", Handler: here("page")}, {Pattern: "GET /v1/overview", Handler: here("self"), Leader: true}}
	st := election(leader.Standby, lead.URL, "h1")
	h := Handler(Config{Source: f, HA: func() leader.Status { return st }, Routes: routes})
	for _, tc := range []struct{ path, want string }{{"/", `"from": "page"`}, {"/v1/overview", `"from": "leader"`}} {
		if rec := request(t, h, "GET", tc.path, "", ""); rec.Code != 401 {
			t.Errorf("%s without credentials: %d", tc.path, rec.Code)
		}
		if rec := request(t, h, "GET", tc.path, "", "Bearer s3cr3t"); rec.Code != 200 || !strings.Contains(rec.Body.String(), tc.want) {
			t.Errorf("%s on a standby: %d %s, want %s", tc.path, rec.Code, rec.Body, tc.want)
		}
	}
	st = election(leader.Leader, lead.URL, "h1")
	if rec := request(t, h, "GET", "/v1/overview", "", "Bearer s3cr3t"); !strings.Contains(rec.Body.String(), `"from": "self"`) {
		t.Errorf("/v1/overview on the leader: %s", rec.Body)
	}
}
