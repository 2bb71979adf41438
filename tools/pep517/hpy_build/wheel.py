"""Turn the wheel maturin builds for a cdylib into an hpy-rs wheel, of either ABI:

* universal (`make_hpy_wheel`): from maturin's `py3-none` (cffi binding) wheel, the HPy wheel:
  `<module>/<module>.hpy0.so`, the HPy loader `<module>/__init__.py`, the stubs;
* native (`make_native_wheel`): from maturin's `cp3X-cp3X` (pyo3-ffi binding) wheel of the crate
  built with `--features hpy/native`: maturin's package (`<module>/__init__.py` importing the
  extension `<module>/<module><EXT_SUFFIX>`) plus the stubs, without the requirement on `hpy`;
  the same for the stable-ABI build (`--features hpy/abi3`, `abi3=True`), whose tag
  (`cp312-abi3`) and file name (`<module>.abi3.so`) maturin chooses and this checks.

Both end in `_write_wheel` (RECORD and the zip). Usable on its own:
python -m hpy_build.wheel [--native|--abi3] <maturin-wheel> <output-directory>
"""
import base64
import hashlib
import os
import re
import sys
import zipfile

from . import stubs

LOADER = '''\
"""Loader of the universal HPy module {name} ({name}.hpy0.so; written by hpy-rs)."""


def __bootstrap__():
    import os
    import sys
    try:
        from hpy.universal import _load_bootstrap
    except ModuleNotFoundError as e:
        if e.name not in ("hpy", "hpy.universal"):
            raise
        raise ModuleNotFoundError(
            "{name} is a universal HPy module and needs the HPy runtime on CPython: "
            "pip install hpy (PyPy has it built in)", name=e.name) from None
    path = os.path.join(os.path.dirname(__file__), {file!r})
    module = _load_bootstrap({name!r}, __name__, __package__, path, __loader__, __spec__, os.environ)
    sys.modules[__name__] = module


__bootstrap__()
'''

# What maturin's cffi binding adds and an HPy wheel does not need.
CFFI_GLUE = ("__init__.py", "ffi.py")

# A binary: kept executable in the wheel.
_BINARY = (".so", ".pyd", ".dll", ".dylib")


def _record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "%s,sha256=%s,%d" % (path, digest, len(data))


def _read_wheel(src):
    """{path: bytes} of the wheel `src`, and its .dist-info directory."""
    with zipfile.ZipFile(src) as zin:
        files = {info.filename: zin.read(info) for info in zin.infolist()}
    dist_info = next(f.split("/")[0] for f in files if f.split("/")[0].endswith(".dist-info"))
    return files, dist_info


