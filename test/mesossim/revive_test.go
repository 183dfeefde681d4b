package mesossim

import (
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// A REVIVE is answered by an allocation at once, not at the next interval:
// Mesos' allocator runs one when it revives (hierarchical.cpp, reviveOffers
// calls generateOffers). The interval here is far longer than the test.
func TestReviveAllocatesAtOnce(t *testing.T) {
	cfg := fastConfig(1)
	cfg.AllocationInterval = time.Hour
	c := startCluster(t, cfg)
	f := subscribeRaw(t, c, partitionAwareInfo("revive"))
	f.call(&scheduler.Call{Type: scheduler.Call_REVIVE})
	o := f.offer()
	hour := 3600.0
	f.call(&scheduler.Call{Type: scheduler.Call_DECLINE, Decline: &scheduler.Call_Decline{
		OfferIDs: []mesos.OfferID{o.ID}, Filters: &mesos.Filters{RefuseSeconds: &hour}}})
	f.call(&scheduler.Call{Type: scheduler.Call_REVIVE})
	if again := f.offer(); again.AgentID != o.AgentID {
		t.Fatalf("offer of agent %s after REVIVE, want %s", again.AgentID.Value, o.AgentID.Value)
	}
}
