// Package prober is the device prober executor: a Mesos custom executor
// (v1 executor HTTP API, mesos-go, protobuf codec) that wraps probe.Scanner
// and reports what it finds to the framework.
//
// Contract with the framework:
//
//   - The framework launches one task on the executor. The prober answers
//     with TASK_RUNNING whose data is a JSON probe.Report (Version
//     probe.ReportVersion, Seq increasing over the life of the process).
//   - It sends a new TASK_RUNNING report at once when the devices change (a
//     mount under the device root comes or goes, a marker appears, changes
//     or goes; free space alone is no change), when the framework sends a
//     MESSAGE (any data; by convention "probe"), and every Config.Interval
//     as a keep-alive carrying fresh free space. Reports are status updates
//     because the agent acknowledges and retries those; framework messages
//     may be lost.
//   - KILL of its task: TASK_KILLED, then exit once the agent acknowledged
//     it (or after Config.AckWait). SHUTDOWN (its framework was torn down,
//     or the agent wants the executor gone): TASK_KILLED for every task,
//     then exit at once: the agent acknowledges nothing of a terminating
//     framework, and delivers what it accepted after the executor is gone.
//   - Agent restarts: the prober resubscribes after a delay drawn in
//     [0, MESOS_SUBSCRIPTION_BACKOFF_MAX], as Mesos' executor library does
//     (the agent sets that to its executor reregistration timeout, the
//     window a restarted agent gives its executors), and sends the updates
//     and task the agent has not acknowledged in SUBSCRIBE, as the executor
//     API asks; after SUBSCRIBED it reports again. A recovering agent
//     answers calls other than SUBSCRIBE 503 "Agent has not finished
//     recovery": the prober keeps its subscription and sends the call
//     again until the agent takes it. Without
//     framework checkpointing the agent cannot recover the executor, so it
//     exits on disconnection instead; with checkpointing it gives up after
//     MESOS_RECOVERY_TIMEOUT.
//
// The prober never writes to a device (see package probe).
//
// Layers: Run owns the goroutines (event decoding, Watch, tickers); the
// session loop handles one subscription's events synchronously; state.go
// keeps the executor bookkeeping (tasks, unacknowledged updates).
package prober
