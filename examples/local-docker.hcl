# The local simulated cluster with the production runtime (`make run
# RUNTIME=docker`): every Quobyte service in a Docker container of the
# stand-in server image (quobyte-server:<version>, built by `make images`),
# the prober run from the framework image (the framework is started with
# --framework-image), short timings so that rollouts finish in seconds.
#
# mesos-sim's agents have the Docker containerizer (--docker). Each
# simulated agent is its own machine: the host path /devices in a
# container's volume is <agent's host directory>/devices, where the script
# marks the devices. A version change is a change of image tag: the script
# tags quobyte-server:local-2 too, so version = "local-2" rolls through.

mesos {
  master             = "http://127.0.0.1:5050"
  framework_name     = "quobyte-local"
  failover_timeout   = "1h"
  framework_id_store = "file:///tmp/quobyte-mesos-local/framework-id"
}

quobyte {
  version     = "local"
  runtime     = "docker"
  image       = "quobyte-server"
  device_root = "/devices"
}

prober {
  interval = "10s"
  mode     = "directories"
  artifact = "image"
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
