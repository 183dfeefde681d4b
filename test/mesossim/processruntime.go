package mesossim

import (
	"fmt"

	"github.com/quobyte/quobyte-mesos/test/mesossim/agentrt"
)

// processRuntime is the default RuntimeFactory of ModeProcess: tasks run as
// real child processes under agentrt.
func processRuntime(rc RuntimeConfig) (Runtime, error) {
	a, err := agentrt.New(agentrt.Config{
		AgentID:                       rc.AgentID,
		Hostname:                      rc.Hostname,
		WorkDir:                       rc.WorkDir,
		HostDir:                       rc.HostDir,
		Listen:                        rc.Listen,
		IP:                            rc.IP,
		Updates:                       rc.Updates,
		Messages:                      rc.Messages,
		ExecutorExited:                rc.ExecutorExited,
		Logger:                        rc.Logger,
		Now:                           rc.Now,
		Docker:                        rc.Docker,
		ExecutorEnvironment:           rc.ExecutorEnvironment,
		ExecutorReregistrationTimeout: rc.ExecutorReregistrationTimeout,
	})
	if err != nil {
		return nil, fmt.Errorf("agent runtime: %w", err)
	}
	return a, nil
}
