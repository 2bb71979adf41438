"""`hpy-build new <directory>`: a new hpy-rs project, from the template in hpy_build/template/.

The project: Cargo.toml (a cdylib depending on the `hpy` crate), src/lib.rs (a safe module with a
function and a class), pyproject.toml (built by hpy-build, universal unless `--native`),
tests/test_<module>.py (pytest), .gitignore and README.md. Template files are text with the
placeholders `{{project}}`, `{{module}}`, `{{abi}}`, `{{requires_python}}` and `{{hpy_crate}}`,
in their contents and in their paths; `gitignore` becomes `.gitignore` (a `.gitignore` inside
this package would apply to the hpy-rs repository itself).
"""
import keyword
import os
import re

TEMPLATE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "template")
RENAMES = {"gitignore": ".gitignore"}

# The version requirement of the `hpy` crate in a new project's Cargo.toml.
HPY_CRATE = "0.1"
# The lowest Python of each ABI (pyo3-ffi, under the native builds, starts at 3.9).
REQUIRES_PYTHON = {"universal": ">=3.8", "native": ">=3.9"}

_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")

# Module names that cannot be the `#[hpy::module] mod` and the cdylib's name: Rust's keywords
# (reserved ones too), and names that would shadow a crate the module uses.
RUST_KEYWORDS = frozenset("""
    as async await break const continue crate dyn else enum extern false fn for gen if impl in
    let loop match mod move mut pub ref return self static struct super trait true try type
    unsafe use where while abstract become box do final macro override priv typeof unsized
    virtual yield
""".split())
SHADOWING = frozenset({"hpy", "std", "core", "alloc"})


class ProjectError(ValueError):
    """A project that `new` cannot create: the message says why and what to do instead."""


def module_name(project):
    """The module name a project of this name gets by default: `my-mod` -> `my_mod`."""
    return project.replace("-", "_").replace(".", "_").lower()


def check_names(project, module):
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", project):
        raise ProjectError("project name %r: use letters, digits, '-' and '_', starting with a "
                           "letter (the project is named after its directory)" % project)
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", module):
        raise ProjectError("module name %r: use lowercase letters, digits and '_', not starting "
                           "with a digit (choose one with --name)" % module)
    if keyword.iskeyword(module) or module in RUST_KEYWORDS:
        raise ProjectError("module name %r is a Python or Rust keyword: choose another with --name"
                           % module)
    if module in SHADOWING:
        raise ProjectError("module name %r would shadow the crate %r that the module uses: choose "
                           "another with --name" % (module, module))


def render(text, values):
    def substitute(match):
        key = match.group(1)
        if key not in values:
            raise KeyError("template placeholder {{%s}} has no value" % key)
        return values[key]
    return _PLACEHOLDER.sub(substitute, text)


def template_files():
    """The template's files, as paths relative to the template directory (with `/`)."""
    out = []
    for dirpath, dirnames, filenames in os.walk(TEMPLATE):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            if not name.endswith((".pyc", ".pyo")):
                out.append(os.path.relpath(os.path.join(dirpath, name), TEMPLATE).replace(os.sep, "/"))
    return out


def create(directory, module=None, abi="universal"):
    """Create the project in `directory` (which must be missing or empty); return the paths
    written, relative to it."""
    if abi not in REQUIRES_PYTHON:
        raise ProjectError("abi %r: a new project is %s" % (abi, " or ".join(REQUIRES_PYTHON)))
    directory = os.path.abspath(directory)
    project = os.path.basename(directory.rstrip(os.sep))
    module = module or module_name(project)
    check_names(project, module)
    if os.path.exists(directory) and (not os.path.isdir(directory) or os.listdir(directory)):
        raise ProjectError("%s already exists and is not an empty directory" % directory)
    values = {"project": project, "module": module, "abi": abi,
              "requires_python": REQUIRES_PYTHON[abi], "hpy_crate": HPY_CRATE}
    written = []
    for rel in template_files():
        with open(os.path.join(TEMPLATE, *rel.split("/")), encoding="utf-8") as f:
            text = render(f.read(), values)
        out = render("/".join(RENAMES.get(part, part) for part in rel.split("/")), values)
        path = os.path.join(directory, *out.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        written.append(out)
    return written
