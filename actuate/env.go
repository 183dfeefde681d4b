package actuate

import (
	"net"
	"sort"
	"strconv"
	"strings"

	mesos "github.com/mesos/mesos-go/api/v1/lib"

	"github.com/quobyte/quobyte-mesos/spec"
)

// portEnv maps a service's port names to the variables the server image
// reads them from.
var portEnv = map[string]string{
	spec.PortRPC:     "QUOBYTE_RPC_PORT",
	spec.PortHTTP:    "QUOBYTE_HTTP_PORT",
	spec.PortJSONRPC: "QUOBYTE_API_PORT",
	spec.PortUI:      "QUOBYTE_WEBCONSOLE_PORT",
	spec.PortS3:      "QUOBYTE_S3_PORT",
}

// heapShare is the part of a task's memory given to the service's Java heap
// (QUOBYTE_MAX_MEM_<SERVICE>, the image's MAX_MEM_<SERVICE>). The rest is
// for what a JVM needs besides its heap (metaspace, thread stacks, direct
// buffers): a heap as large as the task's memory limit would get the task
// killed by its container's memory limit. An operator's env setting wins.
const heapShare = 0.75

// serviceEnv is the environment of a service task: the server image's
// contract first, then the spec's quobyte.env, then the service's env, each
// overriding the one before (an operator who sets a variable means it).
func serviceEnv(c *spec.Cluster, svc *spec.Service, host string, memMiB float64, registryAddrs string) map[string]string {
	env := map[string]string{
		"QUOBYTE_SERVICE":  string(svc.Kind),
		"QUOBYTE_REGISTRY": registryFor(c, svc, host, registryAddrs),
		"QUOBYTE_VERSION":  c.Quobyte.Version,
		"QUOBYTE_MAX_MEM_" + strings.ToUpper(string(svc.Kind)): strconv.FormatInt(int64(memMiB*heapShare), 10) + "m",
	}
	if svc.Kind.DeviceBound() {
		env["QUOBYTE_DEVICE_ROOT"] = c.Quobyte.DeviceRoot
	}
	for name, port := range svc.Ports {
		if v, ok := portEnv[name]; ok && port > 0 {
			env[v] = strconv.Itoa(port)
		}
	}
	for k, v := range spec.EffectiveEnv(c, svc.Kind) {
		env[k] = v
	}
	return env
}

// registryFor is QUOBYTE_REGISTRY: the spec's external registry list if it
// has one, else the hosts running our registries (derived by the caller
// from the snapshot). A registry always finds itself in the list, by host,
// its address as the list names hosts (hostname or IP: quobyte.address):
// the first one of a fresh cluster has nobody else to ask.
func registryFor(c *spec.Cluster, svc *spec.Service, host, registryAddrs string) string {
	if c.Quobyte.Registry != "" {
		return c.Quobyte.Registry
	}
	if svc.Kind != spec.Registry || host == "" || svc.Ports[spec.PortRPC] == 0 {
		return registryAddrs
	}
	self := net.JoinHostPort(host, strconv.Itoa(svc.Ports[spec.PortRPC]))
	var list []string
	for _, a := range strings.Split(registryAddrs, ",") {
		if a = strings.TrimSpace(a); a != "" {
			list = append(list, a)
		}
	}
	for _, a := range list {
		if a == self {
			return registryAddrs
		}
	}
	return strings.Join(append(list, self), ",")
}

// mesosEnv turns env into Mesos variables sorted by name, so that equal
// environments give equal TaskInfos.
func mesosEnv(env map[string]string) *mesos.Environment {
	names := make([]string, 0, len(env))
	for k := range env {
		names = append(names, k)
	}
	sort.Strings(names)
	e := &mesos.Environment{Variables: make([]mesos.Environment_Variable, 0, len(names))}
	for _, k := range names {
		e.Variables = append(e.Variables, mesos.Environment_Variable{Name: k, Value: strPtr(env[k])})
	}
	return e
}

func strPtr(s string) *string   { return &s }
func boolPtr(b bool) *bool      { return &b }
func f64Ptr(f float64) *float64 { return &f }

// shellQuote quotes s for /bin/sh unless it is made only of characters the
// shell takes literally.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=,@%+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// shellJoin joins a command and its arguments into one shell command line.
func shellJoin(cmd string, args []string) string {
	parts := []string{cmd}
	for _, a := range args {
		parts = append(parts, shellQuote(a))
	}
	return strings.Join(parts, " ")
}
