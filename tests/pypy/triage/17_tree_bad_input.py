# any mode: abort on a read-only property assignment (no setter): PyPy calls the NULL setter?
from loader import load, MODE
tree = load("tree", MODE)
root = tree.Node("root")
for i, f in enumerate([lambda: tree.Node(""), lambda: root.add_child(3), lambda: root.add_child(root),
                       lambda: tree.Node(1), lambda: setattr(root, "name", "x")]):
    print("step", i, flush=True)
    try: f()
    except Exception as e: print("  ", type(e).__name__, e, flush=True)
