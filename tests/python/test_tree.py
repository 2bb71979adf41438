"""examples/tree: objects holding Python objects in Fields, GC of cycles through Fields, Drop.

Runs in universal, debug (leak detector around every test) and trace mode.
"""
import gc
import os
import random
import subprocess
import sys

import pytest

from conftest import PYPY, built_module, load, refuses_python_subclass, skip_module_if_types_crash

skip_module_if_types_crash()


@pytest.fixture(scope="session")
def tree_so():
    return built_module("HPYRS_TREE_SO")


@pytest.fixture(scope="session")
def tree(tree_so, hpy_mode, tmp_path_factory):
    return load("tree", tree_so, hpy_mode, tmp_path_factory)


# How many collections `settled` runs at most: more than the longest chain of nodes that the
# tests below leave to the collector (test_random_edits_keep_a_forest's: at most 12 nodes).
SETTLE_LIMIT = 100


def settled(tree):
    """`tree.live_nodes()` once every unreachable node is freed. On CPython one collection frees
    them all (cycles included). PyPy finalizes objects that have a finalizer (each Node has
    tp_destroy) in order: a node that another unreachable node refers to is finalized only at a
    later collection, one link of a chain per collection. There: collect until the count stops
    changing (at most SETTLE_LIMIT times)."""
    gc.collect()
    count = tree.live_nodes()
    for _ in range(SETTLE_LIMIT if PYPY else 0):
        gc.collect()
        count, before = tree.live_nodes(), count
        if count == before:
            break
    return count


@pytest.fixture
def live(tree):
    """Nodes alive now, relative to the start of the test (after a full collection)."""
    base = settled(tree)
    return lambda: settled(tree) - base


def test_fields_hold_python_objects(tree):
    root, a, b = tree.Node("root"), tree.Node("a"), tree.Node("b")
    assert root.value is None
    payload = {"k": [1, 2, 3]}
    root.value = payload
    assert root.value is payload
    root.add_child(a)
    root.add_child(b)
    a.add_child(tree.Node("a1"))
    assert root.children == [a, b]
    assert a.parent is root and root.parent is None
    assert (len(root), len(a), len(b)) == (2, 1, 0)
    assert root.size() == 4
    assert repr(root) == 'Node("root")' and root.name == "root"


def test_bad_input(tree):
    root = tree.Node("root")
    with pytest.raises(ValueError, match="needs a name"):
        tree.Node("")
    with pytest.raises(TypeError, match=r"argument 'child' must be Node, not int"):
        root.add_child(3)
    with pytest.raises(ValueError, match="own child"):
        root.add_child(root)
    with pytest.raises(TypeError, match="must be str, not int"):
        tree.Node(1)
    with pytest.raises(AttributeError):
        root.name = "x"  # read-only


def test_drop_runs_when_a_node_dies(tree, live):
    n = tree.Node("x")
    assert live() == 1
    del n
    assert live() == 0


def test_parent_child_cycles_are_collected(tree, live):
    root = tree.Node("root")
    for i in range(10):
        child = tree.Node("c%d" % i)
        root.add_child(child)          # child -> parent and parent -> child: a cycle
        child.add_child(tree.Node("g%d" % i))
    assert live() == 21
    del root, child
    assert live() == 0                 # gc.collect() found the cycles through the Fields


def test_self_cycle_through_value_is_collected(tree, live):
    n = tree.Node("self")
    n.value = n
    m = tree.Node("other")
    m.value = [m, {"again": m}]
    assert live() == 2
    del n, m
    assert live() == 0


def test_breaking_cycles_by_hand_frees_without_gc(tree):
    base = settled(tree)
    gc.disable()
    try:
        root, kid = tree.Node("r"), tree.Node("k")
        root.add_child(kid)
        kid.detach()                   # no cycle left: reference counting alone frees both
        del root, kid
        if not PYPY:
            assert tree.live_nodes() == base
    finally:
        gc.enable()
    if PYPY:
        # PyPy has no reference counts: nothing is freed before a collection, with or without a
        # cycle; the detached nodes are freed by the collector
        assert settled(tree) == base


