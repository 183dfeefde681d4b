package prober

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sort"
	"time"

	"github.com/hashicorp/go-hclog"
	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/encoding/codecs"
	"github.com/mesos/mesos-go/api/v1/lib/executor"
	"github.com/mesos/mesos-go/api/v1/lib/executor/calls"
	"github.com/mesos/mesos-go/api/v1/lib/httpcli"
	"github.com/mesos/mesos-go/api/v1/lib/httpcli/apierrors"
	"github.com/mesos/mesos-go/api/v1/lib/httpcli/httpexec"

	"github.com/quobyte/quobyte-mesos/observe/probe"
)

// apiPath is the agent's executor API endpoint.
const apiPath = "/api/v1/executor"

// Run is the prober executor: it subscribes to the agent, reports devices
// to the framework as described in the package documentation, and returns
// nil when its task is killed, the agent shuts it down, or ctx ends. It
// returns an error when it cannot (re)connect to the agent in time.
func Run(ctx context.Context, cfg Config) error {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	p := newProber(cfg)

	// Watch runs for the whole life of the executor; its notifications are
	// coalesced into one pending signal.
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	changes := make(chan struct{}, 1)
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		if err := p.scanner.Watch(wctx, func() {
			select {
			case changes <- struct{}{}:
			default:
			}
		}); err != nil {
			p.log.Error("device watch stopped", "error", err)
		}
	}()
	defer func() { stopWatch(); <-watchDone }()

	keepAlive := time.NewTicker(cfg.Interval)
	defer keepAlive.Stop()

	disconnected := time.Now()
	everSubscribed := false
	for {
		subscribed, err := p.session(ctx, changes, keepAlive.C)
		if p.done || ctx.Err() != nil {
			return nil
		}
		if !p.exitAt.IsZero() && time.Now().After(p.exitAt) {
			p.log.Warn("leaving after KILL without reaching the agent", "error", err)
			return nil
		}
		if subscribed {
			everSubscribed = true
			disconnected = time.Now()
		}
		p.log.Warn("disconnected from the agent", "error", err)
		switch {
		case everSubscribed && !cfg.Executor.Checkpoint:
			return fmt.Errorf("disconnected from the agent, and without framework checkpointing it cannot recover this executor: %w", err)
		case !everSubscribed && !cfg.Executor.Checkpoint && time.Since(disconnected) > firstSubscribeWindow:
			return fmt.Errorf("cannot subscribe to the agent at %s: %w", cfg.Executor.AgentEndpoint, err)
		case time.Since(disconnected) > cfg.Executor.RecoveryTimeout:
			return fmt.Errorf("no agent subscription for %v (recovery timeout): %w", cfg.Executor.RecoveryTimeout, err)
		}
		wait := subscribeDelay(cfg.Executor.SubscriptionBackoffMax)
		p.log.Debug("resubscribing", "in", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// subscribeDelay is the wait before the next SUBSCRIBE: uniform in
// [0, max], as Mesos' executor library draws it (src/executor/executor.cpp,
// backoff()). The agent sets max (MESOS_SUBSCRIPTION_BACKOFF_MAX) to its
// --executor_reregistration_timeout, so a prober that never waits longer is
// back within the window a restarted agent gives its executors.
func subscribeDelay(max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(max) + 1))
}

// errShutdown ends the session after the agent's SHUTDOWN.
var errShutdown = errors.New("shut down by the agent")

// prober is the state of one Run.
type prober struct {
	cfg        Config
	log        hclog.Logger
	scanner    *probe.Scanner
	subscriber calls.Sender // SUBSCRIBE, on a connection of its own
	sender     calls.Sender // every other call
	st         *state

	seq      uint64
	last     probe.Report
	haveLast bool
	// agentHostname is the agent's hostname as SUBSCRIBED tells it: what
	// Mesos calls the host (an agent's --hostname may differ from the
	// machine's name, and simulated agents share one machine). It names the
	// host in reports unless the operator gave --hostname.
	agentHostname string
	// exitAt is set once every task is killed: the prober leaves when the
	// terminal updates are acknowledged, or at exitAt.
	exitAt time.Time
	done   bool
}

func newProber(cfg Config) *prober {
	endpoint := url.URL{Scheme: "http", Host: cfg.Executor.AgentEndpoint, Path: apiPath}
	opts := []httpcli.Opt{
		httpcli.Endpoint(endpoint.String()),
		// Protobuf, always: mesos-go's JSON decoder fails on enum values
		// newer than v0.0.11 (DESIGN.md).
		httpcli.Codec(codecs.ByMediaType[codecs.MediaTypeProtobuf]),
		httpcli.Do(httpcli.With(httpcli.Timeout(cfg.HTTPTimeout))),
	}
	if cfg.AuthToken != "" {
		opts = append(opts, httpcli.DefaultHeader("Authorization", "Bearer "+cfg.AuthToken))
	}
	cli := httpcli.New(opts...)
	callOpts := executor.CallOptions{
		calls.Framework(cfg.Executor.FrameworkID),
		calls.Executor(cfg.Executor.ExecutorID),
	}
	return &prober{
		cfg:        cfg,
		log:        cfg.Logger,
		scanner:    probe.NewScanner(cfg.Scan),
		subscriber: calls.SenderWith(httpexec.NewSender(cli.Send, httpcli.Close(true)), callOpts...),
		sender:     calls.SenderWith(httpexec.NewSender(cli.Send), callOpts...),
		st:         newState(cfg.Executor.ExecutorID),
	}
}

