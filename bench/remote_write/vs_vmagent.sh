#!/usr/bin/env bash
# Side by side, in one run: the bridge, vmagent 1.79 and Prometheus 2.42 in agent mode all
# scrape the same 100,000-series upstream body (build/scout-sim) every 10 s and forward it
# by remote write to one VictoriaMetrics. Each sender adds its own external label
# sender=<name>, so VictoriaMetrics tells how many samples each one delivered.
#
#   bench/remote_write/vs_vmagent.sh [measured seconds, default 60] [series, default 100000]
#
# Prints, per sender: CPU seconds (utime+stime from /proc/<pid>/stat, over the measured
# window), samples delivered in that window (count_over_time in VictoriaMetrics),
# CPU-seconds per million samples, and peak RSS (VmHWM). Then the ratios the issue asks for.
# Everything listens on 127.0.0.1 and stops at exit. Note: the bridge's CPU also covers
# what the others do not do: it keeps every fetch in its SQLite store (fsync per fetch).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
secs="${1:-60}"
series="${2:-100000}"
bin="${SB_BUILD_DIR:-$root/build}"
[ -x "$bin/scout-bridge" ] && [ -x "$bin/scout-sim" ] || { echo "build first: scripts/build.sh" >&2; exit 1; }
for tool in vmagent victoria-metrics prometheus curl python3; do
  command -v $tool >/dev/null || { echo "missing $tool: scripts/install-deps.sh" >&2; exit 1; }
done

work=$(mktemp -d)
pids=()
source "$root/bench/remote_write/lib.sh"  # cleanup, free_port, wait_http, ticks, hwm_mib
trap cleanup EXIT
hz=$(getconf CLK_TCK)

sim_port=$(free_port); vm_port=$(free_port); bridge_port=$(free_port); vma_port=$(free_port); prom_port=$(free_port)
"$bin/scout-sim" --listen "127.0.0.1:$sim_port" --window 10s --orgs "big:tok:$series" >"$work/sim.log" 2>&1 &
pids+=($!)
echo tok > "$work/tok"
victoria-metrics -httpListenAddr="127.0.0.1:$vm_port" -storageDataPath="$work/vm" -search.latencyOffset=0s \
  -search.disableCache -retentionPeriod=100y >"$work/vm.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$vm_port/health"
wait_http "http://127.0.0.1:$sim_port/sim/stats"
url="http://127.0.0.1:$vm_port/api/v1/write"
job="    metrics_path: /v1/exporter/org/big/metrics
    static_configs: [{targets: ['127.0.0.1:$sim_port']}]
    authorization: {type: Bearer, credentials_file: $work/tok}
    scrape_timeout: 10s"

cat > "$work/bridge.yml" <<YML
global:
  external_labels: {sender: bridge}
scrape_configs:
  - job_name: big
$job
    refresh_interval: 10s
    respect_cache_headers: false
    max_requests_per_hour: 100000
remote_write:
  - url: $url
    name: vm
YML
cat > "$work/scrape.yml" <<YML
global:
  scrape_interval: 10s
  external_labels: {sender: SENDER}
scrape_configs:
  - job_name: big
$job
YML
sed 's/SENDER/prom-agent/' "$work/scrape.yml" > "$work/prom.yml"
printf 'remote_write:\n  - url: %s\n' "$url" >> "$work/prom.yml"
sed '/external_labels/d' "$work/scrape.yml" > "$work/vmagent.yml"

"$bin/scout-bridge" --config.file="$work/bridge.yml" --storage.path="$work/bridge-data" \
  --web.listen-address="127.0.0.1:$bridge_port" >"$work/bridge.log" 2>&1 &
pid_bridge=$!; pids+=($pid_bridge)
vmagent -httpListenAddr="127.0.0.1:$vma_port" -promscrape.config="$work/vmagent.yml" -remoteWrite.url="$url" \
  -remoteWrite.label=sender=vmagent -remoteWrite.tmpDataPath="$work/vmagent-data" >"$work/vmagent.log" 2>&1 &
pid_vma=$!; pids+=($pid_vma)
prometheus --enable-feature=agent --config.file="$work/prom.yml" --storage.agent.path="$work/prom-data" \
  --web.listen-address="127.0.0.1:$prom_port" >"$work/prom.log" 2>&1 &
pid_prom=$!; pids+=($pid_prom)
wait_http "http://127.0.0.1:$bridge_port/-/ready"
wait_http "http://127.0.0.1:$vma_port/health"
wait_http "http://127.0.0.1:$prom_port/-/ready"

echo "warming up 25 s (first scrapes, start-up allocations)..." >&2
sleep 25
b0=$(ticks $pid_bridge); v0=$(ticks $pid_vma); p0=$(ticks $pid_prom); t0=$(date +%s)
sleep "$secs"
b1=$(ticks $pid_bridge); v1=$(ticks $pid_vma); p1=$(ticks $pid_prom); t1=$(date +%s)
sleep 5  # let the last batches land
curl -fsS "http://127.0.0.1:$vm_port/internal/force_flush" >/dev/null
window=$((t1 - t0))
count() {  # samples of sender $1 with timestamps in (t0, t1]
  curl -fsS "http://127.0.0.1:$vm_port/api/v1/query" --data-urlencode "query=sum(count_over_time({sender=\"$1\"}[${window}s]))" \
    --data-urlencode "time=$t1" | python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else 0)'
}
nb=$(count bridge); nv=$(count vmagent); np=$(count prom-agent)
hb=$(hwm_mib $pid_bridge); hv=$(hwm_mib $pid_vma); hp=$(hwm_mib $pid_prom)
python3 - "$hz" "$window" "$series" "$b0" "$b1" "$nb" "$hb" "$v0" "$v1" "$nv" "$hv" "$p0" "$p1" "$np" "$hp" <<'PY'
import sys
hz, window, series = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
rows = []
for i, name in enumerate(["scout-bridge", "vmagent 1.79", "prometheus 2.42 agent"]):
    t0, t1, n, hwm = sys.argv[4 + 4*i: 8 + 4*i]
    cpu = (float(t1) - float(t0)) / hz
    n = float(n)
    rows.append((name, cpu, n, cpu / (n / 1e6) if n else float("nan"), float(hwm)))
print(f"{series} series, scrape/refresh every 10 s, measured window {window} s")
print(f"{'sender':24} {'CPU s':>8} {'samples':>12} {'CPU s/1M samples':>18} {'peak RSS MiB':>13}")
for r in rows:
    print(f"{r[0]:24} {r[1]:8.2f} {r[2]:12.0f} {r[3]:18.3f} {r[4]:13.1f}")
b, v, p = rows
print(f"bridge CPU/sample vs vmagent: {b[3]/v[3]:.2f}x (target <= 0.5)")
print(f"bridge peak RSS vs Prometheus agent: {b[4]/p[4]:.2f}x (target <= 0.25)")
PY
