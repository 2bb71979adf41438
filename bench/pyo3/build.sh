#!/usr/bin/env bash
# Build the PyO3 benchmark module for one interpreter (version-specific ABI, release mode) and
# copy it to <outdir>/bench_pyo3<EXT_SUFFIX>, printing that path on stdout.
# Usage: bench/pyo3/build.sh <python> <outdir>
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 <python> <outdir>" >&2
    exit 2
fi
python=$1
outdir=$2

# cargo runs PyO3's build script in another directory: make the interpreter path absolute
# (without resolving symlinks, which would step out of a virtual environment).
case "$python" in
    */*) python="$(cd "$(dirname "$python")" && pwd)/$(basename "$python")" ;;
    *)   python="$(command -v "$python")" || { echo "$python: not found" >&2; exit 1; } ;;
esac

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

ext_suffix="$("$python" -c "import sysconfig; print(sysconfig.get_config_var('EXT_SUFFIX'))")"
[ -n "$ext_suffix" ] && [ "$ext_suffix" != None ] || { echo "no EXT_SUFFIX from $python" >&2; exit 1; }
# One target directory per implementation (target/bench-pyo3, target/bench-pyo3-pypy): PyO3
# rebuilds everything when the interpreter changes, and make bench builds for both.
implementation="$("$python" -c "import sys; print(sys.implementation.name)")"
target_dir="$root/target/bench-pyo3"
if [ "$implementation" != cpython ]; then target_dir="$target_dir-$implementation"; fi

# PyO3 caches the interpreter config per PYO3_PYTHON, so switching interpreters rebuilds pyo3-ffi
# and the crate; PYO3_BUILD_EXTENSION_MODULE duplicates the extension-module feature (newer PyO3).
PYO3_PYTHON="$python" PYO3_BUILD_EXTENSION_MODULE=1 \
    cargo build --release --manifest-path "$here/Cargo.toml" --target-dir "$target_dir" >&2

case "$(uname -s)" in
    Darwin) lib="$target_dir/release/libbench_pyo3.dylib" ;;
    *)      lib="$target_dir/release/libbench_pyo3.so" ;;
esac

mkdir -p "$outdir"
dest="$(cd "$outdir" && pwd)/bench_pyo3$ext_suffix"
# Copy to a temporary name and rename, so an importer never sees a half-written file.
cp "$lib" "$dest.tmp.$$"
mv -f "$dest.tmp.$$" "$dest"
echo "$dest"
