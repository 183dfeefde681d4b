package statusapi

import (
	"fmt"
	"net/http"
	"time"

	"github.com/quobyte/quobyte-mesos/spec"
)

// The API listens on every interface (Marathon's health checks need that),
// so anyone on the network reaches it. These bound what one client can
// make the framework do.
const (
	// MaxBodyBytes caps every request body: the largest is a spec posted
	// for a dry run, and spec.LoadBytes refuses more than this anyway.
	MaxBodyBytes = spec.MaxFileSize
	// DefaultMaxDryRuns bounds concurrent dry runs (POST /v1/plan). A dry
	// run is one spec load (at most ~46 MiB of heap for the worst spec
	// spec.MaxFileSize allows) and one plan (~20 ms at 10,000 agents).
	DefaultMaxDryRuns = 2
	// RetryAfter is what a client that found the dry runs busy is told to
	// wait, in seconds.
	RetryAfter = 1

	ReadHeaderTimeout = 10 * time.Second
	// ReadTimeout covers the whole request, body included.
	ReadTimeout = time.Minute
	// WriteTimeout covers writing a response of the API. Handlers of
	// Config.Extra (the prober artifact, fetched by every agent at once on
	// a fresh cluster) get ExtraWriteTimeout instead.
	WriteTimeout      = 2 * time.Minute
	ExtraWriteTimeout = 30 * time.Minute
	IdleTimeout       = 2 * time.Minute
	MaxHeaderBytes    = 64 << 10
)

// ConfigureServer sets the API's timeouts and header limit on srv, whose
// Handler is this package's: call it once after creating the server.
func ConfigureServer(srv *http.Server) {
	srv.ReadHeaderTimeout = ReadHeaderTimeout
	srv.ReadTimeout = ReadTimeout
	srv.WriteTimeout = WriteTimeout
	srv.IdleTimeout = IdleTimeout
	srv.MaxHeaderBytes = MaxHeaderBytes
}

// limitBody refuses a request whose body is larger than MaxBodyBytes: at
// once (413) when its Content-Length says so, else when the handler reads
// past the limit.
func limitBody(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > MaxBodyBytes {
			writeJSON(w, http.StatusRequestEntityTooLarge, errorBody(fmt.Sprintf("request body larger than %d bytes", MaxBodyBytes)))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		h.ServeHTTP(w, r)
	})
}

// longWrites gives h's responses ExtraWriteTimeout instead of the server's
// WriteTimeout.
func longWrites(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Fails only for writers that cannot set deadlines (tests).
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(ExtraWriteTimeout))
		h.ServeHTTP(w, r)
	})
}

// limiter admits at most cap(slots) requests at a time; the others are
// answered 429 with Retry-After at once, so that a flood of dry runs
// neither queues up memory nor holds connections.
type limiter struct{ slots chan struct{} }

func newLimiter(n int) *limiter { return &limiter{slots: make(chan struct{}, n)} }

func (l *limiter) wrap(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		select {
		case l.slots <- struct{}{}:
			defer func() { <-l.slots }()
			h(w, r)
		default:
			w.Header().Set("Retry-After", fmt.Sprint(RetryAfter))
			writeJSON(w, http.StatusTooManyRequests, errorBody(fmt.Sprintf("%d dry runs are under way; retry in %d s", cap(l.slots), RetryAfter)))
		}
	}
}
