# HEAD build. root.children comes back None (should be [a]); then a.parent aborts:
# universal/trace "Fatal RPython error: AssertionError"; debug "debug_ctx_TypeCheck: Assertion
# `!HPy_IsNull(uh_obj)'". Calls to shifted ctx slots land in their neighbour's function.
from loader import load, MODE
tree = load("tree", MODE)
root, a = tree.Node("root"), tree.Node("a")
root.add_child(a)
print("children:", root.children, flush=True)
print("parent:", a.parent, flush=True)
