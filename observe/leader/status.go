package leader

import (
	"encoding/json"
	"fmt"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Role is what an instance does in the election.
type Role string

// The roles.
const (
	// Leader: this instance won and its lease holds; it acts on Mesos.
	Leader Role = "leader"
	// Standby: this instance is a candidate in the election and waits.
	Standby Role = "standby"
	// Joining: this instance is not (yet) a candidate: it has no ZooKeeper
	// session or no node, e.g. while ZooKeeper cannot be reached or right
	// after a term ended. It never acts.
	Joining Role = "joining"
)

// Member is one instance as its election node describes it. The JSON is the
// node's data and part of every instance's /v1/status.
type Member struct {
	// Node is the election node's name (the sequence decides who leads).
	Node string `json:"node,omitempty"`
	// ID names the instance for people (host:port of its status API).
	ID string `json:"id"`
	// URL is the instance's status API.
	URL string `json:"url"`
	// SpecHash is the hash of the spec the instance runs.
	SpecHash string `json:"spec_hash"`
	// Version is the framework binary's version.
	Version string `json:"version,omitempty"`
	// Started is when the instance joined with this node.
	Started time.Time `json:"started"`
	// Leader marks the candidate with the lowest sequence (the one that
	// leads, or will once its predecessor's session is gone).
	Leader bool `json:"leader"`
}

// Status is an instance's view of the election, for /v1/status. On every
// instance it names the leader (Leader) and every candidate (Members,
// leader first) with the spec hash each runs.
type Status struct {
	Role Role `json:"role"`
	// Reason says why the instance is in this role ("won the election in
	// session 0x...", "waiting for 0x... to end", "ZooKeeper session lost:
	// ...").
	Reason string    `json:"reason"`
	Since  time.Time `json:"since"`
	// LeftBecause says why this instance last left the election (its term
	// ended, its session was lost), when it did.
	LeftBecause string    `json:"left_because,omitempty"`
	LeftAt      time.Time `json:"left_at,omitzero"`
	// Election is the ZooKeeper URL of the candidates' parent node.
	Election string `json:"election"`
	// Session is the ZooKeeper session in hex; empty without one.
	Session string `json:"session,omitempty"`
	// Connected says whether the session's connection is up.
	Connected bool `json:"connected"`
	// SessionTimeout is the timeout the server granted ("10s").
	SessionTimeout string `json:"session_timeout,omitempty"`
	// Self is this instance.
	Self Member `json:"self"`
	// Leader is the leading candidate (nil while none is known).
	Leader *Member `json:"leader,omitempty"`
	// Members are the candidates, in election order.
	Members []Member `json:"members"`
	// LeadershipChanges counts the times this instance won or lost.
	LeadershipChanges int `json:"leadership_changes"`
}

// SpecMismatch lists the members whose spec hash differs from hash.
func (s Status) SpecMismatch(hash string) []Member {
	var out []Member
	for _, m := range s.Members {
		if m.SpecHash != hash {
			out = append(out, m)
		}
	}
	return out
}

// candidatePrefix names the election nodes (after go-zookeeper's protected
// prefix, which makes a create safe to retry after a lost connection).
const candidatePrefix = "candidate-"

// ElectionPath is the parent of the election nodes of group (the framework
// name) under the ZooKeeper path base.
func ElectionPath(base, group string) string {
	g := url.PathEscape(group)
	if g == "." || g == ".." {
		g = strings.ReplaceAll(g, ".", "%2E") // not node names in ZooKeeper
	}
	return path.Join(base, "election", g)
}

// sequence is the sequence number ZooKeeper appended to a candidate node.
func sequence(node string) (uint64, bool) {
	i := strings.LastIndex(node, candidatePrefix)
	if i < 0 {
		return 0, false
	}
	n, err := strconv.ParseUint(node[i+len(candidatePrefix):], 10, 64)
	return n, err == nil
}

// candidates returns the candidate nodes among children, in election order.
func candidates(children []string) []string {
	type cand struct {
		name string
		seq  uint64
	}
	var cs []cand
	for _, c := range children {
		if n, ok := sequence(c); ok {
			cs = append(cs, cand{c, n})
		}
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].seq < cs[j].seq })
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.name
	}
	return out
}

func encodeMember(m Member) []byte {
	m.Node, m.Leader = "", false
	b, _ := json.Marshal(m) // plain strings and a time: cannot fail
	return b
}

func decodeMember(node string, data []byte) Member {
	var m Member
	if err := json.Unmarshal(data, &m); err != nil {
		m = Member{ID: fmt.Sprintf("(unreadable node data: %v)", err)}
	}
	m.Node = node
	return m
}
