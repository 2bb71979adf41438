#!/usr/bin/env bash
# `make wheels`: one universal `py3-none` wheel per example (every examples/*/pyproject.toml),
# into build/wheels/. Each is what `pip wheel examples/<name>` builds; here the build tools come
# from the tools venv (no build isolation), so it needs no network once that venv exists.
set -euo pipefail
cd "$(dirname "$0")/.."
read -r _ python <<< "$(tools/pythons.sh | awk '$1 == "3.11" {print; exit}' | grep . || tools/pythons.sh | head -n 1)"
py="$(tools/venv.sh tools "$python" "$PWD/tools/requirements-tools.txt")"
mkdir -p build/wheels
export CARGO_TARGET_DIR="$PWD/target/wheels"
for project in examples/*/pyproject.toml; do
    dir="$(dirname "$project")"
    echo "== $dir" >&2
    "$py" -m pip wheel --no-deps --no-build-isolation --disable-pip-version-check -q -w build/wheels "$dir" >&2
done
ls -1 build/wheels/*.whl
