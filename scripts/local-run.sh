#!/usr/bin/env bash
# `make run`: a local simulated Mesos cluster with the framework on it.
#
# Five simulated agents (127.0.1.1 .. 127.0.1.5, each a loopback address of
# its own so that Quobyte's fixed ports don't clash), whose host directories
# carry device markers: registry devices on three, metadata on three, data on
# all five. The framework runs examples/local.hcl with the stand-in Quobyte
# service as the service command. Ctrl-C stops everything and leaves nothing
# running: the framework stops first (without teardown), then the simulated
# cluster kills every task it runs.
#
# RUNTIME=docker (`make run RUNTIME=docker`) is the production runtime: the
# images are built (`make images`: quobyte-server:local, and the same image
# tagged quobyte-server:local-2 to roll to), the agents have the Docker
# containerizer, every Quobyte service runs in a container of the server
# image (examples/local-docker.hcl), the framework runs from its own image
# as Marathon would run it (host networking, the spec's directory mounted
# read-only) and runs the probers from that image too. It needs a Docker
# engine (as root, scripts/dockerd.sh start starts one).
#
# QUOBYTE_LOCAL_CLUSTER=FILE takes the agents from a mesos-sim cluster file
# instead, e.g. examples/cluster-dotted-names.json: the same five agents
# named storage-node-01.dc1.example.com ..., names that resolve nowhere (as
# on many test clusters). The services reach each other all the same,
# because examples/local.hcl addresses them by the agents' IPs
# (quobyte.address = "ip").
set -euo pipefail
CLUSTER=${QUOBYTE_LOCAL_CLUSTER:-}
if [ -n "$CLUSTER" ]; then
  [ -r "$CLUSTER" ] || { echo "local-run: cannot read the cluster file $CLUSTER" >&2; exit 1; }
  CLUSTER=$(realpath "$CLUSTER")
fi
cd "$(dirname "$0")/.."
ROOT=$PWD
DIR=${QUOBYTE_LOCAL_DIR:-/tmp/quobyte-mesos-local}
MASTER=127.0.0.1:5050
RUNTIME=${RUNTIME:-command}
case "$RUNTIME" in
command) SPEC=${QUOBYTE_LOCAL_SPEC:-examples/local.hcl} DEVICES="" ;;
docker) SPEC=${QUOBYTE_LOCAL_SPEC:-examples/local-docker.hcl} DEVICES="devices/" ;;
*) echo "local-run: RUNTIME is command or docker, not $RUNTIME" >&2; exit 2 ;;
esac
FRAMEWORK_CONTAINER=quobyte-mesos-local

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! port_free 5050; then
  echo "local-run: 127.0.0.1:5050 is taken (examples/local.hcl expects the simulated master there)" >&2
  exit 1
fi
LISTEN=127.0.0.1:7888
if ! port_free 7888; then
  LISTEN=127.0.0.1:0
  echo "local-run: 127.0.0.1:7888 is taken; the framework picks a free port"
fi

make --no-print-directory build >/dev/null
if [ "$RUNTIME" = docker ]; then
  if ! docker version >/dev/null 2>&1; then
    echo "local-run: no Docker engine answers (as root, scripts/dockerd.sh start starts one)" >&2
    exit 1
  fi
  echo "local-run: building the images (make images)"
  make --no-print-directory images >/dev/null
  docker tag quobyte-server:local quobyte-server:local-2
  docker rm -f "$FRAMEWORK_CONTAINER" >/dev/null 2>&1 || true
fi

# A fresh cluster every time: the simulated master keeps no state, so a
# framework ID from an earlier run would name a framework it never knew.
rm -rf "$DIR"
mkdir -p "$DIR"

if [ -n "$CLUSTER" ]; then
  cp "$CLUSTER" "$DIR/cluster.json"
