#!/usr/bin/env bash
# The stranger's path (issue 17): a project made from the template OUTSIDE this repository, which
# knows the repository only through what would be published: the four crates as packaged by
# `cargo package` (unpacked into the temporary directory; the project's Cargo.toml says
# `hpy = "0.1"`, as a stranger writes it, and the directory's .cargo/config.toml patches
# crates.io with the unpacked crates, as for a private registry) and the wheel of the build
# backend hpy-build (`pip wheel tools/pep517`, found through --find-links as from an index).
#
#   create (hpy-build new) -> pip install -e . -> pytest -> edit the Rust (and its test)
#   -> pip install -e . -> pytest (universal and HPy debug mode) -> the new behaviour is there
#
# and nothing in the project, its build or its venv names the repository's path.
# Needs cargo, a CPython 3.8+ (3.11 preferred, from tools/pythons.sh) and PyPI (maturin, cffi,
# hpy, pytest; pip's cache makes it quick). HPYRS_KEEP=1 keeps the temporary directory.
# Usage: tools/stranger.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
t0=$SECONDS
step() { echo; echo "== stranger ($((SECONDS - t0)) s): $*"; }
die() { echo "stranger: FAILED: $*" >&2; exit 1; }

tmp="$(mktemp -d "${TMPDIR:-/tmp}/hpy-rs-stranger.XXXXXX")"
case "$tmp/" in "$root"/*) die "the temporary directory $tmp is inside the repository" ;; esac
cleanup() {
    local rc=$?
    if [ $rc = 0 ] && [ "${HPYRS_KEEP:-0}" != 1 ]; then rm -rf "$tmp"; else echo "stranger: kept $tmp" >&2; fi
}
trap cleanup EXIT
# the stranger's own cargo target directory (the repository's target/ is not theirs)
export CARGO_TARGET_DIR="$tmp/target"
# nothing of the caller's environment that could point into the repository
unset PYTHONPATH PIP_FIND_LINKS HPY HPY_ABI HPY_PYTHON VIRTUAL_ENV PYO3_PYTHON PYO3_CONFIG_FILE \
    PYO3_BUILD_EXTENSION_MODULE || true

step "package the crates (cargo package) and unpack them in $tmp/crates"
version="$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n 1)"
crates=(hpy-sys hpy-macros-backend hpy-macros hpy)
# --no-verify: `make test` builds every crate from its package (cargo package --workspace)
(cd "$root" && cargo package --quiet --allow-dirty --no-verify --target-dir "$tmp/cargo-package" \
    $(printf -- '-p %s ' "${crates[@]}")) || die "cargo package"
mkdir -p "$tmp/crates"
for crate in "${crates[@]}"; do
    tar xzf "$tmp/cargo-package/package/$crate-$version.crate" -C "$tmp/crates" || die "unpack $crate-$version.crate"
done
rm -rf "$tmp/cargo-package"
ls "$tmp/crates"

step "a venv with hpy, pytest and the backend hpy-build (its wheel built by pip wheel tools/pep517)"
read -r minor python <<< "$("$root/tools/pythons.sh" | awk '$1 == "3.11" {print; exit}' | grep . || "$root/tools/pythons.sh" | tail -n 1)"
[ -n "${python:-}" ] || die "no CPython found (tools/pythons.sh)"
"$python" -m venv "$tmp/venv" || die "venv"
py="$tmp/venv/bin/python"
pip=("$py" -m pip --disable-pip-version-check -q)
"${pip[@]}" wheel --no-deps -w "$tmp/wheels" "$root/tools/pep517" || die "pip wheel tools/pep517"
backend_wheel="$(ls "$tmp"/wheels/hpy_build-*-py3-none-any.whl)" || die "no hpy_build wheel in $tmp/wheels"
echo "$(basename "$backend_wheel")"
"${pip[@]}" install hpy==0.9.0 pytest "$backend_wheel" || die "pip install hpy pytest hpy-build"
echo "CPython $minor: $("$py" -m pip list --disable-pip-version-check 2>/dev/null | grep -E '^(hpy|hpy-build|maturin|cffi|pytest) ' | tr -s ' ' | paste -sd, -)"

step "create the project: hpy-build new hello-stranger"
mkdir -p "$tmp/work"
cd "$tmp/work"
"$tmp/venv/bin/hpy-build" new hello-stranger || die "hpy-build new"
proj="$tmp/work/hello-stranger"
module=hello_stranger
cd "$proj"
grep -qx 'hpy = "0.1"' Cargo.toml || die "the template's Cargo.toml does not depend on hpy = \"0.1\""
# what a stranger writes for crates from a private registry or a checkout of their own
mkdir -p .cargo
{
    echo "# the hpy-rs crates, unpacked from their .crate files (not yet on crates.io)"
    echo "[patch.crates-io]"
    for crate in "${crates[@]}"; do echo "$crate = { path = \"$tmp/crates/$crate-$version\" }"; done
} > .cargo/config.toml
cat .cargo/config.toml

step "pip install -e . (PEP 660, build isolation: hpy-build from --find-links, maturin and cffi from the index)"
"${pip[@]}" install -e . --find-links "$tmp/wheels" || die "pip install -e ."
origin="$(cd / && "$py" -c "import $module; print($module.__spec__.origin)")" || die "import $module"
echo "$module loads from $origin"
case "$origin" in
    "$proj"/build/hpy-develop/*/"$module"/"$module".hpy0.so) ;;
    *) die "$module should load from the project's build/hpy-develop (an editable install), not $origin" ;;
esac

step "pytest (the project's tests)"
"$py" -m pytest -q -p no:cacheprovider tests || die "the project's tests"

step "edit src/lib.rs (hello says Hi) and its test, pip install -e . again (--no-build-isolation: the fast loop)"
sed -i 's/format!("Hello, {name}{punctuation}")/format!("Hi, {name}{punctuation}")/' src/lib.rs
grep -q 'format!("Hi, {name}{punctuation}")' src/lib.rs || die "the edit of src/lib.rs did not apply"
sed -i 's/"Hello, world/"Hi, world/g' "tests/test_$module.py"
"${pip[@]}" install -e . --no-build-isolation || die "pip install -e . (again)"

step "pytest again, universal and HPy debug mode: the new behaviour"
"$py" -m pytest -q -p no:cacheprovider tests || die "the project's tests after the edit"
HPY=debug "$py" -m pytest -q -p no:cacheprovider tests || die "the project's tests after the edit, HPy debug mode"
said="$(cd / && "$py" -c "import $module; print($module.hello('stranger'))")"
[ "$said" = "Hi, stranger!" ] || die "after the edit and reinstall, hello('stranger') says '$said', not 'Hi, stranger!' (a stale build?)"
echo "hello('stranger') -> $said"

step "no path into the repository ($root) in the project, its build or its venv"
found="$( { grep -rlF "$root" "$proj" "$CARGO_TARGET_DIR" 2>/dev/null || true
            grep -rlF "$root" "$tmp/venv/lib" --include='*.pth' --include='*.json' --include='RECORD' --include='*.py' 2>/dev/null || true; } | head -n 20)"
[ -z "$found" ] || die "files naming the repository's path:
$found"
[ -f Cargo.lock ] || die "no Cargo.lock"
echo "none (Cargo.lock: $(grep -c '^name = ' Cargo.lock) packages; hpy from $(grep -A2 '^name = "hpy"$' Cargo.lock | sed -n 's/^version = //p'), patched)"

step "done in $((SECONDS - t0)) s: create -> pip install -e . -> pytest -> edit -> pip install -e . -> pytest"
