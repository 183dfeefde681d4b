package observe

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/hashicorp/go-hclog"

	"github.com/quobyte/quobyte-mesos/observe/fwid"
	"github.com/quobyte/quobyte-mesos/observe/mesosconn"
	"github.com/quobyte/quobyte-mesos/spec"
)

// Options complete what the spec's mesos block says.
type Options struct {
	Logger hclog.Logger
	// User, Hostname and WebUIURL go into FrameworkInfo (see
	// mesosconn.Framework).
	User, Hostname, WebUIURL string
	// Observer configures the observer; its Caller and Logger are filled in.
	Observer Config
	// Conn, if set, adjusts the connection config before use (tests: fast
	// backoff, a short watchdog).
	Conn func(*mesosconn.Config)
}

// Connection is a subscription and the observer it feeds.
type Connection struct {
	Conn     *mesosconn.Conn
	Observer *Observer
	store    fwid.CloseStore
}

// Connect opens the framework ID store named by the spec and builds the
// subscription and observer. Nothing talks to Mesos before Run.
func Connect(m spec.Mesos, opt Options) (*Connection, error) {
	if m.FrameworkIDStore == "" {
		return nil, errors.New("mesos: no framework id store configured")
	}
	store, err := fwid.Open(m.FrameworkIDStore)
	if err != nil {
		return nil, err
	}
	cfg := mesosconn.FromSpec(m)
	cfg.Store = store
	cfg.Logger = opt.Logger
	cfg.Framework.User = opt.User
	cfg.Framework.Hostname = opt.Hostname
	cfg.Framework.WebUIURL = opt.WebUIURL
	if opt.Conn != nil {
		opt.Conn(&cfg)
	}
	conn, err := mesosconn.New(cfg)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("mesos: %w", err)
	}
	ocfg := opt.Observer
	ocfg.Caller = conn.Caller()
	ocfg.Logger = opt.Logger
	return &Connection{Conn: conn, Observer: New(ocfg), store: store}, nil
}

// Run keeps the framework subscribed and the snapshot current until ctx
// ends, then closes the framework ID store.
func (c *Connection) Run(ctx context.Context) error {
	defer c.store.Close()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); c.Observer.Run(ctx) }()
	err := c.Conn.Run(ctx, c.Observer)
	wg.Wait()
	return err
}
