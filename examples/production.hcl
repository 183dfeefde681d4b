# Production Quobyte on Mesos: Docker images from the site registry, the
# Mesos leader found through ZooKeeper, the framework ID kept in ZooKeeper.
#
# There is no registry count here: a registry service runs on every host
# with a DIR_DEVICE (QUOBYTE_DEV_SETUP: device.type=DIR_DEVICE). Mark one
# device on each of three storage hosts to get the usual three registries.

mesos {
  master             = "zk://zk1.corp:2181,zk2.corp:2181,zk3.corp:2181/mesos"
  framework_name     = "quobyte"
  role               = "quobyte"
  principal          = "quobyte"
  secret_file        = "/etc/quobyte-mesos/secret" # never the secret itself
  failover_timeout   = "672h"
  framework_id_store = "zk://zk1.corp:2181,zk2.corp:2181,zk3.corp:2181/quobyte-mesos/framework-id"
}

quobyte {
  state        = "running"
  version      = "3.4.1"
  image        = "registry.corp:5000/quobyte/quobyte-server"
  client_image = "registry.corp:5000/quobyte/quobyte-client"
  runtime      = "docker"
  device_root  = "/mnt"
  env = {
    QUOBYTE_EXTRA_SERVICE_CONFIG = "constants.automation.manage_registry_replicas=true"
  }
}

prober {
  interval = "2m"
  mode     = "mounts"
}

service "registry" {
  resources {
    cpus = 1
    mem  = 2048
  }
}

service "metadata" {
  resources {
    cpus = 4
    mem  = 8192
  }
}

service "data" {
  resources {
    cpus = 4
    mem  = 8192
  }
  kill_grace = "60s"
}

service "api" {
  count = 2
}

service "webconsole" {
  count = 1
}

service "client" {
  enabled = true
  hosts   = ["compute-*"]
}

upgrade {
  order            = ["registry", "api", "webconsole", "metadata", "data", "client"]
  max_parallel     = 1
  min_healthy_time = "30s"
  healthy_deadline = "10m"
}

placement {
  hosts               = ["storage-*", "compute-*"]
  attributes          = { quobyte = "true" }
  unreachable_timeout = "10m"
}

# Two or more instances (examples/marathon.json runs two): they elect a
# leader in ZooKeeper; only the leader talks to Mesos.
ha {
  zookeeper       = "zk://zk1.corp:2181,zk2.corp:2181,zk3.corp:2181/quobyte-mesos"
  session_timeout = "10s"
}
