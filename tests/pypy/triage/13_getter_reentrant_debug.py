# debug mode only. abort "Error: Wrong HPy Context!" in HPyGlobal_Load: PyPy calls a getter with its
# global debug context, which is invalid while another HPy call (update_x) is running
from loader import load, MODE
geo = load("geometry", MODE)
p, q = geo.Point(1, 2), geo.Point(5, 5)
p.update_x(lambda x: q.x + x)
print(p.x)
