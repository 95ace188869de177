#!/usr/bin/env bash
# Installs everything scout-bridge needs to build, run and test on Debian 12 (bookworm):
# the toolchain and libraries, and the real peers the integration tests start.
# Idempotent and quiet: when everything is present it does nothing and prints nothing.
set -euo pipefail

packages=(
  build-essential cmake pkg-config ninja-build
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev zlib1g-dev libsnappy-dev libprotobuf-dev protobuf-compiler
  libsqlite3-dev libyaml-cpp-dev libre2-dev libexpat1-dev libxxhash-dev libgoogle-perftools-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  ca-certificates openssl curl python3
  prometheus victoria-metrics nginx-light wrk hyperfine
  awscli s3cmd
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# Node.js and npm may come from elsewhere (NodeSource conflicts with Debian's npm): only add them when absent.
if ! command -v npm >/dev/null 2>&1; then missing+=(nodejs npm); fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq >/dev/null
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The Debian packages start their daemons; the tests start their own on loopback ports.
  for svc in prometheus victoria-metrics nginx prometheus-node-exporter; do
    if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl disable --now "$svc" >/dev/null 2>&1 || true; fi
    $SUDO service "$svc" stop >/dev/null 2>&1 || true
  done
fi

# s3rver (an S3-compatible server used by the recommendations tests), kept inside the repo tree.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ ! -x "$root/tools/node/node_modules/.bin/s3rver" ]; then
  echo "install-deps: installing s3rver (npm)" >&2
  mkdir -p "$root/tools/node"
  (cd "$root/tools/node" && npm install --silent --no-audit --no-fund s3rver@3 >/dev/null)
fi
