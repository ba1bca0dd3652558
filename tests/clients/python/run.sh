#!/usr/bin/env bash
# Runs the official Python client against a fresh reference server (no initial setup, so the
# client onboards it). Usage: tests/clients/python/run.sh PATH_TO_influx-reference
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$1
venv=${CLIENTS_VENV:-/var/tmp/influx-conformance-venv}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check influxdb-client==1.50.0
source "$here/../start-server.sh"
start_server "$bin" --no-setup
"$venv/bin/python" "$here/check.py" "$SERVER_URL"
