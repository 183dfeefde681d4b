package mesosconn

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	mesos "github.com/mesos/mesos-go/api/v1/lib"

	"github.com/quobyte/quobyte-mesos/observe/fwid"
	"github.com/quobyte/quobyte-mesos/spec"
)

// Config says where the masters are and how the framework registers.
type Config struct {
	// Masters are http(s) base URLs ("http://m1:5050"); tried in turn until
	// one (or the leader it redirects to) accepts the subscription.
	Masters []string
	// ZK, instead of Masters, is the zk:// URL of the masters' group; the
	// leader is read from it and followed when it changes. Its URL scheme is
	// https when CAFile is set, http otherwise.
	ZK string

	Framework Framework

	// SecretFile holds the secret for HTTP basic authentication as
	// Framework.Principal (trailing newline ignored). Empty: no auth.
	SecretFile string
	// CAFile holds PEM certificates trusted for https masters. Empty: the
	// system pool.
	CAFile string

	// Store persists the framework ID. Required.
	Store fwid.Store
	// Logger; nil: no logging.
	Logger hclog.Logger

	// InitialBackoff and MaxBackoff bound the resubscription delay
	// (defaults 500ms and 30s); the delay grows exponentially (factor 1.5,
	// ±30% jitter), never gives up, and starts over after a subscription
	// that lasted at least 10s.
	InitialBackoff, MaxBackoff time.Duration
	// WatchdogIntervals: a subscription with no event (heartbeats included)
	// for this many heartbeat intervals is dropped (default 5).
	WatchdogIntervals int
	// Heartbeat is the interval assumed until SUBSCRIBED states the
	// master's (default 15s).
	Heartbeat time.Duration
	// CallTimeout bounds each non-SUBSCRIBE call (default 30s).
	CallTimeout time.Duration
	// Fence, when set, is asked right before every HTTP request to a master
	// (SUBSCRIBE and every call, whoever makes it); an error stops the
	// request unsent (ErrFenced). With several framework instances only the
	// elected leader may talk to Mesos (observe/leader).
	Fence func() error
}

// Framework is what goes into FrameworkInfo.
type Framework struct {
	Name string
	// User the tasks run as unless they say otherwise (default: the user
	// this process runs as).
	User      string
	Role      string // default "*"
	Principal string
	// Hostname and WebUIURL are advertised in the Mesos UI (optional).
	Hostname string
	WebUIURL string
	// FailoverTimeout is how long Mesos keeps the framework's tasks running
	// while it is disconnected (the spec defaults it to weeks).
	FailoverTimeout time.Duration
}

// FromSpec fills a Config from the spec's mesos block. Store and Logger are
// left for the caller.
func FromSpec(m spec.Mesos) Config {
	return Config{
		Masters:    append([]string(nil), m.Masters...),
		ZK:         m.ZK,
		SecretFile: m.SecretFile,
		CAFile:     m.CAFile,
		Framework: Framework{
			Name:            m.FrameworkName,
			Role:            m.Role,
			Principal:       m.Principal,
			FailoverTimeout: m.FailoverTimeout,
		},
	}
}

func (c *Config) setDefaults() error {
	if len(c.Masters) == 0 && c.ZK == "" {
		return errors.New("mesos connection: no masters and no zk URL")
	}
	if c.Store == nil {
		return errors.New("mesos connection: no framework ID store")
	}
	for _, m := range c.Masters {
		u, err := url.Parse(m)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("mesos connection: master %q: want http(s)://host:port", m)
		}
	}
	if c.Logger == nil {
		c.Logger = hclog.NewNullLogger()
	}
	c.Framework.setDefaults()
	if c.Framework.User == "" {
		if u, err := user.Current(); err == nil {
			c.Framework.User = u.Username
		} else {
			c.Framework.User = "root"
		}
	}
	if c.InitialBackoff <= 0 {
		c.InitialBackoff = 500 * time.Millisecond
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 30 * time.Second
	}
	if c.WatchdogIntervals <= 0 {
		c.WatchdogIntervals = 5
	}
	if c.Heartbeat <= 0 {
		c.Heartbeat = 15 * time.Second
	}
	if c.CallTimeout <= 0 {
		c.CallTimeout = 30 * time.Second
	}
	return nil
}

// frameworkInfo builds the FrameworkInfo for a SUBSCRIBE under id ("" for
// a first registration).
//
// The single (legacy) Role field is used rather than MULTI_ROLE: a
// MULTI_ROLE framework must copy allocation_info into every resource it
// launches with, and one role is all the spec has.
// setDefaults fills in the name and role when empty.
func (f *Framework) setDefaults() {
	if f.Name == "" {
		f.Name = "quobyte"
	}
	if f.Role == "" {
		f.Role = "*"
	}
}

func (f Framework) frameworkInfo(id string) *mesos.FrameworkInfo {
	fi := &mesos.FrameworkInfo{
		User:            f.User,
		Name:            f.Name,
		Checkpoint:      ptr(true),
		FailoverTimeout: ptr(f.FailoverTimeout.Seconds()),
		Role:            ptr(f.Role),
		Capabilities: []mesos.FrameworkInfo_Capability{
			// Unreachable agents' tasks are TASK_UNREACHABLE (maybe alive),
			// not TASK_LOST; stateful services must never be replaced lightly.
			{Type: mesos.FrameworkInfo_Capability_PARTITION_AWARE},
			{Type: mesos.FrameworkInfo_Capability_TASK_KILLING_STATE},
		},
	}
	if id != "" {
		fi.ID = &mesos.FrameworkID{Value: id}
	}
	if f.Principal != "" {
		fi.Principal = ptr(f.Principal)
	}
	if f.Hostname != "" {
		fi.Hostname = ptr(f.Hostname)
	}
	if f.WebUIURL != "" {
		fi.WebUiURL = ptr(f.WebUIURL)
	}
	return fi
}

func ptr[T any](v T) *T { return &v }

// readSecret reads the basic-auth secret; the file holds nothing else.
func readSecret(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read mesos secret: %w", err)
	}
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" {
		return "", fmt.Errorf("read mesos secret: %s is empty", path)
	}
	return s, nil
}

// tlsConfig trusts the CA file's certificates (or the system pool).
func tlsConfig(caFile string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile == "" {
		return cfg, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("read mesos CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("mesos CA file %s: no PEM certificates", caFile)
	}
	cfg.RootCAs = pool
	return cfg, nil
}
