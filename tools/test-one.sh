#!/usr/bin/env bash
# Usage: tools/test-one.sh <module> [pytest args...]
#
# The quick loop while working on one test module: build the macro module <module> (a package
# of the workspace named as its module), then run tests/python/test_<module>.py (or the pytest
# arguments given) with it on CPython 3.11 in universal, debug and trace mode, natively on
# CPython 3.11 (feature hpy/native), and on PyPy 7.3.19 (tools/pypy.sh). HPYRS_ONE_ON picks a
# subset: "universal native pypy" (the default) or any of those words. `make test` runs all of
# it on every interpreter.
set -uo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
[ $# -ge 1 ] || { echo "usage: tools/test-one.sh <module> [pytest args...]" >&2; exit 2; }
module="$1"; shift
[ $# -gt 0 ] || set -- "test_$module.py"
on="${HPYRS_ONE_ON:-universal native pypy}"
python="$(tools/pythons.sh | awk '$1 == "3.11" {print $2; exit}')"
[ -n "$python" ] || { echo "no CPython 3.11 found" >&2; exit 1; }
py="$(tools/venv.sh 3.11 "$python")" || exit 1
var="HPYRS_${module^^}_SO"
status=0
# run <python> [extra pytest args]: the tests with the module variables of the caller's
# environment; the exit status is pytest's
run() {
    local python="$1"; shift
    (cd tests/python && RUST_BACKTRACE=0 "$python" -m pytest -q -p no:cacheprovider -rs -x "${args[@]}" "$@")
}
args=("$@")
if [[ " $on " == *" universal "* || " $on " == *" pypy "* ]]; then
    so="$(tools/build-module.sh "$module" "$module")" || exit 1
fi
if [[ " $on " == *" universal "* ]]; then
    echo "== CPython 3.11, universal/debug/trace"
    (export "$var=$so"; run "$py") || status=1
fi
if [[ " $on " == *" native "* ]]; then
    echo "== CPython 3.11, native build"
    native="$(tools/build-module.sh --native "$py" "$module" "$module")" || exit 1
    (export HPYRS_ABI=native "$var=$native"; run "$py") || status=1
fi
if [[ " $on " == *" pypy "* ]]; then
    echo "== PyPy, universal/debug/trace"
    pypy="$(tools/pypy.sh | tail -n 1)" || exit 1
    (export "$var=$so"; run "$pypy" -p no:hypothesispytest) || status=1
fi
exit $status
