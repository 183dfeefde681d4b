// Package standin is a stand-in for the proprietary Quobyte server image:
// a small service that honours the image's environment contract and health
// endpoints, so that end-to-end tests and the local simulated cluster can
// run "Quobyte" as the command of Mesos tasks. cmd/quobyte-standin is the
// binary; docs/standin.md is the operator's page.
//
// # Environment (FromEnv)
//
//	QUOBYTE_SERVICE          registry|metadata|data|api|webconsole|s3|client (required)
//	QUOBYTE_REGISTRY         comma-separated registry RPC addresses, host[:port] (port 7861
//	                         when absent); required for every kind but registry
//	QUOBYTE_RPC_PORT         RPC port (every kind but client)
//	QUOBYTE_HTTP_PORT        status port: /, /serviceHealth, /prometheus (every kind)
//	QUOBYTE_API_PORT         api: JSON-RPC stub
//	QUOBYTE_WEBCONSOLE_PORT  webconsole: UI page
//	QUOBYTE_S3_PORT          s3: S3 endpoint stub
//	QUOBYTE_BIND             address every port binds to (default MESOS_SIM_IP, set only by
//	                         mesos-sim's agents; in a Docker container (MESOS_CONTAINER_NAME
//	                         set) HOSTNAME when it is an IP address; else 0.0.0.0)
//	QUOBYTE_DEVICE_ROOT      device directory; MESOS_SIM_HOST_DIR when unset
//	QUOBYTE_VERSION          reported version
//	QUOBYTE_MAX_MEM_*        shown on the status page, otherwise ignored
//	STANDIN_CATCHUP          metadata/data: registration to healthy (default 2s)
//	STANDIN_STOP_GRACE       stop request to exit (default 1s)
//	STANDIN_POLL_INTERVAL    health re-evaluation period (default 200ms)
//	STANDIN_DIAL_HOST        dial every registry at this host, keeping its port
//	                         (simulated agents' hostnames may not resolve)
//	STANDIN_NEVER_HEALTHY_VERSION, STANDIN_CRASH_AFTER, STANDIN_SLOW_START: fault knobs
//
// Durations are Go durations ("1.5s") or plain seconds ("3"). A missing or
// malformed setting is a *ConfigError (the binary exits 2).
//
// # Health
//
// Device-bound kinds (registry: DIR_DEVICE, metadata: METADATA_DEVICE, data:
// DATA_DEVICE) need a device: a non-hidden immediate subdirectory of the
// device root holding a QUOBYTE_DEV_SETUP file with device.type=<TYPE>, or
// the legacy directory quobyte-dir, quobyte-metadata or quobyte-data (the
// candidates of the prober's directories mode). Then:
//
//   - registry: healthy while a majority of the listed registries answer PING
//     (itself included, recognised by its instance ID; a registry not in its
//     own list counts as one more member). It writes QUOBYTE_DEV_ID into its
//     devices from its own counter.
//   - metadata, data: register with the first listed registry that accepts
//     (REGISTER), write QUOBYTE_DEV_ID (device.id=N, atomically) into devices
//     that lack one, then are healthy once STANDIN_CATCHUP has passed since
//     registration.
//   - api, webconsole, s3, client: healthy once any registry has answered.
//
// With STANDIN_NEVER_HEALTHY_VERSION equal to QUOBYTE_VERSION all of the
// above happens but the service never reports healthy. Health is
// re-evaluated every STANDIN_POLL_INTERVAL; devices are rescanned each time.
//
// # Lifecycle
//
// Run listens (after STANDIN_SLOW_START, if set), serves, and on context
// cancellation (SIGTERM or SIGINT in the binary) turns unhealthy at once,
// keeps serving 503 for STANDIN_STOP_GRACE, then returns nil (exit 0).
// STANDIN_CRASH_AFTER makes Run return ErrCrash (exit 1) that long after
// start.
//
// # RPC line protocol (stand-in only, not Quobyte's RPC)
//
//	PING                        -> PONG <kind> <version|-> <instance>
//	REGISTER <kind> <addr> <n>  -> OK <id1> ... <idn>   (registries; n new device IDs)
//	anything else               -> ERR <message>
//
// Device IDs come from a per-registry counter: unique per registry only,
// since the stand-in replicates no state between registries.
package standin
