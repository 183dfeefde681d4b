// Package dashboard serves the framework's web dashboard on the status
// API's listener, behind its authentication (statusapi.Config.Routes):
//
//	GET /             the page (HTML, CSS and JavaScript embedded in the binary: nothing is loaded from elsewhere)
//	GET /ui/...       its style sheet and script
//	GET /v1/overview  the cluster at a glance (overview.Overview): what the page and `quobyte-mesos status` show
//	GET /v1/events    the event log (events.Page): launches, kills, failures, reloads, devices, agents, leadership
//
// The page polls /v1/overview and /v1/events every two seconds and
// redraws what changed: no reload is needed, and nothing stays open
// between polls (no stream to keep alive through proxies and the API's
// write timeout).
//
// On a standby (several instances) the page is served by the instance
// asked, and /v1/overview and /v1/events are answered by the leader (the
// standby forwards them as it forwards /v1/plan): the page shows the
// leader's picture of the cluster and says that a standby served it and
// which instance leads. When the leader cannot be reached the page says
// why. Each instance keeps its own event log; the leader's is the one
// shown.
//
// In a browser, authentication works with a basic credential of the
// status API's auth_file (the browser asks for it); a bearer token cannot
// be entered in a browser.
package dashboard

import (
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"
	"time"

	"github.com/quobyte/quobyte-mesos/cmd/quobyte-mesos/events"
	"github.com/quobyte/quobyte-mesos/cmd/quobyte-mesos/overview"
	"github.com/quobyte/quobyte-mesos/cmd/quobyte-mesos/statusapi"
	"github.com/quobyte/quobyte-mesos/observe/leader"
)

//go:embed assets
var assets embed.FS

// Config configures the dashboard.
type Config struct {
	// Source is the framework state, as the status API reads it.
	Source statusapi.Source
	// Events is the event log served at /v1/events.
	Events *events.Log
	// HA, with several instances, is the election as this instance sees
	// it (statusapi.Config.HA); nil: one instance.
	HA func() leader.Status
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Routes are the dashboard's endpoints, for statusapi.Config.Routes.
func Routes(cfg Config) []statusapi.Route {
	static, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	files := http.FileServerFS(static)
	return []statusapi.Route{
		{Pattern: "GET /{$}", Handler: page(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.ServeFileFS(w, r, static, "index.html")
		}))},
		{Pattern: "GET /ui/", Handler: page(http.StripPrefix("/ui/", files))},
		{Pattern: "GET /v1/overview", Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(Overview(cfg)) // the client may have gone
		}), Leader: true},
		{Pattern: "GET /v1/events", Handler: events.Handler(cfg.Events), Leader: true},
	}
}

// Overview builds the overview from cfg's source now.
func Overview(cfg Config) overview.Overview {
	var ha *statusapi.HAStatus
	hash := ""
	if c := cfg.Source.Spec(); c != nil {
		hash = c.Hash
	}
	if cfg.HA != nil {
		st := cfg.HA()
		ha = &statusapi.HAStatus{Status: st, SpecMismatch: st.SpecMismatch(hash)}
	}
	now := time.Now
	if cfg.Now != nil {
		now = cfg.Now
	}
	return overview.Build(overview.FromSource(cfg.Source, ha, now()))
}

// page sets the headers of the page and its files: they run only what
// this binary serves (no inline script, nothing from elsewhere), are
// never framed, and are checked again after an upgrade of the framework.
func page(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cache-Control", "no-cache")
		h.ServeHTTP(w, r)
	})
}
