#!/usr/bin/env bash
# `make bench` (CALLGRIND=1 to count instructions too): build the five variants of the benchmark
# module, then measure them all in one process with bench/run.py: on PyPy 7.3.19 (tools/pypy.sh
# sets it up; wall time only), then on CPython. QUICK=1: fewer, shorter repeats (a smoke test).
# The fifth, hpy-rs-native, is bench/hpyrs built against CPython's own C API (feature
# hpy/native): an ordinary extension for this one CPython, so it is not measured on PyPy.
# Also, on CPython 3.12, the stable ABI: the C API module and bench/hpyrs each built with the full
# API and for abi3 (limited API 3.12), measured apart (run.py --stable-abi).
set -euo pipefail
cd "$(dirname "$0")/.."
read -r minor python <<< "$(tools/pythons.sh | awk '$1 == "3.11" {print; exit}' | grep . || tools/pythons.sh | tail -n 1)"
py="$(tools/venv.sh "bench-$minor" "$python" "$PWD/bench/requirements.txt")"
out="$PWD/build/bench"
mkdir -p "$out"
echo "building the benchmark modules for CPython $minor ..." >&2
bash bench/build.sh "$py" "$out"
echo "HPy's own microbenchmark suite (hpy 0.9.0 sdist) with hpy-rs's hpy_simple ..." >&2
mkdir -p bench/results
bench/microbench.sh "$py" | tee bench/results/microbench.txt | sed -n '/BENCHMARKS/,$p'

# PyPy: the same .hpy0.so files, and the C API and PyO3 modules built for its cpyext, measured
# in one PyPy process (wall time). Without PyPy the CPython part still runs, and the results say
# why PyPy is missing.
pypy_json="$out/pypy.json"
pypy_part() {
    local pypy dir="$out/pypy"
    echo "setting up PyPy (tools/pypy.sh) ..." >&2
    pypy="$(tools/pypy.sh)" || { skipped="tools/pypy.sh could not set up PyPy"; return 1; }
    echo "building the benchmark modules for PyPy ..." >&2
    mkdir -p "$dir"
    cp "$out/bench_chpy.hpy0.so" "$out/bench_hpyrs.hpy0.so" "$dir/"
    # compiled inside the PyPy root, against its headers (pypy3-dev)
    CC="$PWD/build/pypy/bin/in-root gcc" bash bench/c/build.sh "$pypy" "$dir" capi >&2 \
        || { skipped="the C API module did not build for PyPy"; return 1; }
    # PyO3's build script runs PYO3_PYTHON in cargo's registry, outside the repo, where the
    # wrapper cannot take it into the root: this one starts it from the repo.
    printf '#!/bin/sh\ncd '"'%s'"' && exec '"'%s'"' "$@"\n' "$PWD" "$pypy" >"$dir/pypy3"
    chmod +x "$dir/pypy3"
    bash bench/pyo3/build.sh "$dir/pypy3" "$dir" >&2 || { skipped="the PyO3 module did not build for PyPy"; return 1; }
    "$pypy" bench/run.py "$dir" --out "$pypy_json" ${QUICK:+--quick} \
        || { skipped="the PyPy run failed (exit status $?)"; return 1; }
}
skipped=
rm -f "$pypy_json"
if ! pypy_part; then
    echo "PyPy not measured: $skipped (the CPython part goes on)" >&2
    printf '{"skipped": "%s"}\n' "$skipped" >"$pypy_json"
fi

# The stable ABI (abi3), on CPython 3.12, the floor of the limited API the abi3 build targets:
# the C API module built for 3.12 with the full API (c-api) and with -DPy_LIMITED_API=0x030c0000
# (c-api-abi3), and bench/hpyrs built natively for 3.12 (hpy-rs-native) and with the feature
# hpy/abi3 (hpy-rs-abi3). Their module names repeat, so each goes to a directory of its own,
# $out/stable-abi/<variant>/, from which run.py loads it by path; hpy is not needed. Measured in
# one 3.12 process (run.py --stable-abi), written to a file that the CPython run below stores
# under "stable_abi" in latest.json. Without CPython 3.12 the rest still runs, and the results
# say why this part is missing.
stable_json="$out/stable-abi.json"
stable_abi_part() {
    local minor312 python312 py312 dir="$out/stable-abi" suffix312
    read -r minor312 python312 <<< "$(tools/pythons.sh | awk '$1 == "3.12" {print; exit}')"
    [ -n "${python312:-}" ] || { skipped="no CPython 3.12 found (tools/pythons.sh)"; return 1; }
    py312="$(tools/venv.sh "$minor312" "$python312")" || { skipped="tools/venv.sh could not make the 3.12 venv"; return 1; }
    echo "building the stable-ABI variants for CPython $minor312 ..." >&2
    rm -rf "$dir"
    mkdir -p "$dir/c-api" "$dir/c-api-abi3" "$dir/hpy-rs-native" "$dir/hpy-rs-abi3"
    suffix312="$("$py312" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')"
    bash bench/c/build.sh "$py312" "$dir/c-api" capi >&2 || { skipped="the C API module did not build for 3.12"; return 1; }
    CFLAGS="${CFLAGS:-} -DPy_LIMITED_API=0x030c0000" bash bench/c/build.sh "$py312" "$dir/c-api-abi3" capi >&2 \
        || { skipped="the C API module did not build with the limited API"; return 1; }
    mv "$dir/c-api-abi3/bench_capi$suffix312" "$dir/c-api-abi3/bench_capi.abi3.so"
    # as tools/build-module.sh --native / --abi3 do, in release and in target directories of
    # their own (absolute), so that no build invalidates another's pyo3-ffi
    PYO3_PYTHON="$py312" PYO3_BUILD_EXTENSION_MODULE=1 CARGO_TARGET_DIR="$PWD/target/bench-native-cp312" \
        cargo build --release --quiet -p bench_hpyrs --features hpy/native \
        || { skipped="bench/hpyrs did not build natively for 3.12"; return 1; }
    cp target/bench-native-cp312/release/libbench_hpyrs.so "$dir/hpy-rs-native/bench_hpyrs$suffix312"
    PYO3_PYTHON="$py312" PYO3_BUILD_EXTENSION_MODULE=1 CARGO_TARGET_DIR="$PWD/target/bench-abi3" \
        cargo build --release --quiet -p bench_hpyrs --features hpy/abi3 \
        || { skipped="bench/hpyrs did not build with the feature hpy/abi3"; return 1; }
    cp target/bench-abi3/release/libbench_hpyrs.so "$dir/hpy-rs-abi3/bench_hpyrs.abi3.so"
    local sargs=(--stable-abi "$dir" --out "$stable_json")
    if [ "${CALLGRIND:-0}" = 1 ]; then sargs+=(--callgrind); fi
    if [ -n "${QUICK:-}" ]; then sargs+=(--quick); fi
    "$py312" bench/run.py "${sargs[@]}" || { skipped="the CPython 3.12 run failed (exit status $?)"; return 1; }
}
skipped=
rm -f "$stable_json"
if ! stable_abi_part; then
    echo "stable ABI not measured: $skipped (the CPython part goes on)" >&2
    printf '{"skipped": "%s"}\n' "$skipped" >"$stable_json"
fi

args=(--pypy "$pypy_json" --stable-abi-results "$stable_json")
if [ "${CALLGRIND:-0}" = 1 ]; then args+=(--callgrind); fi
if [ -n "${QUICK:-}" ]; then args+=(--quick); fi
"$py" bench/run.py "$out" "${args[@]}"
