package actuate

import (
	"net"
	"sort"
	"strconv"
	"strings"

	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/spec"
)

// RegistryAddrs derives QUOBYTE_REGISTRY from a snapshot: host:rpcport of
// every host with a registry task that is or may be alive, sorted, comma
// separated. Tasks being killed are left out (a service must not be sent to
// a registry on its way down); tasks on unreachable agents stay in (unknown,
// not gone: registries never move, so the host is still right). The
// spec's external registry, when set, wins over this list in BuildTaskInfo.
func RegistryAddrs(c *spec.Cluster, s *snapshot.Snapshot) string {
	svc := c.Service(spec.Registry)
	if svc == nil || s == nil {
		return ""
	}
	port := svc.Ports[spec.PortRPC]
	seen := map[string]bool{}
	var addrs []string
	for _, t := range s.Tasks {
		if t.Kind != string(spec.Registry) || t.State.Terminal() || t.State == snapshot.Killing || !t.KillSent.IsZero() {
			continue
		}
		a := s.Agent(t.AgentID)
		if a == nil || a.Hostname == "" || port <= 0 {
			continue
		}
		addr := net.JoinHostPort(a.Hostname, strconv.Itoa(port))
		if !seen[addr] {
			seen[addr] = true
			addrs = append(addrs, addr)
		}
	}
	sort.Strings(addrs)
	return strings.Join(addrs, ",")
}
