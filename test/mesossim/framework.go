package mesossim

import (
	"fmt"
	"net"
	"strconv"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

type framework struct {
	id             string
	info           mesos.FrameworkInfo
	roles          []string
	partitionAware bool
	refinement     bool

	stream        *stream     // nil while disconnected
	failoverTimer *time.Timer // runs while disconnected
	registeredAt  time.Time
	removedAt     time.Time

	tasks      map[string]*task // live tasks and terminal ones awaiting acknowledgement
	completed  []*task          // bounded history for /state
	offers     map[string]*offer
	suppressed map[string]bool        // role -> suppressed
	filters    map[string]offerFilter // agent ID -> resources refused on it
	pending    map[string][]*pendingUpdate
}

const completedTasksKept = 1000

func (fw *framework) hasCapability(c mesos.FrameworkInfo_Capability_Type) bool {
	for _, cap := range fw.info.Capabilities {
		if cap.Type == c {
			return true
		}
	}
	return false
}

// frameworkRoles is the roles a framework subscribes with: roles with
// MULTI_ROLE, otherwise the deprecated single role (default "*").
func frameworkRoles(info mesos.FrameworkInfo) []string {
	for _, c := range info.Capabilities {
		if c.Type == mesos.FrameworkInfo_Capability_MULTI_ROLE {
			return append([]string(nil), info.Roles...)
		}
	}
	return []string{info.GetRole()}
}

// send queues an event on the framework's stream, if it has one.
func (m *master) send(fw *framework, ev *scheduler.Event) {
	if fw.stream != nil {
		fw.stream.send(ev)
	}
}

// subscribe registers or re-registers a framework for a new stream. It returns
// the framework, or an error message to send as an ERROR event.
func (m *master) subscribe(info mesos.FrameworkInfo, suppressed []string, s *stream) (*framework, string) {
	m.mu.Lock()
	defer m.unlock()
	if m.closed {
		return nil, "Master is shutting down"
	}
	id := info.GetID().GetValue()
	if _, gone := m.removedFws[id]; gone && id != "" {
		return nil, "Framework has been removed"
	}
	fw := m.frameworks[id]
	if fw == nil {
		if id == "" {
			id = fmt.Sprintf("%s-%04d", m.masterID, m.nextFramework)
			m.nextFramework++
		}
		// An unknown ID is accepted: after a master failover the new master
		// learns frameworks from their resubscription.
		fw = &framework{
			id: id, tasks: map[string]*task{}, offers: map[string]*offer{},
			suppressed: map[string]bool{}, filters: map[string]offerFilter{},
			pending: map[string][]*pendingUpdate{}, registeredAt: m.cfg.Now(),
		}
		m.frameworks[id] = fw
	} else if fw.stream != nil {
		// One subscription per framework: the old one is told and closed.
		fw.stream.send(&scheduler.Event{Type: scheduler.Event_ERROR, Error: &scheduler.Event_Error{Message: "Framework failed over"}})
		fw.stream.close()
		m.rescindAll(fw, false)
	}
	info.ID = &mesos.FrameworkID{Value: id}
	m.applyFrameworkInfo(fw, info, suppressed)
	if fw.failoverTimer != nil {
		fw.failoverTimer.Stop()
		fw.failoverTimer = nil
	}
	fw.stream = s
	hb := m.cfg.HeartbeatInterval.Seconds()
	s.send(&scheduler.Event{Type: scheduler.Event_SUBSCRIBED, Subscribed: &scheduler.Event_Subscribed{
		FrameworkID:              &mesos.FrameworkID{Value: id},
		HeartbeatIntervalSeconds: &hb,
		MasterInfo:               m.masterInfo(),
	}})
	// A Mesos master's heartbeater sends its first HEARTBEAT at once.
	s.send(&scheduler.Event{Type: scheduler.Event_HEARTBEAT})
	// Updates still awaiting acknowledgement are sent again on the new stream.
	for taskID := range fw.pending {
		m.sendPendingHead(fw, taskID)
	}
	m.generateOffers()
	m.log.Info("framework subscribed", "framework", id, "name", info.Name, "stream", s.id)
	return fw, ""
}

// applyFrameworkInfo takes a framework's info and suppressed roles from a
// SUBSCRIBE or UPDATE_FRAMEWORK call.
func (m *master) applyFrameworkInfo(fw *framework, info mesos.FrameworkInfo, suppressed []string) {
	fw.info = info
	fw.roles = frameworkRoles(info)
	fw.partitionAware = fw.hasCapability(mesos.FrameworkInfo_Capability_PARTITION_AWARE)
	fw.refinement = fw.hasCapability(mesos.FrameworkInfo_Capability_RESERVATION_REFINEMENT)
	fw.suppressed = map[string]bool{}
	for _, r := range suppressed {
		fw.suppressed[r] = true
	}
}

// disconnected handles a stream whose client went away: offers are rescinded
// and the failover timeout starts.
func (m *master) disconnected(fw *framework, s *stream) {
	m.mu.Lock()
	defer m.unlock()
	if fw.stream != s {
		return // already replaced by a newer subscription
	}
	m.disconnectLocked(fw)
}

func (m *master) disconnectLocked(fw *framework) {
	fw.stream = nil
	m.rescindAll(fw, false)
	// The allocator deactivates the framework, which drops its offer
	// filters (HierarchicalAllocatorProcess::deactivateFramework): after
	// it subscribes again, every agent is offered to it afresh.
	fw.filters = map[string]offerFilter{}
	timeout := time.Duration(fw.info.GetFailoverTimeout() * float64(time.Second))
	m.log.Info("framework disconnected", "framework", fw.id, "failover_timeout", timeout)
	if fw.failoverTimer != nil {
		fw.failoverTimer.Stop()
	}
	fw.failoverTimer = time.AfterFunc(timeout, func() {
		m.mu.Lock()
		defer m.unlock()
		if fw.stream == nil && m.frameworks[fw.id] == fw {
			m.log.Info("framework failover timeout elapsed", "framework", fw.id)
			m.removeFramework(fw)
		}
	})
}

// removeFramework tears a framework down: its tasks are killed, its offers
// return to the pool and its ID may not subscribe again.
func (m *master) removeFramework(fw *framework) {
	m.rescindAll(fw, false)
	if fw.failoverTimer != nil {
		fw.failoverTimer.Stop()
	}
	for _, t := range fw.tasks {
		m.releaseTask(t)
		delete(t.agent.tasks, t.info.TaskID.Value)
	}
	for _, a := range m.agentOrder {
		if a.state.retired() {
			continue
		}
		rt, id := a.rt, fw.id
		m.later(func() { rt.ShutdownFramework(id) })
	}
	fw.pending = map[string][]*pendingUpdate{}
	fw.removedAt = m.cfg.Now()
	if fw.stream != nil {
		fw.stream.close()
		fw.stream = nil
	}
	delete(m.frameworks, fw.id)
	m.removedFws[fw.id] = fw
}

func (m *master) masterInfo() *mesos.MasterInfo {
	addr := m.addrs[m.leader]
	host, portStr, _ := net.SplitHostPort(addr)
	port64, _ := strconv.ParseUint(portStr, 10, 32)
	port := uint32(port64)
	var ip uint32
	if p := net.ParseIP(host).To4(); p != nil {
		// MasterInfo.ip is in network byte order read as a little-endian integer.
		ip = uint32(p[0]) | uint32(p[1])<<8 | uint32(p[2])<<16 | uint32(p[3])<<24
	}
	version := "1.11.0"
	pid := "master@" + addr
	info := &mesos.MasterInfo{
		ID: m.masterID, IP: ip, Port: &port, Hostname: &host, PID: &pid, Version: &version,
		Address: &mesos.Address{Hostname: &host, IP: &host, Port: int32(port)},
	}
	for _, name := range m.cfg.MasterCapabilities {
		info.Capabilities = append(info.Capabilities, mesos.MasterInfo_Capability{Type: mesos.MasterInfo_Capability_Type(masterCapabilityValues[name])})
	}
	return info
}

// masterCapabilityValues are the MasterInfo.Capability types of Mesos'
// mesos.proto; QUOTA_V2 is newer than mesos-go v0.0.11's generated code.
var masterCapabilityValues = map[string]int32{"AGENT_UPDATE": 1, "AGENT_DRAINING": 2, "QUOTA_V2": 3}
