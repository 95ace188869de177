#!/usr/bin/env bash
# Side by side, in one run: wrk against the bridge's fast-scrape endpoint and against nginx
# serving the very same bytes as a static file (plain, and gzip_static for the gzip case).
#
#   bench/bridge/serve_vs_nginx.sh [seconds per run, default 10] [connections, default 64]
#
# Cases:
#   small  the 245-series Scout body (~25 KB), no compression    bridge vs nginx static
#   big    the 99,900-series body (~12 MB), Accept-Encoding: gzip  bridge vs nginx gzip_static
# Also prints the peak RSS (VmHWM) of a bridge serving one org under load.
# Everything listens on 127.0.0.1 and stops at exit.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
secs="${1:-10}"
conns="${2:-64}"
bin="$root/build"
[ -x "$bin/scout-bridge" ] && [ -x "$bin/scout-sim" ] || { echo "build first: scripts/build.sh" >&2; exit 1; }
for tool in wrk nginx curl; do command -v $tool >/dev/null || [ -x /usr/sbin/$tool ] || { echo "missing $tool: scripts/install-deps.sh" >&2; exit 1; }; done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

work=$(mktemp -d)
chmod 755 "$work"  # nginx workers run as an unprivileged user
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_http() { for _ in $(seq 1 300); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.1; done; echo "timeout waiting for $1" >&2; cat "$work"/*.log >&2; return 1; }

sim_port=$(free_port)
"$bin/scout-sim" --listen "127.0.0.1:$sim_port" --window 3600s --orgs "small:tok-small:250,big:tok-big:100000" >"$work/sim.log" 2>&1 &
pids+=($!)
echo tok-small > "$work/tok-small"; echo tok-big > "$work/tok-big"

mkconfig() { # $1 = file, then org names
  local f=$1; shift
  echo "scrape_configs:" > "$f"
  for org in "$@"; do cat >> "$f" <<YML
  - job_name: $org
    metrics_path: /v1/exporter/org/$org/metrics
    scheme: http
    static_configs: [{targets: ["127.0.0.1:$sim_port"]}]
    authorization: {type: Bearer, credentials_file: $work/tok-$org}
    refresh_interval: 60m
    scrape_timeout: 30s
YML
  done
}
mkconfig "$work/bridge.yml" small big
bridge_port=$(free_port)
"$bin/scout-bridge" --config.file="$work/bridge.yml" --storage.path="$work/data" --web.listen-address="127.0.0.1:$bridge_port" --log.level=warn >"$work/bridge.log" 2>&1 &
bridge_pid=$!
pids+=($bridge_pid)
wait_http "http://127.0.0.1:$bridge_port/v1/exporter/org/small/metrics"
wait_http "http://127.0.0.1:$bridge_port/v1/exporter/org/big/metrics"

# nginx serves exactly the bytes the bridge serves.
mkdir -p "$work/www/v1/exporter/org/small" "$work/www/v1/exporter/org/big"
curl -fsS "http://127.0.0.1:$bridge_port/v1/exporter/org/small/metrics" -o "$work/www/v1/exporter/org/small/metrics"
curl -fsS "http://127.0.0.1:$bridge_port/v1/exporter/org/big/metrics" -o "$work/www/v1/exporter/org/big/metrics"
curl -fsS -H 'Accept-Encoding: gzip' "http://127.0.0.1:$bridge_port/v1/exporter/org/big/metrics" -o "$work/www/v1/exporter/org/big/metrics.gz"
nginx_port=$(free_port)
cat > "$work/nginx.conf" <<NGX
worker_processes auto;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on; tcp_nopush on; tcp_nodelay on;
  keepalive_requests 1000000;
  default_type "text/plain; version=0.0.4; charset=utf-8";
  client_body_temp_path $work/tmp; proxy_temp_path $work/tmp; fastcgi_temp_path $work/tmp; uwsgi_temp_path $work/tmp; scgi_temp_path $work/tmp;
  server { listen 127.0.0.1:$nginx_port; root $work/www; gzip_static on; location / { } }
}
NGX
mkdir -p "$work/tmp"
"$NGINX" -c "$work/nginx.conf" -p "$work" >"$work/nginx.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$nginx_port/v1/exporter/org/small/metrics"

small_bytes=$(stat -c %s "$work/www/v1/exporter/org/small/metrics")
big_gz_bytes=$(stat -c %s "$work/www/v1/exporter/org/big/metrics.gz")
echo "bodies: small ${small_bytes} B plain; big $(stat -c %s "$work/www/v1/exporter/org/big/metrics") B plain, ${big_gz_bytes} B gzip"

rps() { # url [header]
  local out
  if [ $# -gt 1 ]; then out=$(wrk -t2 -c"$conns" -d"${secs}s" -H "$2" "$1"); else out=$(wrk -t2 -c"$conns" -d"${secs}s" "$1"); fi
  echo "$out" | awk '/Requests\/sec/ {print $2}'
}
ratio() { python3 -c "print(f'{float($1)/float($2):.2f}')"; }

rounds="${ROUNDS:-3}"
median() { python3 -c "import sys,statistics; print(f'{statistics.median(map(float, sys.argv[1:])):.0f}')" "$@"; }
echo "wrk -t2 -c$conns -d${secs}s, client and servers on the same 2 cores; $rounds alternating rounds, median"
bs=(); ns=(); bb=(); nb=()
for r in $(seq 1 "$rounds"); do
  bs+=("$(rps "http://127.0.0.1:$bridge_port/v1/exporter/org/small/metrics")")
  ns+=("$(rps "http://127.0.0.1:$nginx_port/v1/exporter/org/small/metrics")")
  bb+=("$(rps "http://127.0.0.1:$bridge_port/v1/exporter/org/big/metrics" "Accept-Encoding: gzip")")
  nb+=("$(rps "http://127.0.0.1:$nginx_port/v1/exporter/org/big/metrics" "Accept-Encoding: gzip")")
done
b_small=$(median "${bs[@]}"); n_small=$(median "${ns[@]}"); b_big=$(median "${bb[@]}"); n_big=$(median "${nb[@]}")
echo "small (plain):  bridge ${b_small} req/s   nginx static ${n_small} req/s   ratio bridge/nginx $(ratio "$b_small" "$n_small")   (rounds: bridge ${bs[*]}; nginx ${ns[*]})"
echo "big (gzip):     bridge ${b_big} req/s   nginx gzip_static ${n_big} req/s   ratio bridge/nginx $(ratio "$b_big" "$n_big")   (rounds: bridge ${bb[*]}; nginx ${nb[*]})"

# Peak RSS of a bridge serving one (Scout-sized) org, after a load run.
kill "$bridge_pid"; wait "$bridge_pid" 2>/dev/null || true
mkconfig "$work/one.yml" small
one_port=$(free_port)
"$bin/scout-bridge" --config.file="$work/one.yml" --storage.path="$work/data1" --web.listen-address="127.0.0.1:$one_port" --log.level=warn >"$work/one.log" 2>&1 &
one_pid=$!
pids+=($one_pid)
wait_http "http://127.0.0.1:$one_port/v1/exporter/org/small/metrics"
wrk -t2 -c"$conns" -d"$(( secs / 2 + 1 ))s" "http://127.0.0.1:$one_port/v1/exporter/org/small/metrics" >/dev/null
echo "peak RSS, bridge serving one org after load: $(awk '/VmHWM/ {print $2, $3}' /proc/$one_pid/status)"
