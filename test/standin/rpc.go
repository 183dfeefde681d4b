package standin

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The RPC line protocol between stand-ins (not Quobyte's real RPC): one
// request line, one answer line, any number per connection.
//
//	PING                      -> PONG <kind> <version> <instance>
//	REGISTER <kind> <addr> <n> -> OK <id1> ... <idn>   (registries only; n new device IDs)
//	anything else             -> ERR <message>
//
// <version> is "-" when empty; <instance> is random per process, so that a
// registry recognises its own address in QUOBYTE_REGISTRY.

const (
	rpcIdleTimeout = 10 * time.Second // a silent connection is dropped
	rpcCallTimeout = 500 * time.Millisecond
	maxRPCLine     = 4096
	maxRegisterIDs = 1024
)

// pong is a parsed PONG answer.
type pong struct {
	kind     Kind
	version  string
	instance string
}

// rpcServer answers the line protocol on one listener.
type rpcServer struct {
	ln     net.Listener
	handle func(line string) string

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

func newRPCServer(ln net.Listener, handle func(string) string) *rpcServer {
	return &rpcServer{ln: ln, handle: handle, conns: make(map[net.Conn]struct{})}
}

// serve accepts until close; it returns nil after close.
func (s *rpcServer) serve() error {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("rpc accept: %w", err)
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return nil
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serveConn(c)
	}
}

func (s *rpcServer) serveConn(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
	}()
	sc := bufio.NewScanner(c)
	sc.Buffer(make([]byte, 0, 256), maxRPCLine)
	for {
		if err := c.SetDeadline(time.Now().Add(rpcIdleTimeout)); err != nil {
			return
		}
		if !sc.Scan() {
			return
		}
		if _, err := fmt.Fprintf(c, "%s\n", s.handle(strings.TrimSpace(sc.Text()))); err != nil {
			return
		}
	}
}

// close stops accepting, drops open connections and waits for their handlers.
func (s *rpcServer) close() {
	s.mu.Lock()
	s.closed = true
	s.ln.Close()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// rpcCall sends one request line to addr and returns the answer line.
func rpcCall(ctx context.Context, addr, req string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, rpcCallTimeout)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", fmt.Errorf("dial %s: %w", addr, err)
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		if err := c.SetDeadline(dl); err != nil {
			return "", fmt.Errorf("rpc %s: %w", addr, err)
		}
	}
	if _, err := fmt.Fprintf(c, "%s\n", req); err != nil {
		return "", fmt.Errorf("rpc %s: send: %w", addr, err)
	}
	sc := bufio.NewScanner(c)
	sc.Buffer(make([]byte, 0, 256), maxRPCLine)
	if !sc.Scan() {
		err := sc.Err()
		if err == nil {
			err = errors.New("connection closed without an answer")
		}
		return "", fmt.Errorf("rpc %s: %w", addr, err)
	}
	return strings.TrimSpace(sc.Text()), nil
}

// ping asks addr who it is.
func ping(ctx context.Context, addr string) (pong, error) {
	ans, err := rpcCall(ctx, addr, "PING")
	if err != nil {
		return pong{}, err
	}
	f := strings.Fields(ans)
	if len(f) != 4 || f[0] != "PONG" {
		return pong{}, fmt.Errorf("rpc %s: unexpected answer %q", addr, ans)
	}
	v := f[2]
	if v == "-" {
		v = ""
	}
	return pong{kind: Kind(f[1]), version: v, instance: f[3]}, nil
}

// register announces a service at its RPC address to the registry at addr
// and asks for n new device IDs.
func register(ctx context.Context, addr string, kind Kind, self string, n int) ([]string, error) {
	ans, err := rpcCall(ctx, addr, fmt.Sprintf("REGISTER %s %s %d", kind, self, n))
	if err != nil {
		return nil, err
	}
	f := strings.Fields(ans)
	if len(f) == 0 || f[0] != "OK" {
		return nil, fmt.Errorf("register with %s: %s", addr, ans)
	}
	if len(f)-1 != n {
		return nil, fmt.Errorf("register with %s: asked for %d device IDs, got %d", addr, n, len(f)-1)
	}
	return f[1:], nil
}

// parseRegister validates a REGISTER request's fields after the verb.
func parseRegister(args []string) (Kind, string, int, error) {
	if len(args) != 3 {
		return "", "", 0, errors.New("usage: REGISTER <kind> <host:port> <n>")
	}
	k := Kind(args[0])
	if !k.valid() {
		return "", "", 0, fmt.Errorf("unknown kind %q", args[0])
	}
	if _, _, err := net.SplitHostPort(args[1]); err != nil {
		return "", "", 0, fmt.Errorf("bad address %q", args[1])
	}
	n, err := strconv.Atoi(args[2])
	if err != nil || n < 0 || n > maxRegisterIDs {
		return "", "", 0, fmt.Errorf("bad device count %q", args[2])
	}
	return k, args[1], n, nil
}

// wireVersion makes a version safe for a space-separated line.
func wireVersion(v string) string {
	if v == "" {
		return "-"
	}
	return strings.Join(strings.Fields(v), "_")
}
