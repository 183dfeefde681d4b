package mesossim

import (
	"fmt"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// accept handles ACCEPT. As in Mesos, invalid offers drop the whole call's
// tasks (TASK_DROPPED, or TASK_LOST without PARTITION_AWARE, reason
// REASON_INVALID_OFFERS); an invalid task gets TASK_ERROR with
// REASON_TASK_INVALID and the others still launch; what the operations leave
// of the offers returns to the pool, filtered by the call's filters.
func (m *master) accept(fw *framework, call *scheduler.Call_Accept) {
	var offers []*offer
	offerErr := ""
	if len(call.OfferIDs) == 0 {
		offerErr = "No offers specified"
	}
	seen := map[string]bool{}
	var missing []string
	for _, id := range call.OfferIDs {
		o := m.offers[id.Value]
		switch {
		case seen[id.Value]:
			offerErr = "Duplicate offer " + id.Value + " in offer list"
		case o == nil:
			offerErr = "Offer " + id.Value + " is no longer valid"
			missing = append(missing, id.Value)
		case o.fw != fw:
			offerErr = "Offer " + id.Value + " has invalid framework"
		case len(offers) > 0 && o.agent != offers[0].agent:
			offerErr = "Aggregated offers must belong to one single agent"
		}
		if o != nil && o.fw == fw && !seen[id.Value] {
			offers = append(offers, o)
		}
		seen[id.Value] = true
	}
	// Valid offers are used up either way.
	for _, o := range offers {
		m.removeOffer(o, false)
		m.rejects.offerUsed(o.id)
	}
	if offerErr != "" {
		m.rejects.acceptRefused(offerErr, missing)
		for _, op := range call.Operations {
			for _, ti := range operationTasks(op) {
				m.deliver(fw, m.masterUpdate(fw, ti.TaskID.Value, ti.AgentID.Value, mesos.TASK_DROPPED,
					mesos.REASON_INVALID_OFFERS, "Task launched with invalid offers: "+offerErr))
			}
		}
		return
	}
	a := offers[0].agent
	available := pool{}
	for _, o := range offers {
		available.add(o.res)
	}
	for _, op := range call.Operations {
		switch op.Type {
		case mesos.Offer_Operation_LAUNCH:
			if op.Launch == nil {
				continue
			}
			for _, ti := range op.Launch.TaskInfos {
				m.launch(fw, a, available, ti, nil)
			}
		case mesos.Offer_Operation_LAUNCH_GROUP:
			if op.LaunchGroup == nil {
				continue
			}
			exec := op.LaunchGroup.Executor
			m.launchGroup(fw, a, available, exec, op.LaunchGroup.TaskGroup.Tasks)
		default:
			m.log.Warn("ACCEPT operation not simulated; ignored", "type", op.Type.String(), "framework", fw.id)
		}
	}
	// Whatever was not used returns to the pool behind the call's filter.
	m.refuse(fw, a.id, call.Filters, available)
}

func operationTasks(op mesos.Offer_Operation) []mesos.TaskInfo {
	switch {
	case op.Type == mesos.Offer_Operation_LAUNCH && op.Launch != nil:
		return op.Launch.TaskInfos
	case op.Type == mesos.Offer_Operation_LAUNCH_GROUP && op.LaunchGroup != nil:
		return op.LaunchGroup.TaskGroup.Tasks
	}
	return nil
}

// validateTask checks one task against Mesos' task validation and the
// resources left in the offers; it returns the task's resources and those of a
// new executor, or a TASK_ERROR message.
func (m *master) validateTask(fw *framework, a *agent, available pool, ti mesos.TaskInfo, groupExec *mesos.ExecutorInfo) (taskRes, execRes pool, msg string) {
	id := ti.TaskID.Value
	switch {
	case id == "":
		return nil, nil, "Task has an invalid TaskID: ID must not be empty"
	case fw.tasks[id] != nil && fw.tasks[id].agent.state == agentUnreachable:
		return nil, nil, "Task reuses the ID of an unreachable task: " + id
	case fw.tasks[id] != nil:
		return nil, nil, "Task has duplicate ID: " + id
	case ti.AgentID.Value != a.id:
		return nil, nil, "Task uses invalid agent " + ti.AgentID.Value + " while agent " + a.id + " is expected"
	case ti.KillPolicy != nil && ti.KillPolicy.GracePeriod != nil && ti.KillPolicy.GracePeriod.Nanoseconds < 0:
		return nil, nil, "Task's 'kill_policy.grace_period' must be non-negative"
	}
	if groupExec == nil && (ti.Command == nil) == (ti.Executor == nil) {
		return nil, nil, "Task should have at least one (but not both) of CommandInfo or ExecutorInfo present"
	}
	taskRes, err := poolFromResources(ti.Resources)
	if err != nil {
		return nil, nil, "Task uses invalid resources: " + err.Error()
	}
	if taskRes.isEmpty() {
		return nil, nil, "Task uses no resources"
	}
	exec := ti.Executor
	if groupExec != nil {
		exec = groupExec
	}
	need := taskRes.clone()
	if exec != nil {
		if msg := validateExecutor(fw, a, *exec); msg != "" {
			return nil, nil, msg
		}
		key := fw.id + "/" + exec.ExecutorID.Value
		if a.executors[key] == nil {
			execRes, err = poolFromResources(exec.Resources)
			if err != nil {
				return nil, nil, "Executor uses invalid resources: " + err.Error()
			}
			need.add(execRes)
		}
	}
	if ok, missing := available.contains(need); !ok {
		return nil, nil, fmt.Sprintf("Total resources required by task and its executor is more than available (short of %s)", missing)
	}
	return taskRes, execRes, ""
}

// validateExecutor applies the master's executor checks: the framework ID
// (filled in when missing) must be the framework's, and an executor already
// running on the agent must be launched with an identical ExecutorInfo.
func validateExecutor(fw *framework, a *agent, exec mesos.ExecutorInfo) string {
	if exec.ExecutorID.Value == "" {
		return "Executor has an invalid ExecutorID: ID must not be empty"
	}
	if exec.FrameworkID == nil {
		exec.FrameworkID = &mesos.FrameworkID{Value: fw.id}
	}
	if exec.FrameworkID.Value != fw.id {
		return fmt.Sprintf("ExecutorInfo has an invalid FrameworkID (Actual: %s vs Expected: %s)", exec.FrameworkID.Value, fw.id)
	}
	if e := a.executors[fw.id+"/"+exec.ExecutorID.Value]; e != nil && !e.info.Equal(&exec) {
		return "ExecutorInfo is not compatible with existing ExecutorInfo with same ExecutorID."
	}
	return ""
}

func (m *master) launch(fw *framework, a *agent, available pool, ti mesos.TaskInfo, groupExec *mesos.ExecutorInfo) bool {
	taskRes, execRes, msg := m.validateTask(fw, a, available, ti, groupExec)
	if msg != "" {
		m.rejects.note(Rejection{Call: "ACCEPT", Message: "TASK_ERROR: " + msg, Invalid: true})
		m.deliver(fw, m.masterUpdate(fw, ti.TaskID.Value, ti.AgentID.Value, mesos.TASK_ERROR, mesos.REASON_TASK_INVALID, msg))
		return false
	}
	if groupExec != nil {
		e := *groupExec
		ti.Executor = &e
	}
	m.startTask(fw, a, available, ti, taskRes, execRes)
	return true
}

// launchGroup launches a task group atomically: one invalid task fails all.
func (m *master) launchGroup(fw *framework, a *agent, available pool, exec mesos.ExecutorInfo, tasks []mesos.TaskInfo) {
	if exec.FrameworkID == nil {
		exec.FrameworkID = &mesos.FrameworkID{Value: fw.id}
	}
	trial := available.clone()
	failed := ""
	execCounted := false
	for _, ti := range tasks {
		taskRes, execRes, msg := m.validateTask(fw, a, trial, ti, &exec)
		if msg != "" {
			failed = msg
			break
		}
		trial.sub(taskRes)
		if !execCounted && execRes != nil {
			trial.sub(execRes)
			execCounted = true
		}
	}
	if len(tasks) == 0 {
		failed = "Task group must not be empty"
	}
	if failed != "" {
		m.rejects.note(Rejection{Call: "ACCEPT", Message: "TASK_ERROR: " + failed, Invalid: true})
		for _, ti := range tasks {
			m.deliver(fw, m.masterUpdate(fw, ti.TaskID.Value, ti.AgentID.Value, mesos.TASK_ERROR, mesos.REASON_TASK_GROUP_INVALID, failed))
		}
		return
	}
	for _, ti := range tasks {
		m.launch(fw, a, available, ti, &exec)
	}
}

// startTask records a task as TASK_STAGING, reserves its resources and hands it
// to the agent's runtime.
func (m *master) startTask(fw *framework, a *agent, available pool, ti mesos.TaskInfo, taskRes, execRes pool) {
	available.sub(taskRes)
	a.use(taskRes)
	t := &task{info: ti, fw: fw, agent: a, res: taskRes, launchedAt: time.Now()}
	if ti.Executor != nil {
		t.executorID = ti.Executor.ExecutorID.Value
		if ti.Executor.FrameworkID == nil {
			ti.Executor.FrameworkID = &mesos.FrameworkID{Value: fw.id}
		}
		key := fw.id + "/" + t.executorID
		e := a.executors[key]
		if e == nil {
			if execRes == nil {
				execRes = pool{}
			}
			available.sub(execRes)
			a.use(execRes)
			e = &executorUse{info: *ti.Executor, res: execRes}
			a.executors[key] = e
		}
		e.tasks++
	}
	staging := mesos.TASK_STAGING
	src := mesos.SOURCE_MASTER
	t.status = mesos.TaskStatus{TaskID: ti.TaskID, State: &staging, Source: &src, AgentID: &mesos.AgentID{Value: a.id}, Timestamp: m.timestamp()}
	if t.executorID != "" {
		t.status.ExecutorID = &mesos.ExecutorID{Value: t.executorID}
	}
	fw.tasks[ti.TaskID.Value] = t
	a.tasks[ti.TaskID.Value] = t
	rt, info := a.rt, fw.info
	m.later(func() { rt.Launch(info, ti) })
}

// decline handles DECLINE: the offers return to the pool behind a filter.
func (m *master) decline(fw *framework, call *scheduler.Call_Decline) {
	for _, id := range call.OfferIDs {
		o := m.offers[id.Value]
		if o == nil || o.fw != fw {
			continue // Mesos ignores offers it no longer knows
		}
		m.removeOffer(o, false)
		m.rejects.offerUsed(o.id)
		m.refuse(fw, o.agent.id, call.Filters, o.res)
	}
}
