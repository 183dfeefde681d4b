# The local simulated cluster (`make run`): the simulated Mesos master on
# loopback, the stand-in Quobyte service run as a plain command, devices as
# directories under each simulated host's own directory, and short timings so
# that rollouts finish in seconds.
#
# Each simulated agent has a loopback address of its own (127.0.1.N) and a
# host directory, which its tasks find in $MESOS_SIM_HOST_DIR; the prober and
# the stand-in expand $VAR in device_root. `make run` exports
# QUOBYTE_STANDIN_BIN (the stand-in's absolute path) before it starts the
# simulated cluster, whose agents pass their environment on to tasks as Mesos
# agents do.

mesos {
  master             = "http://127.0.0.1:5050"
  framework_name     = "quobyte-local"
  failover_timeout   = "1h"
  framework_id_store = "file:///tmp/quobyte-mesos-local/framework-id"
}

quobyte {
  version     = "local"
  runtime     = "command"
  command     = "exec \"$QUOBYTE_STANDIN_BIN\""
  device_root = "$MESOS_SIM_HOST_DIR"
  # Services reach each other by the agents' IP addresses, which Mesos
  # reports in its offers: the simulated agents' hostnames (say
  # storage-node-01.dc1.example.com, with QUOBYTE_LOCAL_CLUSTER set to
  # examples/cluster-dotted-names.json) need not resolve.
  address = "ip"
}

prober {
  interval = "10s"
  mode     = "directories"
}

service "registry" {
  resources {
    cpus = 0.1
    mem  = 64
    disk = 0
  }
  health {
    interval = "1s"
    timeout  = "1s"
    grace    = "10s"
  }
  restart {
    initial_delay = "1s"
    max_delay     = "10s"
  }
}

service "metadata" {
  resources {
    cpus = 0.1
    mem  = 64
    disk = 0
  }
  health {
    interval = "1s"
    timeout  = "1s"
    grace    = "10s"
  }
  restart {
    initial_delay = "1s"
    max_delay     = "10s"
  }
}

service "data" {
  resources {
    cpus = 0.1
    mem  = 64
    disk = 0
  }
  health {
    interval = "1s"
    timeout  = "1s"
    grace    = "10s"
  }
  restart {
    initial_delay = "1s"
    max_delay     = "10s"
  }
}

service "api" {
  count = 1
  resources {
    cpus = 0.1
    mem  = 64
    disk = 0
  }
  health {
    interval = "1s"
    timeout  = "1s"
    grace    = "10s"
  }
}

service "webconsole" {
  count = 1
  resources {
    cpus = 0.1
    mem  = 64
    disk = 0
  }
  health {
    interval = "1s"
    timeout  = "1s"
    grace    = "10s"
  }
}

upgrade {
  max_parallel     = 1
  min_healthy_time = "2s"
  healthy_deadline = "60s"
}

placement {
  unreachable_timeout = "30s"
}
