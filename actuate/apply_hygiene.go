package actuate

import (
	"fmt"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler/calls"
)

// decline declines every unused offer that an Apply has seen before (a
// fresh one may have come after the plan's snapshot was taken: it gets the
// next plan). Offers from agents a launch waits for get the short filter,
// and so does every offer while the plan is gated (before reconciliation
// it cannot tell which agents it will want: refusing them for an hour
// would make every first launch wait for a REVIVE). With hold (the start
// of a gate: Config.GatedHold) nothing is declined.
func (r *applyRun) decline(held []heldOffer, used, waiting map[string]bool, gated, hold bool) {
	var long, short []mesos.OfferID
	for _, h := range held {
		id := h.offer.ID.Value
		switch {
		case used[id]:
		case !h.seen, hold:
			// kept for the next Apply
		case gated || waiting[h.offer.AgentID.Value]:
			short = append(short, h.offer.ID)
		default:
			long = append(long, h.offer.ID)
		}
	}
	for _, g := range []struct {
		ids    []mesos.OfferID
		refuse time.Duration
	}{{long, r.a.cfg.Refuse}, {short, r.a.cfg.PendingRefuse}} {
		if len(g.ids) == 0 {
			continue
		}
		call := calls.Decline(g.ids...)
		calls.RefuseSeconds(g.refuse)(call)
		if err := r.call(call); err != nil {
			// Kept: the next Apply declines them again, unless the
			// subscription ended and Disconnected dropped them.
			r.a.log.Warn("decline failed", "offers", len(g.ids), "error", err)
			r.rep.Errors = append(r.rep.Errors, fmt.Sprintf("decline %d offers: %v", len(g.ids), err))
			continue
		}
		for _, id := range g.ids {
			r.gone = append(r.gone, id.Value)
			r.rep.Declined = append(r.rep.Declined, id.Value)
		}
		r.a.log.Debug("declined offers", "count", len(g.ids), "refuse", g.refuse)
	}
}

// maybeSuppress stops offers when nothing is to be launched, unless a
// REVIVE went out less than ReviveMinInterval ago (its offers are still
// on their way; suppressing now would make it moot, and flap), or probers
// were launched that recently (their reports are on their way, and ask
// for services on those agents: suppressing now would need a REVIVE
// next, and keep what their launches left of the offers from coming back).
func (r *applyRun) maybeSuppress(st *offerState) {
	if r.withinReviveInterval(st.lastRevive) || r.withinReviveInterval(st.lastProbers) {
		return
	}
	if err := r.call(calls.Suppress()); err != nil {
		r.a.log.Warn("suppress failed", "error", err)
		r.rep.Errors = append(r.rep.Errors, fmt.Sprintf("suppress offers: %v", err))
		return
	}
	r.a.log.Info("suppress offers", "reason", "no launch pending")
	r.rep.Suppressed = true
	st.suppressed, st.suppressedAt = true, r.now
}

// maybeRevive asks for offers again, at most once per ReviveMinInterval.
func (r *applyRun) maybeRevive(st *offerState, why string) {
	if r.withinReviveInterval(st.lastRevive) {
		r.a.log.Debug("revive deferred", "reason", why, "last", st.lastRevive)
		return
	}
	if err := r.call(calls.Revive()); err != nil {
		r.a.log.Warn("revive failed", "reason", why, "error", err)
		r.rep.Errors = append(r.rep.Errors, fmt.Sprintf("revive offers: %v", err))
		return
	}
	r.a.log.Info("revive offers", "reason", why)
	r.rep.Revived = true
	st.suppressed, st.lastRevive = false, r.now
}

// withinReviveInterval reports whether t (zero: never) is less than
// ReviveMinInterval before this Apply.
func (r *applyRun) withinReviveInterval(t time.Time) bool {
	return !t.IsZero() && r.now.Sub(t) < r.a.cfg.ReviveMinInterval
}
