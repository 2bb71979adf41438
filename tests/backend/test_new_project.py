"""`hpy-build new` (tools/pep517/hpy_build/new.py, __main__.py): the project template rendered.
That the project it makes builds, installs and passes its tests is tools/stranger.sh's job (and
test_editable.py's)."""
import ast
import os
import subprocess
import sys

import pytest

from projects import BACKEND

from hpy_build import new

try:
    import tomllib
except ImportError:  # Python < 3.11: maturin's dependency
    import tomli as tomllib

FILES = [".gitignore", "Cargo.toml", "README.md", "pyproject.toml", "src/lib.rs", "tests/test_my_mod.py"]


def read(path, *parts):
    with open(os.path.join(path, *parts), encoding="utf-8") as f:
        return f.read()


def test_the_template_is_these_files():
    # a file added to the template is a deliberate change: list it here and in new.py's docstring
    assert new.template_files() == ["Cargo.toml", "README.md", "gitignore", "pyproject.toml",
                                    "src/lib.rs", "tests/test_{{module}}.py"]


def test_creates_a_universal_project(tmp_path):
    project = str(tmp_path / "my-mod")
    assert sorted(new.create(project)) == FILES
    cargo = tomllib.loads(read(project, "Cargo.toml"))
    assert cargo["package"]["name"] == "my-mod"
    assert cargo["lib"] == {"name": "my_mod", "crate-type": ["cdylib"]}
    assert cargo["dependencies"] == {"hpy": "0.1"}
    pyproject = tomllib.loads(read(project, "pyproject.toml"))
    # the stranger's backend: the package, no copy of it in the project
    assert pyproject["build-system"] == {"requires": ["hpy-build>=0.1,<0.2"], "build-backend": "hpy_build"}
    assert pyproject["project"]["name"] == "my-mod"
    assert pyproject["project"]["requires-python"] == ">=3.8"
    assert pyproject["project"]["dependencies"] == ['hpy>=0.9.0; platform_python_implementation == "CPython"']
    assert pyproject["tool"]["hpy-build"] == {"abi": "universal"}
    lib = read(project, "src", "lib.rs")
    assert "#![forbid(unsafe_code)]" in lib and "mod my_mod {" in lib
    assert "#[hpy::function" in lib and "#[hpy::class]" in lib and "#[hpy::methods]" in lib
    # Rust's own braces are left alone
    assert 'format!("Hello, {name}{punctuation}")' in lib
    test = read(project, "tests", "test_my_mod.py")
    ast.parse(test)
    assert "import my_mod\n" in test and "def test_counter" in test
    ignored = read(project, ".gitignore").splitlines()
    assert {"/target/", "/build/", "/dist/", "__pycache__/"} <= set(ignored)
    for rel in FILES:
        assert "{{" not in read(project, rel), rel


def test_creates_a_native_project(tmp_path):
    project = str(tmp_path / "fast")
    new.create(project, abi="native")
    pyproject = tomllib.loads(read(project, "pyproject.toml"))
    assert pyproject["tool"]["hpy-build"] == {"abi": "native"}
    assert pyproject["project"]["requires-python"] == ">=3.9"   # pyo3-ffi's lowest
    assert "mod fast {" in read(project, "src", "lib.rs")


def test_module_name_option(tmp_path):
    project = str(tmp_path / "Some-Project")
    written = new.create(project, module="engine")
    assert "tests/test_engine.py" in written
    assert tomllib.loads(read(project, "Cargo.toml"))["lib"]["name"] == "engine"
    assert tomllib.loads(read(project, "pyproject.toml"))["project"]["name"] == "Some-Project"


def test_default_module_name():
    assert new.module_name("My-Mod.x") == "my_mod_x"


@pytest.mark.parametrize("module, says", [
    ("class", "keyword"), ("fn", "keyword"), ("match", "keyword"), ("hpy", "shadow"),
    ("std", "shadow"), ("1abc", "lowercase letters"), ("Caps", "lowercase letters"),
    ("with-dash", "lowercase letters"),
])
def test_refuses_a_bad_module_name(tmp_path, module, says):
    with pytest.raises(new.ProjectError, match=says) as info:
        new.create(str(tmp_path / "p"), module=module)
    assert "--name" in str(info.value)
    assert not (tmp_path / "p").exists()


def test_refuses_a_bad_project_name(tmp_path):
    with pytest.raises(new.ProjectError, match="project name"):
        new.create(str(tmp_path / "my project"))


def test_refuses_a_directory_with_files(tmp_path):
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "keep.txt").write_text("mine")
    with pytest.raises(new.ProjectError, match="not an empty directory"):
        new.create(str(tmp_path / "p"))
    assert os.listdir(tmp_path / "p") == ["keep.txt"]
    # an empty one is fine
    (tmp_path / "q").mkdir()
    assert new.create(str(tmp_path / "q"))


def test_refuses_an_unknown_abi(tmp_path):
    with pytest.raises(new.ProjectError, match="universal or native"):
        new.create(str(tmp_path / "p"), abi="abi3")


def run_cli(*args, cwd):
    env = dict(os.environ, PYTHONPATH=BACKEND)
    return subprocess.run([sys.executable, "-m", "hpy_build"] + list(args), cwd=cwd, env=env,
                          capture_output=True, text=True)


def test_command_line(tmp_path):
    out = run_cli("new", "hello", "--name", "greeter", "--native", cwd=str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert "created hello:" in out.stdout and "tests/test_greeter.py" in out.stdout
    assert "pip install -e ." in out.stdout
    assert tomllib.loads(read(str(tmp_path / "hello"), "pyproject.toml"))["tool"]["hpy-build"]["abi"] == "native"
    again = run_cli("new", "hello", cwd=str(tmp_path))
    assert again.returncode == 1
    assert "hpy-build new: error:" in again.stderr and "not an empty directory" in again.stderr
    bad = run_cli("new", "x", "--name", "class", cwd=str(tmp_path))
    assert bad.returncode == 1 and "keyword" in bad.stderr and not (tmp_path / "x").exists()
    usage = run_cli(cwd=str(tmp_path))
    assert usage.returncode == 2 and "new" in usage.stdout