// session subscribes once and handles events until the subscription ends.
// subscribed tells whether the agent answered with SUBSCRIBED.
func (p *prober) session(ctx context.Context, changes <-chan struct{}, keepAlive <-chan time.Time) (subscribed bool, err error) {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	resp, err := p.subscriber.Send(sctx, calls.NonStreaming(p.st.subscribe()))
	if err != nil {
		if resp != nil {
			resp.Close()
		}
		return false, fmt.Errorf("subscribe: %w", err)
	}
	defer resp.Close()

	// The decoder blocks in a read of the stream: it runs apart and stops
	// when the stream ends or the session is cancelled (resp.Close).
	events := make(chan *executor.Event)
	streamErr := make(chan error, 1)
	go func() {
		for {
			e := new(executor.Event)
			if err := resp.Decode(e); err != nil {
				streamErr <- err
				return
			}
			select {
			case events <- e:
			case <-sctx.Done():
				return
			}
		}
	}()

	exitCheck := time.NewTicker(100 * time.Millisecond)
	defer exitCheck.Stop()
	for {
		select {
		case <-ctx.Done():
			return subscribed, ctx.Err()
		case err := <-streamErr:
			return subscribed, fmt.Errorf("event stream: %w", err)
		case e := <-events:
			if e.GetType() == executor.Event_SUBSCRIBED {
				subscribed = true
			}
			if err := p.handle(sctx, e); err != nil {
				return subscribed, err
			}
		case <-changes:
			if subscribed {
				if err := p.report(sctx, false, "devices changed"); err != nil {
					return subscribed, err
				}
			}
		case <-keepAlive:
			if subscribed {
				if err := p.report(sctx, true, "keep-alive"); err != nil {
					return subscribed, err
				}
			}
		case <-exitCheck.C:
		}
		if !p.exitAt.IsZero() && (len(p.st.terminal) == 0 || time.Now().After(p.exitAt)) {
			if len(p.st.terminal) > 0 {
				p.log.Warn("leaving without the acknowledgement of TASK_KILLED", "waited", p.cfg.AckWait)
			}
			p.done = true
			return subscribed, nil
		}
	}
}

// handle acts on one agent event. An error ends the subscription.
func (p *prober) handle(ctx context.Context, e *executor.Event) error {
	if malformed(e) {
		p.log.Warn("ignoring an event without its body", "type", e.GetType().String())
		return nil
	}
	switch e.GetType() {
	case executor.Event_SUBSCRIBED:
		s := e.GetSubscribed()
		agent, exec := s.GetAgentInfo(), s.GetExecutorInfo()
		p.log.Info("subscribed to the agent", "agent", agent.GetHostname(), "executor", exec.ExecutorID.Value)
		p.agentHostname = agent.GetHostname()
		if err := p.sendKills(ctx); err != nil {
			return err
		}
		// The agent may have restarted and the framework may have missed
		// reports: tell the current state again.
		if len(p.st.tasks) > 0 {
			return p.report(ctx, true, "resubscribed")
		}
	case executor.Event_LAUNCH:
		t := e.GetLaunch().GetTask()
		p.log.Info("task launched", "task", t.TaskID.Value)
		p.st.launch(t)
		p.exitAt = time.Time{} // a new task keeps the executor alive
		return p.report(ctx, true, "launched")
	case executor.Event_LAUNCH_GROUP:
		// The framework launches the prober as a single task; a group is a
		// mistake, answered so that it does not wait forever.
		for _, t := range e.GetLaunchGroup().TaskGroup.Tasks {
			if err := p.update(ctx, t.TaskID.Value, mesos.TASK_FAILED, nil, "the prober does not run task groups"); err != nil {
				return err
			}
		}
	case executor.Event_KILL:
		id := e.GetKill().TaskID.Value
		p.log.Info("kill requested", "task", id)
		return p.kill(ctx, []string{id})
	case executor.Event_SHUTDOWN:
		// The agent shuts its executors down when their framework is torn
		// down (or the executor must go for another reason). A Mesos agent
		// drops the updates of a terminating framework unacknowledged
		// (slave.cpp, statusUpdate), and whatever it accepted it delivers
		// after the executor is gone: leave once TASK_KILLED is sent.
		p.log.Info("shutdown requested")
		if err := p.kill(ctx, p.st.taskIDs()); err != nil {
			return err
		}
		p.done = true
		return errShutdown
	case executor.Event_ACKNOWLEDGED:
		a := e.GetAcknowledged()
		p.st.ack(a.TaskID.Value, a.GetUUID())
	case executor.Event_MESSAGE:
		p.log.Debug("probe requested by message", "bytes", len(e.GetMessage().GetData()))
		return p.report(ctx, true, "message")
	case executor.Event_ERROR:
		return fmt.Errorf("agent error event: %s", e.GetError().GetMessage())
	case executor.Event_HEARTBEAT:
	default:
		p.log.Debug("ignoring event", "type", e.GetType().String())
	}
	return nil
}

