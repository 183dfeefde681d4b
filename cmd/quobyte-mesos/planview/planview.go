// Package planview renders a controller plan for people, in the manner of
// `terraform plan`: per host and service, `+` launch, `-` stop, `~` replace,
// each with its reason, then the blocked items, the services not running
// healthy (CheckServices) and a summary line. The same counts drive
// `plan -detailed-exitcode`, the JSON form and the plan_actions metric.
package planview

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/quobyte/quobyte-mesos/controller"
	"github.com/quobyte/quobyte-mesos/observe/snapshot"
)

// Summary counts what a plan changes. A replacement (a kill or launch with
// Replaces set) counts once per replaced task, not as a launch plus a stop.
type Summary struct {
	Launch  int `json:"launch"`
	Replace int `json:"replace"`
	Stop    int `json:"stop"`
	Probe   int `json:"probe"`
	Blocked int `json:"blocked"`
}

// Summarize counts the actions and blocked items of r.
func Summarize(r *controller.Result) Summary {
	var s Summary
	replaced := map[string]bool{}
	for _, a := range r.Actions {
		switch {
		case a.Replaces != "":
			replaced[a.Replaces] = true
		case a.Type == controller.Launch || a.Type == controller.LaunchProber:
			s.Launch++
		case a.Type == controller.Kill:
			s.Stop++
		case a.Type == controller.Probe:
			s.Probe++
		}
	}
	s.Replace = len(replaced)
	s.Blocked = len(r.Blocked)
	return s
}

// HasChanges reports whether the plan would change what runs, or waits for
// something before it can. Probe requests alone are keep-alives, not changes.
func (s Summary) HasChanges() bool {
	return s.Launch+s.Replace+s.Stop+s.Blocked > 0
}

// Line is the one-line summary, e.g. "Plan: 3 to launch, 2 to replace, 1 to stop."
func (s Summary) Line() string {
	if !s.HasChanges() {
		return "No changes. The cluster matches the spec."
	}
	line := fmt.Sprintf("Plan: %d to launch, %d to replace, %d to stop.", s.Launch, s.Replace, s.Stop)
	if s.Blocked > 0 {
		line += fmt.Sprintf(" %d blocked.", s.Blocked)
	}
	return line
}

// symbol marks an action as terraform does.
func symbol(a controller.Action) string {
	switch {
	case a.Replaces != "":
		return "~"
	case a.Type == controller.Kill:
		return "-"
	case a.Type == controller.Probe:
		return "?"
	default:
		return "+"
	}
}

// describe says what an action does, without its reason.
func describe(a controller.Action) string {
	switch a.Type {
	case controller.Launch, controller.LaunchProber:
		d := "launch with config " + a.ConfigHash
		if a.Replaces != "" {
			d = "replace " + a.Replaces + " with config " + a.ConfigHash
		}
		return d
	case controller.Kill:
		if a.Replaces != "" {
			return "stop " + a.TaskID + " (to be replaced)"
		}
		return "stop " + a.TaskID
	case controller.Probe:
		return "ask " + a.TaskID + " to probe"
	}
	return string(a.Type)
}

func hostOf(hostname, agentID string) string {
	switch {
	case hostname != "":
		return hostname
	case agentID != "":
		return agentID
	}
	return "(any host)"
}

// Document is the JSON form of a plan: the plan itself, its summary, and
// the health of the services it was planned against.
type Document struct {
	Summary Summary            `json:"summary"`
	Changes bool               `json:"changes"`
	Plan    *controller.Result `json:"plan"`
	// Services is nil when the plan came without a snapshot.
	Services *ServiceHealth `json:"services,omitempty"`
	// Mesos says what a dry run's mesos block would change once in force
	// (mesosconn.MesosChanges): applied live, or at the next start. Only
	// a dry run on the running framework knows the spec in force to
	// compare with (WithMesos); empty otherwise.
	Mesos []string `json:"mesos,omitempty"`
}

// WithMesos adds what the mesos block changes; they are changes to apply
// (Changes, plan -detailed-exitcode) even when no task changes.
func (d Document) WithMesos(changes []string) Document {
	d.Mesos = changes
	d.Changes = d.Changes || len(changes) > 0
	return d
}

// NewDocument summarizes r, and the services' health in s with the backoff
// holds r was planned with (s may be nil: then the document says nothing of
// them).
func NewDocument(r *controller.Result, s *snapshot.Snapshot, holds map[string]controller.Hold) Document {
	sum := Summarize(r)
	d := Document{Summary: sum, Changes: sum.HasChanges(), Plan: r}
	if s != nil {
		h := CheckServices(s, holds)
		d.Services = &h
	}
	return d
}

// Line is the summary line: the plan's, and how many services do not run
// healthy, so that "No changes" never hides a crash loop.
func (d Document) Line() string {
	line := d.Summary.Line()
	if n := len(d.Mesos); n > 0 {
		if !d.Summary.HasChanges() {
			line = "No changes to tasks."
		}
		line += fmt.Sprintf(" %d %s of the mesos block.", n, plural(n, "change", "changes"))
	}
	if d.Services == nil || d.Services.NotHealthy == 0 {
		return line
	}
	if !d.Changes {
		return "No changes to make, but " + d.Services.Line() + "."
	}
	return line + " " + d.Services.Line() + "."
}

// Text writes the document for people: actions by host, what is blocked,
// the services not running healthy, and the summary line.
func (d Document) Text(w io.Writer) error {
	r := d.Plan
	byHost := map[string][]controller.Action{}
	for _, a := range r.Actions {
		h := hostOf(a.Hostname, a.AgentID)
		byHost[h] = append(byHost[h], a)
	}
	hosts := make([]string, 0, len(byHost))
	for h := range byHost {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)

	var b strings.Builder
	if len(r.Actions) > 0 {
		b.WriteString("Actions, by host:\n")
	}
	for _, h := range hosts {
		fmt.Fprintf(&b, "\n  %s\n", h)
		for _, a := range byHost[h] {
			fmt.Fprintf(&b, "    %s %-10s %s\n", symbol(a), a.Kind, describe(a))
			fmt.Fprintf(&b, "        because %s\n", a.Reason)
		}
	}
	if len(r.Blocked) > 0 {
		b.WriteString("\nBlocked:\n")
		for _, bl := range r.Blocked {
			fmt.Fprintf(&b, "    %-12s %-10s %s\n", hostOf(bl.Hostname, bl.AgentID), bl.Kind, bl.Reason)
		}
	}
	if len(d.Mesos) > 0 {
		b.WriteString("\nThe mesos block:\n")
		for _, m := range d.Mesos {
			fmt.Fprintf(&b, "    %s\n", m)
		}
	}
	if h := d.Services; h != nil && h.NotHealthy > 0 {
		fmt.Fprintf(&b, "\nNot running healthy (%d of %d services):\n", h.NotHealthy, h.Total)
		for _, p := range h.Services {
			fmt.Fprintf(&b, "    %-12s %-10s %s\n", p.Hostname, p.Kind, p.Why(h.At))
		}
	}
	if b.Len() > 0 {
		b.WriteString("\n")
	}
	b.WriteString(d.Line())
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// JSON writes the document for machines.
func (d Document) JSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(d)
}
