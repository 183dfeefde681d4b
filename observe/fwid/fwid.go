package fwid

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Store keeps the framework ID across restarts.
type Store interface {
	// Load returns the saved framework ID, or "" when none was saved.
	Load(ctx context.Context) (string, error)
	// Save stores id durably; when it returns nil, a later Load returns id.
	Save(ctx context.Context, id string) error
}

// Open returns the store named by rawURL: "file:///path" or
// "zk://host:port[,host:port...]/path". A ZooKeeper store connects lazily;
// Close it when done (file stores need no closing, but Close is harmless).
func Open(rawURL string) (CloseStore, error) {
	// A zk:// URL lists several host:port pairs, which net/url rejects.
	if strings.HasPrefix(rawURL, "zk://") {
		servers, path, err := ParseZKURL(rawURL)
		if err != nil {
			return nil, err
		}
		return NewZKStore(servers, path, 10*time.Second), nil
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("framework id store %q: %w", rawURL, err)
	}
	switch u.Scheme {
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("framework id store %q: file URL must have no host (file:///path)", rawURL)
		}
		if u.Path == "" || strings.HasSuffix(u.Path, "/") {
			return nil, fmt.Errorf("framework id store %q: file URL needs a file path", rawURL)
		}
		return nopCloser{NewFileStore(u.Path)}, nil
	}
	return nil, fmt.Errorf("framework id store %q: scheme must be file or zk", rawURL)
}

// CloseStore is a Store as Open returns it: it may hold resources (a
// ZooKeeper session), and it can forget the ID (after a teardown, Mesos
// refuses the old ID for good).
type CloseStore interface {
	Store
	// Clear removes the saved ID: a later Load returns "".
	Clear(ctx context.Context) error
	Close()
}

type nopCloser struct{ *FileStore }

func (nopCloser) Close() {}

// ParseZKURL splits "zk://h1:2181,h2:2181/some/path" into its servers and
// node path. A server without a port gets ZooKeeper's 2181. Credentials in
// the URL are not supported.
func ParseZKURL(rawURL string) (servers []string, path string, err error) {
	rest, ok := strings.CutPrefix(rawURL, "zk://")
	if !ok {
		return nil, "", fmt.Errorf("zookeeper URL %q: must start with zk://", rawURL)
	}
	hosts, p, _ := strings.Cut(rest, "/")
	if strings.Contains(hosts, "@") {
		return nil, "", fmt.Errorf("zookeeper URL %q: credentials are not supported", rawURL)
	}
	for _, h := range strings.Split(hosts, ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		if !strings.Contains(h, ":") {
			h += ":2181"
		}
		servers = append(servers, h)
	}
	if len(servers) == 0 {
		return nil, "", fmt.Errorf("zookeeper URL %q: no servers", rawURL)
	}
	p = "/" + strings.Trim(p, "/")
	if p == "/" {
		return nil, "", fmt.Errorf("zookeeper URL %q: no node path", rawURL)
	}
	return servers, p, nil
}
