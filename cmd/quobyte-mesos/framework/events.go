package framework

import (
	"cmp"
	"fmt"
	"time"

	"github.com/quobyte/quobyte-mesos/actuate"
	"github.com/quobyte/quobyte-mesos/cmd/quobyte-mesos/events"
	"github.com/quobyte/quobyte-mesos/cmd/quobyte-mesos/statusapi"
	"github.com/quobyte/quobyte-mesos/controller"
	"github.com/quobyte/quobyte-mesos/observe/mesosconn"
	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/observe/taskid"
)

// The event log (/v1/events, the dashboard) is told here what the parts
// of `run` did: each function turns one of their reports into events.

// failureEvent is a task failure as the observer counted it.
func failureEvent(kind, host string, end snapshot.TaskEnd) events.Event {
	what := "ended " + string(end.State)
	switch {
	case end.HealthKilled && end.HealthFailures > 0:
		what = fmt.Sprintf("was killed by Mesos after %d failed health checks", end.HealthFailures)
	case end.HealthKilled:
		what = "was killed by Mesos for failing its health check"
	}
	if end.RanFor > 0 {
		what += fmt.Sprintf(" after running %s", end.RanFor.Round(time.Second))
	}
	return events.Event{Type: events.Failure, Time: end.At, Host: host, Kind: kind, TaskID: end.TaskID, State: string(end.State),
		Text: fmt.Sprintf("%s on %s %s", kind, host, what), Reason: end.Reason, Message: end.Message}
}

// reportEvents are the launches Mesos took, then the kills sent: how many,
// and the ith (events.Log.AddN builds only those it keeps).
func reportEvents(r actuate.Report) (int, func(i int) events.Event) {
	return len(r.Launched) + len(r.Killed), func(i int) events.Event {
		if i < len(r.Launched) {
			l := r.Launched[i]
			host := cmp.Or(l.Hostname, l.AgentID)
			return events.Event{Type: events.Launch, Host: host, Kind: l.Kind, TaskID: l.TaskID,
				Text: fmt.Sprintf("launched %s on %s with config %s", l.Kind, host, l.ConfigHash), Reason: l.Reason}
		}
		k := r.Killed[i-len(r.Launched)]
		host := cmp.Or(k.Hostname, k.AgentID)
		id, _ := taskid.Parse(k.TaskID)
		return events.Event{Type: events.Kill, Host: host, Kind: id.Kind, TaskID: k.TaskID,
			Text: fmt.Sprintf("kill sent for %s on %s", k.TaskID, host), Reason: k.Reason}
	}
}

// applyEvents are the actions of a plan that failed.
func applyEvents(rep controller.ApplyReport) []events.Event {
	var out []events.Event
	for _, f := range rep.Failed {
		a := f.Action
		host := cmp.Or(a.Hostname, a.AgentID, "any host")
		out = append(out, events.Event{Type: events.ApplyError, Host: host, Kind: a.Kind, TaskID: a.TaskID,
			Text: fmt.Sprintf("%s of %s on %s failed", a.Type, a.Kind, host), Reason: a.Reason(), Message: f.Error})
	}
	return out
}

// reloadEvent is the outcome of a spec (re)load.
func reloadEvent(rl statusapi.Reload) events.Event {
	if !rl.OK {
		return events.Event{Type: events.ReloadFailed, Time: rl.At,
			Text:    fmt.Sprintf("reload of %s refused: the spec in force stays %s", rl.File, rl.SpecHash),
			Message: rl.Diagnostics}
	}
	e := events.Event{Type: events.Reload, Time: rl.At, Text: fmt.Sprintf("spec %s in force: %s", rl.SpecHash, rl.File), Message: rl.Changes}
	if len(rl.NextStart) > 0 {
		e.Message += fmt.Sprintf("\nat the next start: %v", rl.NextStart)
	}
	return e
}

// subscriptionEvent tells a change of the subscription's state (none for
// a change within one state, or to subscribing).
func subscriptionEvent(prev snapshot.SubscriptionState, st mesosconn.Status) (events.Event, bool) {
	if st.State == prev {
		return events.Event{}, false
	}
	switch st.State {
	case snapshot.Subscribed:
		what := "subscribed"
		if st.Subscriptions > 1 {
			what = "resubscribed"
		}
		return events.Event{Type: events.Subscription, Time: st.Since,
			Text: fmt.Sprintf("%s to %s as framework %s", what, st.Master, st.FrameworkID)}, true
	case snapshot.Disconnected:
		if prev != snapshot.Subscribed {
			return events.Event{}, false // a failed attempt: retried, and logged
		}
		return events.Event{Type: events.Subscription, Warning: true, Time: st.Since,
			Text: "the Mesos subscription ended", Message: st.LastError}, true
	}
	return events.Event{}, false
}
