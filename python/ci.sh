#!/usr/bin/env bash
# CI for the Python wheel (.ci/run): build it, install it into a fresh virtual environment
# with no Rust on PATH, and run python/tests there (the fixture with the official client, the
# installed `influx-conformance run` from a temporary directory), then measure the fixture's
# start and stop. Usage: python/ci.sh WORK_DIR (wheels, venvs and the test copy go there).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${1:?usage: python/ci.sh WORK_DIR}
mkdir -p "$work"
python=${PYTHON:-python3}

# maturin in a venv of its own, kept between runs.
tools="$work/tools"
[ -x "$tools/bin/maturin" ] || { rm -rf "$tools"; "$python" -m venv "$tools"; }
"$tools/bin/pip" install -q --disable-pip-version-check maturin==1.16.0

rm -rf "$work/wheels"
MATURIN="$tools/bin/maturin" "$here/build-wheel.sh" "$work/wheels"
wheel=$(ls "$work"/wheels/influx_conformance-*.whl)
printf 'wheel: %s (%s bytes), built in %s s\n' "$(basename "$wheel")" "$(stat -c %s "$wheel")" "$SECONDS"

# A fresh environment each run: what a user's CI image does with the two README lines.
venv="$work/venv"
rm -rf "$venv"
"$python" -m venv "$venv"
installing=$SECONDS
"$venv/bin/pip" install -q --disable-pip-version-check "$wheel" influxdb-client==1.50.0 pytest==9.2.0
echo "fresh venv with the wheel, influxdb-client and pytest in $((SECONDS - installing)) s"

# The tests run from a copy outside the repository, with a PATH that has the venv and the
# system's directories only: no ~/.cargo/bin, no target/, no ./cases to fall back on.
tests="$work/tests"
rm -rf "$tests"
mkdir -p "$tests"
cp "$here/tests/test_wheel.py" "$here/startup.py" "$tests/"
# The README's example test, as written (the first python block of "## Python users").
awk '/^## Python users/ {s=1} s && /^```python/ {p=1; next} p && /^```/ {exit} p' \
  "$here/../README.md" > "$tests/test_readme.py"
grep -q "def test_" "$tests/test_readme.py" || { echo "no example test in the README's Python users section" >&2; exit 1; }
clean_env=(env -i "HOME=$HOME" "PATH=$venv/bin:/usr/bin:/bin" "LANG=C.UTF-8" "TMPDIR=${TMPDIR:-/tmp}")
if "${clean_env[@]}" sh -c 'command -v cargo || command -v rustc'; then
  echo "Rust is on the test PATH; the wheel must work without it" >&2
  exit 1
fi
cd "$tests"
"${clean_env[@]}" "$venv/bin/python" -m pytest -q -p no:cacheprovider test_wheel.py test_readme.py
"${clean_env[@]}" "$venv/bin/python" startup.py 50
echo "python/ci.sh: $SECONDS s"
