#!/usr/bin/env bash
# Runs the official JavaScript client against a fresh reference server (no initial setup).
# Usage: tests/clients/js/run.sh PATH_TO_influx-reference
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$1
command -v node >/dev/null || { apt-get update -qq && apt-get install -y -qq nodejs npm; }
(cd "$here" && npm install --no-audit --no-fund --silent)
source "$here/../start-server.sh"
start_server "$bin" --no-setup
node "$here/check.mjs" "$SERVER_URL"
