package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/quobyte/quobyte-mesos/test/mesossim"
)

// clusterFile is the JSON form of --cluster. Resources left out take the
// defaults of --agents (8 cpus, 16384 MB mem, 100000 MB disk, ports
// 7860-7880, 8000-8100, 31000-32000).
type clusterFile struct {
	Agents []clusterAgent `json:"agents"`
}

type clusterAgent struct {
	Hostname     string                        `json:"hostname"`
	Attributes   map[string]string             `json:"attributes"`
	CPUs         *float64                      `json:"cpus"`
	Mem          *float64                      `json:"mem"`
	Disk         *float64                      `json:"disk"`
	Ports        [][2]uint64                   `json:"ports"`
	Reservations map[string]map[string]float64 `json:"reservations"` // role -> resource -> amount
	HostDir      string                        `json:"host_dir"`     // default <workdir>/hosts/<hostname>
	IP           string                        `json:"ip"`           // default the hostname if it is an IP address, else 127.0.0.1
	Markers      []deviceMarker                `json:"markers"`      // written at start
	// ExecutorEnvironment is the agent's --executor_environment_variables:
	// when given, tasks get these variables instead of mesos-sim's own
	// environment.
	ExecutorEnvironment map[string]string `json:"executor_environment_variables"`
}

type deviceMarker struct {
	Device  string `json:"device"`  // directory under host_dir
	Content string `json:"content"` // QUOBYTE_DEV_SETUP text
}

func loadClusterFile(path string) (clusterFile, error) {
	var cf clusterFile
	b, err := os.ReadFile(path)
	if err != nil {
		return cf, fmt.Errorf("reading cluster file: %w", err)
	}
	if err := json.Unmarshal(b, &cf); err != nil {
		return cf, fmt.Errorf("parsing cluster file %s: %w", path, err)
	}
	if len(cf.Agents) == 0 {
		return cf, fmt.Errorf("cluster file %s lists no agents", path)
	}
	return cf, nil
}

// agentConfigs turns the file's agents into mesossim agents, with host
// directories under workDir unless given.
func (cf clusterFile) agentConfigs(workDir string) []mesossim.AgentConfig {
	out := make([]mesossim.AgentConfig, 0, len(cf.Agents))
	for _, a := range cf.Agents {
		ac := mesossim.DefaultAgent(a.Hostname)
		ac.Attributes = a.Attributes
		if a.CPUs != nil {
			ac.CPUs = *a.CPUs
		}
		if a.Mem != nil {
			ac.Mem = *a.Mem
		}
		if a.Disk != nil {
			ac.Disk = *a.Disk
		}
		if a.Ports != nil {
			ac.Ports = a.Ports
		}
		ac.Reservations = a.Reservations
		ac.HostDir, ac.IP = a.HostDir, a.IP
		ac.ExecutorEnvironment = a.ExecutorEnvironment
		if ac.HostDir == "" {
			ac.HostDir = filepath.Join(workDir, "hosts", a.Hostname)
		}
		out = append(out, ac)
	}
	return out
}

// defaultAgents is --agents N: agent1..agentN with default resources.
func defaultAgents(n int, workDir string) []mesossim.AgentConfig {
	out := make([]mesossim.AgentConfig, 0, n)
	for i := 1; i <= n; i++ {
		ac := mesossim.DefaultAgent(fmt.Sprintf("agent%d", i))
		ac.HostDir = filepath.Join(workDir, "hosts", ac.Hostname)
		out = append(out, ac)
	}
	return out
}
