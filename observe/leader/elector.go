package leader

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/hashicorp/go-hclog"

	"github.com/quobyte/quobyte-mesos/internal/wait"
	"github.com/quobyte/quobyte-mesos/observe/fwid"
)

// Config configures an Elector.
type Config struct {
	// URL is the spec's ha.zookeeper: zk://host:port,.../path.
	URL string
	// Group is the framework name: instances of the same name under the
	// same path elect one leader.
	Group string
	// SessionTimeout is asked of ZooKeeper (the server may grant another).
	SessionTimeout time.Duration
	// Self describes this instance to the others (Node, Started and
	// Leader are filled in).
	Self Member
	// Logger; nil: no logging.
	Logger hclog.Logger
	// OnChange, if set, is called after every change of Status (it must
	// not block).
	OnChange func(Status)
}

// Lease and renewal, as fractions of the session timeout (see the package
// documentation for why).
const (
	leaseFraction = 2 // the lease runs T/2 past the last proof
	renewFraction = 6 // a proof is sought every T/6
)

// Elector is one instance's part in the election. Create it with New, call
// Run once.
type Elector struct {
	cfg     Config
	servers []string
	dir     string
	log     hclog.Logger

	mu      sync.Mutex
	status  Status
	sess    *session // the current candidacy's session; nil between them
	members []Member
	// selfChanged signals the candidacy to write Self to its node again.
	selfChanged chan struct{}
}

