# any mode: SystemError: non-dict passed to HPyDict_Keys. PyPy calls HPy_tp_new with the
# vectorcall convention (keyword values after the positionals, `kw` = tuple of names), not a dict
from loader import load, MODE
geo = load("geometry", MODE)
print(geo.Vector(1, 2))
print(geo.Vector(x=1, y=2))
