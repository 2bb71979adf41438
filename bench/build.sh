#!/usr/bin/env bash
# Usage: bench/build.sh <python> <outdir>
#
# The benchmark module in every variant measured on CPython, for <python> (a venv with hpy):
#   <outdir>/bench_capi<EXT_SUFFIX>, <outdir>/bench_chpy.hpy0.so   bench/c/build.sh
#   <outdir>/bench_pyo3<EXT_SUFFIX>                                bench/pyo3/build.sh
#   <outdir>/bench_hpyrs.hpy0.so                                   bench/hpyrs, universal
#   <outdir>/native/bench_hpyrs<EXT_SUFFIX>                        bench/hpyrs, feature hpy/native
# All in release mode. `make bench` (bench/bench.sh) measures them; `make test` runs
# `bench/run.py <outdir> --check` on them (the variants behave alike).
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 <python> <outdir>" >&2; exit 2; }
py="$1"
mkdir -p "$2"
out="$(cd "$2" && pwd)"
cd "$(dirname "$0")/.."
bash bench/c/build.sh "$py" "$out" >&2
bash bench/pyo3/build.sh "$py" "$out" >&2
cargo build --release --quiet -p bench_hpyrs
cp target/release/libbench_hpyrs.so "$out/bench_hpyrs.hpy0.so"
# The same crate, native: pyo3-ffi's build script reads this CPython's configuration
# (PYO3_PYTHON, an absolute path); its own target directory (absolute), so that neither build
# invalidates the other. Its module name is bench_hpyrs too: it goes to a directory of its own,
# native/, from which run.py loads it by path.
native_suffix="$("$py" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')"
mkdir -p "$out/native"
rm -f "$out/native/"bench_hpyrs*
PYO3_PYTHON="$py" PYO3_BUILD_EXTENSION_MODULE=1 CARGO_TARGET_DIR="$PWD/target/bench-native" \
    cargo build --release --quiet -p bench_hpyrs --features hpy/native
cp target/bench-native/release/libbench_hpyrs.so "$out/native/bench_hpyrs$native_suffix"
