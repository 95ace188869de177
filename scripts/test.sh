#!/usr/bin/env bash
# README command 2: installs what is missing, builds everything once, and runs the whole
# test suite through ctest (unit and integration tests, in parallel where it is safe).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/build.sh"
cd "$root/build"
# Unit tests are independent; integration tests start real peers on their own free
# loopback ports, so they may run side by side too. Each test has its own timeout.
ctest --output-on-failure -j "$(nproc)" --timeout 600 "$@"
