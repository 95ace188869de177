#!/usr/bin/env bash
# README command 1: installs what is missing, builds, and runs the bridge in demo mode with
# the bundled Scout simulator as its upstream and the store under ./data.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/build.sh" --target scout-bridge
cd "$root"
exec "$root/build/scout-bridge" demo --storage.path=./data "$@"