def test_subclass_with_python_attributes(tree, live):
    if refuses_python_subclass(tree.Node):
        return
    class Labelled(tree.Node):
        def describe(self):
            return "%s:%d" % (self.name, len(self))

    root = Labelled("root")
    root.add_child(Labelled("kid"))
    root.extra = root                  # a cycle through the instance __dict__, not a Field
    assert root.describe() == "root:1"
    assert isinstance(root.children[0], tree.Node)
    del root
    assert live() == 0


# ---- the nodes form a forest: no cycles, each node in its parent's children exactly once ----

def test_cycles_are_refused(tree):
    a, b, c = tree.Node("a"), tree.Node("b"), tree.Node("c")
    a.add_child(b)
    with pytest.raises(ValueError, match=r'^cannot add Node\("a"\) as a child of Node\("b"\): '
                                         r'it is an ancestor of Node\("b"\)$'):
        b.add_child(a)
    b.add_child(c)
    with pytest.raises(ValueError, match="it is an ancestor of"):
        c.add_child(a)
    with pytest.raises(ValueError, match=r"^a node cannot be its own child$"):
        c.add_child(c)
    # nothing changed
    assert a.children == [b] and b.children == [c] and c.children == []
    assert (a.parent, b.parent, c.parent) == (None, a, b)
    assert a.size() == 3


def test_a_new_parent_takes_the_child_away_from_the_old_one(tree):
    a, b, c = tree.Node("a"), tree.Node("b"), tree.Node("c")
    a.add_child(b)
    c.add_child(b)
    assert b.parent is c
    assert a.children == [] and c.children == [b]
    assert (a.size(), c.size()) == (1, 2)
    b.add_child(a)  # a is no ancestor of b any more
    assert a.parent is b and c.size() == 3


def test_adding_a_child_again_lists_it_once(tree):
    a, b, c = tree.Node("a"), tree.Node("b"), tree.Node("c")
    a.add_child(b)
    a.add_child(c)
    a.add_child(b)  # moved to the end, as the DOM's appendChild does
    assert a.children == [c, b]
    assert len(a) == 2 and a.size() == 3


def test_detach_removes_the_node_from_its_parent(tree):
    a, b, c = tree.Node("a"), tree.Node("b"), tree.Node("c")
    a.add_child(b)
    a.add_child(c)
    b.detach()
    assert b.parent is None and a.children == [c] and a.size() == 2
    b.detach()  # a root already: nothing to do
    assert b.parent is None


def check_forest(nodes):
    """Every node is in its parent's children exactly once, and in no other node's."""
    for node in nodes:
        for child in node.children:
            assert child.parent is node
        if node.parent is not None:
            assert [c for c in node.parent.children if c is node] == [node]
        owners = [other for other in nodes if any(c is node for c in other.children)]
        assert owners == ([] if node.parent is None else [node.parent])


def test_random_edits_keep_a_forest(tree):
    rng = random.Random(12)
    nodes = [tree.Node("n%d" % i) for i in range(12)]
    for _ in range(400):
        parent, child = rng.choice(nodes), rng.choice(nodes)
        if rng.random() < 0.15:
            child.detach()
            continue
        ancestors, up = [], parent
        while up is not None:
            ancestors.append(up)
            up = up.parent
        if any(a is child for a in ancestors):
            with pytest.raises(ValueError):
                parent.add_child(child)
        else:
            parent.add_child(child)
            assert parent.children[-1] is child and child.parent is parent
        check_forest(nodes)
    roots = [n for n in nodes if n.parent is None]
    assert sum(r.size() for r in roots) == len(nodes)


def test_size_of_a_wide_tree(tree):
    root = tree.Node("root")
    for i in range(2000):
        child = tree.Node("c%d" % i)
        root.add_child(child)
        child.add_child(tree.Node("g%d" % i))
    assert root.size() == 4001


# ---- deep trees: nothing recurses on the C stack (each in its own process: a crash is reported,
# not fatal to the test run) ----

