# any mode: a Python subclass instance of an hpy-rs class, in a cycle through its __dict__, is
# collected by PyPy's GC: abort "Fatal RPython error: AssertionError" in gc.collect()
import gc
from loader import load, MODE
tree = load("tree", MODE)
class Labelled(tree.Node):
    pass
root = Labelled("root")
root.add_child(Labelled("kid"))
root.extra = root
print("built", tree.live_nodes(), flush=True)
del root
gc.collect()
print("collected", tree.live_nodes(), flush=True)
