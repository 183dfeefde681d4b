package standin

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestFromEnvErrors(t *testing.T) {
	cases := []struct {
		name    string
		env     []string
		wantVar string
	}{
		{"no service", nil, "QUOBYTE_SERVICE"},
		{"unknown service", []string{"QUOBYTE_SERVICE=nfs"}, "QUOBYTE_SERVICE"},
		{"registry without rpc port", []string{"QUOBYTE_SERVICE=registry", "QUOBYTE_HTTP_PORT=1"}, "QUOBYTE_RPC_PORT"},
		{"registry without http port", []string{"QUOBYTE_SERVICE=registry", "QUOBYTE_RPC_PORT=1"}, "QUOBYTE_HTTP_PORT"},
		{"api without api port", []string{"QUOBYTE_SERVICE=api", "QUOBYTE_RPC_PORT=1", "QUOBYTE_HTTP_PORT=2", "QUOBYTE_REGISTRY=r"}, "QUOBYTE_API_PORT"},
		{"webconsole without ui port", []string{"QUOBYTE_SERVICE=webconsole", "QUOBYTE_RPC_PORT=1", "QUOBYTE_HTTP_PORT=2", "QUOBYTE_REGISTRY=r"}, "QUOBYTE_WEBCONSOLE_PORT"},
		{"s3 without s3 port", []string{"QUOBYTE_SERVICE=s3", "QUOBYTE_RPC_PORT=1", "QUOBYTE_HTTP_PORT=2", "QUOBYTE_REGISTRY=r"}, "QUOBYTE_S3_PORT"},
		{"bad port", []string{"QUOBYTE_SERVICE=registry", "QUOBYTE_RPC_PORT=x", "QUOBYTE_HTTP_PORT=2"}, "QUOBYTE_RPC_PORT"},
		{"port too big", []string{"QUOBYTE_SERVICE=registry", "QUOBYTE_RPC_PORT=70000", "QUOBYTE_HTTP_PORT=2"}, "QUOBYTE_RPC_PORT"},
		{"data without registry", []string{"QUOBYTE_SERVICE=data", "QUOBYTE_RPC_PORT=1", "QUOBYTE_HTTP_PORT=2"}, "QUOBYTE_REGISTRY"},
		{"bad registry port", []string{"QUOBYTE_SERVICE=registry", "QUOBYTE_RPC_PORT=1", "QUOBYTE_HTTP_PORT=2", "QUOBYTE_REGISTRY=a:b"}, "QUOBYTE_REGISTRY"},
		{"bad duration", []string{"QUOBYTE_SERVICE=registry", "QUOBYTE_RPC_PORT=1", "QUOBYTE_HTTP_PORT=2", "STANDIN_CRASH_AFTER=soon"}, "STANDIN_CRASH_AFTER"},
		{"negative duration", []string{"QUOBYTE_SERVICE=registry", "QUOBYTE_RPC_PORT=1", "QUOBYTE_HTTP_PORT=2", "STANDIN_CATCHUP=-1"}, "STANDIN_CATCHUP"},
		{"zero poll", []string{"QUOBYTE_SERVICE=registry", "QUOBYTE_RPC_PORT=1", "QUOBYTE_HTTP_PORT=2", "STANDIN_POLL_INTERVAL=0"}, "STANDIN_POLL_INTERVAL"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := FromEnv(c.env)
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("FromEnv = %v, want a *ConfigError", err)
			}
			if ce.Var != c.wantVar || !strings.Contains(err.Error(), c.wantVar) {
				t.Errorf("error %q names %s, want %s", err, ce.Var, c.wantVar)
			}
		})
	}
}

