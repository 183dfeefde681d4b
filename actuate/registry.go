package actuate

import (
	"net"
	"strconv"
	"strings"

	"github.com/quobyte/quobyte-mesos/controller"
	"github.com/quobyte/quobyte-mesos/observe/snapshot"
	"github.com/quobyte/quobyte-mesos/spec"
)

// RegistryAddrs derives QUOBYTE_REGISTRY from a snapshot: host:rpcport of
// every host controller.RegistryHosts names, comma separated. The spec's
// external registry, when set, wins over this list in BuildTaskInfo.
func RegistryAddrs(c *spec.Cluster, s *snapshot.Snapshot) string {
	svc := c.Service(spec.Registry)
	if svc == nil || svc.Ports[spec.PortRPC] <= 0 {
		return ""
	}
	port := strconv.Itoa(svc.Ports[spec.PortRPC])
	hosts := controller.RegistryHosts(c, s)
	addrs := make([]string, len(hosts))
	for i, h := range hosts {
		addrs[i] = net.JoinHostPort(h, port)
	}
	return strings.Join(addrs, ",")
}