def _write_wheel(files, dist_info, out_dir, name):
    """Write `files` as the wheel `out_dir/name`, with a new RECORD; return `name`."""
    record = "%s/RECORD" % dist_info
    files.pop(record, None)
    lines = [_record_line(p, files[p]) for p in sorted(files)]
    lines.append("%s,," % record)
    files[record] = ("\n".join(lines) + "\n").encode()
    os.makedirs(out_dir, exist_ok=True)
    dst = os.path.join(out_dir, name)
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        # dist-info last, RECORD at the very end, as the wheel spec recommends
        order = sorted(files, key=lambda p: (p.startswith(dist_info), p == record, p))
        for path in order:
            info = zipfile.ZipInfo(path, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = (0o755 if path.endswith(_BINARY) else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zout.writestr(info, files[path])
    return name


def _the_library(files, name, pattern):
    libs = [f for f in files if re.fullmatch(pattern, f)]
    if len(libs) != 1:
        raise RuntimeError("hpy_build: expected one library in %s, found %r" % (name, libs))
    return libs[0], libs[0].split("/")[0]


def _check_exports(binary, lib, symbol, package):
    if symbol.encode() not in binary:
        raise RuntimeError(
            "hpy_build: %s does not export %s: the #[hpy::module] must be named like the "
            "Python module (%r, maturin's module-name)" % (lib, symbol, package))


def _add_stubs(files, package, binary):
    """`<package>/__init__.pyi` and `py.typed`, from the stubs `#[hpy::module]` embeds."""
    stub = stubs.extract(binary)
    if stub is not None:
        files["%s/__init__.pyi" % package] = stub.encode()
        files["%s/py.typed" % package] = b""


def make_hpy_wheel(src, out_dir):
    """Write the universal HPy wheel made from maturin's wheel `src` into `out_dir`; return its
    file name."""
    name = os.path.basename(src)
    files, dist_info = _read_wheel(src)
    lib, package = _the_library(files, name, r"[^/]+/lib[^/]*\.so|[^/]+/[^/]*\.(pyd|dll|dylib)")
    binary = files.pop(lib)
    _check_exports(binary, lib, "HPyInit_%s" % package, package)
    for glue in CFFI_GLUE:
        files.pop("%s/%s" % (package, glue), None)
    ext = ".pyd" if lib.endswith((".pyd", ".dll")) else ".so"
    so_name = "%s.hpy0%s" % (package, ext)
    files["%s/%s" % (package, so_name)] = binary
    files["%s/__init__.py" % package] = LOADER.format(name=package, file=so_name).encode()
    _add_stubs(files, package, binary)
    return _write_wheel(files, dist_info, out_dir, name)


def _without_hpy_requirement(metadata):
    """METADATA without its `Requires-Dist: hpy ...` lines (the native build has no HPy runtime)."""
    lines = metadata.decode("utf-8").split("\n")
    keep = [l for l in lines if not re.match(r"Requires-Dist:\s*hpy\s*($|[\s<>=!~;\[(])", l, re.I)]
    return "\n".join(keep).encode("utf-8")


def _check_abi3(files, dist_info, name, lib):
    """maturin tags a wheel abi3 when the crate turns on pyo3-ffi's `abi3-py3X` feature (hpy/abi3:
    abi3-py312), and names its extension `<module>.abi3.so`: checked here, not assumed."""
    tags = [l.split(":", 1)[1].strip() for l in files["%s/WHEEL" % dist_info].decode().splitlines()
            if l.startswith("Tag:")]
    if not (re.search(r"-cp312-abi3-[^-]+\.whl$", name) and tags
            and all(t.startswith("cp312-abi3-") for t in tags) and re.search(r"\.abi3\.so$|\.pyd$", lib)):
        raise RuntimeError("hpy_build: maturin did not make a cp312-abi3 wheel of the hpy/abi3 build: "
                           "%s, tags %r, extension %s" % (name, tags, lib))


def make_native_wheel(src, out_dir, abi3=False):
    """Write the native wheel made from maturin's (pyo3-ffi binding) wheel `src` into `out_dir`;
    return its file name. The extension and maturin's `__init__.py` stay as they are. `abi3`: the
    stable-ABI build, whose `cp312-abi3` tag is checked."""
    name = os.path.basename(src)
    files, dist_info = _read_wheel(src)
    lib, package = _the_library(files, name, r"[^/]+/[^/]+\.(so|pyd)")
    if abi3:
        _check_abi3(files, dist_info, name, lib)
    binary = files[lib]
    _check_exports(binary, lib, "PyInit_%s" % package, package)
    if "%s/__init__.pyi" % package not in files:
        _add_stubs(files, package, binary)
    meta = "%s/METADATA" % dist_info
    files[meta] = _without_hpy_requirement(files[meta])
    return _write_wheel(files, dist_info, out_dir, name)


if __name__ == "__main__":
    args = sys.argv[1:]
    flag = args.pop(0) if args[:1] in (["--native"], ["--abi3"]) else None
    if flag is None:
        print(make_hpy_wheel(args[0], args[1]))
    else:
        print(make_native_wheel(args[0], args[1], abi3=flag == "--abi3"))
