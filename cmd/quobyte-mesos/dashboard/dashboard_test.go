package dashboard

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quobyte/quobyte-mesos/cmd/quobyte-mesos/events"
	"github.com/quobyte/quobyte-mesos/cmd/quobyte-mesos/overview"
	"github.com/quobyte/quobyte-mesos/cmd/quobyte-mesos/statusapi"
	"github.com/quobyte/quobyte-mesos/controller"
	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/spec"
)

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

type source struct {
	c    *spec.Cluster
	snap *snapshot.Snapshot
}

func (s *source) Snapshot() *snapshot.Snapshot                      { return s.snap }
func (s *source) Holds() map[string]controller.Hold                 { return nil }
func (s *source) Spec() *spec.Cluster                               { return s.c }
func (s *source) Plan() *controller.Result                          { return &controller.Result{} }
func (s *source) PlanBlockedSince() time.Time                       { return time.Time{} }
func (s *source) LastReload() statusapi.Reload                      { return statusapi.Reload{OK: true, At: t0} }
func (s *source) DryRun([]byte, string) (*controller.Result, error) { return nil, nil }

func newSource(t *testing.T) *source {
	t.Helper()
	c, diags := spec.LoadBytes([]byte("mesos {\n  master = \"http://m:5050\"\n}\nquobyte {\n  runtime = \"command\"\n  command = \"true\"\n}\n"), "c.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	yes, no := true, false
	agents := []*snapshot.Agent{{ID: "a1", Hostname: "h1", Reachable: true}, {ID: "a2", Hostname: "h2", Reachable: true}}
	data := c.Service(spec.Data).ConfigHash
	tasks := []*snapshot.Task{
		{ID: "quobyte.data." + data + ".1", Kind: "data", Config: data, AgentID: "a1", State: snapshot.Running, Healthy: &yes},
		{ID: "quobyte.data." + data + ".2", Kind: "data", Config: data, AgentID: "a2", State: snapshot.Running, Healthy: &no},
	}
	return &source{c: c, snap: snapshot.New(1, t0, snapshot.Subscription{State: snapshot.Subscribed}, agents, tasks, nil)}
}

func serve(t *testing.T, cfg Config) http.Handler {
	t.Helper()
	return statusapi.Handler(statusapi.Config{Source: cfg.Source, Routes: Routes(cfg)})
}

func get(t *testing.T, h http.Handler, path string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	return rec
}

// The page and its files come from the binary, with headers that let them
// run nothing from elsewhere.
func TestRoutes_PageAndAssets(t *testing.T) {
	h := serve(t, Config{Source: newSource(t), Events: events.NewLog(10, nil)})
	for _, tc := range []struct{ path, ctype, contains string }{
		{"/", "text/html", `<script src="ui/app.js" defer></script>`},
		{"/ui/app.js", "javascript", "v1/overview"},
		{"/ui/style.css", "text/css", ".st-healthy"},
	} {
		rec := get(t, h, tc.path)
		if rec.Code != 200 || !strings.Contains(rec.Header().Get("Content-Type"), tc.ctype) || !strings.Contains(rec.Body.String(), tc.contains) {
			t.Errorf("%s: %d %q", tc.path, rec.Code, rec.Header().Get("Content-Type"))
		}
		if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || rec.Header().Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: CSP %q", tc.path, csp)
		}
	}
	// Nothing in the page loads from elsewhere.
	for _, path := range []string{"/", "/ui/app.js", "/ui/style.css"} {
		if body := get(t, h, path).Body.String(); strings.Contains(body, "http://") || strings.Contains(body, "https://") {
			t.Errorf("%s names another origin", path)
		}
	}
	if rec := get(t, h, "/ui/nothing.js"); rec.Code != 404 {
		t.Errorf("unknown asset: %d", rec.Code)
	}
}

func TestRoutes_OverviewAndEvents(t *testing.T) {
	log := events.NewLog(10, nil)
	log.Add(events.Event{Type: events.Launch, Text: "launched data on h1"})
	h := serve(t, Config{Source: newSource(t), Events: log, Now: func() time.Time { return t0 }})
	rec := get(t, h, "/v1/overview")
	var ov overview.Overview
	if err := json.Unmarshal(rec.Body.Bytes(), &ov); rec.Code != 200 || err != nil {
		t.Fatalf("%d %v", rec.Code, err)
	}
	if !ov.Time.Equal(t0) || len(ov.Hosts) != 2 || ov.Counts.Healthy != 1 || ov.Counts.Unhealthy != 1 || rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("overview %+v", ov)
	}
	rec = get(t, h, "/v1/events?after=0")
	var page events.Page
	if err := json.Unmarshal(rec.Body.Bytes(), &page); rec.Code != 200 || err != nil || len(page.Events) != 1 || page.Events[0].Text != "launched data on h1" {
		t.Fatalf("%d %v %s", rec.Code, err, rec.Body)
	}
}

func TestCollector(t *testing.T) {
	src := newSource(t)
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewCollector(Config{Source: src}))
	got := gather(t, reg)
	for series, want := range map[string]float64{
		`quobyte_mesos_services{health="healthy",kind="data"}`:     1,
		`quobyte_mesos_services{health="unhealthy",kind="data"}`:   1,
		`quobyte_mesos_services{health="missing",kind="data"}`:     0,
		`quobyte_mesos_services{health="healthy",kind="registry"}`: 0,
		`quobyte_mesos_services_crash_looping{kind="data"}`:        0,
	} {
		if v, ok := got[series]; !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", series, v, ok, want)
		}
	}
	// An instance that observes nothing exports nothing.
	src.snap = nil
	if got := gather(t, reg); len(got) != 0 {
		t.Errorf("standby: %v", got)
	}
}

// gather returns every series of reg as name{label="value",...} -> value.
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() { // sorted by name
				labels = append(labels, l.GetName()+"="+strconv.Quote(l.GetValue()))
			}
			out[mf.GetName()+"{"+strings.Join(labels, ",")+"}"] = m.GetGauge().GetValue()
		}
	}
	return out
}