func TestFromEnv(t *testing.T) {
	c, err := FromEnv([]string{
		"QUOBYTE_SERVICE=metadata",
		"QUOBYTE_REGISTRY= r1:7000, r2 ,,[::1]:7001",
		"QUOBYTE_RPC_PORT=7862",
		"QUOBYTE_HTTP_PORT=0",
		"QUOBYTE_API_PORT=not-needed-by-metadata",
		"MESOS_SIM_HOST_DIR=/sim/host",
		"QUOBYTE_VERSION=2.0",
		"QUOBYTE_MAX_MEM_METADATA=2g",
		"STANDIN_CATCHUP=1.5",
		"STANDIN_SLOW_START=250ms",
		"STANDIN_NEVER_HEALTHY_VERSION=bad",
		"UNRELATED=x=y",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Service:             Metadata,
		Registries:          []string{"r1:7000", "r2:7861", "[::1]:7001"},
		Bind:                AllInterfaces,
		Ports:               map[string]int{PortRPC: 7862, PortHTTP: 0},
		DeviceRoot:          "/sim/host",
		Version:             "2.0",
		MaxMem:              map[string]string{"METADATA": "2g"},
		Catchup:             1500 * time.Millisecond,
		StopGrace:           DefaultStopGrace,
		PollInterval:        DefaultPollInterval,
		NeverHealthyVersion: "bad",
		SlowStart:           250 * time.Millisecond,
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("FromEnv =\n%+v\nwant\n%+v", c, want)
	}

	// QUOBYTE_DEVICE_ROOT wins over the simulator's variable; a registry
	// needs no registry list; QUOBYTE_BIND is honoured.
	c, err = FromEnv([]string{
		"QUOBYTE_SERVICE=registry", "QUOBYTE_RPC_PORT=1", "QUOBYTE_HTTP_PORT=2",
		"QUOBYTE_DEVICE_ROOT=/devices", "MESOS_SIM_HOST_DIR=/sim/host", "QUOBYTE_BIND=0.0.0.0",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.DeviceRoot != "/devices" || c.Bind != "0.0.0.0" || len(c.Registries) != 0 {
		t.Errorf("got root %q bind %q registries %v", c.DeviceRoot, c.Bind, c.Registries)
	}

	// $VAR in the device root is expanded from the environment.
	c, err = FromEnv([]string{
		"QUOBYTE_SERVICE=registry", "QUOBYTE_RPC_PORT=1", "QUOBYTE_HTTP_PORT=2",
		"QUOBYTE_DEVICE_ROOT=$MESOS_SIM_HOST_DIR/devs", "MESOS_SIM_HOST_DIR=/sim/h1",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.DeviceRoot != "/sim/h1/devs" {
		t.Errorf("device root %q, want /sim/h1/devs", c.DeviceRoot)
	}

	// Without QUOBYTE_BIND a service listens on all interfaces, as Quobyte
	// does, even where the agent passes on LIBPROCESS_IP (a real agent
	// started with --ip does, while its health checks go to 127.0.0.1).
	c, err = FromEnv([]string{
		"QUOBYTE_SERVICE=registry", "QUOBYTE_RPC_PORT=1", "QUOBYTE_HTTP_PORT=2", "LIBPROCESS_IP=10.1.2.3",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Bind != "0.0.0.0" {
		t.Errorf("bind %q, want all interfaces", c.Bind)
	}
	// A simulated agent (MESOS_SIM_IP) narrows it to its own address.
	c, err = FromEnv([]string{
		"QUOBYTE_SERVICE=registry", "QUOBYTE_RPC_PORT=1", "QUOBYTE_HTTP_PORT=2",
		"LIBPROCESS_IP=127.0.1.3", "MESOS_SIM_IP=127.0.1.3",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Bind != "127.0.1.3" {
		t.Errorf("bind %q, want the simulated host's address 127.0.1.3", c.Bind)
	}

	// STANDIN_DIAL_HOST replaces the hosts, keeping the ports.
	c, err = FromEnv([]string{
		"QUOBYTE_SERVICE=client", "QUOBYTE_HTTP_PORT=2",
		"QUOBYTE_REGISTRY=agent1:7000,agent2", "STANDIN_DIAL_HOST=127.0.0.1",
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"127.0.0.1:7000", "127.0.0.1:7861"}; !reflect.DeepEqual(c.Registries, want) {
		t.Errorf("dial host: registries %v, want %v", c.Registries, want)
	}

	// The client needs only its status port.
	if _, err := FromEnv([]string{"QUOBYTE_SERVICE=client", "QUOBYTE_HTTP_PORT=2", "QUOBYTE_REGISTRY=r"}); err != nil {
		t.Errorf("client: %v", err)
	}
}
