package standin

import (
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Kind is a Quobyte service kind as named by QUOBYTE_SERVICE.
type Kind string

// The service kinds the stand-in can play.
const (
	Registry   Kind = "registry"
	Metadata   Kind = "metadata"
	Data       Kind = "data"
	API        Kind = "api"
	Webconsole Kind = "webconsole"
	S3         Kind = "s3"
	Client     Kind = "client"
)

// kinds lists every kind, in the order the usage text shows them.
var kinds = []Kind{Registry, Metadata, Data, API, Webconsole, S3, Client}

// DeviceType is the device.type a kind needs on its host to become healthy,
// empty for kinds that run anywhere.
func (k Kind) DeviceType() string {
	switch k {
	case Registry:
		return "DIR_DEVICE"
	case Metadata:
		return "METADATA_DEVICE"
	case Data:
		return "DATA_DEVICE"
	}
	return ""
}

func (k Kind) valid() bool {
	for _, v := range kinds {
		if k == v {
			return true
		}
	}
	return false
}

// Port names, used for Config.Ports and Addrs.
const (
	PortRPC        = "rpc"
	PortHTTP       = "http"
	PortAPI        = "api"
	PortWebconsole = "webconsole"
	PortS3         = "s3"
)

// portEnv maps each port name to the variable that sets it.
var portEnv = map[string]string{
	PortRPC:        "QUOBYTE_RPC_PORT",
	PortHTTP:       "QUOBYTE_HTTP_PORT",
	PortAPI:        "QUOBYTE_API_PORT",
	PortWebconsole: "QUOBYTE_WEBCONSOLE_PORT",
	PortS3:         "QUOBYTE_S3_PORT",
}

// RequiredPorts returns the ports a service of kind k listens on. Every kind
// serves its status port; all but the client speak RPC (as in the real
// image's standard port table); api, webconsole and s3 have one more.
func (k Kind) RequiredPorts() []string {
	switch k {
	case Client:
		return []string{PortHTTP}
	case API:
		return []string{PortRPC, PortHTTP, PortAPI}
	case Webconsole:
		return []string{PortRPC, PortHTTP, PortWebconsole}
	case S3:
		return []string{PortRPC, PortHTTP, PortS3}
	}
	return []string{PortRPC, PortHTTP}
}

// DefaultRegistryPort is the registry RPC port assumed for a QUOBYTE_REGISTRY
// entry without one.
const DefaultRegistryPort = 7861

// Defaults for the timing knobs.
const (
	DefaultCatchup      = 2 * time.Second
	DefaultStopGrace    = 1 * time.Second
	DefaultPollInterval = 200 * time.Millisecond
	// DefaultBind is where a Service built from a Config without Bind
	// listens (tests); FromEnv, the binary's path, defaults to AllInterfaces.
	DefaultBind = "127.0.0.1"
	// AllInterfaces is where a Quobyte service listens unless told otherwise,
	// so that other hosts and Mesos' health checks (127.0.0.1) reach it.
	AllInterfaces = "0.0.0.0"
)

// Config is everything a stand-in needs. FromEnv builds it from the server
// image's environment contract; tests build it directly.
type Config struct {
	Service Kind
	// Registries are host:port RPC addresses of the registries
	// (QUOBYTE_REGISTRY). A registry counts itself among them when its own
	// address is listed.
	Registries []string
	// Bind is the address every listener binds to (QUOBYTE_BIND).
	Bind string
	// Ports by port name (PortRPC, ...); 0 picks a free port. Ports the kind
	// does not use are ignored; ports it needs and lacks count as 0.
	Ports map[string]int
	// DeviceRoot holds the host's devices: the root itself and each of its
	// subdirectories may carry a marker. Empty means no devices.
	DeviceRoot string
	Version    string
	// MaxMem holds the QUOBYTE_MAX_MEM_* settings, shown on the status page.
	MaxMem map[string]string

	Catchup      time.Duration // registration to healthy (metadata, data)
	StopGrace    time.Duration // unhealthy to exit after a stop request
	PollInterval time.Duration // how often health is re-evaluated

	// Fault knobs.
	NeverHealthyVersion string        // never healthy when Version equals it
	CrashAfter          time.Duration // Run fails with ErrCrash after it; 0: never
	SlowStart           time.Duration // listen only after it

	Logger hclog.Logger // nil: a null logger
}

// ConfigError is a missing or malformed setting; the binary exits 2 on it.
type ConfigError struct {
	Var string
	Msg string
}

func (e *ConfigError) Error() string { return e.Var + ": " + e.Msg }

// FromEnv reads the server image's environment contract from environ
// (os.Environ form, KEY=value). It returns a *ConfigError for a missing or
// malformed setting; Logger is left nil.
func FromEnv(environ []string) (Config, error) {
	env := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	var c Config
	kind := Kind(strings.TrimSpace(env["QUOBYTE_SERVICE"]))
	if kind == "" {
		return c, &ConfigError{"QUOBYTE_SERVICE", "not set; want one of " + kindList()}
	}
	if !kind.valid() {
		return c, &ConfigError{"QUOBYTE_SERVICE", fmt.Sprintf("unknown service %q; want one of %s", kind, kindList())}
	}
	c.Service = kind

	c.Ports = make(map[string]int)
	for _, name := range kind.RequiredPorts() {
		v := portEnv[name]
		s, ok := env[v]
		if !ok || strings.TrimSpace(s) == "" {
			return c, &ConfigError{v, fmt.Sprintf("not set; service %s needs it", kind)}
		}
		p, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || p < 0 || p > 65535 {
			return c, &ConfigError{v, fmt.Sprintf("%q is not a port number", s)}
		}
		c.Ports[name] = p
	}

	regs, err := ParseRegistries(env["QUOBYTE_REGISTRY"])
	if err != nil {
		return c, &ConfigError{"QUOBYTE_REGISTRY", err.Error()}
	}
	// Only a registry can be healthy on its own; everything else must find
	// one, so an empty list is a configuration error rather than a service
	// that silently never becomes healthy.
	if len(regs) == 0 && kind != Registry {
		return c, &ConfigError{"QUOBYTE_REGISTRY", fmt.Sprintf("not set; service %s needs a registry", kind)}
	}
	// In the simulated cluster every agent is this machine, but its
	// hostname may resolve nowhere; STANDIN_DIAL_HOST redirects the dials.
	if h := strings.TrimSpace(env["STANDIN_DIAL_HOST"]); h != "" {
		for i, r := range regs {
			_, port, _ := net.SplitHostPort(r) // ParseRegistries made it valid
			regs[i] = net.JoinHostPort(h, port)
		}
	}
	c.Registries = regs

	// A Quobyte service listens on all interfaces unless told an address,
	// which is what Mesos' health checks (to 127.0.0.1) and other hosts
	// need. Only in the simulated cluster, where every agent is this one
	// machine with a loopback address of its own, does MESOS_SIM_IP (set by
	// mesos-sim's agents alone) narrow it, so that services with Quobyte's
	// fixed ports on several simulated hosts don't clash. LIBPROCESS_IP is
	// not used: a real agent started with --ip passes it on too, and a
	// service bound to it would fail the 127.0.0.1 health checks.
	c.Bind = strings.TrimSpace(env["QUOBYTE_BIND"])
	if c.Bind == "" {
		c.Bind = strings.TrimSpace(env["MESOS_SIM_IP"])
	}
	if c.Bind == "" && env["MESOS_CONTAINER_NAME"] != "" {
		c.Bind = containerBind(env["HOSTNAME"])
	}
	if c.Bind == "" {
		c.Bind = AllInterfaces
	}
	// $VAR in the device root is expanded, as the prober does, so one spec
	// can name a per-host directory (the simulated cluster's
	// $MESOS_SIM_HOST_DIR) without a shell.
	c.DeviceRoot = os.Expand(env["QUOBYTE_DEVICE_ROOT"], func(k string) string { return env[k] })
	if c.DeviceRoot == "" {
		c.DeviceRoot = env["MESOS_SIM_HOST_DIR"]
	}
	c.Version = env["QUOBYTE_VERSION"]
	for k, v := range env {
		if name, ok := strings.CutPrefix(k, "QUOBYTE_MAX_MEM_"); ok {
			if c.MaxMem == nil {
				c.MaxMem = make(map[string]string)
			}
			c.MaxMem[name] = v
		}
	}

	durations := []struct {
		v   string
		dst *time.Duration
		def time.Duration
	}{
		{"STANDIN_CATCHUP", &c.Catchup, DefaultCatchup},
		{"STANDIN_STOP_GRACE", &c.StopGrace, DefaultStopGrace},
		{"STANDIN_POLL_INTERVAL", &c.PollInterval, DefaultPollInterval},
		{"STANDIN_CRASH_AFTER", &c.CrashAfter, 0},
		{"STANDIN_SLOW_START", &c.SlowStart, 0},
	}
	for _, d := range durations {
		*d.dst = d.def
		s := strings.TrimSpace(env[d.v])
		if s == "" {
			continue
		}
		v, err := parseDuration(s)
		if err != nil {
			return c, &ConfigError{d.v, err.Error()}
		}
		*d.dst = v
	}
	if c.PollInterval <= 0 {
		return c, &ConfigError{"STANDIN_POLL_INTERVAL", "must be positive"}
	}
	c.NeverHealthyVersion = env["STANDIN_NEVER_HEALTHY_VERSION"]
	return c, nil
}

// containerBind is the address a stand-in in a Docker container (which gets
// no LIBPROCESS_IP) listens on: all interfaces, as Quobyte does. On the
// simulated cluster every host shares this machine's network, so all
// interfaces of a simulated host are its own loopback address: mesos-sim
// gives a container with host networking its host's name, and simulated
// hosts are named by their addresses. A hostname that is an IP address is
// therefore taken as the host's only interface.
func containerBind(hostname string) string {
	if ip := net.ParseIP(strings.TrimSpace(hostname)); ip != nil {
		return ip.String()
	}
	return AllInterfaces
}

// parseDuration accepts Go durations ("1.5s") and plain seconds ("3"), the
// latter because "crash after N seconds" is how people write it.
func parseDuration(s string) (time.Duration, error) {
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		if n < 0 {
			return 0, fmt.Errorf("%q is negative", s)
		}
		return time.Duration(n * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (e.g. 1.5s or 3)", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return d, nil
}

// ParseRegistries splits a QUOBYTE_REGISTRY value: comma-separated host or
// host:port entries (blanks ignored, port DefaultRegistryPort when absent).
func ParseRegistries(s string) ([]string, error) {
	var out []string
	for _, e := range strings.Split(s, ",") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		host, port, err := net.SplitHostPort(e)
		if err != nil {
			// No port: the whole entry is the host.
			host, port = strings.Trim(e, "[]"), strconv.Itoa(DefaultRegistryPort)
		}
		if host == "" {
			return nil, fmt.Errorf("entry %q has no host", e)
		}
		if p, err := strconv.Atoi(port); err != nil || p <= 0 || p > 65535 {
			return nil, fmt.Errorf("entry %q has a bad port", e)
		}
		out = append(out, net.JoinHostPort(host, port))
	}
	return out, nil
}

func kindList() string {
	s := make([]string, len(kinds))
	for i, k := range kinds {
		s[i] = string(k)
	}
	sort.Strings(s)
	return strings.Join(s, ", ")
}
