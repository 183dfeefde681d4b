package spec

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// Hash lengths: the cluster hash is for humans and logs; the config hash
// goes into every Mesos task ID, so it is short and holds no dot.
const (
	clusterHashLen = 16
	configHashLen  = 10
)

// finalizeHashes fills in every Service.ConfigHash, Prober.ConfigHash and
// then Cluster.Hash (which covers the others).
func finalizeHashes(c *Cluster) {
	for _, s := range c.Services {
		s.ConfigHash = ConfigHash(c, s.Kind)
	}
	c.Prober.ConfigHash = proberHash(c)
	c.Hash = clusterHash(c)
}

// clusterHash hashes the normalized cluster. encoding/json writes struct
// fields in declaration order and map keys sorted, so the result depends
// only on the effective values, never on formatting, comments or the order
// of blocks in the file.
func clusterHash(c *Cluster) string {
	norm := *c
	norm.File = ""
	norm.Hash = ""
	return hashJSON(norm, clusterHashLen)
}

// launchConfig is everything a service task is launched with. Fields that
// only say where or how many (count, hosts, placement), how failures are
// retried (restart), how rollouts proceed (upgrade) or whether to run at
// all (state, enabled) are left out on purpose: changing them must not
// restart running tasks.
type launchConfig struct {
	Kind       Kind
	Runtime    Runtime
	Image      string
	Version    string
	Command    string
	Registry   string
	DeviceRoot string
	Resources  Resources
	Ports      map[string]int
	Env        map[string]string
	Args       []string
	Health     Health
	KillGrace  time.Duration
	// The container's privileges; left out (empty) for the command
	// runtime, which has no container.
	Privileged   bool     `json:",omitempty"`
	Capabilities []string `json:",omitempty"`
	Devices      []string `json:",omitempty"`
}

// ConfigHash is the config hash of kind k in c: 10 lowercase hex digits
// identifying everything a task of that kind is launched with. Load sets it
// on every Service; it is exported for tests and tools that build clusters.
func ConfigHash(c *Cluster, k Kind) string {
	s := c.Services[k]
	if s == nil {
		return ""
	}
	lc := launchConfig{
		Kind:       k,
		Runtime:    c.Quobyte.Runtime,
		Version:    c.Quobyte.Version,
		Registry:   c.Quobyte.Registry,
		DeviceRoot: c.Quobyte.DeviceRoot,
		Resources:  s.Resources,
		Ports:      s.Ports,
		Env:        EffectiveEnv(c, k),
		Args:       s.Args,
		Health:     s.Health,
		KillGrace:  s.KillGrace,
	}
	// Only the runtime in use contributes its launch source, so that an
	// unused image or command can be edited without restarting anything.
	if c.Quobyte.Runtime == Command {
		lc.Command = c.Quobyte.Command
	} else {
		lc.Image = c.ImageRef(k)
		lc.Privileged, lc.Capabilities, lc.Devices = s.Privileged, s.Capabilities, s.Devices
	}
	if len(lc.Args) == 0 {
		lc.Args = nil
	}
	return hashJSON(lc, configHashLen)
}

// EffectiveEnv is the extra environment of a kind k task: quobyte.env with
// the service's env laid over it.
func EffectiveEnv(c *Cluster, k Kind) map[string]string {
	env := make(map[string]string, len(c.Quobyte.Env))
	for key, v := range c.Quobyte.Env {
		env[key] = v
	}
	if s := c.Services[k]; s != nil {
		for key, v := range s.Env {
			env[key] = v
		}
	}
	return env
}

// proberHash identifies the prober executor's configuration. The prober is
// the framework binary itself, so its task ID carries this hash and a
// changed prober setting replaces the probers.
func proberHash(c *Cluster) string {
	p := c.Prober
	p.ConfigHash = ""
	return hashJSON(struct {
		Prober     Prober
		DeviceRoot string
	}{p, c.Quobyte.DeviceRoot}, configHashLen)
}

func hashJSON(v any, n int) string {
	b, err := json.Marshal(v)
	if err != nil {
		// Only validated plain values are hashed, so this is unreachable
		// short of a NaN slipping through; fmt also prints maps sorted.
		b = fmt.Appendf(nil, "%#v", v)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])[:n]
}
