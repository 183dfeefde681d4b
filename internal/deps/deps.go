// Package deps pins the project's chosen modules in go.mod while the packages
// that use them are being written. Delete it once every module is imported
// by real code.
package deps

import (
	_ "github.com/cenkalti/backoff/v4"
	_ "github.com/go-zookeeper/zk"
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/hashicorp/go-hclog"
	_ "github.com/hashicorp/hcl/v2/gohcl"
	_ "github.com/hashicorp/hcl/v2/hclparse"
	_ "github.com/mesos/mesos-go/api/v1/lib"
	_ "github.com/mesos/mesos-go/api/v1/lib/encoding/codecs"
	_ "github.com/mesos/mesos-go/api/v1/lib/executor/calls"
	_ "github.com/mesos/mesos-go/api/v1/lib/executor/config"
	_ "github.com/mesos/mesos-go/api/v1/lib/httpcli/httpexec"
	_ "github.com/mesos/mesos-go/api/v1/lib/httpcli/httpsched"
	_ "github.com/mesos/mesos-go/api/v1/lib/scheduler/calls"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
)
