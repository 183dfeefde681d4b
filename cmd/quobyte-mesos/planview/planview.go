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

// Summary counts what a plan changes: this plan's step (Launch, Replace,
// Stop, Probe, Blocked, Waiting) and, for the changes made at a pace (a
// rolling replacement, a placement change, a stop), the whole of them
// (ToReplace, ToStop, Whole). A replacement (a kill or launch with Replaces
// set) counts once per replaced task, not as a launch plus a stop.
type Summary struct {
	Launch  int `json:"launch"`
	Replace int `json:"replace"`
	Stop    int `json:"stop"`
	Probe   int `json:"probe"`
	Blocked int `json:"blocked"`
	// Waiting counts the launches that wait for an offer to fit (each
	// says why in its Waiting).
	Waiting int `json:"waiting,omitempty"`
	// ToReplace and ToStop count the whole paced change
	// (controller.Result.Changes), this step included.
	ToReplace int `json:"to_replace,omitempty"`
	ToStop    int `json:"to_stop,omitempty"`
	// Whole says the whole paced change kind by kind, in the order it is
	// made: "13 to replace, rolling one at a time: registry 3, api 1,
	// webconsole 1, metadata 4, data 4".
	Whole string `json:"whole,omitempty"`
}

// Summarize counts the actions and blocked items of r, and the whole of its
// paced changes.
func Summarize(r *controller.Result) Summary {
	var s Summary
	replaced := map[string]bool{}
	for _, a := range r.Actions {
		if a.Waiting != "" {
			s.Waiting++
		}
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
	s.Whole, s.ToReplace, s.ToStop = whole(r.Changes)
	return s
}

// whole says the paced changes kind by kind: "13 to replace, rolling one at
// a time: registry 3, api 1, ...; 3 to stop, one at a time: data 3". The
// pace most kinds go at is said once, a kind at another pace says its own:
// probers are replaced all at once, registries always one at a time. A stop
// with state = "stopped" goes kind by kind.
func whole(changes []controller.KindChange) (text string, replace, stop int) {
	part := func(count func(controller.KindChange) int, verb string) (string, int) {
		common := 0
		for _, ch := range changes {
			if count(ch) > 0 && ch.Kind != "prober" {
				common = max(common, ch.AtATime)
			}
		}
		var kinds []string
		total := 0
		for _, ch := range changes {
			if n := count(ch); n > 0 {
				total += n
				k := fmt.Sprintf("%s %d", ch.Kind, n)
				if ch.AtATime != common {
					k += " (" + pace(ch.AtATime) + ")"
				}
				kinds = append(kinds, k)
			}
		}
		if total == 0 {
			return "", 0
		}
		how := pace(common)
		switch {
		case verb == "replace" && common > 0:
			how = "rolling " + how
		case verb == "stop" && common == 0:
			how = "kind by kind"
		}
		return fmt.Sprintf("%d to %s, %s: %s", total, verb, how, strings.Join(kinds, ", ")), total
	}
	r, replace := part(func(ch controller.KindChange) int { return ch.Replace }, "replace")
	st, stop := part(func(ch controller.KindChange) int { return ch.Stop }, "stop")
	var out []string
	for _, p := range []string{r, st} {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "; "), replace, stop
}

// HasChanges reports whether the plan would change what runs, or waits for
// something before it can. Probe requests alone are keep-alives, not changes.
func (s Summary) HasChanges() bool {
	return s.Launch+s.Replace+s.Stop+s.Blocked+s.ToReplace+s.ToStop > 0
}

// Line is the one-line summary: "Plan: 3 to launch, 2 to replace, 1 to
// stop." or, while a change goes at a pace, the whole of it and then this
// step: "Plan: 13 to replace, rolling one at a time: registry 3, api 1,
// webconsole 1, metadata 4, data 4. Now: 0 to launch, 1 to replace, 0 to
// stop. 4 blocked."
func (s Summary) Line() string {
	if !s.HasChanges() {
		return "No changes. The cluster matches the spec."
	}
	now := fmt.Sprintf("%d to launch, %d to replace, %d to stop.", s.Launch, s.Replace, s.Stop)
	line := "Plan: " + now
	if s.Whole != "" {
		line = "Plan: " + s.Whole + ". Now: " + now
	}
	if s.Waiting > 0 {
		line += fmt.Sprintf(" %d %s for resources.", s.Waiting, plural(s.Waiting, "launch waits", "launches wait"))
	}
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

// pace says how many of a kind change at once (controller.KindChange.AtATime).
func pace(n int) string {
	switch n {
	case 0:
		return "all at once"
	case 1:
		return "one at a time"
	}
	return fmt.Sprintf("%d at a time", n)
}

// describeChange says one kind's whole change: "3 to replace, one at a
// time: version 3.4 -> 3.5".
func describeChange(ch controller.KindChange) string {
	var parts []string
	if ch.Replace > 0 {
		r := fmt.Sprintf("%d to replace, %s", ch.Replace, pace(ch.AtATime))
		if ch.Change != "" {
			r += ": " + ch.Change
		}
		parts = append(parts, r)
	}
	switch {
	case ch.Stop > 0 && ch.AtATime > 0:
		parts = append(parts, fmt.Sprintf("%d to stop, %s", ch.Stop, pace(ch.AtATime)))
	case ch.Stop > 0:
		parts = append(parts, fmt.Sprintf("%d to stop, after the kinds before it", ch.Stop))
	}
	return strings.Join(parts, "; ")
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
		h := CheckServices(r.Spec, s, holds)
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
	if len(r.Changes) > 0 {
		b.WriteString("Changes, kind by kind in the order they are made:\n")
		for _, ch := range r.Changes {
			fmt.Fprintf(&b, "    %-10s %s\n", ch.Kind, describeChange(ch))
		}
		b.WriteString("\n")
	}
	if len(r.Actions) > 0 {
		b.WriteString("Now, by host:\n")
	}
	for _, h := range hosts {
		fmt.Fprintf(&b, "\n  %s\n", h)
		for _, a := range byHost[h] {
			fmt.Fprintf(&b, "    %s %-10s %s\n", symbol(a), a.Kind, describe(a))
			fmt.Fprintf(&b, "        because %s\n", a.Reason())
			if a.Waiting != "" {
				fmt.Fprintf(&b, "        waiting: %s\n", a.Waiting)
			}
		}
	}
	// Host columns fit the longest name (hostnames like
	// storage-node-01.dc1.example.com), at least 12 wide.
	width := 12
	for _, bl := range r.Blocked {
		width = max(width, len(hostOf(bl.Hostname, bl.AgentID)))
	}
	if h := d.Services; h != nil {
		for _, p := range h.Services {
			width = max(width, len(p.Hostname))
		}
	}
	if len(r.Blocked) > 0 {
		b.WriteString("\nBlocked:\n")
		for _, bl := range r.Blocked {
			fmt.Fprintf(&b, "    %-*s %-10s %s\n", width, hostOf(bl.Hostname, bl.AgentID), bl.Kind, bl.Reason)
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
			fmt.Fprintf(&b, "    %-*s %-10s %s\n", width, p.Hostname, p.Kind, p.Why(h.At))
		}
		if h.Registry != "" {
			fmt.Fprintf(&b, "    Why, maybe: %s.\n", h.Registry)
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
