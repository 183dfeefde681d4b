package zktest

import (
	"io"
	"net"
	"sync"
	"testing"
)

// Proxy is a TCP proxy in front of a server that a test can cut, to
// partition clients from ZooKeeper without stopping it: a cut connection
// stays open but carries nothing either way (as a network partition: the
// client notices only by its own timeouts), and new connections of cut
// clients are closed at once (as a firewall that rejects them: a client
// retries soon, rather than after its handshake timeout of many seconds).
type Proxy struct {
	// Addr is the address clients connect to, "127.0.0.1:port".
	Addr string

	target string
	ln     net.Listener

	mu    sync.Mutex
	conns map[*proxyConn]bool
	cut   func(client *net.TCPAddr) bool // nil: nobody is cut
}

type proxyConn struct {
	client *net.TCPAddr
	cut    chan struct{} // closed when cut
	once   sync.Once
	close  func()
}

// Proxy starts a proxy to s, stopped at the end of the test.
func (s *Server) Proxy(t testing.TB) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("zktest: proxy: %v", err)
	}
	p := &Proxy{Addr: ln.Addr().String(), target: s.Addr, ln: ln, conns: map[*proxyConn]bool{}}
	go p.accept()
	t.Cleanup(p.close)
	return p
}

// URL returns a zk:// URL for path through this proxy.
func (p *Proxy) URL(path string) string { return "zk://" + p.Addr + path }

// Cut partitions every client for which match holds (by its address as the
// proxy sees it), now and for later connections, until Heal. Cut(nil) cuts
// every client.
func (p *Proxy) Cut(match func(client *net.TCPAddr) bool) {
	if match == nil {
		match = func(*net.TCPAddr) bool { return true }
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = match
	for c := range p.conns {
		if match(c.client) {
			c.once.Do(func() { close(c.cut) })
		}
	}
}

// Heal lets new connections through again. Connections cut stay silent
// until their clients give up on them, as after a real partition heals.
func (p *Proxy) Heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = nil
}

func (p *Proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.serve(c)
	}
}

func (p *Proxy) serve(client net.Conn) {
	pc := &proxyConn{client: client.RemoteAddr().(*net.TCPAddr), cut: make(chan struct{})}
	p.mu.Lock()
	cut := p.cut != nil && p.cut(pc.client)
	p.mu.Unlock()
	if cut {
		client.Close()
		return
	}
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		client.Close()
		return
	}
	pc.close = func() { client.Close(); server.Close() }
	p.mu.Lock()
	p.conns[pc] = true
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.conns, pc)
		p.mu.Unlock()
		pc.close()
	}()
	done := make(chan struct{}, 2)
	go func() { pump(server, client, pc.cut); done <- struct{}{} }()
	go func() { pump(client, server, pc.cut); done <- struct{}{} }()
	<-done
}

// pump copies from src to dst until either fails; once cut, what it reads
// is dropped.
func pump(dst io.Writer, src io.Reader, cut <-chan struct{}) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			select {
			case <-cut:
			default:
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return
				}
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *Proxy) close() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.close()
	}
}
