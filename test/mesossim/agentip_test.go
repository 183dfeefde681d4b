package mesossim

import "testing"

func TestAgentConfig_IPDefaultsToAnAddressHostname(t *testing.T) {
	for _, tc := range []struct {
		cfg  AgentConfig
		want string
	}{
		{AgentConfig{Hostname: "agent1"}, "127.0.0.1"},
		{AgentConfig{Hostname: "127.0.1.4"}, "127.0.1.4"},
		{AgentConfig{Hostname: "agent1", IP: "127.0.1.9"}, "127.0.1.9"},
	} {
		if got := tc.cfg.ip(); got != tc.want {
			t.Errorf("%+v: ip() = %q, want %q", tc.cfg, got, tc.want)
		}
	}
}

// Offers carry the agent's address in url.address.ip, as a Mesos master's
// do (the agent's --ip): a framework may address services by it.
func TestOffer_URLCarriesTheAgentIP(t *testing.T) {
	cfg := fastConfig(0)
	a := DefaultAgent("storage-node-01.dc1.example.com")
	a.IP = "127.0.9.1"
	cfg.Agents = append(cfg.Agents, a)
	c := startCluster(t, cfg)
	f := subscribeRaw(t, c, partitionAwareInfo("agent-ip"))
	o := f.offer()
	if o.Hostname != a.Hostname || o.GetURL().Address.GetIP() != "127.0.9.1" {
		t.Fatalf("offer hostname %q, url %+v; want %s and ip 127.0.9.1", o.Hostname, o.GetURL(), a.Hostname)
	}
}
