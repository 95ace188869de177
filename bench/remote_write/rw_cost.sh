#!/usr/bin/env bash
# The cost of the remote-write path alone: runs the bridge twice against the same
# 100,000-series simulator body (refresh every 10 s), once with no remote_write block and
# once forwarding to a VictoriaMetrics on loopback, and prints CPU seconds per million
# fetched samples and peak RSS (VmHWM) for each, and the difference.
#
#   bench/remote_write/rw_cost.sh [measured seconds, default 60] [series, default 100000]
#
# The difference of two runs is noisy on a busy machine (+-1 CPU s/1M); the CPU of the
# remote-write threads themselves (named rw-*) is printed too.
# SB_PERF=1 also records a flat perf profile of the remote-write run (perf.data in $SB_PERF_DIR,
# default /tmp/rw_cost_perf; SB_PERF_CALL_GRAPH=dwarf for call chains through code built without
# frame pointers). Everything listens on 127.0.0.1 and stops at exit.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
secs="${1:-60}"
series="${2:-100000}"
bin="${SB_BUILD_DIR:-$root/build}"
[ -x "$bin/scout-bridge" ] && [ -x "$bin/scout-sim" ] || { echo "build first: scripts/build.sh" >&2; exit 1; }
work=$(mktemp -d)
pids=()
source "$root/bench/remote_write/lib.sh"  # cleanup, free_port, wait_http, ticks, hwm_mib
trap cleanup EXIT
rw_ticks() {  # CPU ticks of the remote-write threads (named rw-*)
  local sum=0
  for d in /proc/$1/task/*; do
    if [[ "$(cat "$d/comm" 2>/dev/null)" == rw-* ]]; then sum=$((sum + $(awk '{print $14 + $15}' "$d/stat" 2>/dev/null || echo 0))); fi
  done
  echo $sum
}
hwm_kib() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }
hz=$(getconf CLK_TCK)
sim_port=$(free_port); vm_port=$(free_port)
"$bin/scout-sim" --listen "127.0.0.1:$sim_port" --window 10s --orgs "big:tok:$series" >"$work/sim.log" 2>&1 &
pids+=($!)
echo tok > "$work/tok"
victoria-metrics -httpListenAddr="127.0.0.1:$vm_port" -storageDataPath="$work/vm" -retentionPeriod=100y >"$work/vm.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$vm_port/health"
wait_http "http://127.0.0.1:$sim_port/sim/stats"

run() {  # $1 = with|without; prints "cpu_s fetched_samples hwm_kib"
  local port; port=$(free_port)
  cat > "$work/bridge-$1.yml" <<YML
global:
  external_labels: {sender: bridge}
scrape_configs:
  - job_name: big
    metrics_path: /v1/exporter/org/big/metrics
    static_configs: [{targets: ['127.0.0.1:$sim_port']}]
    authorization: {type: Bearer, credentials_file: $work/tok}
    scrape_timeout: 10s
    refresh_interval: 10s
    respect_cache_headers: false
    max_requests_per_hour: 100000
YML
  if [ "$1" = with ]; then printf 'remote_write:\n  - url: http://127.0.0.1:%s/api/v1/write\n    name: vm\n' "$vm_port" >> "$work/bridge-$1.yml"; fi
  "$bin/scout-bridge" --config.file="$work/bridge-$1.yml" --storage.path="$work/data-$1" \
    --web.listen-address="127.0.0.1:$port" >"$work/bridge-$1.log" 2>&1 &
  local pid=$!; pids+=($pid)
  wait_http "http://127.0.0.1:$port/-/ready"
  sleep 25
  local f0 f1 t0 t1 perf_pid=
  f0=$(curl -fsS "http://127.0.0.1:$port/metrics" | awk '/^scout_bridge_upstream_requests_total\{.*code="200"/ {s+=$2} END {print s+0}')
  t0=$(ticks $pid); r0=$(rw_ticks $pid)
  if [ "$1" = with ] && [ -n "${SB_PERF:-}" ]; then
    mkdir -p "${SB_PERF_DIR:-/tmp/rw_cost_perf}"
    perf record -F 499 --call-graph "${SB_PERF_CALL_GRAPH:-fp}" -p "$pid" -o "${SB_PERF_DIR:-/tmp/rw_cost_perf}/perf.data" -- sleep "$secs" >/dev/null 2>&1 &
    perf_pid=$!
  fi
  sleep "$secs"
  t1=$(ticks $pid); r1=$(rw_ticks $pid)
  f1=$(curl -fsS "http://127.0.0.1:$port/metrics" | awk '/^scout_bridge_upstream_requests_total\{.*code="200"/ {s+=$2} END {print s+0}')
  [ -n "$perf_pid" ] && wait "$perf_pid" || true
  echo "$(( t1 - t0 )) $(( (f1 - f0) * series )) $(hwm_kib $pid) $(( r1 - r0 ))"
  if [ "$1" = with ]; then curl -fsS "http://127.0.0.1:$port/metrics" | grep -E '^scout_bridge_remote_storage_(samples|failed_samples|dropped_samples)_total' >&2 || true; fi
  kill $pid; wait $pid 2>/dev/null || true
}
read -r c0 n0 h0 r0 < <(run without)
read -r c1 n1 h1 r1 < <(run with)
python3 - "$hz" "$series" "$secs" "$c0" "$n0" "$h0" "$c1" "$n1" "$h1" "$r1" <<'PY'
import sys
hz, series, secs = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
c0, n0, h0, c1, n1, h1, r1 = map(float, sys.argv[4:11])
per = lambda c, n: (c / hz) / (n / 1e6) if n else float("nan")
print(f"{series} series, refresh every 10 s, measured window {secs} s")
print(f"{'bridge':28} {'CPU s':>7} {'fetched':>10} {'CPU s/1M':>9} {'peak RSS MiB':>13}")
print(f"{'without remote_write':28} {c0/hz:7.2f} {n0:10.0f} {per(c0,n0):9.3f} {h0/1024:13.1f}")
print(f"{'with remote_write (VM)':28} {c1/hz:7.2f} {n1:10.0f} {per(c1,n1):9.3f} {h1/1024:13.1f}")
print(f"remote-write part (difference of the runs): {per(c1,n1)-per(c0,n0):.3f} CPU s/1M samples, {(h1-h0)/1024:+.1f} MiB peak RSS")
print(f"remote-write threads alone (rw-endpoint, rw-shard; the commit listener runs on the store's writer thread and is not in this figure): {per(r1,n1):.3f} CPU s/1M samples")
PY
