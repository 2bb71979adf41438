#!/usr/bin/env bash
# Usage: tools/build-module.sh <cargo-package> <module-name> [release]
# Build a universal HPy module crate and install it as build/modules/<name>.hpy0.so, with its
# loader stub build/modules/<name>.py. Prints the .hpy0.so path.
set -euo pipefail
cd "$(dirname "$0")/.."
package="$1"; name="$2"; profile="${3:-debug}"
flags=(--quiet -p "$package")
[ "$profile" = release ] && flags+=(--release)
mkdir -p build/modules
rm -f "build/modules/$name.hpy0.so" "build/modules/$name.py"   # never use a stale build
cargo build "${flags[@]}"
cp "target/$profile/lib$name.so" "build/modules/$name.hpy0.so"
python3 tools/hpy_stub.py build/modules "$name" >/dev/null
echo "$PWD/build/modules/$name.hpy0.so"
