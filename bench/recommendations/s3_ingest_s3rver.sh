#!/usr/bin/env bash
# Times `scout-bridge recommendations ingest s3://...` against a local s3rver holding the 18
# report fixtures plus N filler objects (default 1,000) under one prefix:
#   cold  - a fresh store: list every page, GET and parse every object;
#   warm  - the same store again: list every page, every ETag unchanged, nothing downloaded.
# Usage: bench/recommendations/s3_ingest_s3rver.sh [BUILD_DIR] [FILLERS]
# Needs: node, s3rver (scripts/install-deps.sh), aws CLI, hyperfine. Loopback only.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${1:-$root/build}"
fillers="${2:-1000}"
bin="$build/scout-bridge"
[ -x "$bin" ] || { echo "no $bin: build the scout-bridge target first" >&2; exit 1; }
aws_cli=/usr/bin/aws; [ -x "$aws_cli" ] || aws_cli="$(command -v aws)"

tmp="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
mkdir -p "$tmp/data" "$tmp/up"
# s3rver's continuation tokens use DES: Node >= 17 needs the legacy OpenSSL provider.
node --openssl-legacy-provider "$root/tools/node/node_modules/s3rver/bin/s3rver.js" \
  -d "$tmp/data" -a 127.0.0.1 -p "$port" --silent --configure-bucket bench >"$tmp/s3rver.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done

cp "$root"/tests/recommendations/fixtures/*.txt "$tmp/up/"
for i in $(seq 1 "$fillers"); do echo "not a report $i" >"$tmp/up/filler-$i.txt"; done
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_EC2_METADATA_DISABLED=true \
       AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
"$aws_cli" --endpoint-url "http://127.0.0.1:$port" s3 sync "$tmp/up" s3://bench/ci/ --only-show-errors
objects=$(ls "$tmp/up" | wc -l)
echo "s3rver on 127.0.0.1:$port, $objects objects under s3://bench/ci/"

ingest="$bin recommendations ingest s3://bench/ci/ --s3.endpoint=http://127.0.0.1:$port --storage.path=$tmp/store"
hyperfine --runs 5 --prepare "rm -rf $tmp/store" --command-name cold "$ingest" \
          --export-markdown "$tmp/cold.md" >/dev/null
$ingest >/dev/null
hyperfine --runs 5 --command-name warm "$ingest" --export-markdown "$tmp/warm.md" >/dev/null
cat "$tmp/cold.md" "$tmp/warm.md"
$ingest
