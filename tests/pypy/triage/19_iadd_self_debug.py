# debug mode: `lst += lst` / `lst += range(...)` on an hpy-rs sequence class
from loader import load, MODE
co = load("containers", MODE)
L = co.IntList
for name, op in [("list", lambda l: [2, 3]), ("IntList", lambda l: L([5])), ("range", lambda l: range(6, 8)), ("self", lambda l: l)]:
    lst = L([1, 2]); print(name, flush=True)
    lst += op(lst)
    print("  ->", lst.to_list(), flush=True)
