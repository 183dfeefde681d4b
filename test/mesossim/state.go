package mesossim

import (
	"encoding/json"
	"net/http"
	"sort"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
)

// State is a snapshot shaped like the Mesos master's /state endpoint (the
// subset this cluster models).
type State struct {
	ID                  string           `json:"id"`
	Leader              string           `json:"leader"`
	Version             string           `json:"version"`
	ActivatedAgents     int              `json:"activated_slaves"`
	Agents              []AgentState     `json:"slaves"`
	Frameworks          []FrameworkState `json:"frameworks"`
	CompletedFrameworks []FrameworkState `json:"completed_frameworks"`
	Faults              FaultCounts      `json:"faults"`
}

// AgentState describes one agent.
type AgentState struct {
	ID           string             `json:"id"`
	Hostname     string             `json:"hostname"`
	State        string             `json:"state"` // active, unreachable, recovering, gone
	Active       bool               `json:"active"`
	Attributes   map[string]string  `json:"attributes"`
	Resources    map[string]float64 `json:"resources"`
	UsedRes      map[string]float64 `json:"used_resources"`
	OfferedRes   map[string]float64 `json:"offered_resources"`
	HostDir      string             `json:"host_dir,omitempty"`
	TaskCount    int                `json:"task_count"`
	ExecEndpoint string             `json:"executor_endpoint,omitempty"`
}

// FrameworkState describes one framework.
type FrameworkState struct {
	ID             string      `json:"id"`
	Name           string      `json:"name"`
	Roles          []string    `json:"roles"`
	Active         bool        `json:"active"`
	Connected      bool        `json:"connected"`
	PartitionAware bool        `json:"partition_aware"`
	OfferCount     int         `json:"offer_count"`
	Tasks          []TaskState `json:"tasks"`
	CompletedTasks []TaskState `json:"completed_tasks"`
	Unacknowledged int         `json:"unacknowledged_updates"`
}

// TaskState describes one task.
type TaskState struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	FrameworkID string `json:"framework_id"`
	AgentID     string `json:"slave_id"`
	Hostname    string `json:"hostname"`
	ExecutorID  string `json:"executor_id"`
	State       string `json:"state"`
	Healthy     *bool  `json:"healthy,omitempty"`
	// Role is the role the task's resources are allocated to.
	Role string `json:"role"`
}

// FaultCounts counts status updates affected by injected faults.
type FaultCounts struct {
	Dropped    int `json:"dropped_updates"`
	Delayed    int `json:"delayed_updates"`
	Duplicated int `json:"duplicated_updates"`
	KillsLost  int `json:"lost_kills"`
}

// State returns a snapshot of the cluster.
func (c *Cluster) State() State {
	m := c.m
	m.mu.Lock()
	defer m.unlock()
	st := State{
		ID: m.masterID, Leader: "master@" + m.addrs[m.leader], Version: "1.11.0",
		Agents: []AgentState{}, Frameworks: []FrameworkState{}, CompletedFrameworks: []FrameworkState{},
		Faults: FaultCounts{Dropped: m.faults.dropped, Delayed: m.faults.delayed, Duplicated: m.faults.duplicated, KillsLost: m.faults.killsLost},
	}
	for _, a := range m.agentOrder {
		as := AgentState{
			ID: a.id, Hostname: a.cfg.Hostname, State: a.state.String(), Active: a.state == agentActive,
			Attributes: a.cfg.Attributes, Resources: a.total.scalarTotals(), UsedRes: a.used.scalarTotals(),
			OfferedRes: a.offered.scalarTotals(), HostDir: a.cfg.HostDir, TaskCount: len(a.tasks),
		}
		as.ExecEndpoint = a.endpoint
		if as.Active {
			st.ActivatedAgents++
		}
		st.Agents = append(st.Agents, as)
	}
	for _, fw := range m.sortedFrameworks() {
		st.Frameworks = append(st.Frameworks, frameworkState(fw, true))
	}
	for _, fw := range m.removedFws {
		st.CompletedFrameworks = append(st.CompletedFrameworks, frameworkState(fw, false))
	}
	sort.Slice(st.CompletedFrameworks, func(i, j int) bool { return st.CompletedFrameworks[i].ID < st.CompletedFrameworks[j].ID })
	return st
}

func frameworkState(fw *framework, active bool) FrameworkState {
	fs := FrameworkState{
		ID: fw.id, Name: fw.info.Name, Roles: fw.roles, Active: active, Connected: fw.stream != nil,
		PartitionAware: fw.partitionAware, OfferCount: len(fw.offers), Tasks: []TaskState{}, CompletedTasks: []TaskState{},
	}
	for _, q := range fw.pending {
		fs.Unacknowledged += len(q)
	}
	for _, t := range fw.tasks {
		fs.Tasks = append(fs.Tasks, taskState(t))
	}
	sort.Slice(fs.Tasks, func(i, j int) bool { return fs.Tasks[i].ID < fs.Tasks[j].ID })
	for _, t := range fw.completed {
		fs.CompletedTasks = append(fs.CompletedTasks, taskState(t))
	}
	return fs
}

func taskState(t *task) TaskState {
	return TaskState{
		ID: t.info.TaskID.Value, Name: t.info.Name, FrameworkID: t.fw.id, AgentID: t.agent.id, Hostname: t.agent.cfg.Hostname,
		ExecutorID: t.executorID, State: t.status.GetState().String(), Healthy: t.status.Healthy,
		Role: taskRole(t.info),
	}
}

// taskRole is the allocation role of a task's resources (Mesos allows no mix).
func taskRole(ti mesos.TaskInfo) string {
	for _, r := range ti.Resources {
		if r.AllocationInfo != nil {
			return r.AllocationInfo.GetRole()
		}
	}
	return ""
}

// scalarTotals sums scalars over roles, for display: cpus, gpus, mem and
// disk always, 0 when none, as Mesos' state does (src/common/http.cpp,
// json() of resources), others when there are some.
func (p pool) scalarTotals() map[string]float64 {
	out := map[string]float64{"gpus": 0}
	for _, name := range fixedScalars {
		out[name] = 0
	}
	for _, b := range p {
		b.scalars(func(name string, v milli) { out[name] += v.float() })
	}
	return out
}

func (c *Cluster) serveState(index int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			httpError(w, http.StatusMethodNotAllowed, "Expecting a 'GET' request")
			return
		}
		if leader, ok := c.m.leaderAddr(index); !ok {
			w.Header().Set("Location", "//"+leader+r.URL.Path)
			w.WriteHeader(http.StatusTemporaryRedirect)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(c.State())
	}
}
