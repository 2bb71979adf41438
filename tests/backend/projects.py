"""Helpers shared by the backend tests (conftest.py puts this directory on sys.path)."""
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BACKEND = os.path.join(ROOT, "tools", "pep517")
# tools/pep517 for `import hpy_build`; tests/wheels for its wheelcheck (RECORD checks)
for _path in (BACKEND, os.path.join(ROOT, "tests", "wheels")):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from hpy_build import new  # noqa: E402

CRATES = ("hpy-sys", "hpy-macros-backend", "hpy-macros", "hpy")


def template_project(parent, name="demo-mod", abi="universal"):
    """A project made by `hpy-build new` under `parent`, whose `hpy = "0.1"` resolves to this
    repository's crates (.cargo/config.toml; tools/stranger.sh does it with the packaged crates
    instead) and whose Cargo.lock starts from the workspace's (no registry look-up for versions
    the workspace already has)."""
    path = os.path.join(str(parent), name)
    new.create(path, abi=abi)
    os.makedirs(os.path.join(path, ".cargo"))
    with open(os.path.join(path, ".cargo", "config.toml"), "w") as f:
        f.write("[patch.crates-io]\n")
        for crate in CRATES:
            f.write('%s = { path = "%s" }\n' % (crate, os.path.join(ROOT, crate)))
    shutil.copy(os.path.join(ROOT, "Cargo.lock"), os.path.join(path, "Cargo.lock"))
    return path


def backend(project, hook, *args, env=None):
    """Run the backend hook `hook(*args)` of hpy_build (from the source tree) in a fresh
    interpreter in `project`, as a build frontend does without isolation; return its result."""
    code = "import sys, hpy_build; print(getattr(hpy_build, sys.argv[1])(*sys.argv[2:]))"
    full_env = dict(os.environ if env is None else env, PYTHONPATH=BACKEND)
    out = subprocess.run([sys.executable, "-c", code, hook] + list(args), cwd=project, env=full_env,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-4000:]
    return out.stdout.strip().splitlines()[-1]
