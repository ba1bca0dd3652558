#!/usr/bin/env bash
# Runs the official Python client's own test suite (the tests/ directory of the pinned
# influxdb-client sdist) against a fresh reference server: the curated node ids of
# suite-tests.txt, which says why every other test is left out. Fails when a selected test
# fails, errors or is skipped. Usage: tests/clients/python/suite.sh PATH_TO_influx-reference
#
# The sdist ships the tests but not their helpers, so suite/base_test.py (ours) stands in for
# tests/base_test.py and the stock config.ini is written here. The tests hard-code
# http://localhost:8086; the unpacked copy is rewritten to the server's ephemeral URL.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$1
version=1.50.0
sdist_sha256=c2a4906573097103fa6f9a2ab08efe2eb48c2fed60b8129a3e320affde445743
venv=${CLIENTS_SUITE_VENV:-/var/tmp/influx-clients-venv}
cache=${CLIENTS_SUITE_CACHE:-/var/tmp/influx-clients-suite}
sdist="$cache/influxdb_client-$version.tar.gz"

[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
pip() { "$venv/bin/pip" -q --disable-pip-version-check "$@"; }
mkdir -p "$cache"
if ! echo "$sdist_sha256  $sdist" | sha256sum -c --status 2>/dev/null; then
  pip download --no-deps --no-binary :all: -d "$cache" "influxdb-client==$version"
  echo "$sdist_sha256  $sdist" | sha256sum -c --quiet
fi
# Exact pins and no dependency resolution: the same packages on every run.
pip install --no-deps -r "$here/suite/requirements.txt"
"$venv/bin/python" -c "import influxdb_client, sys; sys.exit(influxdb_client.__version__ != '$version')" 2>/dev/null \
  || pip install --no-deps "$sdist"

source "$here/../start-server.sh"
start_server "$bin"
work=$(mktemp -d)
# start_server's EXIT trap stops the server; remove the unpacked copy too.
trap 'kill $SERVER_PID 2>/dev/null || true; rm -rf "$SERVER_LOG" "$work"' EXIT

tar -xzf "$sdist" -C "$work"
src="$work/influxdb_client-$version"
cp "$here/suite/base_test.py" "$src/tests/base_test.py"
touch "$src/tests/__init__.py"
# The client's stock tests/config.ini (v1.50.0, blob 32fc6d0c3f3f9cf3b9df39c95a26af0bf76adbad), byte
# for byte but the URL: it names profilers, so every query of a client built from it sends
# `import "profiler"` and `option profiler.enabledProfilers` in its extern.
printf '%s\n' '[influx2]' "url=$SERVER_URL" 'org=my-org' 'token=my-token' 'timeout=6000' \
  'connection_pool_maxsize=55' 'auth_basic=false' 'profilers=query, operator' '' '[tags]' \
  'id = 132-987-655' 'customer = California Miner' >"$src/tests/config.ini"
printf '%s' 'data_center = ${env.data_center}' >>"$src/tests/config.ini"
sed -i "s#http://localhost:8086#$SERVER_URL#g" "$src"/tests/*.py

mapfile -t selected < <(grep -v '^[[:space:]]*\(#\|$\)' "$here/suite-tests.txt")
export INFLUXDB_V2_URL=$SERVER_URL INFLUXDB_V2_TOKEN=my-token INFLUXDB_V2_ORG=my-org
cd "$src"
status=0
"$venv/bin/python" -m pytest -q -p no:cacheprovider --timeout 60 -W ignore::DeprecationWarning \
  --junitxml="$work/junit.xml" "${selected[@]}" || status=$?
# pytest exits 0 with skipped tests; a selected test that did not run is a failure too.
"$venv/bin/python" - "$work/junit.xml" "${#selected[@]}" <<'EOF' || status=1
import sys, xml.etree.ElementTree as ET
cases = list(ET.parse(sys.argv[1]).getroot().iter("testcase"))
bad = [c.get("classname") + "::" + c.get("name") for c in cases
       if any(child.tag in ("failure", "error", "skipped") for child in c)]
if len(cases) != int(sys.argv[2]) or bad:
    print(f"client suite: {len(cases)} of {sys.argv[2]} selected tests ran; not passed: {bad}")
    sys.exit(1)
print(f"client suite: all {len(cases)} selected tests of influxdb-client passed")
EOF
exit $status
