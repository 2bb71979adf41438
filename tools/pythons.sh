#!/usr/bin/env bash
# Print one line per CPython interpreter found on this machine, oldest first:
#   <version> <path-to-python>
# Looks under pyenv (PYENV_ROOT or ~/.pyenv) and on PATH for python3.8 .. python3.13.
# HPYRS_PYTHONS="3.11 3.12" restricts the list to those minor versions.
set -euo pipefail
root="${PYENV_ROOT:-$HOME/.pyenv}"
wanted="${HPYRS_PYTHONS:-3.8 3.9 3.10 3.11 3.12 3.13}"
for minor in $wanted; do
    found=""
    # newest patch release of this minor version under pyenv
    for dir in $(ls -d "$root"/versions/"$minor".* 2>/dev/null | sort -V -r); do
        case "$(basename "$dir")" in *[a-z]*) continue ;; esac   # skip 3.13.0a1, -dev, ...
        if [ -x "$dir/bin/python$minor" ]; then found="$dir/bin/python$minor"; break; fi
    done
    if [ -z "$found" ] && command -v "python$minor" >/dev/null 2>&1; then
        found="$(command -v "python$minor")"
    fi
    if [ -n "$found" ]; then
        # only CPython: the hpy package from PyPI is for CPython
        impl="$("$found" -c 'import sys; print(sys.implementation.name)' 2>/dev/null || true)"
        [ "$impl" = cpython ] && echo "$minor $found"
    fi
done
