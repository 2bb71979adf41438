# tests/wheels is no package (no __init__.py): put this directory on sys.path so that the tests
# import their shared helpers (wheelcheck.py) whatever pytest's import mode and rootdir.
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
