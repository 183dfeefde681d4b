package framework

import (
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/quobyte/quobyte-mesos/cmd/quobyte-mesos/statusapi"
	"github.com/quobyte/quobyte-mesos/observe/mesosconn"
	"github.com/quobyte/quobyte-mesos/spec"
)

// LoadFunc loads and fully validates a spec file. On failure it returns the
// diagnostics as text, each with file:line:column.
type LoadFunc func(path string) (*spec.Cluster, error)

// SpecHolder owns the spec in force. A reload swaps it only when the new file
// loads and validates completely; otherwise the old spec stays in force and
// the failure is kept for the status API and metrics.
type SpecHolder struct {
	path string
	load LoadFunc
	now  func() time.Time
	log  hclog.Logger

	mu     sync.Mutex
	cur    *spec.Cluster
	reload statusapi.Reload
}

// NewSpecHolder loads path once; an error here is fatal for the caller (there
// is no old spec to fall back to).
func NewSpecHolder(path string, load LoadFunc, now func() time.Time, log hclog.Logger) (*SpecHolder, error) {
	c, err := load(path)
	if err != nil {
		return nil, err
	}
	h := &SpecHolder{path: path, load: load, now: now, log: log, cur: c}
	h.reload = statusapi.Reload{At: now(), File: path, OK: true, SpecHash: c.Hash}
	return h, nil
}

// Current returns the spec in force. It is immutable.
func (h *SpecHolder) Current() *spec.Cluster {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.cur
}

// LastReload returns the outcome of the last (re)load.
func (h *SpecHolder) LastReload() statusapi.Reload {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.reload
}

// Reload reads the spec file again. On any error the old spec stays in
// force, every diagnostic is logged, and the error is returned; on success
// the new spec is in force at once and what changed is logged.
func (h *SpecHolder) Reload() (*spec.Cluster, error) {
	at := h.now()
	next, err := h.load(h.path)
	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil {
		h.reload = statusapi.Reload{At: at, File: h.path, OK: false, SpecHash: h.cur.Hash, Diagnostics: err.Error()}
		h.log.Error("spec reload failed; keeping the spec in force", "file", h.path, "spec_hash", h.cur.Hash, "diagnostics", err.Error())
		return h.cur, fmt.Errorf("reloading %s: %w", h.path, err)
	}
	changes := ""
	if next.Hash != h.cur.Hash {
		changes = spec.DiffText(h.cur, next)
	}
	h.reload = statusapi.Reload{At: at, File: h.path, OK: true, SpecHash: next.Hash, Changes: changes,
		NextStart: mesosconn.NextStart(h.cur.Mesos, next.Mesos)}
	for _, n := range h.reload.NextStart {
		h.log.Warn("spec change not applied until restart: "+n, "file", h.path)
	}
	if changes == "" {
		h.log.Info("spec reloaded: no changes", "file", h.path, "spec_hash", next.Hash)
	} else {
		h.log.Info("spec reloaded", "file", h.path, "old_hash", h.cur.Hash, "new_hash", next.Hash, "changes", changes)
	}
	h.cur = next
	return next, nil
}
