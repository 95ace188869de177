# Shared by the remote-write side-by-side scripts (vs_vmagent.sh, rw_cost.sh); sourced after
# they set $work (a temporary directory) and the array pids. Loopback only.
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
# Waits up to 60 s for a 2xx from URL $1; on timeout shows the peers' logs.
wait_http() { for _ in $(seq 1 600); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.1; done; echo "timeout waiting for $1" >&2; tail -n 20 "$work"/*.log >&2 || true; return 1; }
# CPU clock ticks (utime + stime) of process $1; peak RSS (VmHWM) in MiB.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hwm_mib() { awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