// New checks cfg; nothing talks to ZooKeeper before Run.
func New(cfg Config) (*Elector, error) {
	servers, base, err := fwid.ParseZKURL(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("leader election: %w", err)
	}
	if cfg.Group == "" {
		return nil, errors.New("leader election: no group (framework name)")
	}
	if cfg.SessionTimeout <= 0 {
		return nil, errors.New("leader election: no session timeout")
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	dir := ElectionPath(base, cfg.Group)
	hosts, _, _ := strings.Cut(strings.TrimPrefix(cfg.URL, "zk://"), "/")
	e := &Elector{cfg: cfg, servers: servers, dir: dir, log: cfg.Logger, selfChanged: make(chan struct{}, 1)}
	e.status = Status{Role: Joining, Reason: "not started", Since: time.Now(), Election: "zk://" + hosts + dir, Self: cfg.Self, Members: []Member{}}
	return e, nil
}

// Status returns this instance's view of the election.
func (e *Elector) Status() Status {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := e.status
	st.Members = append([]Member(nil), e.members...)
	st.Leader = nil
	for i := range st.Members {
		if st.Members[i].Leader {
			m := st.Members[i]
			st.Leader = &m
		}
	}
	if s := e.sess; s != nil {
		id, connected := s.state()
		if id != 0 {
			st.Session = fmt.Sprintf("%#x", id)
			st.SessionTimeout = s.timeout().String()
		}
		st.Connected = connected
	} else {
		st.Session, st.Connected = "", false
	}
	return st
}

// SetSpecHash tells the others which spec this instance runs now.
func (e *Elector) SetSpecHash(h string) {
	e.mu.Lock()
	changed := e.status.Self.SpecHash != h
	e.status.Self.SpecHash = h
	e.mu.Unlock()
	if changed {
		select {
		case e.selfChanged <- struct{}{}:
		default:
		}
		e.notify()
	}
}

func (e *Elector) notify() {
	if e.cfg.OnChange != nil {
		e.cfg.OnChange(e.Status())
	}
}

func (e *Elector) setRole(r Role, reason string) {
	e.mu.Lock()
	if r != e.status.Role {
		e.status.Since = time.Now()
	}
	e.status.Role, e.status.Reason = r, reason
	e.mu.Unlock()
	e.notify()
}

// Run takes part in the election until ctx ends; see the package
// documentation for what it asks of lead. It returns nil when ctx ends.
func (e *Elector) Run(ctx context.Context, lead func(*Term)) error {
	retry := e.cfg.SessionTimeout / 10
	for ctx.Err() == nil {
		err := e.candidacy(ctx, lead)
		if ctx.Err() != nil {
			break
		}
		e.mu.Lock()
		e.status.LeftBecause, e.status.LeftAt = err.Error(), time.Now()
		e.mu.Unlock()
		e.setRole(Joining, "joining again")
		e.log.Warn("out of the leader election; joining again with a new session", "reason", err, "in", retry)
		if !wait.Sleep(ctx, retry) {
			break
		}
		retry = min(2*retry, e.cfg.SessionTimeout)
	}
	e.setRole(Joining, "stopped")
	return nil
}

// candidacy is one session's part in the election: join, wait, lead. It
// returns why it ended; the caller joins again with a new session.
func (e *Elector) candidacy(ctx context.Context, lead func(*Term)) error {
	s := newSession(e.cfg.SessionTimeout, e.notify)
	conn, events, err := zk.Connect(e.servers, e.cfg.SessionTimeout,
		zk.WithLogInfo(true), zk.WithLogger(zkLogger{log: e.log.Named("zk"), auth: s.authenticated}))
	if err != nil {
		return fmt.Errorf("connect to ZooKeeper %v: %w", e.servers, err)
	}
	e.mu.Lock()
	e.sess = s
	e.mu.Unlock()
	// follow ends when go-zookeeper closes events, which a connection stuck
	// in a handshake does only after its own timeout: nobody waits for it.
	go s.follow(events)
	mctx, stop := context.WithCancel(ctx)
	// Until this instance leads, ending ctx closes the connection at once
	// (a blocked request returns); once it leads, only after lead returned.
	closeOnCancel := context.AfterFunc(ctx, conn.Close)
	defer func() {
		// The helpers below may sit in requests that a connection stuck in
		// a handshake fails only after its own timeout: they end on their
		// own and no longer publish (e.sess is not s).
		stop()
		conn.Close() // ends the session: our node goes at once
		e.mu.Lock()
		e.sess, e.members = nil, nil
		e.mu.Unlock()
		e.notify()
	}()

	e.setRole(Joining, "connecting to ZooKeeper")
	select {
	case <-s.established:
	case <-s.lost:
		return s.err()
	case <-ctx.Done():
		return ctx.Err()
	}
	sid, _ := s.state()
	node, err := e.join(conn, sid)
	if err != nil {
		return err
	}
	e.log.Info("joined the leader election", "node", e.dir+"/"+node, "session", fmt.Sprintf("%#x", sid), "session_timeout", s.timeout())

	go e.watchMembers(mctx, conn, s, node)
	go e.publishSelf(mctx, conn, node)

	proof, err := e.awaitTurn(ctx, conn, s, node)
	if err != nil {
		return err
	}
	if !closeOnCancel() {
		return ctx.Err() // stopping: the connection is closing already
	}
	t := newTerm(sid, node, time.Now(), proof.Add(s.timeout()/leaseFraction), s.timeout())
	e.mu.Lock()
	e.status.LeadershipChanges++
	e.mu.Unlock()
	reason := fmt.Sprintf("won the election in session %#x (lowest candidate %s)", sid, node)
	e.log.Info("leadership won", "reason", reason, "lease", s.timeout()/leaseFraction)
	e.setRole(Leader, reason)

	kept := make(chan struct{})
	go func() { defer close(kept); e.keepLease(ctx, conn, s, t) }()
	lead(t)
	t.end(errors.New("the leader's work ended")) // lead returns early only on errors
	<-kept
	cause := t.Err()
	e.mu.Lock()
	e.status.LeadershipChanges++
	e.mu.Unlock()
	e.setRole(Joining, fmt.Sprintf("leadership ended: %v", cause))
	return fmt.Errorf("leadership ended: %w", cause)
}

// join creates this instance's election node and checks that it belongs to
// session sid.
func (e *Elector) join(conn *zk.Conn, sid int64) (string, error) {
	if err := ensurePath(conn, e.dir); err != nil {
		return "", err
	}
	e.mu.Lock()
	e.status.Self.Started = time.Now().UTC()
	data := encodeMember(e.status.Self)
	e.mu.Unlock()
	p, err := conn.CreateProtectedEphemeralSequential(e.dir+"/"+candidatePrefix, data, zk.WorldACL(zk.PermAll))
	if err != nil {
		return "", fmt.Errorf("create the election node under %s: %w", e.dir, err)
	}
	// After an expiry go-zookeeper may have created it in a new session.
	_, st, err := conn.Exists(p)
	if err != nil {
		return "", fmt.Errorf("read the election node %s: %w", p, err)
	}
	if st.EphemeralOwner != sid {
		return "", fmt.Errorf("election node %s belongs to session %#x, not %#x", p, st.EphemeralOwner, sid)
	}
	node := path.Base(p)
	e.mu.Lock()
	e.status.Self.Node = node
	e.mu.Unlock()
	e.setRole(Standby, "joined the election")
	return node, nil
}

// awaitTurn waits until node has the lowest sequence and returns when the
// listing that showed it was sent (the lease's first proof).
func (e *Elector) awaitTurn(ctx context.Context, conn *zk.Conn, s *session, node string) (time.Time, error) {
	retry := 100 * time.Millisecond
	for {
		if err := s.err(); err != nil {
			return time.Time{}, err
		}
		sent := time.Now()
		children, _, err := conn.Children(e.dir)
		if err != nil {
			e.log.Debug("listing the candidates failed; retrying", "error", err)
			if !wait.Sleep(ctx, retry) {
				return time.Time{}, ctx.Err()
			}
			retry = min(2*retry, time.Second)
			continue
		}
		cands := candidates(children)
		i := slices.Index(cands, node)
		switch {
		case i < 0:
			return time.Time{}, fmt.Errorf("our election node %s is gone", node)
		case i == 0:
			return sent, nil
		}
		pred := cands[i-1]
		ok, _, watch, err := conn.ExistsW(e.dir + "/" + pred)
		if err != nil || !ok {
			continue // gone meanwhile (or a hiccup): list again
		}
		retry = 100 * time.Millisecond
		e.setRole(Standby, fmt.Sprintf("candidate %d of %d, waiting for %s to end", i+1, len(cands), pred))
		select {
		case <-watch:
		case <-s.lost:
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		}
	}
}

// keepLease renews t's lease while it lasts and ends t when it must:
// the lease runs out, the session or the node is lost, or ctx ends.
func (e *Elector) keepLease(ctx context.Context, conn *zk.Conn, s *session, t *Term) {
	type proof struct {
		sent   time.Time
		exists bool
		owner  int64
		err    error
	}
	timeout := s.timeout()
	renew := time.NewTicker(timeout / renewFraction)
	defer renew.Stop()
	lapse := time.NewTimer(time.Until(t.Lease()))
	defer lapse.Stop()
	proofs := make(chan proof, 1)
	pending := false
	p := e.dir + "/" + t.Node
	for {
		select {
		case <-t.Done(): // ended by Check or by lead
		case <-ctx.Done():
			t.end(ErrResigned)
		case <-s.lost:
			t.end(fmt.Errorf("ZooKeeper session lost: %w", s.err()))
		case <-lapse.C:
			if time.Now().Before(t.Lease()) {
				lapse.Reset(time.Until(t.Lease()))
				continue
			}
			t.end(t.lapsed)
		case <-renew.C:
			if pending {
				continue // the last read has not come back: one at a time
			}
			pending = true
			go func() {
				sent := time.Now()
				ok, st, err := conn.Exists(p)
				var owner int64
				if st != nil {
					owner = st.EphemeralOwner
				}
				proofs <- proof{sent, ok, owner, err}
			}()
		case r := <-proofs:
			pending = false
			switch {
			case r.err != nil:
				e.log.Debug("lease renewal failed; the lease runs on", "error", r.err, "lease", t.Lease())
			case !r.exists:
				t.end(fmt.Errorf("our election node %s was deleted", t.Node))
			case r.owner != t.Session:
				t.end(fmt.Errorf("our election node %s belongs to session %#x now", t.Node, r.owner))
			default:
				t.extend(r.sent.Add(timeout / leaseFraction))
			}
		}
		if err := t.Err(); err != nil {
			if errors.Is(err, ErrResigned) {
				e.log.Info("leadership given up: stopping every action on Mesos, then leaving the election", "reason", err, "session", fmt.Sprintf("%#x", t.Session))
			} else {
				e.log.Warn("leadership lost: stopping every action on Mesos at once", "reason", err, "session", fmt.Sprintf("%#x", t.Session))
			}
			return
		}
	}
}

// publishSelf writes Self to the node whenever it changes.
func (e *Elector) publishSelf(ctx context.Context, conn *zk.Conn, node string) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-e.selfChanged:
		}
		e.mu.Lock()
		data := encodeMember(e.status.Self)
		e.mu.Unlock()
		for {
			if _, err := conn.Set(e.dir+"/"+node, data, -1); err == nil || errors.Is(err, zk.ErrNoNode) {
				break
			}
			if !wait.Sleep(ctx, time.Second) {
				return
			}
		}
	}
}

