# shellcheck shell=bash
# Library, not a command: `source tools/debian-root.sh`. The shared part of the tools that run an
# interpreter from a cached Debian root (tools/pypy.sh, tools/cpython314.sh): a Debian that is
# made once by debootstrap under build/<name>/root, and a wrapper, build/<name>/bin/in-root,
# that runs any command inside it.
#
# A tool built on it (run as root: debootstrap, chroot and mount need it) calls, in order:
#   debian_root_begin BASE TOOL                      check for root, take BASE/.lock
#   debian_root_make BASE SUITE PACKAGES SCRIPT LABEL
#                                                    make (or reuse) BASE/root
#   debian_root_host_files BASE                      copy the host's network files into it
#   debian_root_write_in_root BASE REPO LABEL TOOL   write BASE/bin/in-root
# and then sets up what it needs inside the root through BASE/bin/in-root, e.g.
#   debian_root_make_venv BASE REPO LABEL INTERP VENV_INTERP REQS WANTED START
#                                                    make (or reuse) the venv BASE/root/venv
#   BASE      the tool's directory, e.g. <repo>/build/pypy; the root is BASE/root
#   SUITE     the Debian suite to debootstrap (trixie, forky, ...)
#   PACKAGES  comma-separated packages to install on top of minbase (debootstrap --include)
#   SCRIPT    debootstrap's SCRIPT argument, "" for the suite's own script: a suite newer than
#             this machine's debootstrap has none, and is made with the script of the suite
#             it descends from (forky with `sid`)
#   LABEL     how messages name the root ("PyPy", "CPython 3.14")
#   TOOL      the tool, as messages and the generated wrapper name it (tools/pypy.sh)
#   REPO      the repository's absolute physical path, bind-mounted at the same path in the root
#   INTERP    the interpreter command inside the root that makes the venv (pypy3, python3.14)
#   VENV_INTERP  the venv's interpreter, /venv/bin/VENV_INTERP (pypy3, python)
#   REQS      the requirements file pip installs; inside the repo, so visible in the root
#   WANTED    the text of the venv's stamp (the requirements it was made with)
#   START     the caller's $SECONDS at its start, for the timing message
#
# The root is cached: BASE/root/.hpyrs-complete marks a finished root and lists its suite and
# packages; a root without it (an interrupted run), or made with another suite or other
# packages, is deleted and made again. The Debian mirror is the one this machine's apt uses;
# HPYRS_DEBIAN_MIRROR overrides it.
#
# in-root keeps the working directory (which must be in the repo or /tmp), the environment
# (PATH is the root's, with /venv/bin first), the arguments and the exit status: it execs, so a
# crash is the caller's child dying of SIGSEGV/SIGABRT (status 139/134 from a shell). The repo
# is bind-mounted at its own absolute path in the root, so build/modules/*.so and the tests are
# where the environment says; /dev and /tmp are the host's, /proc is fresh. Every mount is made
# in a private mount namespace (unshare) that ends with the process: nothing is left mounted,
# nothing accumulates, and removing BASE never reaches through a mount.

# debian_root_begin BASE TOOL: refuse to run as a user; make BASE/bin; take BASE/.lock on fd 9
# for the rest of the caller's run.
debian_root_begin() {
    local base="$1" tool="$2"
    [ "$(id -u)" = 0 ] || { echo "error: $tool needs root (debootstrap, chroot, mount)" >&2; exit 1; }
    mkdir -p "$base/bin"
    # one setup at a time (other runs wait here); the wrappers themselves take no lock
    exec 9>"$base/.lock"
    flock 9
}

# The Debian mirror apt already uses on this machine: the first non-security URI of a deb822
# .sources file, else of sources.list, else Debian's CDN.
debian_root_host_mirror() {
    local uri
    uri="$( (cat /etc/apt/sources.list.d/*.sources 2>/dev/null || true) \
        | awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }')"
    if [ -z "$uri" ]; then
        uri="$( (cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true) \
            | sed -e 's/\[[^]]*\]//' | awk '$1 == "deb" && $2 !~ /security/ { print $2; exit }')"
    fi
    echo "${uri:-http://deb.debian.org/debian}"
}

# The CA bundle the host's pip is configured with (PIP_CERT, pip's config), else the system one.
debian_root_host_ca_bundle() {
    local cert="${PIP_CERT:-}"
    if [ -z "$cert" ] && command -v python3 >/dev/null; then
        cert="$(python3 -m pip config list 2>/dev/null | sed -n "s/^[^ ]*\.cert='\(.*\)'\$/\1/p" | head -n1)"
    fi
    echo "${cert:-/etc/ssl/certs/ca-certificates.crt}"
}

