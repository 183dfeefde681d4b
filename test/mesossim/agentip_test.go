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
