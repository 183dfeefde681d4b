package prober

import (
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/mesos/mesos-go/api/v1/lib/executor/config"

	"github.com/quobyte/quobyte-mesos/observe/probe"
)

// Defaults for Config fields left zero.
const (
	DefaultInterval    = 2 * time.Minute
	DefaultHTTPTimeout = 10 * time.Second
	DefaultAckWait     = 5 * time.Second
	// defaultBackoffMax caps the resubscription delay when the agent gives
	// no MESOS_SUBSCRIPTION_BACKOFF_MAX.
	defaultBackoffMax = 2 * time.Second
	// defaultRecovery is how long to retry when the agent gives no
	// MESOS_RECOVERY_TIMEOUT (Mesos's own default).
	defaultRecovery = 15 * time.Minute
	// firstSubscribeWindow is how long the first SUBSCRIBE is retried
	// without checkpointing: the agent that started us may still be busy.
	firstSubscribeWindow = 15 * time.Second
	// maxUnacked caps the remembered unacknowledged updates. Every report
	// carries the whole state, so losing the oldest loses nothing current.
	maxUnacked = 32
)

// Config configures Run.
type Config struct {
	// Scan says where and how to look for devices.
	Scan probe.Config
	// Interval is the keep-alive re-report period; default DefaultInterval.
	Interval time.Duration
	// Executor is what the agent tells an executor through its environment
	// (config.FromEnv): agent endpoint, framework and executor IDs,
	// checkpointing and recovery timeout.
	Executor config.Config
	// AuthToken is MESOS_EXECUTOR_AUTHENTICATION_TOKEN, sent as a bearer
	// token when the agent requires executor authentication.
	AuthToken string
	// HTTPTimeout bounds connecting and waiting for response headers;
	// default DefaultHTTPTimeout.
	HTTPTimeout time.Duration
	// AckWait is how long to wait for the acknowledgement of TASK_KILLED
	// before exiting; default DefaultAckWait.
	AckWait time.Duration
	// Logger defaults to a discarding logger.
	Logger hclog.Logger
}

func (c Config) withDefaults() Config {
	if c.Interval <= 0 {
		c.Interval = DefaultInterval
	}
	if c.HTTPTimeout <= 0 {
		c.HTTPTimeout = DefaultHTTPTimeout
	}
	if c.AckWait <= 0 {
		c.AckWait = DefaultAckWait
	}
	if c.Logger == nil {
		c.Logger = hclog.NewNullLogger()
	}
	if c.Executor.SubscriptionBackoffMax <= 0 {
		c.Executor.SubscriptionBackoffMax = defaultBackoffMax
	}
	if c.Executor.RecoveryTimeout <= 0 {
		c.Executor.RecoveryTimeout = defaultRecovery
	}
	return c
}

// Validate reports configuration Run cannot work with.
func (c Config) Validate() error {
	var errs []error
	if err := c.Scan.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Executor.AgentEndpoint == "" {
		errs = append(errs, errors.New("no agent endpoint (MESOS_AGENT_ENDPOINT)"))
	}
	if c.Executor.FrameworkID == "" || c.Executor.ExecutorID == "" {
		errs = append(errs, errors.New("no framework or executor ID (MESOS_FRAMEWORK_ID, MESOS_EXECUTOR_ID)"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("prober configuration: %w", err)
	}
	return nil
}