DEEP = r"""
import gc, sys
import hpyrs_abi

so, mode, shape, depth, free = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
settle = free == "settle"
tree = hpyrs_abi.load_file("tree", so, mode)


def settled():
    # live_nodes() once the unreachable nodes are freed (see test_tree.settled): on PyPy, one
    # link of a chain per collection, so collect until the count stops changing
    gc.collect()
    count = tree.live_nodes()
    while settle:
        gc.collect()
        count, before = tree.live_nodes(), count
        if count == before:
            break
    return count


base = settled()


def chain():
    if shape == "grown one node at a time":
        nodes = [tree.Node("n0")]
        for i in range(1, depth):
            nodes.append(tree.Node("n%d" % i))
            nodes[-2].add_child(nodes[-1])
        return nodes[0], nodes[-1]
    nodes = [tree.Node("n%d" % i) for i in range(depth)]
    links = list(zip(nodes, nodes[1:]))
    if shape == "built from the root":
        for parent, child in links:
            parent.add_child(child)
    elif shape == "built from the leaf":
        for parent, child in reversed(links):
            parent.add_child(child)
    elif shape == "values":
        for holder, held in links:
            holder.value = held
    return nodes[0], nodes[-1]


root, leaf = chain()
if shape != "values":
    print(root.size(), leaf.size(), leaf.parent.parent.size())
    with_leaf = leaf.parent
    leaf.detach()
    print(root.size(), with_leaf.size())
    del with_leaf
del root, leaf
if free != "no":
    print(settled() - base)
"""


def run_deep(tree_so, hpy_mode, shape, depth, free):
    """Run DEEP; `free` is "collect" (print the nodes left after one collection), "settle" (after
    collecting until nothing more is freed) or "no" (print no count)."""
    # run in this directory, where `-c` code finds hpyrs_abi
    out = subprocess.run([sys.executable, "-c", DEEP, tree_so, hpy_mode, shape, str(depth), free],
                         capture_output=True, text=True, timeout=600,
                         cwd=os.path.dirname(os.path.abspath(__file__)))
    assert out.returncode == 0, "exit status %d: %s" % (out.returncode, out.stderr[-2000:])
    return out.stdout.split()


DEPTH = 200_000
# On PyPy, freeing a chain of n nodes takes n collections (see `settled`), each going over what
# is left: 2,000 nodes take 3 s, 200,000 would take hours. The chains freed there are this long.
# (Nothing recurses when PyPy frees a chain: one link per collection.)
PYPY_FREED_DEPTH = 300


def chain_sizes(depth):
    """What DEEP prints for a chain of `depth` nodes before the count of nodes left."""
    return [str(depth), "1", "3", str(depth - 1), "1"]


@pytest.mark.parametrize("shape", ["built from the root", "built from the leaf", "grown one node at a time"])
def test_a_deep_chain_is_walked_and_freed(tree_so, hpy_mode, shape):
    """size() walks a chain of 200,000 nodes without recursion (it used to overflow the C stack
    past about 50,000), and the chain, all cycles, is freed by the collector."""
    if not PYPY:
        assert run_deep(tree_so, hpy_mode, shape, DEPTH, "collect") == chain_sizes(DEPTH) + ["0"]
        return
    # PyPy: the walk of the deep chain (not in debug mode: PyPy's debug mode takes 2 minutes to
    # build and walk 200,000 nodes; it gets the shorter chain below), and the freeing of a
    # shorter chain, collection after collection (see PYPY_FREED_DEPTH)
    if hpy_mode != "debug":
        assert run_deep(tree_so, hpy_mode, shape, DEPTH, "no") == chain_sizes(DEPTH)
    assert run_deep(tree_so, hpy_mode, shape, PYPY_FREED_DEPTH, "settle") == chain_sizes(PYPY_FREED_DEPTH) + ["0"]


def test_a_deep_chain_of_values_is_freed(tree_so, hpy_mode):
    """Nodes holding each other as values, 200,000 deep: freeing the first frees the next...
    without a C stack frame per node (it used to crash past about 30,000)."""
    if PYPY:
        # no recursion to check on PyPy: it frees one link per collection (see PYPY_FREED_DEPTH)
        assert run_deep(tree_so, hpy_mode, "values", PYPY_FREED_DEPTH, "settle") == ["0"]
    else:
        assert run_deep(tree_so, hpy_mode, "values", DEPTH, "collect") == ["0"]
