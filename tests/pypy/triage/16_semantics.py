# any mode: behaviour differences that are not crashes
from loader import load, MODE
geo = load("geometry", MODE)
qs = load("quickstart", MODE)
V = geo.Vector
v = V(1, 2)
v.z = 3; print("instances get a __dict__:", v.__dict__)            # CPython: AttributeError
try: 3 * v
except TypeError as e: print("no reflected slots:", e)              # CPython: Vector(3, 6)
print("type name in messages:", V.__name__, "(CPython: geometry.Vector)")
print("method __doc__ keeps the signature:", repr(V.norm.__doc__))  # CPython: 'The Euclidean length.'
print("str.split on \\x1c:", "a\x1cb".split(), "vs word_counts", qs.word_counts("a\x1cb"))
