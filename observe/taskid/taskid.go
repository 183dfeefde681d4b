// Package taskid encodes in a Mesos task ID what reconciliation drops: the
// service kind and the config hash a task was launched with. After a
// framework restart, implicit reconciliation returns only task IDs, agent IDs
// and states; with this encoding that is enough to rebuild the task set.
//
// Format: "quobyte.<kind>.<confighash>.<suffix>", e.g.
// "quobyte.data.3f9a1c2b7d.k2j4h5g6". The suffix makes every ID unique (Mesos
// task IDs must never be reused). Hostnames are never encoded: they contain
// '.' and '-', and the agent ID comes with every status update anyway.
package taskid

import (
	"fmt"
	"strings"
)

// Prefix marks task IDs of ours; tasks without it are ignored.
const Prefix = "quobyte"

// ProberKind is the kind segment of prober task IDs.
const ProberKind = "prober"

// ID is a decoded task ID.
type ID struct {
	Kind       string // a spec.Kind value or ProberKind
	ConfigHash string
	Suffix     string
}

// String encodes id.
func (id ID) String() string {
	return Prefix + "." + id.Kind + "." + id.ConfigHash + "." + id.Suffix
}

// New builds an ID, checking that no part is empty or holds a '.'.
func New(kind, configHash, suffix string) (ID, error) {
	for name, part := range map[string]string{"kind": kind, "config hash": configHash, "suffix": suffix} {
		if part == "" || strings.ContainsAny(part, ". /") {
			return ID{}, fmt.Errorf("task id %s %q: must be non-empty without '.', ' ' or '/'", name, part)
		}
	}
	return ID{Kind: kind, ConfigHash: configHash, Suffix: suffix}, nil
}

// Parse decodes s. ok is false for task IDs that are not ours or malformed.
func Parse(s string) (id ID, ok bool) {
	parts := strings.Split(s, ".")
	if len(parts) != 4 || parts[0] != Prefix {
		return ID{}, false
	}
	for _, p := range parts[1:] {
		if p == "" {
			return ID{}, false
		}
	}
	return ID{Kind: parts[1], ConfigHash: parts[2], Suffix: parts[3]}, true
}