# debian_root_unmount_all ROOT: anything still mounted under ROOT in this namespace (only a
# hand-made mount could be: ours live in private namespaces) is unmounted before ROOT is deleted.
debian_root_unmount_all() {
    local root="$1" target
    findmnt -rn -o TARGET | sort -r | while read -r target; do
        case "$target" in "$root"|"$root"/*) umount -R -l "$target" 2>/dev/null || true ;; esac
    done
}

# debian_root_make BASE SUITE PACKAGES SCRIPT LABEL: make BASE/root unless its marker says it is
# finished and has SUITE and PACKAGES. Logs go to stderr and BASE/{apt,debootstrap}.log.
debian_root_make() {
    local base="$1" suite="$2" packages="$3" script="$4" label="$5"
    local root="$base/root" marker="$base/root/.hpyrs-complete" mirror
    # the marker's contents are what pypy.sh always wrote, so its existing roots stay valid
    if [ -f "$marker" ] && [ "$(cat "$marker")" = "$suite $packages" ]; then
        return 0
    fi
    if [ -e "$root" ]; then
        echo "removing the unfinished or outdated $label root $root" >&2
        debian_root_unmount_all "$root"
        rm -rf --one-file-system "$root"
    fi
    if ! command -v debootstrap >/dev/null; then
        echo "installing debootstrap" >&2
        if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap; } \
                >"$base/apt.log" 2>&1; then
            cat "$base/apt.log" >&2; echo "error: could not install debootstrap" >&2; exit 1
        fi
    fi
    mirror="${HPYRS_DEBIAN_MIRROR:-$(debian_root_host_mirror)}"
    echo "debootstrap $suite${script:+ (script $script)} ($packages) from $mirror into $root" >&2
    mkdir -p "$root"
    # in a private mount namespace: the /proc and /sys that debootstrap mounts in the target
    # go away with it even if it is interrupted
    if ! unshare --mount --propagation private -- \
            debootstrap --variant=minbase --include="$packages" "$suite" "$root" "$mirror" ${script:+"$script"} \
            >"$base/debootstrap.log" 2>&1; then
        tail -n 30 "$base/debootstrap.log" >&2
        echo "error: debootstrap failed (log: $base/debootstrap.log)" >&2
        exit 1
    fi
    # lean: the downloaded packages, the package lists, documentation and translations are not
    # needed to run (`in-root apt-get update` brings the lists back, e.g. to install gdb)
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/debootstrap \
        "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/*
    echo "$suite $packages" >"$marker"
    echo "$label root ready: $(du -sh "$root" | cut -f1)" >&2
}

# debian_root_host_files BASE: the host files the root needs for the network (pip's CA bundle,
# pip.conf, resolv.conf). Refreshed on every run: they may change.
debian_root_host_files() {
    local root="$1/root"
    mkdir -p "$root/etc/ssl/certs"
    cp -L "$(debian_root_host_ca_bundle)" "$root/etc/ssl/certs/ca-certificates.crt"
    if [ -f /etc/pip.conf ]; then cp -L /etc/pip.conf "$root/etc/pip.conf"; fi
    rm -f "$root/etc/resolv.conf"
    if [ -e /etc/resolv.conf ]; then cp -L /etc/resolv.conf "$root/etc/resolv.conf"; fi
}

# debian_root_write_in_root BASE REPO LABEL TOOL: write BASE/bin/in-root, which runs a command
# inside BASE/root.
debian_root_write_in_root() {
    local base="$1" repo="$2" label="$3" tool="$4"
    local root="$base/root"
    # in-root: re-exec itself in a private mount namespace, mount, then chroot and exec
    cat >"$base/bin/in-root" <<EOF
#!/usr/bin/env bash
# Generated by $tool: run a command inside $root, in the working directory and with
# the environment of the caller. The mounts live in a private mount namespace of this process.
set -euo pipefail
root='$root'
repo='$repo'
if [ "\${1:-}" != --in-namespace ]; then
    exec unshare --mount --propagation private -- "\$0" --in-namespace "\$@"
fi
shift
[ \$# -gt 0 ] || set -- /bin/bash
cwd="\$(pwd -P)"
case "\$cwd" in
    "\$repo"|"\$repo"/*|/tmp|/tmp/*) ;;
    *) echo "in-root: the working directory \$cwd is not in the repo (\$repo) or /tmp," \\
            "so it does not exist in the $label root" >&2; exit 2 ;;
esac
mount -t proc proc "\$root/proc"
mount --rbind /dev "\$root/dev"
mount --bind /tmp "\$root/tmp"
mkdir -p "\$root\$repo"
mount --bind "\$repo" "\$root\$repo"
unset PYTHONHOME
export PATH=/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
exec chroot "\$root" /usr/bin/env --chdir="\$cwd" "\$@"
EOF
    chmod +x "$base/bin/in-root"
}

# debian_root_make_venv BASE REPO LABEL INTERP VENV_INTERP REQS WANTED START: make the venv /venv
# (BASE/root/venv) with `INTERP -m venv` and install REQS into it, unless its stamp
# (/venv/.hpyrs-requirements) says WANTED. Logs go to stderr and BASE/pip-install.log.
debian_root_make_venv() {
    local base="$1" repo="$2" label="$3" interp="$4" venv_interp="$5" reqs="$6" wanted="$7" start="$8"
    local root="$base/root" venv="$base/root/venv" stamp="$base/root/venv/.hpyrs-requirements" log
    # (bin/<interp> in the venv may be a link to the root's /usr/bin/<interp>, as PyPy's is: test
    # the venv by its pyvenv.cfg)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ] && [ -f "$venv/pyvenv.cfg" ]; then
        return 0
    fi
    rm -rf "$venv"
    echo "creating the $label venv /venv in $root" >&2
    log="$base/pip-install.log"
    # the host's pip settings (PIP_CERT, ...) are in the environment and stay; a find-links
    # directory of the host does not exist in the root and would only make pip warn
    if ! (cd "$repo" && env -u PIP_FIND_LINKS "$base/bin/in-root" sh -c \
            "$interp"' -m venv /venv && /venv/bin/'"$venv_interp"' -m pip install --no-cache-dir -q -r "$1"' \
            sh "$reqs") >"$log" 2>&1; then
        cat "$log" >&2
        echo "error: could not create the $label venv (log: $log)" >&2
        exit 1
    fi
    echo "$wanted" >"$stamp"
    echo "$label venv ready after $((SECONDS - start)) s; ${base#"$repo"/}: $(du -sh "$base" | cut -f1)" >&2
}
