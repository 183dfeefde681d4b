package overview

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// TextOptions shape Text.
type TextOptions struct {
	// Color marks states with ANSI colours (on a terminal only); every
	// state is also written out in words.
	Color bool
	// ProblemsOnly leaves out the hosts without a problem.
	ProblemsOnly bool
}

// ANSI colours of the cell states.
const (
	green  = "\x1b[32m"
	yellow = "\x1b[33m"
	red    = "\x1b[31m"
	dim    = "\x1b[2m"
	bold   = "\x1b[1m"
	reset  = "\x1b[0m"
)

// Text writes the overview for a terminal: the summary, the hosts x kinds
// grid (problems first), the rollouts and the blocked items.
func (ov Overview) Text(w io.Writer, o TextOptions) error {
	var b strings.Builder
	paint := func(color, s string) string {
		if !o.Color || color == "" {
			return s
		}
		return color + s + reset
	}
	ago := func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return fmt.Sprintf("%s (%s ago)", t.Format("2006-01-02 15:04:05Z07:00"), ov.Time.Sub(t).Round(time.Second))
	}
	row := func(label, text string) { fmt.Fprintf(&b, "%-10s%s\n", label, text) }

	sp := ov.Spec
	row("Framework", fmt.Sprintf("%s  spec %s  version %s  hash %s  state %s", sp.Framework, sp.File, sp.Version, sp.Hash, sp.State))
	converged := paint(green, "converged")
	if !ov.Converged {
		converged = paint(yellow, "not converged")
	}
	row("Plan", converged+": "+ov.PlanLine)
	health := fmt.Sprintf("%d healthy, %d unhealthy, %d missing", ov.Counts.Healthy, ov.Counts.Unhealthy, ov.Counts.Missing)
	if !ov.Healthy {
		health = paint(red, health)
	}
	row("Services", fmt.Sprintf("%s on %d hosts (%d unreachable)", health, ov.Counts.Hosts, ov.Counts.Unreachable))
	sub := ov.Subscription
	mesos := string(sub.State)
	if sub.State == "" {
		mesos = "nothing observed"
	}
	if sub.Master != "" {
		mesos += " to " + sub.Master
	}
	if sub.FrameworkID != "" {
		mesos += " as framework " + sub.FrameworkID
	}
	if !sub.Since.IsZero() {
		mesos += " since " + ago(sub.Since)
	}
	if sub.State != "subscribed" {
		mesos = paint(red, mesos)
	}
	row("Mesos", mesos)
	if rl := ov.LastReload; rl.OK {
		row("Reload", "ok at "+ago(rl.At))
		for _, line := range lines(rl.Changes) {
			row("", "  "+line)
		}
	} else if !rl.At.IsZero() {
		row("Reload", paint(red, "FAILED at "+ago(rl.At)+": the spec in force stays "+rl.SpecHash))
		for _, line := range lines(rl.Diagnostics) {
			row("", "  "+line)
		}
	}
	if ha := ov.HA; ha != nil {
		lead := "none known: " + ha.Reason
		if ha.Leader != nil {
			lead = ha.Leader.URL
			if ha.Leader.Node == ha.Self.Node {
				lead = "this instance, " + lead
			}
		}
		row("Leader", fmt.Sprintf("%s (%d instances; this one: %s)", lead, len(ha.Members), ha.Role))
	}

	ov.writeGrid(&b, o, paint)

	if len(ov.Rollouts) > 0 {
		b.WriteString("\nRollout:\n")
		for _, r := range ov.Rollouts {
			state := "in progress"
			if r.Paused {
				state = paint(red, "PAUSED")
			}
			fmt.Fprintf(&b, "  %s: %d of %d replaced, %s", r.Kind, r.Replaced, r.Total, state)
			if r.Change != "" {
				fmt.Fprintf(&b, " (%s)", r.Change)
			}
			b.WriteString("\n")
			for _, why := range r.Reasons {
				fmt.Fprintf(&b, "      %s\n", why)
			}
		}
	}
	writeItems(&b, "Blocked", ov.Blocked, ov.BlockedTotal)
	writeItems(&b, "Waiting for resources", ov.Waiting, ov.WaitingTotal)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeItems writes a titled list of blocked items or waiting launches.
