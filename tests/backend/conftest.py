"""Tests of the build backend hpy-build (tools/pep517): imported from the source tree, run with the
build tools venv (build/venv/tools: maturin, cffi, pytest), as tools/test.sh runs them:

    build/venv/tools/bin/python -m pytest tests/backend

This directory is no package: it goes on sys.path, so that the tests import their helpers
(projects.py, which also puts tools/pep517 on sys.path for `import hpy_build`).
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
