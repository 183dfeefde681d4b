#!/usr/bin/env bash
# Starts or stops a Docker engine of this project's own, for the tests and
# `make run RUNTIME=docker` on a machine where none runs (CI starts on a
# bare machine): Debian's dockerd, as root, on a private data root and exec
# root, answering on the default socket.
#
#   scripts/dockerd.sh start   # no-op when an engine answers already
#   scripts/dockerd.sh stop    # stops only the engine this script started
#
# The engine has no bridge network and touches no iptables rules: the
# simulated cluster uses host networking only. Its registry traffic goes to a
# proxy address on loopback where nothing listens, so a pull of an image that
# is not here fails at once with Docker's error and never leaves the machine
# (the images are built here, FROM scratch). overlay2 is tried first, vfs
# where the kernel or the filesystem refuses it.
set -euo pipefail

DATA_ROOT=${QUOBYTE_DOCKERD_DATA_ROOT:-/var/lib/docker-qm}
EXEC_ROOT=${QUOBYTE_DOCKERD_EXEC_ROOT:-/run/docker-qm}
PIDFILE=$EXEC_ROOT.pid
LOG=$DATA_ROOT.log

answers() { docker version >/dev/null 2>&1; }

start() {
  if answers; then
    echo "dockerd: an engine answers already; not starting one"
    return 0
  fi
  if [ "$(id -u)" != 0 ]; then
    echo "dockerd: no Docker engine answers and only root can start one" >&2
    return 1
  fi
  command -v dockerd >/dev/null || { echo "dockerd: not installed (scripts/install-deps.sh installs docker.io)" >&2; return 1; }
  for driver in overlay2 vfs; do
    mkdir -p "$DATA_ROOT" "$EXEC_ROOT"
    HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 NO_PROXY= \
      setsid dockerd --data-root "$DATA_ROOT" --exec-root "$EXEC_ROOT" --pidfile "$PIDFILE" \
        --storage-driver "$driver" --bridge=none --iptables=false --ip6tables=false --ip-masq=false \
        </dev/null >>"$LOG" 2>&1 &
    for _ in $(seq 150); do
      answers && { echo "dockerd: started (storage driver $driver, data root $DATA_ROOT, log $LOG)"; return 0; }
      kill -0 $! 2>/dev/null || break
      sleep 0.2
    done
    echo "dockerd: did not come up with storage driver $driver; log: $LOG" >&2
    stop_pid
  done
  tail -20 "$LOG" >&2
  return 1
}

stop_pid() {
  [ -f "$PIDFILE" ] || return 0
  local pid
  pid=$(cat "$PIDFILE")
  kill -TERM "$pid" 2>/dev/null || { rm -f "$PIDFILE"; return 0; }
  for _ in $(seq 150); do
    kill -0 "$pid" 2>/dev/null || { echo "dockerd: stopped"; return 0; }
    sleep 0.2
  done
  kill -KILL "$pid" 2>/dev/null || true
  echo "dockerd: killed after 30s" >&2
}

case "${1:-}" in
start) start ;;
stop) stop_pid ;;
*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
