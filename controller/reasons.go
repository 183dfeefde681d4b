package controller

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/spec"
)

// Every reason text of a plan is written here, so that the words an operator
// reads stay consistent and can be reviewed in one place. Reasons name hosts
// (not agent IDs) and say what would unblock the item where that is known.

// --- blocked: the whole plan ---

func reasonNotSubscribed(state snapshot.SubscriptionState) string {
	return fmt.Sprintf("waiting for the Mesos subscription (%s)", state)
}

const reasonWaitingForReconciliation = "waiting for reconciliation"

// --- probers ---

func reasonWaitingForProber(host string) string {
	return "waiting for the prober on " + host
}

func reasonLaunchProber(host string) string {
	return "no prober on " + host
}

func reasonProbeNoReport(host string, runningFor time.Duration) string {
	if runningFor == 0 {
		return "no report from the prober on " + host + " (running since before we knew)"
	}
	return fmt.Sprintf("no report from the prober on %s after %s running", host, runningFor.Round(time.Second))
}

func reasonProbeStale(host string, age time.Duration) string {
	return fmt.Sprintf("last report from %s is %s old", host, age.Round(time.Second))
}

// --- launches ---

// (Concatenation, not Sprintf: a fresh 10,000-agent cluster gets tens of
// thousands of these in one plan.)
func reasonLaunchDeviceService(kind spec.Kind, host string) string {
	return string(kind.DeviceType()) + " on " + host + " has no " + string(kind) + " service"
}

func reasonLaunchClient(host string) string {
	return "client mount point on " + host + " has no client"
}

func reasonLaunchAnywhere(kind spec.Kind, placed, wanted int, host, lost string) string {
	if lost != "" {
		return fmt.Sprintf("%d of %d %s placed (%s); %s has the fewest of our tasks", placed, wanted, kind, lost, host)
	}
	return fmt.Sprintf("%d of %d %s placed; %s has the fewest of our tasks", placed, wanted, kind, host)
}

// reasonLostInstance says why an instance no longer counts: its agent has
// been out of sight for the unreachable timeout.
func reasonLostInstance(host string, unreachableFor time.Duration) string {
	return fmt.Sprintf("the one on %s unreachable for %s", host, unreachableFor.Round(time.Second))
}

func reasonLaunchRevert(kind spec.Kind, host, config string) string {
	return fmt.Sprintf("auto-revert: %s on %s back to config %s", kind, host, config)
}

func reasonLaunchReplacement(oldTaskID, change string) string {
	return "replaces " + oldTaskID + ": " + change
}

// --- kills ---

const reasonStopped = "not wanted: state = stopped"

func reasonDisabled(kind string) string {
	return fmt.Sprintf("not wanted: %s is disabled", kind)
}

func reasonOutsidePlacement(host string) string {
	return fmt.Sprintf("not wanted: %s is outside the placement", host)
}

func reasonDeviceGone(t spec.DeviceType, host string) string {
	return fmt.Sprintf("no %s on %s any more", t, host)
}

func reasonClientMountGone(host string) string {
	return "no client mount point on " + host + " any more"
}

// reasonConfigChange says what a replacement changes: the settings of the
// kind's config that differ ("version 3.4 -> 3.5, resources.mem 4096 ->
// 8192"), or, when the spec the old config belongs to is not known (after a
// framework restart), the config hashes.
func reasonConfigChange(changes []spec.Change, from, to string) string {
	if len(changes) == 0 {
		return "config " + from + " -> " + to
	}
	const most = 3
	parts := make([]string, 0, most)
	for i, c := range changes {
		if i == most {
			break
		}
		parts = append(parts, shortPath(c.Path)+" "+plainValue(c.Old)+" -> "+plainValue(c.New))
	}
	r := strings.Join(parts, ", ")
	if n := len(changes) - most; n > 0 {
		r += fmt.Sprintf(" and %d more", n)
	}
	return r
}

