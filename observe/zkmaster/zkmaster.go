package zkmaster

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/hashicorp/go-hclog"

	"github.com/quobyte/quobyte-mesos/internal/wait"
	"github.com/quobyte/quobyte-mesos/observe/fwid"
)

// nodePrefix names the JSON MasterInfo children of the master group.
const nodePrefix = "json.info_"

// Leader is the leading master as advertised in ZooKeeper.
type Leader struct {
	ID       string
	Hostname string
	IP       string
	Port     int
}

// IsZero reports whether l names no master.
func (l Leader) IsZero() bool { return l.Port == 0 }

// URL returns the master's base URL for scheme ("http" or "https"). For
// https the hostname is preferred (certificates name hosts), otherwise the IP
// (it needs no DNS).
func (l Leader) URL(scheme string) string {
	host := l.IP
	if host == "" || (scheme == "https" && l.Hostname != "") {
		host = l.Hostname
	}
	return scheme + "://" + net.JoinHostPort(host, strconv.Itoa(l.Port))
}

func (l Leader) String() string {
	if l.IsZero() {
		return "<no leader>"
	}
	return fmt.Sprintf("%s (%s:%d)", l.ID, firstNonEmpty(l.Hostname, l.IP), l.Port)
}

// masterInfo is the part of Mesos' MasterInfo JSON we read.
type masterInfo struct {
	ID       string `json:"id"`
	IP       uint32 `json:"ip"` // legacy: IPv4 in network byte order read as little-endian
	Port     int    `json:"port"`
	Hostname string `json:"hostname"`
	Address  *struct {
		Hostname string `json:"hostname"`
		IP       string `json:"ip"`
		Port     int    `json:"port"`
	} `json:"address"`
}

// ParseMasterInfo decodes a master group node's data.
func ParseMasterInfo(data []byte) (Leader, error) {
	var mi masterInfo
	if err := json.Unmarshal(data, &mi); err != nil {
		return Leader{}, fmt.Errorf("master info: %w", err)
	}
	l := Leader{ID: mi.ID, Hostname: mi.Hostname, Port: mi.Port}
	if mi.IP != 0 {
		b := make([]byte, 4)
		binary.LittleEndian.PutUint32(b, mi.IP)
		l.IP = net.IP(b).String()
	}
	if a := mi.Address; a != nil {
		l.Hostname = firstNonEmpty(a.Hostname, l.Hostname)
		l.IP = firstNonEmpty(a.IP, l.IP)
		if a.Port != 0 {
			l.Port = a.Port
		}
	}
	if l.Port <= 0 || l.Port > 65535 || (l.Hostname == "" && l.IP == "") {
		return Leader{}, fmt.Errorf("master info %q: no usable address", data)
	}
	return l, nil
}

// leaderNode returns the child with the lowest sequence, or "".
func leaderNode(children []string) string {
	type seqNode struct {
		name string
		seq  uint64
	}
	var nodes []seqNode
	for _, c := range children {
		s, ok := strings.CutPrefix(c, nodePrefix)
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			continue
		}
		nodes = append(nodes, seqNode{c, n})
	}
	if len(nodes) == 0 {
		return ""
	}
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].seq < nodes[j].seq })
	return nodes[0].name
}

// Watch connects to the ZooKeeper ensemble of zkURL ("zk://h1:2181,h2/mesos")
// and sends the leading master on the returned channel whenever it changes,
// starting with the current one. The channel is closed when ctx ends.
// Connection trouble is logged and retried; it never ends the watch.
func Watch(ctx context.Context, zkURL string, log hclog.Logger) (<-chan Leader, error) {
	servers, path, err := fwid.ParseZKURL(zkURL)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = hclog.NewNullLogger()
	}
	conn, _, err := zk.Connect(servers, 10*time.Second, zk.WithLogInfo(false), zk.WithLogger(quiet{}))
	if err != nil {
		return nil, fmt.Errorf("connect to zookeeper %v: %w", servers, err)
	}
	out := make(chan Leader)
	go func() {
		defer close(out)
		defer conn.Close()
		w := watcher{conn: conn, path: path, log: log.Named("zkmaster")}
		w.run(ctx, out)
	}()
	return out, nil
}

type watcher struct {
	conn *zk.Conn
	path string
	log  hclog.Logger
}

func (w *watcher) run(ctx context.Context, out chan<- Leader) {
	var last Leader
	sent := false
	retry := 100 * time.Millisecond
	for ctx.Err() == nil {
		leader, changed, err := w.current()
		if err != nil {
			w.log.Warn("reading the master group failed; retrying", "path", w.path, "error", err, "in", retry)
			if !wait.Sleep(ctx, retry) {
				return
			}
			retry = min(2*retry, 5*time.Second)
			continue
		}
		retry = 100 * time.Millisecond
		if !sent || leader != last {
			w.log.Info("leading master", "leader", leader.String())
			select {
			case out <- leader:
			case <-ctx.Done():
				return
			}
			last, sent = leader, true
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return
		}
	}
}

// current reads the leader and returns a channel that fires when the group
// (or the group node's existence) changes.
func (w *watcher) current() (Leader, <-chan zk.Event, error) {
	children, _, ch, err := w.conn.ChildrenW(w.path)
	if errors.Is(err, zk.ErrNoNode) {
		// No master has registered yet: wait for the group node to appear.
		ok, _, ech, err := w.conn.ExistsW(w.path)
		if err != nil {
			return Leader{}, nil, err
		}
		if ok { // created in between: read again at once
			c := make(chan zk.Event, 1)
			c <- zk.Event{}
			return Leader{}, c, nil
		}
		return Leader{}, ech, nil
	}
	if err != nil {
		return Leader{}, nil, err
	}
	node := leaderNode(children)
	if node == "" {
		return Leader{}, ch, nil
	}
	data, _, err := w.conn.Get(w.path + "/" + node)
	if errors.Is(err, zk.ErrNoNode) {
		// The leader vanished between the listing and the read; the
		// children watch fires for that, so report no leader for now.
		return Leader{}, ch, nil
	}
	if err != nil {
		return Leader{}, nil, err
	}
	l, err := ParseMasterInfo(data)
	if err != nil {
		w.log.Warn("ignoring unreadable master info", "node", node, "error", err)
		return Leader{}, ch, nil
	}
	return l, ch, nil
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

type quiet struct{}

func (quiet) Printf(string, ...interface{}) {}
