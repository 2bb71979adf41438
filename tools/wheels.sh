#!/usr/bin/env bash
# `make wheels`: the build backend hpy-build (tools/pep517: hpy_build-<version>-py3-none-any.whl,
# what projects made by `hpy-build new` require), then per example (every
# examples/*/pyproject.toml), into build/wheels/:
# * the universal `py3-none` HPy wheel: what `pip wheel examples/<name>` builds;
# * a native wheel (`hpy-abi=native`: CPython's C API, `cp3X-cp3X`) for every CPython 3.9+
#   found (tools/pythons.sh; pyo3-ffi 0.30 has no 3.8);
# * the stable-ABI wheel (`hpy-abi=abi3`: `cp312-abi3`, one file for CPython 3.12+), built with
#   the first CPython 3.12+ found (none found: not built, with a note).
# The build tools come from the tools venv (no build isolation), so it needs no network once that
# venv exists. The native wheels are built by that same venv: HPY_PYTHON names the CPython a
# wheel is for (hpy_build hands it to maturin), with a cargo target directory per version.
set -euo pipefail
cd "$(dirname "$0")/.."
read -r _ python <<< "$(tools/pythons.sh | awk '$1 == "3.11" {print; exit}' | grep . || tools/pythons.sh | head -n 1)"
py="$(tools/venv.sh tools "$python" "$PWD/tools/requirements-tools.txt")"
mkdir -p build/wheels
pip_wheel() { "$py" -m pip wheel --no-deps --no-build-isolation --disable-pip-version-check -q -w build/wheels "$@" >&2; }
natives="$(tools/pythons.sh | awk '$1 != "3.8"')"
abi3_python="$(tools/pythons.sh | awk '{ split($1, v, "."); if (v[1] == 3 && v[2] >= 12) { print $2; exit } }')"
[ -n "$abi3_python" ] || echo "note: no CPython 3.12+ found: no abi3 wheels" >&2
echo "== tools/pep517: the build backend hpy-build" >&2
pip_wheel tools/pep517
for project in examples/*/pyproject.toml; do
    dir="$(dirname "$project")"
    echo "== $dir: universal" >&2
    CARGO_TARGET_DIR="$PWD/target/wheels" pip_wheel "$dir"
    while read -r minor target_python; do
        [ -n "$minor" ] || continue
        echo "== $dir: native, CPython $minor" >&2
        HPY_PYTHON="$target_python" CARGO_TARGET_DIR="$PWD/target/wheels-native-cp${minor/./}" \
            pip_wheel --config-settings hpy-abi=native "$dir"
    done <<< "$natives"
    if [ -n "$abi3_python" ]; then
        echo "== $dir: abi3 (CPython 3.12+), built with $abi3_python" >&2
        HPY_PYTHON="$abi3_python" CARGO_TARGET_DIR="$PWD/target/wheels-abi3" \
            pip_wheel --config-settings hpy-abi=abi3 "$dir"
    fi
done
ls -1 build/wheels/*.whl