// shortPath drops what a kind's reason says anyway: "quobyte.version" is
// "version", "service.data.resources.mem" is "resources.mem".
func shortPath(path string) string {
	if rest, ok := strings.CutPrefix(path, "quobyte."); ok {
		return rest
	}
	if rest, ok := strings.CutPrefix(path, "service."); ok {
		if _, field, ok := strings.Cut(rest, "."); ok {
			return field
		}
	}
	return path
}

// plainValue writes a quoted string value without its quotes when that
// reads the same ("local-2", not "\"local-2\"").
func plainValue(v string) string {
	if s, err := strconv.Unquote(v); err == nil && s != "" && !strings.ContainsAny(s, " ,\"\t\n") {
		return s
	}
	return v
}

func reasonDuplicate(kind, host, keptID string) string {
	return fmt.Sprintf("duplicate: %s already runs on %s as %s", kind, host, keptID)
}

func reasonExcess(kind spec.Kind, wanted int) string {
	return fmt.Sprintf("not wanted: only %d %s wanted", wanted, kind)
}

func reasonRevert(config, why string) string {
	return fmt.Sprintf("auto-revert to config %s: %s", config, why)
}

func reasonFinishKill(sentAgo time.Duration) string {
	return fmt.Sprintf("finishing the kill sent %s ago (kills are carried through)", sentAgo.Round(time.Second))
}

// --- blocked items ---

func reasonBackingOff(remaining time.Duration, b Hold) string {
	r := fmt.Sprintf("backing off %s after %d failures", roundUp(remaining), b.Failures)
	if b.Failures == 1 {
		r = fmt.Sprintf("backing off %s after 1 failure", roundUp(remaining))
	}
	if b.LastError != "" {
		r += ": " + b.LastError
	}
	return r
}

// roundUp rounds a remaining wait up to the second (a hold of 0.4 s is
// still a hold, and "0s" would read as none).
func roundUp(d time.Duration) time.Duration {
	if d%time.Second == 0 {
		return d
	}
	return d.Truncate(time.Second) + time.Second
}

// reasonNeverFits: what a launch needs exceeds what the agent has had for
// this framework at all (short lists only the resources that fall short).
// Mesos' scheduler API does not tell an agent's total, so the bound is the
// largest offer plus what our tasks there use; resources reserved for
// other roles are never offered to ours.
func reasonNeverFits(host string, short, bound spec.Resources, role string) string {
	forRole := "this framework"
	if role != "" {
		forRole = "role " + role
	}
	return fmt.Sprintf("never fits: needs %s, but %s has had at most %s for %s (its largest offer plus our tasks there; resources reserved for other roles are never offered to it)",
		formatShort(short, short), host, formatShort(bound, short), forRole)
}

// reasonOfferShort: the agent's offers fall short of a launch's needs.
// most is, per resource, the most it has offered; when that would fit,
// resources are taken by tasks now.
func reasonOfferShort(host string, short spec.Resources, last, most spec.Resources) string {
	if shortOf(short, most) == (spec.Resources{}) {
		return fmt.Sprintf("needs %s, last offer from %s %s (up to %s before)", formatShort(short, short), host, formatShort(last, short), formatShort(most, short))
	}
	return fmt.Sprintf("needs %s, largest offer from %s %s", formatShort(short, short), host, formatShort(most, short))
}

func reasonOfferLacksPort(host string, port int) string {
	return fmt.Sprintf("needs port %d, last offer from %s lacks it", port, host)
}

func reasonForeignReservation(host string, roles []string, ours string) string {
	return fmt.Sprintf("%s offers resources reserved for role %s; this framework's role is %s", host, strings.Join(roles, ", "), ours)
}

// shortOf returns the resources of need that have exceeds (zero for the others).
func shortOf(need, has spec.Resources) spec.Resources {
	var s spec.Resources
	if need.CPUs > has.CPUs {
		s.CPUs = need.CPUs
	}
	if need.Mem > has.Mem {
		s.Mem = need.Mem
	}
	if need.Disk > has.Disk {
		s.Disk = need.Disk
	}
	return s
}

