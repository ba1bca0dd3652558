#!/usr/bin/env bash
# The HTML report in a real browser: headless Chromium from Debian's package, driven by
# playwright-core from npm (both installed here when missing, so a fresh machine passes).
# Usage: tests/browser/run.sh PATH_TO_influx-conformance REPORT.json [REPORT.json ...]
# Renders each JSON report alone and all of them side by side (`influx-conformance report
# --report-html`) and checks each page (report.mjs); SCREENSHOT=FILE keeps a screenshot of the
# side-by-side page.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -lt 2 ]; then
  echo "usage: $0 PATH_TO_influx-conformance REPORT.json [REPORT.json ...]" >&2
  exit 2
fi
bin=$1
shift
# Only what is missing: a machine whose Node.js came from elsewhere (NodeSource's package
# bundles npm and conflicts with Debian's npm) must not be asked to install Debian's.
need=()
command -v chromium >/dev/null || need+=(chromium)
if ! command -v node >/dev/null; then
  need+=(nodejs npm)
elif ! command -v npm >/dev/null; then
  need+=(npm)
fi
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
(cd "$here" && npm install --no-audit --no-fund --silent)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for json in "$@"; do
  "$bin" report "$json" --report-html "$out/one.html"
  node "$here/report.mjs" "$out/one.html"
done
"$bin" report "$@" --report-html "$out/all.html"
node "$here/report.mjs" "$out/all.html" ${SCREENSHOT:+"$SCREENSHOT"}