// watchMembers keeps e.members: every candidate's data, in election order,
// re-read when the candidates or a candidate's data change.
func (e *Elector) watchMembers(ctx context.Context, conn *zk.Conn, s *session, self string) {
	known := map[string]Member{}
	dataChanged := make(chan string, 8)
	read := func(node string) {
		data, _, watch, err := conn.GetW(e.dir + "/" + node)
		if err != nil {
			delete(known, node) // gone, or read again on the next change
			return
		}
		known[node] = decodeMember(node, data)
		go func() {
			if ev, ok := <-watch; ok && ev.Type == zk.EventNodeDataChanged {
				select {
				case dataChanged <- node:
				case <-ctx.Done():
				}
			}
		}()
	}
	var lastLeader string
	for ctx.Err() == nil {
		children, _, childWatch, err := conn.ChildrenW(e.dir)
		if err != nil {
			if !wait.Sleep(ctx, e.cfg.SessionTimeout/10) {
				return
			}
			continue
		}
		cands := candidates(children)
		for node := range known {
			if slices.Index(cands, node) < 0 {
				delete(known, node)
			}
		}
		for _, node := range cands {
			if _, ok := known[node]; !ok {
				read(node)
			}
		}
		for waiting := true; waiting; {
			lastLeader = e.publishMembers(s, cands, known, self, lastLeader)
			select {
			case <-ctx.Done():
				return
			case <-childWatch:
				waiting = false
			case node := <-dataChanged:
				if slices.Index(cands, node) >= 0 {
					read(node)
				}
			}
		}
	}
}

