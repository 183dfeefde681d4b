package main

import (
	"context"
	"fmt"

	"github.com/hashicorp/go-hclog"

	"github.com/quobyte/quobyte-mesos/test/mesossim"
	"github.com/quobyte/quobyte-mesos/test/mesossim/agentrt"
)

// dockerMode is --docker: a flag that may stand alone (on) or say auto or off.
type dockerMode string

const (
	dockerAuto dockerMode = "auto"
	dockerOn   dockerMode = "on"
	dockerOff  dockerMode = "off"
)

func (m *dockerMode) String() string   { return string(*m) }
func (m *dockerMode) IsBoolFlag() bool { return true }

func (m *dockerMode) Set(s string) error {
	switch s {
	case "auto":
		*m = dockerAuto
	case "on", "true":
		*m = dockerOn
	case "off", "false":
		*m = dockerOff
	default:
		return fmt.Errorf("want auto, on or off, not %q", s)
	}
	return nil
}

// workDirLabel marks every container of a mesos-sim run with its work
// directory.
const workDirLabel = "mesos-sim.workdir"

// apply gives the agents the Docker containerizer as the mode says. An
// engine that does not answer, or answers from another network namespace
// (where containers with host networking could not be reached), is an error
// with --docker and a logged reason to go without with auto.
func (m dockerMode) apply(ctx context.Context, cfg *mesossim.Config, workDir string, log hclog.Logger) error {
	if m == dockerOff || (m == dockerAuto && cfg.Mode != mesossim.ModeProcess) {
		return nil
	}
	d := agentrt.DockerConfig{Labels: map[string]string{workDirLabel: workDir}}
	if err := d.Check(ctx); err != nil {
		if m == dockerOn {
			return fmt.Errorf("--docker: %w", err)
		}
		log.Info("agents without the Docker containerizer: DOCKER tasks fail", "reason", err)
		return nil
	}
	log.Info("agents have the Docker containerizer (--containerizers=docker,mesos)")
	cfg.Docker = &d
	return nil
}
