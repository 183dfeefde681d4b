package agentrt

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	mesos "github.com/mesos/mesos-go/api/v1/lib"
)

// healthResult is what the checker tells the task: a change of health, and
// whether the task must now be killed.
type healthResult struct {
	healthy bool
	kill    bool
}

// healthChecker runs one Mesos-native health check for a command task, with
// the semantics of the Mesos health-checks documentation: the first check runs
// after delay_seconds, then every interval_seconds; a check slower than
// timeout_seconds fails; failures within grace_period_seconds of the launch
// are ignored until the first success. Like the built-in executors it reports
// every unhealthy result, and a healthy one only when the task turns healthy
// (its first success, or the first after failures). After
// consecutive_failures failures in a row the task is to be killed (0 means
// never) and the checker stops.
type healthChecker struct {
	a       *Agent
	hc      mesos.HealthCheck
	env     []string
	sandbox string
	start   time.Time
	out     chan<- healthResult
	log     hclog.Logger
}

func (h *healthChecker) run(ctx context.Context) {
	delay := seconds(h.hc.GetDelaySeconds())
	interval := seconds(h.hc.GetIntervalSeconds())
	if interval <= 0 {
		interval = time.Second // protect the simulation from a busy loop
	}
	grace := seconds(h.hc.GetGracePeriodSeconds())
	maxFailures := h.hc.GetConsecutiveFailures()

	var (
		healthy, succeeded bool
		failures           uint32
	)
	timer := time.NewTimer(delay)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		err := h.check(ctx)
		if ctx.Err() != nil {
			return
		}
		var r *healthResult
		if err == nil {
			succeeded = true
			failures = 0
			if !healthy {
				r = &healthResult{healthy: true}
			}
		} else if !succeeded && time.Since(h.start) <= grace {
			h.log.Debug("health check failed within grace period; ignored", "error", err)
		} else {
			failures++
			h.log.Debug("health check failed", "error", err, "consecutive_failures", failures)
			r = &healthResult{healthy: false, kill: maxFailures > 0 && failures >= maxFailures}
		}
		if r != nil {
			healthy = r.healthy
			select {
			case h.out <- *r:
			case <-ctx.Done():
				return
			}
			if r.kill {
				return
			}
		}
		timer.Reset(interval)
	}
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// check runs one check; nil means healthy.
func (h *healthChecker) check(ctx context.Context) error {
	timeout := seconds(h.hc.GetTimeoutSeconds())
	if timeout <= 0 {
		timeout = 20 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	switch h.hc.Type {
	case mesos.HealthCheck_HTTP:
		return h.checkHTTP(ctx)
	case mesos.HealthCheck_TCP:
		return h.checkTCP(ctx)
	case mesos.HealthCheck_COMMAND:
		return h.checkCommand(ctx)
	default:
		return fmt.Errorf("unsupported health check type %v", h.hc.Type)
	}
}

// target is the address a check connects to: the host's loopback in Mesos,
// here the simulated host's own address (see Config.IP).
func (h *healthChecker) target(p *mesos.NetworkInfo_Protocol) string {
	if p != nil && *p == mesos.IPv6 {
		return "::1"
	}
	return h.a.cfg.IP
}

// checkHTTP GETs scheme://<target>:port/path; 2xx and 3xx are healthy.
func (h *healthChecker) checkHTTP(ctx context.Context) error {
	info := h.hc.GetHTTP()
	if info == nil {
		return errors.New("HTTP health check without 'http'")
	}
	scheme := info.GetScheme()
	if scheme == "" {
		scheme = "http"
	}
	path := info.GetPath()
	if path != "" && path[0] != '/' {
		path = "/" + path
	}
	u := scheme + "://" + net.JoinHostPort(h.target(info.Protocol), strconv.Itoa(int(info.Port))) + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	res, err := h.a.http.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	res.Body.Close()
	if res.StatusCode < 200 || res.StatusCode > 399 {
		return fmt.Errorf("GET %s: status %d", u, res.StatusCode)
	}
	return nil
}

func (h *healthChecker) checkTCP(ctx context.Context) error {
	info := h.hc.GetTCP()
	if info == nil {
		return errors.New("TCP health check without 'tcp'")
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", net.JoinHostPort(h.target(info.Protocol), strconv.Itoa(int(info.Port))))
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	return c.Close()
}

// checkCommand runs the check command in the task's sandbox with the task's
// environment; exit 0 is healthy. On timeout its process group is killed.
func (h *healthChecker) checkCommand(ctx context.Context) error {
	ci := h.hc.GetCommand()
	if ci == nil {
		return errors.New("COMMAND health check without 'command'")
	}
	env, err := withCommandEnv(h.env, ci)
	if err != nil {
		return err
	}
	c, err := buildCmd(ci, h.sandbox, env)
	if err != nil {
		return err
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer devnull.Close()
	c.Stdout, c.Stderr = devnull, devnull
	if err := c.Start(); err != nil {
		return fmt.Errorf("start check command: %w", err)
	}
	waited := make(chan error, 1)
	go func() { waited <- c.Wait() }()
	select {
	case err := <-waited:
		_ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
		if err != nil {
			return fmt.Errorf("check command: %w", err)
		}
		return nil
	case <-ctx.Done():
		_ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
		<-waited
		return fmt.Errorf("check command timed out: %w", ctx.Err())
	}
}
