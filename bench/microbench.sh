#!/usr/bin/env bash
# HPy's own microbenchmark suite (microbench/ of the hpy 0.9.0 sdist from PyPI, unmodified) with
# hpy-rs's `hpy_simple` (bench/hpy_simple) in place of its C one, against its C-API `cpy_simple`.
# Usage: bench/microbench.sh <bench-venv-python>   (prints the suite's table)
set -euo pipefail
cd "$(dirname "$0")/.."
py="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; shift
work="$PWD/build/microbench"
mkdir -p "$work"
if [ ! -d "$work/hpy-0.9.0/microbench" ]; then
    "$py" -m pip download --no-binary :all: --no-deps --disable-pip-version-check -q hpy==0.9.0 -d "$work" >&2
    tar -xzf "$work/hpy-0.9.0.tar.gz" -C "$work" hpy-0.9.0/microbench
fi
mb="$work/hpy-0.9.0/microbench"
mods="$work/modules"
mkdir -p "$mods"
# cpy_simple: the suite's C-API module; _valgrind: its callgrind switch (a cffi module)
include="$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')"
suffix="$("$py" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')"
gcc -O2 -shared -fPIC -I"$include" "$mb/src/cpy_simple.c" -o "$mods/cpy_simple$suffix"
(cd "$mods" && "$py" "$mb/_valgrind_build.py" >/dev/null)
# hpy_simple: hpy-rs
cargo build --release --quiet -p hpy_simple
cp target/release/libhpy_simple.so "$mods/hpy_simple.hpy0.so"
python3 tools/hpy_stub.py "$mods" hpy_simple >/dev/null
cd "$mb"
PYTHONPATH="$mods" "$py" -m pytest -q -p no:cacheprovider test_microbench.py "$@"
