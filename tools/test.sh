#!/usr/bin/env bash
# `make test`: everything, on every CPython found and on PyPy. Prints a summary and exits
# non-zero if any step failed.
#
#  1. a venv per interpreter (tools/venv.sh): hpy 0.9.0 + pytest
#  2. cargo test (unit tests, the hpy-sys layout proof against the C headers), clippy, rustdoc
#  3. freshness: regenerating hpy-sys changes nothing
#  4. the modules under test, built once, tested (tests/python) on every CPython and on PyPy
#     7.3.19 (tools/pypy.sh: a Debian root under build/pypy, made once; needs root) in
#     universal, debug (leak detector around every test) and trace mode; then the native build
#     of the macro modules (feature hpy/native: CPython's C API through pyo3-ffi, ordinary
#     extension modules), tested (tests/python, HPYRS_ABI=native) on every CPython 3.9+ found
#     and on CPython 3.14 (tools/cpython314.sh: a Debian root under build/cpython314, made once;
#     needs root); and the stable-ABI build (feature hpy/abi3), built once and tested on every
#     CPython 3.12+
#  5. attack and soak (CPython only); the benchmark's variants behave alike (bench/workloads.py's
#     check, on CPython 3.11 and, for the .hpy0.so files, on PyPy); the universal wheel on every
#     CPython and on PyPy
#
# `tools/test.sh --pypy-only` (`make test-pypy`): only the PyPy part of 4 and 5 (the modules are
# still built, and the wheel with the tools venv of a CPython).
set -uo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
pypy_only=0
case "${1:-}" in
    "") ;;
    --pypy-only) pypy_only=1 ;;
    *) echo "usage: tools/test.sh [--pypy-only]" >&2; exit 2 ;;
esac
failures=()
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
fail() { failures+=("$1"); printf '\033[31mFAILED: %s\033[0m\n' "$1"; }
mkdir -p build/test-results

# python_tests <label> <python> [pytest options]: tests/python on one interpreter, all three
# modes (or the native build, with HPYRS_ABI=native); the summary gets its counts and every skip
# reason (tools/pytest_counts.py)
python_tests() {
    local label="$1" python="$2" report counts status=0 modes="universal, debug, trace"
    [ "${HPYRS_ABI:-}" = native ] && modes="native build"
    shift 2
    report="$root/build/test-results/${label// /-}.xml"
    rm -f "$report"
    # RUST_BACKTRACE=0: the panic test prints the panic message, not a backtrace
    (cd tests/python && RUST_BACKTRACE=0 "$python" -m pytest -v -p no:cacheprovider -rs \
        --junitxml="$report" "$@") || status=$?
    counts="$("$tools_python" tools/pytest_counts.py "$report")"
    if [ $status -eq 0 ]; then
        results+=("$label ($modes): $counts")
    else
        results+=("$label: FAILED (pytest status $status): $counts")
        fail "python tests on $label"
    fi
}

# The modules built from the macros (package = module name): every one is built and tested in
# the universal build and natively; rawadd (hand-written against hpy-sys) is universal only.
native_modules=(quickstart geometry tree apitest containers protocols errors layout stdtypes inherit)
# their HPYRS_<MODULE>_SO variable names, for `local -x` in the functions below
native_vars=(); for module in "${native_modules[@]}"; do native_vars+=("HPYRS_${module^^}_SO"); done

# build_native <native|abi3> <python> [pyo3-config-file]: the macro modules built by
# tools/build-module.sh --native (for <python>) or --abi3 (with <python>, for every CPython 3.12+)
# in one cargo run; prints their paths in native_modules order. The config file is for an
# interpreter cargo cannot run (CPython 3.14 in its root).
build_native() {
    local kind="$1" python="$2" config="${3:-}" module args=() build=(env -u PYO3_CONFIG_FILE)
    [ -n "$config" ] && build=(env PYO3_CONFIG_FILE="$config")
    for module in "${native_modules[@]}"; do args+=("$module" "$module"); done
    "${build[@]}" tools/build-module.sh --"$kind" "$python" "${args[@]}"
}

