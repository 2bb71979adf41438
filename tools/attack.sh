#!/usr/bin/env bash
# `make attack`: the attack suite of tests/attack at depth, on every CPython found, in universal,
# debug and trace mode: HPYRS_ATTACK_EXAMPLES examples per target and run (default 200; `make
# test` runs 30), HPYRS_ATTACK_SEED for other examples than last time (default 0). About 15
# minutes on two cores at 200. Failures and crashes are printed with their reproducers; the
# crashing calls are also written under build/attack/ for tests/attack/replay.py.
set -uo pipefail
cd "$(dirname "$0")/.."
mapfile -t found < <(tools/pythons.sh)
[ ${#found[@]} -gt 0 ] || { echo "no CPython 3.8-3.13 found (looked under pyenv and on PATH)"; exit 1; }
pythons=()
for line in "${found[@]}"; do
    minor="${line%% *}"; python="${line#* }"
    if py="$(tools/venv.sh "$minor" "$python")"; then
        pythons+=("$minor=$py")
    else
        echo "skipping CPython $minor: no venv"
    fi
done
[ ${#pythons[@]} -gt 0 ] || exit 1
# the debug builds the Python tests use, copied to build/attack/modules/ rather than
# build/modules/: a `make test` running meanwhile keeps its own files
modules=(rawadd quickstart geometry tree apitest containers protocols errors layout stdtypes inherit)
packages=(); for module in "${modules[@]}"; do packages+=(-p "$module"); done
cargo build --quiet "${packages[@]}" || { echo "could not build the modules under test"; exit 1; }
mkdir -p build/attack/modules
for module in "${modules[@]}"; do
    cp "target/debug/lib$module.so" "build/attack/modules/$module.hpy0.so"
    export "HPYRS_${module^^}_SO=$PWD/build/attack/modules/$module.hpy0.so"
done
HPYRS_ATTACK_EXAMPLES="${HPYRS_ATTACK_EXAMPLES:-200}" exec "${pythons[0]#*=}" tests/attack/run.py --selftest "${pythons[@]}"
