package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/quobyte/quobyte-mesos/test/mesossim"
)

func TestDockerFlag(t *testing.T) {
	var stderr bytes.Buffer
	for args, want := range map[string]dockerMode{"": dockerAuto, "--docker": dockerOn, "--docker=off": dockerOff, "--docker=auto": dockerAuto} {
		o, err := parseFlags(strings.Fields(args), &stderr)
		if err != nil || o.docker != want {
			t.Errorf("%q: docker %q, error %v; want %q", args, o.docker, err, want)
		}
	}
	for _, args := range []string{"--docker=maybe", "--docker --mode simulated"} {
		if _, err := parseFlags(strings.Fields(args), &stderr); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
}

// Without an engine, --docker refuses to start and auto goes without the
// Docker containerizer (DOCKER tasks then fail as on such an agent).
func TestDockerFlag_NoEngine(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix://"+t.TempDir()+"/none.sock")
	log := hclog.NewNullLogger()
	cfg := mesossim.Config{Mode: mesossim.ModeProcess}
	if err := dockerOn.apply(context.Background(), &cfg, "/w", log); err == nil || !strings.Contains(err.Error(), "no Docker engine answers") {
		t.Errorf("--docker without an engine: %v", err)
	}
	if err := dockerAuto.apply(context.Background(), &cfg, "/w", log); err != nil || cfg.Docker != nil {
		t.Errorf("auto without an engine: error %v, docker %+v", err, cfg.Docker)
	}
}