// kill ends the given tasks with TASK_KILLED and, when none is left,
// starts leaving. A TASK_KILLED that cannot be sent now is sent after the
// next SUBSCRIBED.
func (p *prober) kill(ctx context.Context, ids []string) error {
	for _, id := range ids {
		if _, ok := p.st.tasks[id]; !ok {
			p.log.Warn("kill of an unknown task", "task", id)
			continue
		}
		delete(p.st.tasks, id)
		p.st.killing[id] = true
	}
	if len(p.st.tasks) == 0 && p.exitAt.IsZero() {
		p.exitAt = time.Now().Add(p.cfg.AckWait)
	}
	return p.sendKills(ctx)
}

// sendKills sends TASK_KILLED for the tasks killed but not yet told.
func (p *prober) sendKills(ctx context.Context) error {
	ids := make([]string, 0, len(p.st.killing))
	for id := range p.st.killing {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if err := p.update(ctx, id, mesos.TASK_KILLED, nil, "killed by the framework"); err != nil {
			return err
		}
		delete(p.st.killing, id)
	}
	return nil
}

// report scans and sends the report to every running task: always when
// force is set, otherwise only when the devices changed since the last
// report sent.
func (p *prober) report(ctx context.Context, force bool, why string) error {
	if len(p.st.tasks) == 0 {
		return nil
	}
	r := p.scanner.Scan()
	if p.cfg.Scan.Hostname == "" && p.agentHostname != "" {
		r.Hostname = p.agentHostname
	}
	if !force && p.haveLast && probe.Equivalent(p.last, r) {
		return nil
	}
	p.seq++
	r.Seq = p.seq
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	p.log.Debug("reporting", "why", why, "seq", r.Seq, "devices", len(r.Devices), "rejected", len(r.Rejected))
	for _, id := range p.st.taskIDs() {
		if err := p.update(ctx, id, mesos.TASK_RUNNING, data, ""); err != nil {
			return err
		}
	}
	p.last, p.haveLast = r, true
	return nil
}

// update sends one status update and remembers it until acknowledged.
func (p *prober) update(ctx context.Context, taskID string, st mesos.TaskState, data []byte, message string) error {
	status, err := p.st.newStatus(taskID, st, data, message, time.Now())
	if err != nil {
		return err
	}
	call := calls.Update(status)
	if err := p.send(ctx, call); err != nil {
		return fmt.Errorf("send %s for task %s: %w", st, taskID, err)
	}
	if n := p.st.sent(*call.Update); n > 0 {
		p.log.Warn("forgot unacknowledged updates", "count", n)
	}
	return nil
}

// recoveryRetry is how often a call the agent refused while recovering is
// sent again.
const recoveryRetry = 100 * time.Millisecond

// send sends one call. A restarted agent accepts SUBSCRIBE while it
// recovers but answers other calls 503 "Agent has not finished recovery"
// (slave/http.cpp) until its executor reregistration timeout has passed:
// the subscription stands, so the call is sent again until the agent
// takes it, instead of resubscribing.
func (p *prober) send(ctx context.Context, call *executor.Call) error {
	for {
		resp, err := p.sender.Send(ctx, calls.NonStreaming(call))
		if resp != nil {
			resp.Close()
		}
		if !isUnavailable(err) {
			return err
		}
		p.log.Debug("agent not ready for the call; retrying", "call", call.GetType().String(), "error", err)
		t := time.NewTimer(recoveryRetry)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// isUnavailable reports a 503 from the agent.
func isUnavailable(err error) bool {
	var apiErr *apierrors.Error
	return errors.As(err, &apiErr) && apierrors.Code(http.StatusServiceUnavailable).Matches(apiErr)
}

// malformed reports an event whose type-specific body is missing, so that
// the handlers below may use it without checks.
func malformed(e *executor.Event) bool {
	switch e.GetType() {
	case executor.Event_LAUNCH:
		return e.Launch == nil
	case executor.Event_LAUNCH_GROUP:
		return e.LaunchGroup == nil
	case executor.Event_KILL:
		return e.Kill == nil
	case executor.Event_ACKNOWLEDGED:
		return e.Acknowledged == nil
	}
	return false
}
