"""What a project's `pyproject.toml` says to hpy_build: read with tomllib (Python 3.11+) or tomli
(a dependency of hpy-build before 3.11)."""
import os


def load(directory="."):
    """The parsed `pyproject.toml` of `directory` ({} when there is none)."""
    # imported here, not at the top: `hpy_build.wheel` (tools/hpy_stub.py uses it) and the
    # `new` command must import on any Python, without tomli
    try:
        import tomllib as toml
    except ImportError:  # Python < 3.11
        import tomli as toml
    path = os.path.join(directory, "pyproject.toml")
    if not os.path.exists(path):
        return {}
    with open(path, "rb") as f:
        return toml.load(f)


def tool_settings(pyproject):
    """The `[tool.hpy-build]` table."""
    return pyproject.get("tool", {}).get("hpy-build", {})

