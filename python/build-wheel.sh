#!/usr/bin/env bash
# Builds the Python wheel: python/build-wheel.sh OUT_DIR [maturin build flags...]
#
# The wheel's data (share/influx-conformance/{cases,snapshots,targets}, which the installed
# influx-conformance finds beside its bin/) is staged into python/wheel-data/ first, as a copy:
# maturin's `data` directory takes files and symlinks to files but not symlinks to directories,
# and the repository's cases/, snapshots/ and targets/ stay where they are.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: python/build-wheel.sh OUT_DIR [maturin build flags...]}
shift
mkdir -p "$out"
out=$(cd "$out" && pwd)
share="$here/wheel-data/data/share/influx-conformance"
rm -rf "$here/wheel-data"
mkdir -p "$share"
for d in cases snapshots targets; do
  cp -R "$here/../$d" "$share/$d"
done
# Bytecode left by running the package from the source tree is not the wheel's.
find "$here/influx_conformance" -name __pycache__ -type d -prune -exec rm -rf {} +
cd "$here"
maturin=${MATURIN:-maturin}
"$maturin" build --release --locked --out "$out" "$@"