// formatShort writes the resources of r that are set in which ("cpus=1 mem=8000").
func formatShort(r, which spec.Resources) string {
	var parts []string
	for _, f := range []struct {
		name    string
		v, show float64
	}{{"cpus", r.CPUs, which.CPUs}, {"mem", r.Mem, which.Mem}, {"disk", r.Disk, which.Disk}} {
		if f.show > 0 {
			parts = append(parts, f.name+"="+strconv.FormatFloat(f.v, 'g', -1, 64))
		}
	}
	return strings.Join(parts, " ")
}

func reasonWaitingForCore(kind spec.Kind, why string) string {
	return fmt.Sprintf("%s waits for the core services: %s", kind, why)
}

const (
	coreNoRegistryWanted  = "no registry wanted (no DIR_DEVICE found, or the registry disabled without an external one)"
	coreWaitingForReports = "no DIR_DEVICE found yet (waiting for prober reports)"
)

func coreRegistryNotRunning(host string) string {
	return "registry on " + host + " is not running"
}

func reasonNoEligibleAgent(kind spec.Kind, placed, wanted int) string {
	return fmt.Sprintf("%d of %d %s placed; no further eligible reachable agent without one", placed, wanted, kind)
}

func reasonStopWaits(kind spec.Kind, before []spec.Kind, left int) string {
	names := make([]string, len(before))
	for i, k := range before {
		names[i] = string(k)
	}
	tasks := "tasks"
	if left == 1 {
		tasks = "task"
	}
	return fmt.Sprintf("stopping %s after %s (%d %s left)", kind, strings.Join(names, " and "), left, tasks)
}

// whyNotHealthy and whyFailed say how a replacement failed.
func whyNotHealthy(deadline time.Duration) string {
	return fmt.Sprintf("not healthy after %s", deadline)
}

func whyFailed(e snapshot.TaskEnd) string { return "failed: " + e.Describe() }

func reasonUpgradePaused(kind spec.Kind, host, why string) string {
	return fmt.Sprintf("upgrade paused: %s on %s %s", kind, host, why)
}

func reasonUpgradePausedKind(kind spec.Kind, lastErr string) string {
	return fmt.Sprintf("upgrade paused: %s instances fail: %s", kind, lastErr)
}

func reasonUpgradeReverted(kind spec.Kind, host, config, why string) string {
	return fmt.Sprintf("upgrade paused: %s on %s reverted to config %s: %s", kind, host, config, why)
}

func reasonStopWaitsForUnknown(kind spec.Kind, host string) string {
	return fmt.Sprintf("%s on %s is out of sight (agent unreachable): it is stopped once it is back", kind, host)
}

func reasonUpgradeWaitsForKind(kind, earlier spec.Kind) string {
	return fmt.Sprintf("upgrade of %s waits until every %s runs the new config, settled", kind, earlier)
}

func reasonUpgradeWaitsForCore(kind spec.Kind, why string) string {
	return fmt.Sprintf("upgrade of %s waits for the core services: %s", kind, why)
}

func reasonUpgradeWaitsForHealthy(kind spec.Kind, host string, minHealthy time.Duration) string {
	return fmt.Sprintf("upgrade of %s waits for %s on %s to be healthy for %s", kind, kind, host, minHealthy)
}

func reasonUpgradeWaitsForSlot(kind spec.Kind, down int, downHosts []string, allowed int) string {
	r := fmt.Sprintf("upgrade of %s waits: %d down", kind, down)
	if len(downHosts) > 0 {
		r += " (" + strings.Join(downHosts, ", ") + ")"
	}
	return r + fmt.Sprintf(", at most %d at a time", allowed)
}

func reasonUpgradeWaitsForUnknown(kind spec.Kind, host string) string {
	return fmt.Sprintf("upgrade of %s waits for %s: its %s is unknown (agent unreachable or no prober report)", kind, host, kind)
}