# native_paths <python>: the native modules for <python> that native_tests built
# (build/native-cp3XY/<name><EXT_SUFFIX>), or else built now; one path per line.
native_paths() {
    local python="$1" tag suffix module paths=()
    read -r tag suffix < <("$python" -c \
        'import sys, sysconfig; print("cp%d%d" % sys.version_info[:2], sysconfig.get_config_var("EXT_SUFFIX"))')
    for module in "${native_modules[@]}"; do paths+=("$root/build/native-$tag/$module$suffix"); done
    if ls "${paths[@]}" >/dev/null 2>&1; then printf '%s\n' "${paths[@]}"; else build_native native "$python"; fi
}

# use_modules <paths>: HPYRS_<MODULE>_SO=<path> for each of native_modules, in the caller's
# (local) variables; fails unless there is one existing file per module.
use_modules() {
    local paths=() i
    mapfile -t paths <<< "$1"
    [ ${#paths[@]} -eq ${#native_modules[@]} ] && ls "${paths[@]}" >/dev/null 2>&1 || return 1
    for i in "${!native_modules[@]}"; do
        echo "${paths[i]}"
        printf -v "HPYRS_${native_modules[i]^^}_SO" '%s' "${paths[i]}"
    done
}

# native_tests <label> <python> [pyo3-config-file]: the macro modules built natively for <python>,
# then python_tests on them with HPYRS_ABI=native. The HPYRS_* variables are local: the universal
# ones stay for the steps after.
native_tests() {
    local label="$1" python="$2" config="${3:-}"
    local -x HPYRS_ABI=native "${native_vars[@]}"
    if ! use_modules "$(build_native native "$python" "$config")"; then
        results+=("$label: FAILED (native build of ${native_modules[*]})")
        fail "native build for $label"
        return
    fi
    python_tests "$label" "$python"
}

# abi3_tests <label=python>...: the macro modules built once for CPython's stable ABI (feature
# hpy/abi3, limited API 3.12, with the first interpreter), then python_tests with HPYRS_ABI=native
# on every interpreter given: the same files on each.
abi3_tests() {
    local pair
    local -x HPYRS_ABI=native "${native_vars[@]}"
    if ! use_modules "$(build_native abi3 "${1#*=}")"; then
        results+=("stable ABI: FAILED (build of ${native_modules[*]} with feature hpy/abi3)")
        fail "abi3 build"
        return
    fi
    for pair in "$@"; do
        python_tests "${pair%%=*}" "${pair#*=}"
    done
}

# attack_native <minor> <python>, soak_native <python>: tests/attack and tools/soak.py on the
# native modules for <python> (native_paths), with local HPYRS_* variables.
attack_native() {
    local -x "${native_vars[@]}"
    use_modules "$(native_paths "$2")" >/dev/null || { echo "no native build of ${native_modules[*]} for CPython $1"; return 1; }
    HPYRS_ATTACK_EXAMPLES="${HPYRS_ATTACK_EXAMPLES:-30}" "$2" tests/attack/run.py --modes native "$1=$2"
}
soak_native() {
    local -x "${native_vars[@]}"
    use_modules "$(native_paths "$1")" >/dev/null || { echo "no native build of ${native_modules[*]}"; return 1; }
    env -u HPYRS_RAWADD_SO "$1" tools/soak.py --modes native --calls 100000 --compact
}

# tools/pytest_counts.py needs only the standard library
tools_python="$(command -v python3)"

step "CPython interpreters"
mapfile -t found < <(tools/pythons.sh)
if [ ${#found[@]} -eq 0 ]; then
    echo "no CPython 3.8-3.13 found (looked under pyenv and on PATH)"; exit 1
fi
declare -A venv_python
versions=()
results=()
for line in "${found[@]}"; do
    minor="${line%% *}"; python="${line#* }"
    if py="$(tools/venv.sh "$minor" "$python")"; then
        venv_python[$minor]="$py"; versions+=("$minor")
        echo "CPython $("$py" -c 'import sys; print(".".join(map(str, sys.version_info[:3])))')  $python  (venv build/venv/$minor)"
    else
        fail "venv for CPython $minor ($python)"
    fi
done
[ ${#versions[@]} -gt 0 ] || { echo "no usable interpreter"; exit 1; }
# Any venv has the hpy headers; they are the same files on every interpreter.
header_python="${venv_python[${versions[0]}]}"

if [ $pypy_only = 0 ]; then
step "cargo test (unit tests and the hpy-sys layout proof)"
HPY_PYTHON="$header_python" cargo test --workspace --quiet -- --nocapture || fail "cargo test"

n_fail=$(ls ui-tests/tests/compile-fail/*.rs | wc -l); n_pass=$(ls ui-tests/tests/pass/*.rs | wc -l)
echo "ui tests: $n_fail compile-fail cases, $n_pass passing cases (ui-tests/, checked by cargo test above)"

step "cargo clippy and cargo doc"
cargo clippy --workspace --all-targets --quiet -- -D warnings || fail "cargo clippy"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet || fail "cargo doc"

# The native build (feature hpy/native, the C API through pyo3-ffi) is a second compilation of
# the same crates: it gets the same lints, and the same compile-fail cases must fail with the same
# messages (the ui-tests `.stderr` snapshots are shared), so no guarantee of the safe layer
# depends on the ABI. One CPython is enough for this: the Rust code is the same for every version.
step "native build: cargo clippy, cargo doc and the ui tests (same snapshots) with feature hpy/native"
native_check_python="$(tools/pythons.sh | awk '$1 == "3.11" {print $2; exit}')"
[ -n "$native_check_python" ] || native_check_python="$(tools/pythons.sh | awk '$1 != "3.8" {print $2; exit}')"
if [ -n "$native_check_python" ]; then
    native_env=(env PYO3_PYTHON="$native_check_python" PYO3_BUILD_EXTENSION_MODULE=1 CARGO_TARGET_DIR="$root/target/native-check")
    "${native_env[@]}" cargo clippy --workspace --all-targets --features hpy/native --quiet -- -D warnings || fail "cargo clippy (native)"
    RUSTDOCFLAGS="-D warnings" "${native_env[@]}" cargo doc -p hpy-sys -p hpy --features hpy/native --no-deps --quiet || fail "cargo doc (native)"
    "${native_env[@]}" cargo test -p ui-tests --features native --quiet || fail "ui tests (native)"
    # the stable-ABI variant of the native build (feature hpy/abi3) needs a CPython 3.12+ to build
    # (the venv's interpreter, as the abi3 test build below uses: the same PYO3_PYTHON, no rebuild)
    abi3_check_python="${venv_python[3.12]:-${venv_python[3.13]:-}}"
    if [ -n "$abi3_check_python" ]; then
        abi3_env=(env PYO3_PYTHON="$abi3_check_python" PYO3_BUILD_EXTENSION_MODULE=1 CARGO_TARGET_DIR="$root/target/abi3")
        "${abi3_env[@]}" cargo clippy -p hpy-sys -p hpy --features hpy/abi3 --quiet -- -D warnings || fail "cargo clippy (abi3)"
        RUSTDOCFLAGS="-D warnings" "${abi3_env[@]}" cargo doc -p hpy-sys -p hpy --features hpy/abi3 --no-deps --quiet || fail "cargo doc (abi3)"
    fi
else
    fail "native build checks: no CPython 3.9+ found"
fi

# The crates as a user would get them: every workspace crate packaged and built from its package
# alone (hpy-sys with neither the hpy headers nor Python); publish = false on all but the four
# library crates. --allow-dirty: `make test` also runs in a tree with uncommitted changes.
# Its output goes to a log; a failure names its first error in the summary (CI shows only the
# summary). One retry, reported as such, for a registry hiccup: the build itself is deterministic.
step "cargo package --workspace (each crate built from its own package)"
# cargo treats the packaged crates as registry crates, which it never rebuilds for a change of
# content: it reuses its extraction of them under $CARGO_HOME/registry/src/-<hash of the
# package directory>/ and their compiled libraries in the target directory. A tree packaged
# before at the same path, with the same version and older code, was verified against the old
# sources (`cannot find function` in hpy-macros). So: our crates' old extractions go, and the
# verification builds in a target directory of its own, new every time (about a minute).
cargo_home="${CARGO_HOME:-$HOME/.cargo}"
rm -rf "$cargo_home"/registry/src/-*/hpy-[0-9]* "$cargo_home"/registry/src/-*/hpy-sys-[0-9]* \
    "$cargo_home"/registry/src/-*/hpy-macros-[0-9]* "$cargo_home"/registry/src/-*/hpy-macros-backend-[0-9]*
package_log=build/test-results/cargo-package.log
package_try() {
    rm -rf build/cargo-package
    cargo package --workspace --allow-dirty --quiet --target-dir build/cargo-package >"$package_log" 2>&1
}
package_error() {  # the first error and the lines after it (its "Caused by"), on one line
    { grep -m1 -A6 -E '^error' "$package_log" || tail -n3 "$package_log"; } | tr -s ' \n' ' ' | cut -c1-500
}
if ! package_try; then
    tail -n 40 "$package_log"
    first_error=$(package_error)
    if package_try; then
        results+=("cargo package: passed on a second try; the first failed with: $first_error")
    else
        tail -n 40 "$package_log"
        fail "cargo package --workspace: $(package_error) (build/test-results/cargo-package.log)"
    fi
fi

step "hpy-sys freshness (regenerating from the hpy 0.9.0 headers changes nothing)"
"$header_python" hpy-sys/codegen/generate.py --check || fail "hpy-sys freshness"
fi

step "build the modules under test (build/modules/<name>.hpy0.so + loader stub)"
# package = module name; each becomes HPYRS_<MODULE>_SO for the Python tests
for module in rawadd "${native_modules[@]}"; do
    if so="$(tools/build-module.sh "$module" "$module")"; then
        echo "$so"
        export "HPYRS_${module^^}_SO=$so"
    else
        fail "build $module"
    fi
done

if [ $pypy_only = 0 ]; then
    for minor in "${versions[@]}"; do
        step "CPython $minor: Python tests in universal, debug (leak-checked) and trace mode"
        python_tests "CPython $minor" "${venv_python[$minor]}"
    done

    # The same Rust source compiled against each CPython's own C API (tools/build-module.sh
    # --native: build/native-cp3XY/<name><EXT_SUFFIX>), imported without hpy, in the venvs above.
    for minor in "${versions[@]}"; do
        step "CPython $minor native: Python tests on the native build (HPYRS_ABI=native)"
        if [ "$minor" = 3.8 ]; then
            echo "not run: pyo3-ffi 0.30 (the native build's C API bindings) supports CPython 3.9+"
            results+=("CPython 3.8 native: not run (pyo3-ffi 0.30 supports CPython 3.9+)")
            continue
        fi
        native_tests "CPython $minor native" "${venv_python[$minor]}"
    done
    # CPython 3.14, which hpy 0.9.0 does not build on: the native build only, from a Debian root
    # (tools/cpython314.sh), built with the PyO3 configuration it writes
    step "CPython 3.14 native: Python tests on the native build (tools/cpython314.sh)"
    if out="$(tools/cpython314.sh)"; then
        py314="${out##*$'\n'}"
        echo "CPython $("$py314" -c 'import sys; print(".".join(map(str, sys.version_info[:3])))')  $py314"
        native_tests "CPython 3.14 native" "$py314" "$root/build/cpython314/pyo3-config.txt"
    else
        py314=""
        fail "CPython 3.14 environment (tools/cpython314.sh)"
    fi

    # One binary for CPython 3.12 and newer: the stable ABI option (feature hpy/abi3).
    step "stable ABI: the macro modules built once (feature hpy/abi3), tested on every CPython 3.12+"
    abi3_pythons=()
    for minor in "${versions[@]}"; do
        case "$minor" in 3.8|3.9|3.10|3.11) ;; *) abi3_pythons+=("CPython $minor abi3=${venv_python[$minor]}") ;; esac
    done
    [ -n "$py314" ] && abi3_pythons+=("CPython 3.14 abi3=$py314")
    if [ ${#abi3_pythons[@]} -gt 0 ]; then
        abi3_tests "${abi3_pythons[@]}"
    else
        fail "stable ABI: no CPython 3.12+ found"
    fi
fi

# The same .hpy0.so files, unchanged, on PyPy (its HPy is built in: no hpy package there).
# -p no:hypothesispytest: hypothesis's plugin costs 5 s per PyPy start and tests/python does not
# use it.
step "PyPy: Python tests in universal, debug (leak-checked) and trace mode"
pypy=""
if pypy="$(tools/pypy.sh)"; then
    pypy_version="$("$pypy" -c 'import sys; print("%d.%d.%d" % sys.pypy_version_info[:3], "(Python %d.%d)" % sys.version_info[:2])')"
    echo "PyPy $pypy_version  $pypy"
    python_tests "PyPy ${pypy_version%% *}" "$pypy" -p no:hypothesispytest
else
    pypy=""
    fail "PyPy environment (tools/pypy.sh)"
fi

if [ $pypy_only = 0 ]; then

# Hostile calls to every public function, method, property and operator of the modules above
# (tests/attack): every CPython of the loop, each module in each mode in a process of its own, so
# a crash is reported with its call and the rest still runs. 30 examples per target and run (the
# seeds differ per interpreter and mode): about 4 minutes on two cores for six CPythons. `make attack` goes deeper.
step "attack: hostile calls to every public callable, universal, debug and trace mode (tests/attack)"
attack_pythons=(); for minor in "${versions[@]}"; do attack_pythons+=("$minor=${venv_python[$minor]}"); done
attack_start=$SECONDS
# attack_verdict <log>: run.py's last line, which names each problem briefly (for the summary)
attack_verdict() { grep '^attack: ' "$1" | tail -n 1 | cut -c1-700; }
attack_log=build/test-results/attack.log
if HPYRS_ATTACK_EXAMPLES="${HPYRS_ATTACK_EXAMPLES:-30}" "$header_python" tests/attack/run.py --selftest "${attack_pythons[@]}" 2>&1 | tee "$attack_log"; [ "${PIPESTATUS[0]}" -eq 0 ]; then
    results+=("attack: no failure, no crash on CPython ${versions[*]} ($((SECONDS - attack_start)) s; CPython only)")
else
    fail "attack (tests/attack, reproducers above): $(attack_verdict "$attack_log")"
fi
# The same on the native build, on every CPython 3.9+ of the loop: the files native_tests built
# above (build/native-cp3XY/<name><EXT_SUFFIX>), else built here; one run per interpreter (the
# HPYRS_*_SO variables name one build). One mode only: a few seconds per interpreter.
step "attack native: the same on the native build (run.py --modes native), every CPython 3.9+"
attack_start=$SECONDS; attacked_native=()
for minor in "${versions[@]}"; do
    [ "$minor" = 3.8 ] && continue   # pyo3-ffi 0.30 supports CPython 3.9+
    attack_log=build/test-results/attack-native-$minor.log
    if attack_native "$minor" "${venv_python[$minor]}" 2>&1 | tee "$attack_log"; [ "${PIPESTATUS[0]}" -eq 0 ]; then
        attacked_native+=("$minor")
    else
        fail "attack native on CPython $minor (tests/attack --modes native, reproducers above): $(attack_verdict "$attack_log")"
    fi
done
[ ${#attacked_native[@]} -gt 0 ] && results+=("attack native: no failure, no crash on CPython ${attacked_native[*]}, native build ($((SECONDS - attack_start)) s; rawadd skipped: universal-only)")

# Memory, not handles: the debug-mode leak detector cannot see a leaked Rust allocation. One
# interpreter is enough (the leaks to catch are in the module, not in the interpreter).
step "soak: RSS growth over 10^5 calls per workload, universal and debug mode, then the native build (tools/soak.py)"
soak_minor=3.11; [ -n "${venv_python[3.11]:-}" ] || soak_minor="${versions[0]}"
soak_start=$SECONDS
if "${venv_python[$soak_minor]}" tools/soak.py --calls 100000 --compact; then
    results+=("soak: no memory growth on CPython $soak_minor, universal and debug ($((SECONDS - soak_start)) s; CPython only)")
else
    fail "soak on CPython $soak_minor (tools/soak.py: memory growth, or a workload failed)"
fi
# The native build (no HPy debug mode there: RSS is its only leak check), on the same CPython:
# the files native_tests built above (build/native-cp3XY/<name><EXT_SUFFIX>), else built here.
if [ "$soak_minor" = 3.8 ]; then
    results+=("soak native: not run (pyo3-ffi 0.30 supports CPython 3.9+)")
else
    soak_start=$SECONDS
    if ! soak_native "${venv_python[$soak_minor]}"; then
        fail "soak native on CPython $soak_minor (tools/soak.py --modes native: memory growth, a failed workload or no build)"
    else
        results+=("soak native: no memory growth on CPython $soak_minor, native build ($((SECONDS - soak_start)) s; rawadd skipped: universal-only)")
    fi
fi

# The benchmark's variants (C API, C on HPy, hpy-rs universal/debug/native, PyO3) behave alike:
# the micro-operations, and the workloads bit for bit against bench/workloads.py's
# specification (arrays, reflected operators, negative indices, the codec, bad input). Built
# in release mode as `make bench` builds them (bench/build.sh); on PyPy the .hpy0.so files.
step "bench check: every variant of the benchmark module behaves alike (bench/build.sh, run.py --check)"
bench_start=$SECONDS
bench_minor=3.11; [ -n "${venv_python[3.11]:-}" ] || bench_minor="${versions[-1]}"
bench_dir="$PWD/build/bench-check"
if bench/build.sh "${venv_python[$bench_minor]}" "$bench_dir" \
        && out="$("${venv_python[$bench_minor]}" bench/run.py "$bench_dir" --check 2>&1)"; then
    echo "$out"
    results+=("$(echo "$out" | tail -n 1) ($((SECONDS - bench_start)) s)")
else
    echo "${out:-}"
    fail "bench check on CPython $bench_minor: $(echo "${out:-bench/build.sh failed}" | tail -n 1 | cut -c1-400)"
fi
if [ -n "$pypy" ] && [ -e "$bench_dir/bench_hpyrs.hpy0.so" ]; then
    if out="$("$pypy" bench/run.py "$bench_dir" --check --hpy-only 2>&1)"; then
        echo "$out"
        results+=("$(echo "$out" | tail -n 1) (the .hpy0.so files)")
    else
        echo "$out"
        fail "bench check on PyPy: $(echo "$out" | tail -n 1 | cut -c1-400)"
    fi
fi
fi  # pypy_only

step "wheels: quickstart's universal wheel built once (pip wheel + hpy_build), installed into a fresh venv of every CPython and of PyPy; geometry's native wheel (hpy-abi=native) built by the tools venv per CPython 3.9+, installed into a venv without hpy"
tools_python="$(tools/pythons.sh | awk '$1 == "3.11" {print $2; exit}')"
[ -n "$tools_python" ] || tools_python="${found[0]#* }"
if tools_py="$(tools/venv.sh tools "$tools_python" "$root/tools/requirements-tools.txt")"; then
    rm -rf build/wheel-test && mkdir -p build/wheel-test
    if CARGO_TARGET_DIR="$root/target/wheels" "$tools_py" -m pip wheel --no-deps --no-build-isolation \
            --disable-pip-version-check -q -w build/wheel-test examples/quickstart; then
        wheel="$(ls "$root"/build/wheel-test/*.whl)"
        echo "$wheel"
        pythons=""; installed=()
        if [ $pypy_only = 0 ]; then
            pythons="$(for line in "${found[@]}"; do printf '%s=%s ' "${line%% *}" "${line#* }"; done)"
            installed=("${versions[@]}")
        fi
        if [ -n "$pypy" ]; then
            pythons+="pypy3.11=$pypy"; installed+=("PyPy")
        fi
        wheel_args=()
        # --pypy-only: the wheel's own checks and PyPy's install, not the CPython sdist build
        [ $pypy_only = 1 ] && wheel_args=(-k "not sdist")
        if HPYRS_WHEEL="$wheel" HPYRS_PYTHONS="$pythons" HPYRS_PYPY_IN_ROOT="$root/build/pypy/bin/in-root" \
                "$tools_py" -m pytest tests/wheels -v -p no:cacheprovider ${wheel_args[@]+"${wheel_args[@]}"}; then
            results+=("universal wheel: one py3-none wheel installed and run on ${installed[*]}")
            # tests/wheels/test_native_wheel.py builds them (target/wheels-native-cp3XY)
            [ $pypy_only = 1 ] || results+=("native wheel: geometry, one cp3X wheel per CPython 3.9+ found, installed and run without hpy")
            [ $pypy_only = 1 ] || results+=("abi3 wheel: geometry, one cp312-abi3 wheel installed and run without hpy on every CPython 3.12+ and 3.14")
        else
            fail "wheel tests"
        fi
    else
        fail "build the quickstart wheel"
    fi
else
    fail "tools venv"
fi

# Issue 17: what a stranger gets. The build backend's own tests (hpy-build: its wheel, the
# template, settings, sdist exclusions, `pip install -e .` universal -> native -> universal);
# then the round trip outside the repository on the packaged crates (tools/stranger.sh); then
# the import time of the installed quickstart wheel (tools/import_time.py).
if [ $pypy_only = 0 ]; then
    step "hpy-build: the backend's tests (tests/backend: template, settings, sdist, editable installs)"
    if [ -n "${tools_py:-}" ] && "$tools_py" -m pytest tests/backend -v -p no:cacheprovider; then
        results+=("hpy-build: backend tests passed (template, settings, sdist exclusions, pip install -e .)")
    else
        fail "hpy-build backend tests (tests/backend)"
    fi

    step "the stranger's round trip: hpy-build new -> pip install -e . -> test -> edit -> reinstall -> test, outside the repository (tools/stranger.sh)"
    stranger_start=$SECONDS
    if tools/stranger.sh; then
        results+=("stranger: template project outside the repository, on the packaged crates and the hpy-build wheel: create, pip install -e ., test, edit, reinstall, test ($((SECONDS - stranger_start)) s)")
    else
        fail "the stranger's round trip (tools/stranger.sh)"
    fi

    step "import time of the installed quickstart wheel (tools/import_time.py, CPython 3.11 or the tools interpreter)"
    if [ -n "${wheel:-}" ] && out="$("$tools_python" tools/import_time.py --wheel "$wheel" --python "$tools_python" 2>&1)"; then
        echo "$out"
        results+=("import time: $(echo "$out" | awk '/^  quickstart /{print "import quickstart " $2 " " $3 " (median; hpy.universal already imported)"}' | head -n 1)")
    else
        echo "${out:-}"
        fail "import time (tools/import_time.py: the quickstart wheel's import is 1 ms or more, or it could not be measured)"
    fi
fi

step "summary"
printf '%s\n' "${results[@]}"
if [ ${#failures[@]} -gt 0 ]; then
    printf '\033[31m%d step(s) failed:\033[0m\n' "${#failures[@]}"
    printf '  - %s\n' "${failures[@]}"
    exit 1
fi
echo "all passed"
