#!/usr/bin/env bash
# Usage: tools/venv.sh <name> <python> [requirements-file]
# Create (or reuse) build/venv/<name> with the requirements (default:
# tools/requirements-test.txt) installed, and print its python. The venv is rebuilt when the
# requirements file changes.
set -euo pipefail
minor="$1"; python="$2"
here="$(cd "$(dirname "$0")/.." && pwd)"
venv="$here/build/venv/$minor"
reqs="${3:-$here/tools/requirements-test.txt}"
stamp="$venv/.hpyrs-requirements"
if [ -f "$stamp" ] && cmp -s "$stamp" "$reqs" && [ -x "$venv/bin/python" ]; then
    echo "$venv/bin/python"; exit 0
fi
rm -rf "$venv"
echo "creating $venv for $("$python" --version 2>&1)" >&2
"$python" -m venv "$venv" >&2
log="$venv/pip-install.log"
# hpy 0.9.0 has no wheel for 3.12+: pip builds it from the sdist (a C compiler is needed).
if ! "$venv/bin/python" -m pip install --disable-pip-version-check -q -r "$reqs" >"$log" 2>&1; then
    cat "$log" >&2
    echo "error: could not install $reqs into $venv" >&2
    exit 1
fi
cp "$reqs" "$stamp"
echo "$venv/bin/python"
