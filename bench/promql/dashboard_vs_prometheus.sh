#!/usr/bin/env bash
# The overview dashboard's six range queries (Docker's sample project, dashboard.json) over
# 30 days at a 1h step for one org and one stream, against the bridge and against a real
# Prometheus 2.42 holding the same data (the differential test's data set: 3 orgs, 30 days,
# hourly), in the same run. Prints the median latency of each query on each server (N runs
# after a warm-up, one keep-alive connection each, form POST as Grafana sends it, requests
# alternating between the servers so that both see the same machine load) and the ratio.
#
#   bench/promql/dashboard_vs_prometheus.sh [BUILD_DIR] [N]
#
# BUILD_DIR defaults to build/ and must hold scout-bridge and scout-dataset
# (cmake --build BUILD_DIR --target scout-bridge scout-dataset). N defaults to 50.
set -euo pipefail
BUILD=${1:-build}
N=${2:-50}
BUILD=$(cd "$BUILD" && pwd)
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_ready() {  # port path
  for _ in $(seq 1 300); do
    curl -sf "http://127.0.0.1:$1$2" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "not ready: port $1" >&2
  return 1
}

echo "generating the data set (3 orgs x 245 series x 720 hours)..." >&2
# Recent data: the bridge's store drops data older than its retention (365 days).
START=$(( ( $(date +%s) / 86400 - 31 ) * 86400 ))
"$BUILD/scout-dataset" 720 "$START" > "$WORK/data.om"
promtool tsdb create-blocks-from openmetrics --max-block-duration=744h "$WORK/data.om" "$WORK/prom-tsdb" >/dev/null
"$BUILD/scout-bridge" tsdb import --format=openmetrics "$WORK/data.om" --storage.path="$WORK/bridge-data" >/dev/null

printf 'global:\n  scrape_interval: 1h\n' > "$WORK/prometheus.yml"
printf 'scrape_configs: []\n' > "$WORK/bridge.yml"
PROM_PORT=$(free_port)
BRIDGE_PORT=$(free_port)
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/prom-tsdb" \
  --storage.tsdb.retention.time=100y --query.lookback-delta=65m \
  --web.listen-address="127.0.0.1:$PROM_PORT" > "$WORK/prometheus.log" 2>&1 &
PIDS+=($!)
"$BUILD/scout-bridge" --config.file="$WORK/bridge.yml" --storage.path="$WORK/bridge-data" \
  --query.lookback-delta=1h5m --web.listen-address="127.0.0.1:$BRIDGE_PORT" > "$WORK/bridge.log" 2>&1 &
PIDS+=($!)
wait_ready "$PROM_PORT" /-/ready
wait_ready "$BRIDGE_PORT" /-/healthy

/usr/bin/python3 - "$PROM_PORT" "$BRIDGE_PORT" "$N" "$START" <<'PY'
import http.client, statistics, sys, time, urllib.parse, json
prom_port, bridge_port, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
start = int(sys.argv[4]) + 17      # the data set's first hour, 17 s off the hour
end = start + 30 * 86400 - 3600
org, stream = "acme", "production"
queries = [f'sum by(severity) (scout_stream_vulnerabilities{{job="{org}", streamName="{stream}", severity="{s}"}})'
           for s in ("CRITICAL", "HIGH", "MEDIUM", "LOW", "UNSPECIFIED")]
queries.append(f'sum(scout_stream_vulnerabilities{{job="{org}", streamName="{stream}"}})')

class Client:
    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port)
    def once(self, q):
        body = urllib.parse.urlencode({"query": q, "start": start, "end": end, "step": 3600})
        hdrs = {"Content-Type": "application/x-www-form-urlencoded"}
        t0 = time.perf_counter()
        self.conn.request("POST", "/api/v1/query_range", body, hdrs)
        r = self.conn.getresponse()
        data = r.read()
        dt = time.perf_counter() - t0
        assert r.status == 200, data[:200]
        return dt, data

def points(data):
    return sum(len(s["values"]) for s in json.loads(data)["data"]["result"])

# Requests alternate between the two servers, so that both see the same machine load.
prom, bridge = Client(prom_port), Client(bridge_port)
print(f"overview dashboard, org={org} streamName={stream}, 30 days at 1h step, median of {n} (ms)")
print(f"{'query':<14}{'prometheus':>12}{'bridge':>10}{'bridge/prom':>13}{'points':>8}")
tp = tb = 0.0
for q in queries:
    for _ in range(3):
        prom.once(q)
        bridge.once(q)
    times_p, times_b = [], []
    for _ in range(n):
        dt, dp = prom.once(q)
        times_p.append(dt)
        dt, db = bridge.once(q)
        times_b.append(dt)
    pp, pb = points(dp), points(db)
    assert pp == pb, (q, pp, pb)
    mp, mb = statistics.median(times_p) * 1000, statistics.median(times_b) * 1000
    tp += mp
    tb += mb
    label = q.split('severity="')[1].split('"')[0] if 'severity="' in q else "sum (total)"
    print(f"{label:<14}{mp:>12.3f}{mb:>10.3f}{mb / mp:>13.2f}{pb:>8}")
print(f"{'all six':<14}{tp:>12.3f}{tb:>10.3f}{tb / tp:>13.2f}")
print("load average:", open("/proc/loadavg").read().split()[:3])
PY
