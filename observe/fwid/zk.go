package fwid

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"
)

// ZKStore keeps the framework ID as the data of a ZooKeeper node. Parent
// nodes are created as needed (persistent, open ACL).
type ZKStore struct {
	servers        []string
	path           string
	sessionTimeout time.Duration

	mu   sync.Mutex
	conn *zk.Conn
}

// NewZKStore returns a store for node path on the given servers ("host:port").
// It connects on first use.
func NewZKStore(servers []string, nodePath string, sessionTimeout time.Duration) *ZKStore {
	return &ZKStore{servers: servers, path: nodePath, sessionTimeout: sessionTimeout}
}

// Close ends the ZooKeeper session.
func (s *ZKStore) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil {
		s.conn.Close()
		s.conn = nil
	}
}

func (s *ZKStore) connect() (*zk.Conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil && s.conn.State() != zk.StateDisconnected {
		return s.conn, nil
	}
	if s.conn != nil {
		s.conn.Close()
	}
	c, _, err := zk.Connect(s.servers, s.sessionTimeout, zk.WithLogInfo(false), zk.WithLogger(quiet{}))
	if err != nil {
		return nil, fmt.Errorf("connect to zookeeper %v: %w", s.servers, err)
	}
	s.conn = c
	return c, nil
}

// do runs f on a connection, giving up when ctx ends. go-zookeeper has no
// context support, so f runs in its own goroutine and is abandoned (it ends
// with the session's own timeouts) when ctx is done first.
func (s *ZKStore) do(ctx context.Context, f func(*zk.Conn) error) error {
	c, err := s.connect()
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- f(c) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Load returns the node's data, or "" when the node does not exist.
func (s *ZKStore) Load(ctx context.Context) (string, error) {
	var id string
	err := s.do(ctx, func(c *zk.Conn) error {
		b, _, err := c.Get(s.path)
		if errors.Is(err, zk.ErrNoNode) {
			return nil
		}
		if err != nil {
			return err
		}
		id = strings.TrimSpace(string(b))
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("load framework id from zookeeper %s: %w", s.path, err)
	}
	return id, nil
}

// Save sets the node's data to id, creating the node and its parents.
// A ZooKeeper write is durable once acknowledged by a quorum.
func (s *ZKStore) Save(ctx context.Context, id string) error {
	if id == "" {
		return errors.New("save framework id: empty id")
	}
	err := s.do(ctx, func(c *zk.Conn) error {
		if err := ensureParents(c, s.path); err != nil {
			return err
		}
		_, err := c.Set(s.path, []byte(id), -1)
		if errors.Is(err, zk.ErrNoNode) {
			_, err = c.Create(s.path, []byte(id), 0, zk.WorldACL(zk.PermAll))
			if errors.Is(err, zk.ErrNodeExists) {
				// Created concurrently by another instance: set ours.
				_, err = c.Set(s.path, []byte(id), -1)
			}
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("save framework id to zookeeper %s: %w", s.path, err)
	}
	return nil
}

// Clear deletes the node; a missing node is already clear.
func (s *ZKStore) Clear(ctx context.Context) error {
	err := s.do(ctx, func(c *zk.Conn) error {
		if err := c.Delete(s.path, -1); err != nil && !errors.Is(err, zk.ErrNoNode) {
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("clear framework id in zookeeper %s: %w", s.path, err)
	}
	return nil
}

// ensureParents creates every ancestor of p that is missing.
func ensureParents(c *zk.Conn, p string) error {
	dir := path.Dir(p)
	if dir == "/" || dir == "." {
		return nil
	}
	var parts []string
	for d := dir; d != "/"; d = path.Dir(d) {
		parts = append([]string{d}, parts...)
	}
	for _, d := range parts {
		_, err := c.Create(d, nil, 0, zk.WorldACL(zk.PermAll))
		if err != nil && !errors.Is(err, zk.ErrNodeExists) {
			return fmt.Errorf("create %s: %w", d, err)
		}
	}
	return nil
}

// quiet drops go-zookeeper's connection chatter; errors reach callers as
// returned errors.
type quiet struct{}

func (quiet) Printf(string, ...interface{}) {}
