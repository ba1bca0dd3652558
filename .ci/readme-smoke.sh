#!/usr/bin/env bash
# Runs the README's quick-start exactly as printed: start the reference server, write with
# curl, expect 204; write a bad line, expect the documented 400 body.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v curl >/dev/null || { apt-get update -qq && apt-get install -y -qq curl; }
bin="${CARGO_TARGET_DIR:-target}/debug/influx-reference"
cargo build --locked -p influx-reference --bin influx-reference
log=$(mktemp)
"$bin" serve --bind 127.0.0.1:0 >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do
  grep -q '^listening on ' "$log" && break
  sleep 0.1
done
url=$(sed -n 's/^listening on //p' "$log")
[ -n "$url" ] || { echo "server did not start:"; cat "$log"; exit 1; }

status=$(curl -s -o /dev/null -w '%{http_code}' -XPOST "$url/api/v2/write?org=my-org&bucket=my-bucket&precision=s" \
  -H 'Authorization: Token my-token' --data-binary 'cpu,host=a usage=0.5 1700000000')
[ "$status" = 204 ] || { echo "expected 204, got $status"; exit 1; }

body=$(curl -s -XPOST "$url/api/v2/write?org=my-org&bucket=my-bucket" \
  -H 'Authorization: Token my-token' --data-binary 'cpu,host=a usage=')
expected='{"code":"invalid","message":"unable to parse '"'"'cpu,host=a usage='"'"': missing field value"}'
[ "$body" = "$expected" ] || { echo "unexpected body: $body"; exit 1; }
echo "README quick-start: 2 passed, 0 failed"
