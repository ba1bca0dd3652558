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

# "InfluxDB 3 Core in one minute": the partial write and the SQL read-back, as printed.
log3=$(mktemp)
"$bin" serve --flavor v3 --token my-token --bind 127.0.0.1:0 >"$log3" 2>&1 &
pid3=$!
trap 'kill $pid 2>/dev/null || true; kill $pid3 2>/dev/null || true; rm -f "$log" "$log3"' EXIT
for _ in $(seq 1 100); do
  grep -q '^listening on ' "$log3" && break
  sleep 0.1
done
url3=$(sed -n 's/^listening on //p' "$log3")
[ -n "$url3" ] || { echo "v3 server did not start:"; cat "$log3"; exit 1; }
body=$(curl -s -w ' %{http_code}' -XPOST "$url3/api/v3/write_lp?db=mydb" -H 'Authorization: Bearer my-token' \
  --data-binary $'cpu,host=a usage=0.5 1700000000\ncpu,host=b usage=\ncpu,host=c usage="x" 1700000000')
expected='{"error":"partial write of line protocol occurred","data":[{"error_message":"No fields were provided","line_number":2,"original_line":"cpu,host=b usage="},{"error_message":"invalid column type for column '"'"'usage'"'"', expected iox::column_type::field::float, got iox::column_type::field::string","line_number":3,"original_line":"cpu,host=c usage=x 1"}]} 400'
[ "$body" = "$expected" ] || { echo "unexpected v3 body: $body"; exit 1; }
body=$(curl -s "$url3/api/v3/query_sql?db=mydb&format=jsonl&q=SELECT+*+FROM+cpu" -H 'Authorization: Bearer my-token')
[ "$body" = '{"host":"a","time":"2023-11-14T22:13:20","usage":0.5}' ] || { echo "unexpected v3 read-back: $body"; exit 1; }
echo "README quick-start: 4 passed, 0 failed"
