package mesosconn

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
)

const (
	headerStreamID = "Mesos-Stream-Id"
	// maxRedirects bounds the 307 chain a SUBSCRIBE follows (a master that
	// is not leading points at the leader; more than a few hops is a loop).
	maxRedirects = 4
)

// pinnedDoer is the HTTP layer of one subscription. It sends every request
// to the leader's host (scheme and host of base), whatever URL mesos-go
// built. A SUBSCRIBE (the only call without a Mesos-Stream-Id) that is
// answered with 307 is re-sent to the Location's host, which becomes the
// pinned leader for every later call of this subscription. A 307 to any
// other call is passed up: the leader changed and the subscription is over.
type pinnedDoer struct {
	client   *http.Client
	user     string
	password string
	fence    func() error // nil: no fence

	mu       sync.Mutex
	base     url.URL // scheme and host only
	streamID string  // from the SUBSCRIBE's answer
}

func newPinnedDoer(client *http.Client, master *url.URL, user, password string, fence func() error) *pinnedDoer {
	return &pinnedDoer{client: client, user: user, password: password, fence: fence, base: url.URL{Scheme: master.Scheme, Host: master.Host}}
}

// checkFence asks fence (nil: none) whether a request may go out; a
// refusal is ErrFenced. Both call paths ask it before every request.
func checkFence(fence func() error) error {
	if fence == nil {
		return nil
	}
	if err := fence(); err != nil {
		return fmt.Errorf("%w: %w", ErrFenced, err)
	}
	return nil
}

// stream returns the Mesos-Stream-Id of the subscription's answer.
func (d *pinnedDoer) stream() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.streamID
}

// leader returns the pinned master's base URL.
func (d *pinnedDoer) leader() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.base.String()
}

func (d *pinnedDoer) Do(req *http.Request) (*http.Response, error) {
	subscribe := req.Header.Get(headerStreamID) == ""
	for hop := 0; ; hop++ {
		d.mu.Lock()
		req.URL.Scheme, req.URL.Host = d.base.Scheme, d.base.Host
		d.mu.Unlock()
		req.Host = ""
		if d.user != "" {
			req.SetBasicAuth(d.user, d.password)
		}
		// Every request passes here, so nothing can bypass the fence.
		if err := checkFence(d.fence); err != nil {
			return nil, err
		}
		res, err := d.client.Do(req)
		if err == nil && subscribe && res.StatusCode == http.StatusOK {
			d.mu.Lock()
			d.streamID = res.Header.Get(headerStreamID)
			d.mu.Unlock()
		}
		if err != nil || res.StatusCode != http.StatusTemporaryRedirect || !subscribe || hop >= maxRedirects {
			return res, err
		}
		loc, lerr := url.Parse(res.Header.Get("Location"))
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if lerr != nil || loc.Host == "" {
			return nil, fmt.Errorf("master %s redirected to unusable location %q", req.URL.Host, res.Header.Get("Location"))
		}
		if req.GetBody == nil {
			return nil, fmt.Errorf("master %s redirected a request whose body cannot be re-sent", req.URL.Host)
		}
		body, err := req.GetBody()
		if err != nil {
			return nil, fmt.Errorf("re-send after redirect: %w", err)
		}
		d.mu.Lock()
		// Mesos sends "//host:port/path": keep our scheme unless it names one.
		if loc.Scheme != "" {
			d.base.Scheme = loc.Scheme
		}
		d.base.Host = loc.Host
		d.mu.Unlock()
		req = req.Clone(req.Context())
		req.Body = body
	}
}
