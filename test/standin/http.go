package standin

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
)

// handlers returns the HTTP handler of every HTTP port the kind serves.
func (s *Service) handlers() map[string]http.Handler {
	status := http.NewServeMux()
	status.HandleFunc("/serviceHealth", s.serveHealth)
	status.HandleFunc("/prometheus", s.servePrometheus)
	status.HandleFunc("/{$}", s.serveStatusPage)
	h := map[string]http.Handler{PortHTTP: status}
	switch s.cfg.Service {
	case API:
		h[PortAPI] = http.HandlerFunc(s.serveJSONRPC)
	case Webconsole:
		h[PortWebconsole] = http.HandlerFunc(s.serveWebconsole)
	case S3:
		h[PortS3] = http.HandlerFunc(s.serveS3)
	}
	return h
}

// serveHealth is the endpoint Mesos health checks: 200 "OK" or 503 with the
// reason.
func (s *Service) serveHealth(w http.ResponseWriter, _ *http.Request) {
	st := s.Status()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if st.Healthy {
		io.WriteString(w, "OK\n")
		return
	}
	w.WriteHeader(http.StatusServiceUnavailable)
	fmt.Fprintf(w, "%s\n", st.Reason)
}

// serveStatusPage is a plain-text status page for people and greps.
func (s *Service) serveStatusPage(w http.ResponseWriter, _ *http.Request) {
	st := s.Status()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "Quobyte %s service (quobyte-standin)\n", st.Service)
	fmt.Fprintf(w, "version:  %s\n", st.Version)
	fmt.Fprintf(w, "instance: %s\n", st.Instance)
	fmt.Fprintf(w, "uptime:   %s\n", time.Since(st.Started).Truncate(time.Millisecond))
	fmt.Fprintf(w, "healthy:  %t\n", st.Healthy)
	fmt.Fprintf(w, "reason:   %s\n", st.Reason)
	fmt.Fprintf(w, "stopping: %t\n", st.Stopping)
	for _, n := range slices.Sorted(maps.Keys(s.addrs)) {
		fmt.Fprintf(w, "port %s: %s\n", n, s.addrs[n])
	}
	if st.Registry != "" {
		fmt.Fprintf(w, "registered with: %s at %s\n", st.Registry, st.Registered.UTC().Format(time.RFC3339Nano))
	}
	fmt.Fprintf(w, "registry peers: %d\n", len(st.Peers))
	for _, p := range st.Peers {
		state := "unreachable: " + p.Err
		if p.Reachable {
			state = "reachable, version " + p.Version
			if p.Self {
				state += " (self)"
			}
		}
		fmt.Fprintf(w, "  %s %s\n", p.Addr, state)
	}
	if typ := st.Service.DeviceType(); typ != "" {
		fmt.Fprintf(w, "devices (%s under %s): %d\n", typ, s.cfg.DeviceRoot, len(st.Devices))
		for _, d := range st.Devices {
			id := d.ID
			if id == "" {
				id = "unregistered"
			}
			fmt.Fprintf(w, "  %s id %s\n", d.Path, id)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(s.cfg.MaxMem)) {
		fmt.Fprintf(w, "QUOBYTE_MAX_MEM_%s=%s\n", k, s.cfg.MaxMem[k])
	}
}

// servePrometheus writes the text exposition format by hand: a handful of
// gauges does not need a registry.
func (s *Service) servePrometheus(w http.ResponseWriter, _ *http.Request) {
	st := s.Status()
	labels := `{service="` + labelEscape(string(st.Service)) + `",version="` + labelEscape(st.Version) + `"}`
	reachable := 0
	for _, p := range st.Peers {
		if p.Reachable {
			reachable++
		}
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	gauge := func(name, help string, v float64) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s gauge\n%s%s %g\n", name, help, name, name, labels, v)
	}
	gauge("quobyte_standin_up", "1 while the stand-in serves.", 1)
	gauge("quobyte_standin_healthy", "1 when /serviceHealth answers 200.", b2f(st.Healthy))
	gauge("quobyte_standin_stopping", "1 after a stop request, during the grace period.", b2f(st.Stopping))
	gauge("quobyte_standin_uptime_seconds", "Seconds since the process started.", time.Since(st.Started).Seconds())
	gauge("quobyte_standin_registry_peers", "Registries listed in QUOBYTE_REGISTRY.", float64(len(s.cfg.Registries)))
	gauge("quobyte_standin_registry_peers_reachable", "Listed registries that answered the last ping.", float64(reachable))
	gauge("quobyte_standin_devices", "Matching devices found under the device root.", float64(len(st.Devices)))
}

// labelEscape escapes a label value as the text exposition format wants:
// backslash, double quote and newline only (Go's %q would add \u escapes
// that Prometheus does not read).
func labelEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// serveJSONRPC is the api service's JSON-RPC stub: every method answers with
// a result describing the service, so clients can tell the port is alive.
func (s *Service) serveJSONRPC(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
	}
	resp := map[string]any{"jsonrpc": "2.0"}
	if r.Method == http.MethodPost {
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
			resp["id"] = nil
			resp["error"] = map[string]any{"code": -32700, "message": "parse error: " + err.Error()}
			writeJSON(w, resp)
			return
		}
	}
	if len(req.ID) > 0 {
		resp["id"] = req.ID
	} else {
		resp["id"] = nil
	}
	st := s.Status()
	resp["result"] = map[string]any{
		"method":  req.Method,
		"service": string(st.Service),
		"version": st.Version,
		"healthy": st.Healthy,
		"standin": true,
	}
	writeJSON(w, resp)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		// Only a broken connection gets here; the client is gone.
		return
	}
}

func (s *Service) serveWebconsole(w http.ResponseWriter, _ *http.Request) {
	st := s.Status()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, "<!doctype html>\n<title>Quobyte webconsole (stand-in)</title>\n"+
		"<h1>Quobyte webconsole (stand-in)</h1>\n<p>version %s, healthy %t</p>\n",
		html.EscapeString(st.Version), st.Healthy)
}

// serveS3 answers every request with an empty bucket list, enough for a
// liveness probe of the S3 port.
func (s *Service) serveS3(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/xml")
	io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
		`<ListAllMyBucketsResult><Owner><ID>standin</ID></Owner><Buckets></Buckets></ListAllMyBucketsResult>`+"\n")
}