func writeItems(b *strings.Builder, title string, items []BlockedItem, total int) {
	if len(items) == 0 {
		return
	}
	fmt.Fprintf(b, "\n%s (%d):\n", title, total)
	hw := 0
	for _, it := range items {
		hw = max(hw, len(hostOrAny(it.Host)))
	}
	for _, it := range items {
		fmt.Fprintf(b, "  %-*s  %-10s  %s\n", hw, hostOrAny(it.Host), it.Kind, it.Reason)
	}
	if n := total - len(items); n > 0 {
		fmt.Fprintf(b, "  ... and %d more\n", n)
	}
}

func hostOrAny(h string) string {
	if h == "" {
		return "(any host)"
	}
	return h
}

func lines(s string) []string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// writeGrid writes the hosts x kinds table with its legend.
func (ov Overview) writeGrid(b *strings.Builder, o TextOptions, paint func(color, s string) string) {
	header := append([]string{"HOST", "REACHABLE", "DEVICES"}, ov.Kinds...)
	table := [][]string{header}
	colors := [][]string{make([]string, len(header))}
	outdated, hidden := false, 0
	for _, h := range ov.Hosts {
		if o.ProblemsOnly && !h.Problem {
			hidden++
			continue
		}
		reach, reachColor := "yes", ""
		if !h.Reachable {
			reach, reachColor = "NO", red
		}
		devices := "no report"
		if h.Probed {
			devices = ShortDevices(h.Devices)
		}
		line := []string{h.Hostname, reach, devices}
		cc := []string{"", reachColor, ""}
		for _, c := range h.Cells {
			label, color := c.Label(ov.Time), stateColor(c)
			if c.Outdated {
				label += "*"
				outdated = true
			}
			line = append(line, label)
			cc = append(cc, color)
		}
		table = append(table, line)
		colors = append(colors, cc)
	}
	widths := make([]int, len(header))
	for _, line := range table {
		for i, cell := range line {
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
		}
	}
	b.WriteString("\n")
	for r, line := range table {
		var sb strings.Builder
		for i, cell := range line {
			if i > 0 {
				sb.WriteString("  ")
			}
			pad := cell + strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell))
			if i == len(line)-1 {
				pad = cell
			}
			if r == 0 {
				sb.WriteString(paint(bold, pad))
			} else {
				sb.WriteString(paint(colors[r][i], pad))
			}
		}
		b.WriteString(strings.TrimRight(sb.String(), " ") + "\n")
	}
	if hidden > 0 {
		fmt.Fprintf(b, "(%d hosts without a problem not shown)\n", hidden)
	}
	if outdated {
		b.WriteString("* runs an old config: the rollout replaces it\n")
	}
}

// Label is the cell's state in a word or two, as `status` prints it and
// the dashboard shows it: "healthy", "backoff 12s", "crash-looping".
func (c Cell) Label(now time.Time) string {
	switch {
	case c.State == BackingOff:
		left := max(c.Until.Sub(now), 0)
		return "backoff " + left.Round(time.Second).String()
	case c.Problem == "crash-looping":
		return "crash-looping"
	case c.State == NotWanted:
		return "-"
	}
	return string(c.State)
}

func stateColor(c Cell) string {
	if c.Problem == "crash-looping" {
		return red
	}
	switch c.State {
	case Healthy, Running:
		return green
	case Unhealthy, Unreachable, Blocked:
		return red
	case NotWanted:
		return dim
	}
	return yellow
}

// ShortDevices is "dir:1 meta:1 data:2" ("-" for none).
func ShortDevices(devs []DeviceCount) string {
	if len(devs) == 0 {
		return "-"
	}
	parts := make([]string, len(devs))
	for i, d := range devs {
		name := strings.ToLower(strings.TrimSuffix(string(d.Type), "_DEVICE"))
		if name == "metadata" {
			name = "meta"
		}
		parts[i] = fmt.Sprintf("%s:%d", name, d.Count)
	}
	return strings.Join(parts, " ")
}
