#!/usr/bin/env bash
# Build the two C baselines of the benchmark for one interpreter and print their paths on stdout:
#   <outdir>/bench_capi<EXT_SUFFIX>   CPython C API (METH_FASTCALL etc.), built against <python>'s headers
#   <outdir>/bench_chpy.hpy0.so       C on HPy 0.9.0, universal ABI, built against <python>'s hpy package
# Usage: bench/c/build.sh <python> <outdir> [capi|chpy ...]   (default: both)
# Environment: CC (default gcc; may be a command with arguments, e.g. "build/pypy/bin/in-root
# gcc" to compile for PyPy's cpyext inside its root), CFLAGS (extra flags appended to both
# compilations).
set -euo pipefail

if [ $# -lt 2 ]; then
    echo "usage: $0 <python> <outdir> [capi|chpy ...]" >&2
    exit 2
fi
python=$1
outdir=$2
shift 2
wanted=" ${*:-capi chpy} "
# shellcheck disable=SC2206  # CC may be a command with arguments
cc=(${CC:-gcc})
# shellcheck disable=SC2206  # CFLAGS is meant to be word-split
extra=(${CFLAGS:-})

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mkdir -p "$outdir"
outdir="$(cd "$outdir" && pwd)"

common=(-O2 -shared -fPIC -Wall -Werror=implicit-function-declaration)

# Compile to a temporary name and rename, so an importer never sees a half-written file.
install_from() {  # <built file> <dest>
    mv -f "$1" "$2"
}

if [[ $wanted == *" capi "* ]]; then
# --- C API ------------------------------------------------------------------------------------
py_include="$("$python" -c "import sysconfig; print(sysconfig.get_paths()['include'])")"
ext_suffix="$("$python" -c "import sysconfig; print(sysconfig.get_config_var('EXT_SUFFIX'))")"
[ -n "$ext_suffix" ] && [ "$ext_suffix" != None ] || { echo "no EXT_SUFFIX from $python" >&2; exit 1; }
# (asked of <python>: its include directory may exist only where it runs, e.g. in the PyPy root)
"$python" -c "import os, sys; sys.exit(not os.path.isfile(sys.argv[1]))" "$py_include/Python.h" || { echo "no Python.h in $py_include (install the python dev headers)" >&2; exit 1; }

capi="$outdir/bench_capi$ext_suffix"
case "$(uname -s)" in
    Darwin) capi_link=(-undefined dynamic_lookup) ;;
    *)      capi_link=() ;;
esac
# No -fvisibility=hidden: before 3.9 PyMODINIT_FUNC does not mark PyInit_* visible. No libpython:
# the interpreter provides the symbols at load time (as setuptools does on Linux).
"${cc[@]}" "${common[@]}" -I"$py_include" "$here/bench_capi.c" -o "$capi.tmp.$$" ${capi_link[@]+"${capi_link[@]}"} ${extra[@]+"${extra[@]}"}
install_from "$capi.tmp.$$" "$capi"
echo "$capi"
fi

if [[ $wanted == *" chpy "* ]]; then
# --- HPy, universal ABI ------------------------------------------------------------------------
devel="$("$python" -c "import hpy.devel, os; print(os.path.dirname(hpy.devel.__file__))")" \
    || { echo "$python has no hpy package (pip install hpy==0.9.0)" >&2; exit 1; }
hpy_version="$("$python" -c "import hpy.devel.version as v; print(v.__version__)" 2>/dev/null || echo unknown)"
case "$hpy_version" in
    0.9.*) ;;
    *) echo "warning: hpy $hpy_version found, these sources target hpy 0.9.0" >&2 ;;
esac

chpy="$outdir/bench_chpy.hpy0.so"
# As hpy.devel's build_ext does for the universal ABI: HPY + HPY_ABI_UNIVERSAL, and the
# forbid_python_h directory first so that an accidental #include <Python.h> fails loudly.
# The helpers we call (HPyArg_ParseKeywords, HPyHelpers_AddType) are compiled in from hpy's runtime
# sources; nothing links against libpython or any Python-version-specific object.
hpy_flags=(-DHPY -DHPY_ABI_UNIVERSAL -I"$devel/include/hpy/forbid_python_h" -I"$devel/include")
"${cc[@]}" "${common[@]}" "${hpy_flags[@]}" \
    "$here/bench_chpy.c" \
    "$devel/src/runtime/argparse.c" \
    "$devel/src/runtime/helpers.c" \
    -o "$chpy.tmp.$$" ${extra[@]+"${extra[@]}"}
install_from "$chpy.tmp.$$" "$chpy"
echo "$chpy"
fi
