package statusapi

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"

	"github.com/quobyte/quobyte-mesos/observe/leader"
)

// With several instances (the spec's ha block) every instance serves the
// API. What differs on an instance that does not lead:
//
//   - /v1/health is about the instance: 200 while it is a standby connected
//     to ZooKeeper (ready to take over), 503 while it is not in the
//     election (ZooKeeper unreachable, its session lost) with the reason.
//   - /v1/status describes the instance itself: its spec (spec_hash,
//     last_reload) and the election (ha: role, leader with its URL, every
//     member and the spec hash each runs). It observes nothing, so hosts,
//     upgrade and backoffs are empty, subscription is "disconnected" and
//     plan is absent: ask the leader (ha.leader.url) for those.
//   - /v1/plan (GET and POST) and /v1/snapshot are answered by the leader:
//     the instance forwards the request (with its credentials) and says so
//     in X-Quobyte-Mesos-Leader. A request already forwarded once is not
//     forwarded again (503), so instances with stale views cannot bounce it.
//   - POST /v1/reload reloads this instance's spec, as SIGHUP does; the
//     leader's ha.spec_mismatch shows instances whose spec hash differs.

// HAStatus is /v1/status's "ha": the election as this instance sees it.
type HAStatus struct {
	leader.Status
	// SpecMismatch lists the instances running a spec whose hash differs
	// from this one's (on the leader: standbys that would act differently
	// after a takeover; reload them).
	SpecMismatch []leader.Member `json:"spec_mismatch,omitempty"`
}

// Forwarding headers.
const (
	headerForwarded = "X-Quobyte-Mesos-Forwarded-By"
	headerLeader    = "X-Quobyte-Mesos-Leader"
)

func (cfg *Config) haStatus(specHash string) *HAStatus {
	if cfg.HA == nil {
		return nil
	}
	st := cfg.HA()
	return &HAStatus{Status: st, SpecMismatch: st.SpecMismatch(specHash)}
}

// standbyHealth is /v1/health on an instance that does not lead.
func standbyHealth(st leader.Status) HealthReport {
	h := HealthReport{Role: string(st.Role)}
	if st.Leader != nil && st.Leader.Node != st.Self.Node {
		h.Leader = st.Leader.URL
	}
	switch {
	case st.Role == leader.Standby && st.Connected:
		h.Healthy = true
		h.Summary = "standby, ready to take over: " + st.Reason
	case st.Role == leader.Standby:
		h.Reasons = append(h.Reasons, "standby without a connection to ZooKeeper (its session may have expired)")
	default:
		h.Reasons = append(h.Reasons, "not in the leader election: "+st.Reason)
	}
	if !h.Healthy && st.LeftBecause != "" {
		h.Reasons = append(h.Reasons, fmt.Sprintf("left it %s: %s", st.LeftAt.Format(time.RFC3339), st.LeftBecause))
	}
	return h
}

// leading reports whether this instance leads (always, without HA).
func (cfg *Config) leading() bool { return cfg.HA == nil || cfg.HA().Role == leader.Leader }

// leaderOnly serves h on the leader and forwards the request to the leader
// elsewhere.
func (cfg *Config) leaderOnly(h http.HandlerFunc) http.HandlerFunc {
	if cfg.HA == nil {
		return h
	}
	transport := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		ResponseHeaderTimeout: time.Minute, // a dry run of a large cluster takes a while
		MaxIdleConnsPerHost:   2,
	}
	return func(w http.ResponseWriter, r *http.Request) {
		st := cfg.HA()
		if st.Role == leader.Leader {
			h(w, r)
			return
		}
		target, err := forwardTarget(st, r)
		if err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": err.Error(), "ha": st})
			return
		}
		proxy := &httputil.ReverseProxy{
			Rewrite: func(pr *httputil.ProxyRequest) {
				pr.SetURL(target)
				pr.Out.Header.Set(headerForwarded, st.Self.URL)
			},
			Transport: transport,
			ModifyResponse: func(res *http.Response) error {
				res.Header.Set(headerLeader, st.Leader.URL)
				return nil
			},
			ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
				writeJSON(w, http.StatusBadGateway, errorBody(fmt.Sprintf("this instance is a standby; asking the leader %s failed: %v", st.Leader.URL, err)))
			},
		}
		proxy.ServeHTTP(w, r)
	}
}

// forwardTarget is the leader's base URL for r, or why r cannot go there.
func forwardTarget(st leader.Status, r *http.Request) (*url.URL, error) {
	switch {
	case r.Header.Get(headerForwarded) != "":
		return nil, fmt.Errorf("this instance does not lead either (forwarded by %s): leadership is changing, try again", r.Header.Get(headerForwarded))
	case st.Leader == nil:
		return nil, errors.New("this instance is a standby and knows no leader: " + st.Reason)
	case st.Leader.Node == st.Self.Node:
		return nil, errors.New("leadership is changing (this instance holds the first place but does not lead): try again")
	}
	u, err := url.Parse(st.Leader.URL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("the leader's URL %q is unusable", st.Leader.URL)
	}
	return u, nil
}

// serveReload is POST /v1/reload: SIGHUP over HTTP.
func (cfg *Config) serveReload(w http.ResponseWriter, r *http.Request) {
	rl, err := cfg.Reload()
	if err != nil {
		writeJSON(w, http.StatusUnprocessableEntity, rl)
		return
	}
	writeJSON(w, http.StatusOK, rl)
}
