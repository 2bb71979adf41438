"""examples/tree: objects holding Python objects in Fields, GC of cycles through Fields, Drop.

Runs in universal, debug (leak detector around every test) and trace mode.
"""
import gc

import pytest

from conftest import built_module, load, skip_module_if_types_crash

skip_module_if_types_crash()


@pytest.fixture(scope="session")
def tree(hpy_mode, tmp_path_factory):
    return load("tree", built_module("HPYRS_TREE_SO"), hpy_mode, tmp_path_factory)


@pytest.fixture
def live(tree):
    """Nodes alive now, relative to the start of the test (after a full collection)."""
    gc.collect()
    base = tree.live_nodes()
    return lambda: (gc.collect(), tree.live_nodes() - base)[1]


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
    gc.collect()
    base = tree.live_nodes()
    gc.disable()
    try:
        root, kid = tree.Node("r"), tree.Node("k")
        root.add_child(kid)
        kid.detach()                   # no cycle left: reference counting alone frees both
        del root, kid
        assert tree.live_nodes() == base
    finally:
        gc.enable()


def test_subclass_with_python_attributes(tree, live):
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
