#!/usr/bin/env bash
# Usage: tools/build-module.sh <cargo-package> <module-name> [release]
#        tools/build-module.sh --native <python> <cargo-package> <module-name> [<cargo-package> <module-name> ...]
#        tools/build-module.sh --abi3 <python> <cargo-package> <module-name> [...]
#
# Universal (the first form): build a universal HPy module crate and install it as
# build/modules/<name>.hpy0.so, with its loader stub build/modules/<name>.py. Prints the .hpy0.so
# path.
#
# Native (--native): build the same crates against CPython's own C API (cargo feature
# hpy/native, through pyo3-ffi) for the CPython <python>, all of them in one cargo run, and
# install each as build/native-cp3XY/<name><EXT_SUFFIX> (e.g. geometry.cpython-311-x86_64-linux-gnu.so),
# an ordinary extension module exporting PyInit_<name>. Prints one path per module, in order.
# pyo3-ffi's build script reads the CPython configuration from PYO3_CONFIG_FILE when the
# environment sets it (CPython 3.14 in its Debian root: build/cpython314/pyo3-config.txt), else
# from PYO3_PYTHON=<python>. PYO3_BUILD_EXTENSION_MODULE=1: the module does not link libpython.
# Each CPython version has its own target directory, target/native-cp3XY (absolute: a relative
# CARGO_TARGET_DIR once made trybuild write its build output into the repository), so the
# versions do not rebuild each other's pyo3-ffi.
#
# Stable ABI (--abi3): as --native with feature hpy/abi3 (CPython's limited API 3.12), built with
# <python> (3.12 or newer), installed as build/abi3/<name>.abi3.so: one file for CPython 3.12+.
set -euo pipefail
caller="$PWD"
cd "$(dirname "$0")/.."

if [ "${1:-}" = --native ] || [ "${1:-}" = --abi3 ]; then
    [ $# -ge 4 ] && [ $(( ($# - 2) % 2 )) = 0 ] || {
        echo "usage: tools/build-module.sh $1 <python> <cargo-package> <module-name> [...]" >&2; exit 2; }
    kind="${1#--}"; python="$2"; shift 2
    # an absolute path: cargo runs pyo3-ffi's build script in another directory
    case "$python" in
        /*) ;;
        */*) python="$caller/$python" ;;
        *) python="$(command -v "$python")" ;;
    esac
    # the interpreter's own tag and file name suffix (for 3.14: its wrapper, run in the root)
    read -r tag suffix < <("$python" -c \
        'import sys, sysconfig; print("cp%d%d" % sys.version_info[:2], sysconfig.get_config_var("EXT_SUFFIX"))')
    [ -n "$suffix" ] || { echo "error: could not read EXT_SUFFIX from $python" >&2; exit 1; }
    out="build/native-$tag"; target="$PWD/target/native-$tag"; feature=hpy/native
    if [ "$kind" = abi3 ]; then
        out=build/abi3; target="$PWD/target/abi3"; feature=hpy/abi3; suffix=.abi3.so
    fi
    flags=(--quiet --features "$feature")
    names=()
    mkdir -p "$out"
    while [ $# -gt 0 ]; do
        flags+=(-p "$1"); names+=("$2")
        rm -f "$out/$2$suffix"   # never use a stale build
        shift 2
    done
    if [ -n "${PYO3_CONFIG_FILE:-}" ]; then
        CARGO_TARGET_DIR="$target" PYO3_BUILD_EXTENSION_MODULE=1 cargo build "${flags[@]}"
    else
        CARGO_TARGET_DIR="$target" PYO3_BUILD_EXTENSION_MODULE=1 PYO3_PYTHON="$python" cargo build "${flags[@]}"
    fi
    for name in "${names[@]}"; do
        cp "$target/debug/lib$name.so" "$out/$name$suffix"
        echo "$PWD/$out/$name$suffix"
    done
    exit 0
fi

package="$1"; name="$2"; profile="${3:-debug}"
flags=(--quiet -p "$package")
[ "$profile" = release ] && flags+=(--release)
mkdir -p build/modules
rm -f "build/modules/$name.hpy0.so" "build/modules/$name.py"   # never use a stale build
cargo build "${flags[@]}"
cp "target/$profile/lib$name.so" "build/modules/$name.hpy0.so"
python3 tools/hpy_stub.py build/modules "$name" >/dev/null
echo "$PWD/build/modules/$name.hpy0.so"
