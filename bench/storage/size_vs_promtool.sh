#!/usr/bin/env bash
# Bytes on disk of the same history in our store and in Prometheus TSDB blocks written by
# promtool, side by side. Usage: bench/storage/size_vs_promtool.sh [BUILD_DIR] [generator flags]
#   e.g. bench/storage/size_vs_promtool.sh build              # 250 series, 90 days, ~3% change
#        bench/storage/size_vs_promtool.sh build --busy       # every value changes
# promtool gets --max-block-duration=744h (31 days, the largest block Prometheus compacts
# to), the setting most favourable to it; with its default of 2h it writes one block per
# 2 hours of data.
set -euo pipefail
build=${1:-build}
shift || true
gen="$build/bench/scout-openmetrics"
bridge="$build/scout-bridge"
for f in "$gen" "$bridge"; do [[ -x $f ]] || { echo "missing $f: build it first" >&2; exit 1; }; done
command -v promtool >/dev/null || { echo "promtool not installed" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$gen" "$@" > "$tmp/history.om" 2> /dev/null
samples=$(grep -vc '^#' "$tmp/history.om")
promtool tsdb create-blocks-from openmetrics --max-block-duration=744h \
  "$tmp/history.om" "$tmp/prom" > /dev/null
"$bridge" tsdb import --format=openmetrics "$tmp/history.om" --storage.path="$tmp/ours" > /dev/null
prom_bytes=$(du -sb "$tmp/prom" | cut -f1)
ours_bytes=$(du -sb "$tmp/ours" | cut -f1)
echo "samples:             $samples (input $(du -b "$tmp/history.om" | cut -f1) bytes of OpenMetrics)"
echo "promtool blocks:     $prom_bytes bytes ($(ls "$tmp/prom" | wc -l) blocks), $(awk -v b="$prom_bytes" -v s="$samples" 'BEGIN{printf "%.3f", b/s}') bytes/sample"
echo "scout-bridge store:  $ours_bytes bytes ($(ls "$tmp/ours")), $(awk -v b="$ours_bytes" -v s="$samples" 'BEGIN{printf "%.3f", b/s}') bytes/sample"
echo "ratio promtool/ours: $(awk -v p="$prom_bytes" -v o="$ours_bytes" 'BEGIN{printf "%.2f\n", p/o}')"