// publishMembers stores the view and logs a change of leader; it returns
// the leader's node.
func (e *Elector) publishMembers(s *session, cands []string, known map[string]Member, self, lastLeader string) string {
	var ms []Member
	for _, node := range cands {
		if m, ok := known[node]; ok {
			m.Leader = len(ms) == 0
			ms = append(ms, m)
		}
	}
	e.mu.Lock()
	if e.sess != s { // a candidacy that has ended
		e.mu.Unlock()
		return lastLeader
	}
	e.members = ms
	e.mu.Unlock()
	e.notify()
	if len(ms) == 0 || ms[0].Node == lastLeader {
		return lastLeader
	}
	if ms[0].Node != self {
		e.log.Info("leader", "leader", ms[0].ID, "url", ms[0].URL, "node", ms[0].Node, "spec_hash", ms[0].SpecHash)
	}
	return ms[0].Node
}

// ensurePath creates p and its missing ancestors (persistent, open ACL).
func ensurePath(conn *zk.Conn, p string) error {
	var parts []string
	for d := p; d != "/" && d != "."; d = path.Dir(d) {
		parts = append([]string{d}, parts...)
	}
	for _, d := range parts {
		if _, err := conn.Create(d, nil, 0, zk.WorldACL(zk.PermAll)); err != nil && !errors.Is(err, zk.ErrNodeExists) {
			return fmt.Errorf("create %s: %w", d, err)
		}
	}
	return nil
}
