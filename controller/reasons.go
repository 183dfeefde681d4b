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

func reasonLaunchReplacement(oldTaskID, hash string) string {
	return fmt.Sprintf("replaces %s with config %s", oldTaskID, hash)
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

func reasonReplacedBy(hash string) string {
	return "replaced by config " + hash
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

func reasonNoOffer(host string, need spec.Resources, ports []int, last *snapshot.Offer, missingPort int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "no offer from %s with %s", host, formatResources(need))
	if len(ports) > 0 {
		b.WriteString(" ports=" + joinInts(ports))
	}
	fmt.Fprintf(&b, " (last offer: %s", formatResources(last.Resources))
	if missingPort != 0 {
		fmt.Fprintf(&b, ", without port %d", missingPort)
	}
	b.WriteString(")")
	return b.String()
}

func formatResources(r spec.Resources) string {
	s := "cpus=" + strconv.FormatFloat(r.CPUs, 'g', -1, 64) + " mem=" + strconv.FormatFloat(r.Mem, 'g', -1, 64)
	if r.Disk > 0 {
		s += " disk=" + strconv.FormatFloat(r.Disk, 'g', -1, 64)
	}
	return s
}

func joinInts(v []int) string {
	parts := make([]string, len(v))
	for i, n := range v {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ",")
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

func reasonUpgradeWaitsForSlot(kind spec.Kind, down, allowed int) string {
	return fmt.Sprintf("upgrade of %s waits: %d down, at most %d at a time", kind, down, allowed)
}

func reasonUpgradeWaitsForUnknown(kind spec.Kind, host string) string {
	return fmt.Sprintf("upgrade of %s waits for %s: its %s is unknown (agent unreachable or no prober report)", kind, host, kind)
}
