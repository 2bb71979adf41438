# HEAD build. universal/trace: SIGSEGV in HPy_SetAttr_s while loading; debug: DHPy_sanity_check abort
# (#[hpy::class] staticmethod setup calls builtins.staticmethod(f) through HPy_Call)
from loader import load, MODE
geo = load("geometry", MODE)
print(geo)