else
  marker() { printf 'device.serial=%s\\ndevice.model=SIMDISK\\ndevice.type=%s\\n' "$1" "$2"; }
  # The devices of a Docker host are under its host directory's devices/,
  # which its containers see as /devices.
  {
    echo '{"agents": ['
    for i in 1 2 3 4 5; do
      markers="{\"device\": \"${DEVICES}data1\", \"content\": \"$(marker "D$i" DATA_DEVICE)\"}"
      if [ "$i" -le 3 ]; then
        markers="{\"device\": \"${DEVICES}registry1\", \"content\": \"$(marker "R$i" DIR_DEVICE)\"}, {\"device\": \"${DEVICES}metadata1\", \"content\": \"$(marker "M$i" METADATA_DEVICE)\"}, $markers"
      fi
      sep=","; [ "$i" = 5 ] && sep=""
      echo "  {\"hostname\": \"127.0.1.$i\", \"attributes\": {\"rack\": \"r$(( (i + 1) / 2 ))\"}, \"markers\": [$markers]}$sep"
    done
    echo ']}'
  } > "$DIR/cluster.json"
fi

# Tasks inherit the agents' environment (as on a Mesos agent): the stand-in's path.
export QUOBYTE_STANDIN_BIN="$ROOT/bin/quobyte-standin"

pids=()
cleanup() {
  trap - INT TERM EXIT
  echo
  echo "local-run: stopping the framework, then the simulated cluster"
  if [ "$RUNTIME" = docker ]; then
    docker stop -t 15 "$FRAMEWORK_CONTAINER" >/dev/null 2>&1 || true
    docker rm "$FRAMEWORK_CONTAINER" >/dev/null 2>&1 || true
  fi
  for ((i=${#pids[@]}-1; i>=0; i--)); do
    kill -TERM "${pids[$i]}" 2>/dev/null || true
    wait "${pids[$i]}" 2>/dev/null || true
  done
  echo "local-run: stopped; logs are in $DIR"
}
trap cleanup INT TERM EXIT

docker_flag=--docker=off
[ "$RUNTIME" = docker ] && docker_flag=--docker
bin/mesos-sim --listen "$MASTER" --cluster "$DIR/cluster.json" --workdir "$DIR/sim" "$docker_flag" \
  --heartbeat-interval 5s --update-retry-interval 5s >"$DIR/mesos-sim.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  curl -fs "http://$MASTER/health" >/dev/null 2>&1 && break
  sleep 0.1
done
echo "local-run: simulated Mesos master on http://$MASTER (state: http://$MASTER/state, log: $DIR/mesos-sim.log)"

if [ "$RUNTIME" = docker ]; then
  # As Marathon runs it: host networking, the spec's directory read-only,
  # the framework ID store (a file under /tmp/quobyte-mesos-local) writable.
  spec_dir=$(cd "$(dirname "$SPEC")" && pwd)
  mkdir -p /tmp/quobyte-mesos-local
  docker run -d --name "$FRAMEWORK_CONTAINER" --net=host \
    -v "$spec_dir:/etc/quobyte-mesos:ro" -v /tmp/quobyte-mesos-local:/tmp/quobyte-mesos-local \
    quobyte-mesos:local run --spec "/etc/quobyte-mesos/$(basename "$SPEC")" --listen "$LISTEN" \
    --framework-image quobyte-mesos:local >/dev/null
  docker logs -f "$FRAMEWORK_CONTAINER" >"$DIR/framework.out" 2>"$DIR/framework.log" &
else
  bin/quobyte-mesos run --spec "$SPEC" --listen "$LISTEN" --pid-file "$DIR/framework.pid" >"$DIR/framework.out" 2>"$DIR/framework.log" &
fi
pids+=($!)
for _ in $(seq 100); do
  grep -q "status API on" "$DIR/framework.out" 2>/dev/null && break
  kill -0 "${pids[1]}" 2>/dev/null || { cat "$DIR/framework.log" >&2; exit 1; }
  sleep 0.1
done
url=$(sed -n 's|.*status API on \(http://[^/]*\)/.*|\1|p' "$DIR/framework.out")
echo "local-run: framework status API on $url  (try: curl $url/v1/status, $url/v1/plan, $url/metrics)"
if [ "$RUNTIME" = docker ]; then
  echo "local-run: framework log: $DIR/framework.log; reload the spec: docker kill -s HUP $FRAMEWORK_CONTAINER; Ctrl-C stops everything"
  echo "local-run: the framework runs in container $FRAMEWORK_CONTAINER, the services in containers of quobyte-server:local (docker ps)"
else
  echo "local-run: framework log: $DIR/framework.log; reload the spec: kill -HUP \$(cat $DIR/framework.pid); Ctrl-C stops everything"
fi

wait -n "${pids[@]}" || true
