package framework

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/quobyte/quobyte-mesos/spec"
)

func TestSpecHolder_BrokenReloadKeepsOldSpec(t *testing.T) {
	next := &spec.Cluster{Hash: "h1", Quobyte: spec.Quobyte{Version: "1"}}
	var loadErr error
	load := func(string) (*spec.Cluster, error) {
		if loadErr != nil {
			return nil, loadErr
		}
		return next, nil
	}
	h, err := NewSpecHolder("s.hcl", load, time.Now, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	loadErr = errors.New("s.hcl:3,7-9: Invalid duration")
	if c, err := h.Reload(); err == nil || c.Hash != "h1" {
		t.Fatalf("Reload = %v, %v; want old spec and an error", c, err)
	}
	if h.Current().Hash != "h1" {
		t.Fatalf("old spec not kept")
	}
	if r := h.LastReload(); r.OK || !strings.Contains(r.Diagnostics, "s.hcl:3,7-9") {
		t.Fatalf("LastReload = %+v", r)
	}

	loadErr = nil
	next = &spec.Cluster{Hash: "h2", Quobyte: spec.Quobyte{Version: "2"}}
	if _, err := h.Reload(); err != nil {
		t.Fatal(err)
	}
	r := h.LastReload()
	if !r.OK || h.Current().Hash != "h2" || r.Changes != `quobyte.version: "1" -> "2"` {
		t.Fatalf("after good reload: current %s, reload %+v", h.Current().Hash, r)
	}
}
