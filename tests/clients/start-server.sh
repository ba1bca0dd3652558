# Sourced by the client entry scripts: starts `influx-reference serve` on an ephemeral port and
# exports SERVER_URL; the server is stopped when the calling script exits.
start_server() {
  local bin=$1; shift
  SERVER_LOG=$(mktemp)
  "$bin" serve --bind 127.0.0.1:0 "$@" >"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!
  trap 'kill $SERVER_PID 2>/dev/null || true; rm -f "$SERVER_LOG"' EXIT
  for _ in $(seq 1 100); do
    grep -q '^listening on ' "$SERVER_LOG" && break
    sleep 0.1
  done
  SERVER_URL=$(sed -n 's/^listening on //p' "$SERVER_LOG")
  if [ -z "$SERVER_URL" ]; then
    echo "the reference server did not start:"; cat "$SERVER_LOG"; return 1
  fi
  export SERVER_URL
}
