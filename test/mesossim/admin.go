package mesossim

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// adminRequest is the JSON body of POST /admin/... calls; each endpoint reads
// the fields it needs.
type adminRequest struct {
	TaskID   string `json:"task_id"`
	Agent    string `json:"agent"` // agent ID or hostname
	Count    int    `json:"count"`
	DelayMS  int64  `json:"delay_ms"`
	DownMS   int64  `json:"down_ms"` // restart-agent: how long the agent is down
	Device   string `json:"device"`
	Content  string `json:"content"`
	Hostname string `json:"hostname"` // alias of agent for device markers

	// For add-agent: resources left out take DefaultAgent's.
	Attributes   map[string]string             `json:"attributes"`
	CPUs         *float64                      `json:"cpus"`
	Mem          *float64                      `json:"mem"`
	Disk         *float64                      `json:"disk"`
	Ports        [][2]uint64                   `json:"ports"`
	Reservations map[string]map[string]float64 `json:"reservations"`
	HostDir      string                        `json:"host_dir"`
	IP           string                        `json:"ip"`
}

// agentConfig is the add-agent request as an AgentConfig.
func (r adminRequest) agentConfig() AgentConfig {
	ac := DefaultAgent(r.agentOrHostname())
	ac.Attributes, ac.Reservations, ac.HostDir, ac.IP = r.Attributes, r.Reservations, r.HostDir, r.IP
	if r.CPUs != nil {
		ac.CPUs = *r.CPUs
	}
	if r.Mem != nil {
		ac.Mem = *r.Mem
	}
	if r.Disk != nil {
		ac.Disk = *r.Disk
	}
	if r.Ports != nil {
		ac.Ports = r.Ports
	}
	return ac
}

// registerAdmin adds the fault endpoints. Each answers 200 with a JSON object
// ({} or {"agent_id": ...}), 400 for a malformed body, 404 for an unknown
// target.
func (c *Cluster) registerAdmin(mux *http.ServeMux) {
	c.admin(mux, "kill-task", func(r adminRequest) (any, error) { return nil, c.KillTask(r.TaskID) })
	c.admin(mux, "add-agent", func(r adminRequest) (any, error) {
		id, err := c.AddAgent(r.agentConfig())
		return map[string]string{"agent_id": id}, err
	})
	c.admin(mux, "remove-agent", func(r adminRequest) (any, error) { return nil, c.RemoveAgent(r.Agent) })
	c.admin(mux, "mark-agent-gone", func(r adminRequest) (any, error) { return nil, c.MarkAgentGone(r.Agent) })
	c.admin(mux, "partition-agent", func(r adminRequest) (any, error) { return nil, c.PartitionAgent(r.Agent) })
	c.admin(mux, "heal-agent", func(r adminRequest) (any, error) { return nil, c.HealAgent(r.Agent) })
	c.admin(mux, "restart-agent", func(r adminRequest) (any, error) {
		return nil, c.RestartAgent(r.Agent, time.Duration(r.DownMS)*time.Millisecond)
	})
	c.admin(mux, "restart-agent-wiped", func(r adminRequest) (any, error) {
		id, err := c.RestartAgentWiped(r.Agent)
		return map[string]string{"agent_id": id}, err
	})
	c.admin(mux, "failover-master", func(adminRequest) (any, error) { c.FailoverMaster(); return nil, nil })
	c.admin(mux, "drop-streams", func(adminRequest) (any, error) { return map[string]int{"streams": c.DropStreams()}, nil })
	c.admin(mux, "drop-updates", func(r adminRequest) (any, error) { c.DropUpdates(r.Count); return nil, nil })
	c.admin(mux, "drop-kills", func(r adminRequest) (any, error) { c.DropKills(r.Count); return nil, nil })
	c.admin(mux, "duplicate-updates", func(r adminRequest) (any, error) { c.DuplicateUpdates(r.Count); return nil, nil })
	c.admin(mux, "delay-updates", func(r adminRequest) (any, error) {
		c.DelayUpdates(r.Count, time.Duration(r.DelayMS)*time.Millisecond)
		return nil, nil
	})
	c.admin(mux, "add-device-marker", func(r adminRequest) (any, error) {
		return nil, c.AddDeviceMarker(r.agentOrHostname(), r.Device, r.Content)
	})
	c.admin(mux, "remove-device-marker", func(r adminRequest) (any, error) {
		return nil, c.RemoveDeviceMarker(r.agentOrHostname(), r.Device)
	})
}

func (r adminRequest) agentOrHostname() string {
	if r.Agent != "" {
		return r.Agent
	}
	return r.Hostname
}

func (c *Cluster) admin(mux *http.ServeMux, name string, do func(adminRequest) (any, error)) {
	mux.HandleFunc("/admin/"+name, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			httpError(w, http.StatusMethodNotAllowed, "Expecting a 'POST' request")
			return
		}
		var req adminRequest
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err == nil && len(body) > 0 {
			err = json.Unmarshal(body, &req)
		}
		if err != nil {
			httpError(w, http.StatusBadRequest, fmt.Sprintf("malformed %s request: %v", name, err))
			return
		}
		if req.Count < 0 || req.DelayMS < 0 {
			httpError(w, http.StatusBadRequest, "count and delay_ms must not be negative")
			return
		}
		out, err := do(req)
		if err != nil {
			httpError(w, http.StatusNotFound, err.Error())
			return
		}
		if out == nil {
			out = struct{}{}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	})
}
