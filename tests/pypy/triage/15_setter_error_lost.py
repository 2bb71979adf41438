# any mode: a setter's error is not raised (PyPy ignores the setter's -1) and stays pending:
# it surfaces later in unrelated code (e.g. "TypeError: expected float, got NoneType")
from loader import load, MODE
geo = load("geometry", MODE)
p = geo.Point(1, 2)
p.x = "not a float"       # CPython: TypeError
print("no error; p.x =", p.x)
