#!/usr/bin/env bash
# Installs everything the tests need: Go modules, staticcheck, and Debian
# packages (filesystem tools for the prober's real-mount tests, ZooKeeper).
# Idempotent; safe to run on a machine that has some of it already.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pkg in e2fsprogs xfsprogs util-linux mount zookeeper; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "install-deps: missing Debian packages ${need[*]} (run as root to install)" >&2
  fi
fi

go mod download

# staticcheck for make lint, pinned (a version the module proxy serves that
# supports this Go).
staticcheck_version=v0.7.0
bin="$(go env GOPATH)/bin/staticcheck"
if ! { [ -x "$bin" ] && "$bin" -version 2>/dev/null | grep -q "($staticcheck_version)"; }; then
  go install "honnef.co/go/tools/cmd/staticcheck@$staticcheck_version"
fi
