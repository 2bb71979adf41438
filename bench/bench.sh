#!/usr/bin/env bash
# `make bench` (CALLGRIND=1 to count instructions too): build the four variants of the benchmark
# module, then measure them all in one process with bench/run.py.
set -euo pipefail
cd "$(dirname "$0")/.."
read -r minor python <<< "$(tools/pythons.sh | awk '$1 == "3.11" {print; exit}' | grep . || tools/pythons.sh | tail -n 1)"
py="$(tools/venv.sh "bench-$minor" "$python" "$PWD/bench/requirements.txt")"
out="$PWD/build/bench"
mkdir -p "$out"
echo "building the benchmark modules for CPython $minor ..." >&2
bash bench/c/build.sh "$py" "$out" >&2
bash bench/pyo3/build.sh "$py" "$out" >&2
cargo build --release --quiet -p bench_hpyrs
cp target/release/libbench_hpyrs.so "$out/bench_hpyrs.hpy0.so"
echo "HPy's own microbenchmark suite (hpy 0.9.0 sdist) with hpy-rs's hpy_simple ..." >&2
mkdir -p bench/results
bench/microbench.sh "$py" | tee bench/results/microbench.txt | sed -n '/BENCHMARKS/,$p'
args=()
if [ "${CALLGRIND:-0}" = 1 ]; then args+=(--callgrind); fi
"$py" bench/run.py "$out" "${args[@]}"
