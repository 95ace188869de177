#!/usr/bin/env bash
# Configures and builds scout-bridge into build/ (Release with debug info), installing
# missing dependencies first. Incremental: a second run rebuilds only what changed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/install-deps.sh"
jobs="${SB_BUILD_JOBS:-$(nproc)}"
if [ ! -f "$root/build/build.ninja" ]; then
  cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$root/build" -j "$jobs" "$@"
