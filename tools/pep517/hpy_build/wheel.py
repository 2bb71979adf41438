"""Turn the `py3-none` wheel maturin builds for a cdylib into a universal HPy wheel.

Usable on its own: python -m hpy_build.wheel <maturin-wheel> <output-directory>
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
    from hpy.universal import _load_bootstrap
    path = os.path.join(os.path.dirname(__file__), {file!r})
    module = _load_bootstrap({name!r}, __name__, __package__, path, __loader__, __spec__, os.environ)
    sys.modules[__name__] = module


__bootstrap__()
'''

# What maturin's cffi binding adds and an HPy wheel does not need.
CFFI_GLUE = ("__init__.py", "ffi.py")


def _record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "%s,sha256=%s,%d" % (path, digest, len(data))


def make_hpy_wheel(src, out_dir):
    """Write the HPy wheel made from maturin's wheel `src` into `out_dir`; return its file name."""
    name = os.path.basename(src)
    files = {}
    with zipfile.ZipFile(src) as zin:
        for info in zin.infolist():
            files[info.filename] = zin.read(info)
    dist_info = next(f.split("/")[0] for f in files if f.split("/")[0].endswith(".dist-info"))
    libs = [f for f in files if re.fullmatch(r"[^/]+/lib[^/]*\.so", f) or re.fullmatch(r"[^/]+/[^/]*\.(pyd|dll|dylib)", f)]
    if len(libs) != 1:
        raise RuntimeError("hpy_build: expected one library in %s, found %r" % (name, libs))
    lib = libs[0]
    package = lib.split("/")[0]
    binary = files.pop(lib)
    if ("HPyInit_%s" % package).encode() not in binary:
        raise RuntimeError(
            "hpy_build: %s does not export HPyInit_%s: the #[hpy::module] must be named like the "
            "Python module (%r, maturin's module-name)" % (lib, package, package))
    for glue in CFFI_GLUE:
        files.pop("%s/%s" % (package, glue), None)
    ext = ".pyd" if lib.endswith((".pyd", ".dll")) else ".so"
    so_name = "%s.hpy0%s" % (package, ext)
    files["%s/%s" % (package, so_name)] = binary
    files["%s/__init__.py" % package] = LOADER.format(name=package, file=so_name).encode()
    stub = stubs.extract(binary)
    if stub is not None:
        files["%s/__init__.pyi" % package] = stub.encode()
        files["%s/py.typed" % package] = b""

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
            info.external_attr = (0o755 if path.endswith(ext) else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zout.writestr(info, files[path])
    return name


if __name__ == "__main__":
    print(make_hpy_wheel(sys.argv[1], sys.argv[2]))
