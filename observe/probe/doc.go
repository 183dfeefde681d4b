// Package probe finds marked Quobyte devices on a host and describes them in
// a Report. It imports no Mesos code: the prober executor (observe/prober)
// wraps it, and it can be tested on its own against real mounts.
package probe
