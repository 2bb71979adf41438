"""Thread scenarios for test_threads.py, each run in its own interpreter process.

`python thread_scenarios.py <scenario> <mode>` loads the modules it needs (paths from the
`HPYRS_<MODULE>_SO` variables) in `mode`, runs the scenario with 8 threads on shared objects and
exits 0 when every consistency check held. A failed check exits 1 with the assertion on stderr;
an abort or a segfault of the interpreter shows as a signal in the parent, which is why each
scenario is a process of its own (an abort inside pytest would end the whole run).

In debug mode the whole scenario runs inside HPy's LeakDetector, so a handle leaked by any thread
fails it too. Which build is loaded (universal or native) is hpyrs_abi's choice, from HPYRS_ABI.
"""
import contextlib
import gc
import os
import re
import shutil
import sys
import tempfile
import threading
import time

import hpyrs_abi

THREADS = 8
# What a `&mut self` (or `&self`) method says when another thread's call still holds the object:
# the only exception a racing call may raise in these scenarios.
BORROWED = re.compile(r"^\w+ object is already (mutably )?borrowed$")


def load(name, mode, scratch):
    """Load HPYRS_<NAME>_SO in `mode` from a private copy (as conftest.load does)."""
    source = os.environ["HPYRS_%s_SO" % name.upper()]
    target = os.path.join(scratch, os.path.basename(source))
    shutil.copy(source, target)
    return hpyrs_abi.load_file(name, target, mode)


def run_threads(*workers):
    """Start one thread per worker, all released together by a barrier; join them and re-raise
    the first exception any of them raised (a thread's exception must fail the scenario, not just
    print)."""
    barrier = threading.Barrier(len(workers))
    errors = []

    def wrap(work, index):
        def body():
            try:
                barrier.wait()
                work(index)
            except BaseException as e:  # noqa: B902 - reported to the main thread below
                errors.append(e)
        return body

    threads = [threading.Thread(target=wrap(w, i)) for i, w in enumerate(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def yielding(func):
    """`func` preceded by a GIL switch: another thread runs while the Rust caller of this
    callback still holds its object borrowed."""
    def callback(x):
        time.sleep(0)
        return func(x)
    return callback


def call_counting_borrow_conflicts(method, *args):
    """Call `method(*args)`; True if it ran, False if another thread held the object borrowed."""
    try:
        method(*args)
        return True
    except RuntimeError as e:
        if not BORROWED.match(str(e)):
            raise
        return False


# ---- quickstart: module functions ----

def module_functions(quickstart):
    """8 threads call quickstart's functions; each result must equal Python's, and the call
    counter (a module Global, read-modify-written under the GIL) must count every call."""
    calls_per_thread = 300
    start = quickstart.counter()

    def work(index):
        for i in range(calls_per_thread):
            assert quickstart.add(index, i) == index + i
            text = "Thread %d said hello %d times hello" % (index, i)
            expected = {}
            for word in text.lower().split():
                expected[word] = expected.get(word, 0) + 1
            assert quickstart.word_counts(text) == expected
            values = [float(index), float(i), -1.5]
            assert quickstart.stats(values) == (sum(values) / 3, min(values), max(values))
            assert quickstart.reverse_bytes(bytes([index, i % 256])) == bytes([i % 256, index])
            assert quickstart.apply(yielding(lambda x: x * 2), i) == 2 * i  # a callback into Python
            quickstart.counter()

    run_threads(*[work] * THREADS)
    assert quickstart.counter() == start + THREADS * calls_per_thread + 1


def allow_threads(quickstart):
    """sum_of_squares releases the GIL (Context::allow_threads) while the other threads keep
    calling into the module, with and without the GIL released."""
    n = 200_000
    expected = sum(i * i for i in range(n))
    rounds = 20

    def releasing(index):
        for _ in range(rounds):
            assert quickstart.sum_of_squares(n + index) == expected + sum(i * i for i in range(n, n + index))

    def holding(index):
        for i in range(rounds * 50):
            assert quickstart.add(i, index) == i + index
            assert quickstart.hello("t%d" % index) == "Hello, t%d!" % index

    run_threads(*[releasing] * (THREADS // 2), *[holding] * (THREADS // 2))


def allow_threads_against_calls(quickstart):
    """The reproduction (a) of HPy 0.9's debug-mode "Wrong HPy Context!" abort: one thread loops
    sum_of_squares (GIL released) while another makes 20,000 calls of add (the abort needed 16
    during one release). Smaller than the attack's 3,000,000 and 200,000: in debug mode
    allow_threads keeps the GIL, so the two threads take turns and the original sizes took
    minutes on an unoptimised build."""
    done = threading.Event()
    releasing_started = threading.Event()
    expected = sum(i * i for i in range(300_000))
    releases = [0]

    def releasing(_):
        while not done.is_set():
            releasing_started.set()
            assert quickstart.sum_of_squares(300_000) == expected
            releases[0] += 1

    def calling(_):
        try:
            # the calls must meet a release: in a fast build (native) the 20,000 calls could
            # otherwise end before the other thread's first release begins
            releasing_started.wait()
            for i in range(20_000):
                assert quickstart.add(i, 1) == i + 1
        finally:
            done.set()

    run_threads(releasing, calling)
    assert releases[0] >= 1


# ---- containers: a shared IntList ----

def intlist(containers):
    """8 threads append their own numbers to one IntList while reading it (len, index, in, repr,
    to_list, iteration) and while one of them runs map_in_place with a Python callback (which
    holds the list mutably borrowed: a racing call may fail with "already borrowed", and then
    must have changed nothing). Every successful append must be in the list exactly once."""
    shared = containers.IntList()
    appends_per_thread = 400
    succeeded = [[] for _ in range(THREADS)]

    def work(index):
        for i in range(appends_per_thread):
            value = index * 1_000_000 + i
            if call_counting_borrow_conflicts(shared.append, value):
                succeeded[index].append(value)
            if i % 16 == 0:
                with contextlib.suppress(RuntimeError):
                    snapshot = shared.to_list()
                    assert all(isinstance(v, int) for v in snapshot)
                with contextlib.suppress(RuntimeError):
                    assert repr(shared).startswith("IntList([")
                with contextlib.suppress(RuntimeError):
                    assert (value in shared) == (value in succeeded[index])
            if index == 0 and i % 50 == 0:
                # the identity callback keeps every value; it runs Python code (a thread switch
                # may happen inside it) while the list is mutably borrowed
                call_counting_borrow_conflicts(shared.map_in_place, yielding(lambda x: x))

    run_threads(*[work] * THREADS)
    final = shared.to_list()
    assert len(shared) == len(final) == sum(map(len, succeeded))
    assert sorted(final) == sorted(v for values in succeeded for v in values)
    # each thread's own values stay in the order it appended them
    for index in range(THREADS):
        mine = [v for v in final if v // 1_000_000 == index]
        assert mine == succeeded[index]
    assert sum(map(len, succeeded)) > 0


# ---- geometry: callbacks into Python and buffers ----

def point_callbacks(geometry):
    """8 threads increment one Point's x through update_x(callback): the callback runs while the
    point is mutably borrowed, so a racing update fails with "already borrowed" and changes
    nothing. x must end equal to the number of updates that succeeded."""
    point = geometry.Point(0.0, 0.0)
    updates = [0] * THREADS

    def work(index):
        for _ in range(500):
            if call_counting_borrow_conflicts(point.update_x, yielding(lambda x: x + 1.0)):
                updates[index] += 1
            with contextlib.suppress(RuntimeError):
                assert point.y == 0.0

    run_threads(*[work] * THREADS)
    assert point.x == float(sum(updates)) and sum(updates) > 0


def polyline_buffers(geometry):
    """8 threads append to one Polyline and read it through memoryview: while a view is held the
    polyline is borrowed and append fails with "already borrowed"; the final coordinates must be
    exactly the successful appends."""
    line = geometry.Polyline()
    appended = [0] * THREADS

    def work(index):
        for i in range(300):
            if call_counting_borrow_conflicts(line.append, float(index), float(i)):
                appended[index] += 1
            view = memoryview(line)
            try:
                coords = view.tolist()
                assert len(coords) % 2 == 0 and view.format == "d" and view.readonly
            finally:
                view.release()

    run_threads(*[work] * THREADS)
    assert len(line) == sum(appended) > 0
    with memoryview(line) as view:
        coords = view.tolist()
    pairs = list(zip(coords[::2], coords[1::2]))
    for index in range(THREADS):
        ys = [y for x, y in pairs if x == float(index)]
        assert len(ys) == appended[index] and ys == sorted(ys)


def point_and_buffer_loops(geometry):
    """The reproduction (b) of HPy 0.9's debug-mode "Wrong HPy Context!" abort: 8 threads each
    loop `pt.update_x(lambda x: x)`, `poly.append(1.0, 1.0)` and
    `m = memoryview(poly); m.tolist(); m.release()` on a shared point and polyline."""
    pt = geometry.Point(2.5, 0.0)
    poly = geometry.Polyline()
    appended = [0] * THREADS

    def work(index):
        for _ in range(2000):
            call_counting_borrow_conflicts(pt.update_x, lambda x: x)
            if call_counting_borrow_conflicts(poly.append, 1.0, 1.0):
                appended[index] += 1
            m = memoryview(poly)
            m.tolist()
            m.release()

    run_threads(*[work] * THREADS)
    assert pt.x == 2.5
    assert len(poly) == sum(appended)
    with memoryview(poly) as view:
        assert view.tolist() == [1.0] * (2 * sum(appended))


# ---- tree: Fields written from several threads, cycles collected meanwhile ----

def tree_nodes(tree):
    """8 threads add children to one shared root (each child's parent is the root: a cycle),
    read the tree (size, len, children, parent), and run the garbage collector. The root must
    end with every child exactly once, and every node must be freed once the tree is dropped."""
    gc.collect()
    live_before = tree.live_nodes()
    root = tree.Node("root")
    children_per_thread = 150

    def work(index):
        for i in range(children_per_thread):
            child = tree.Node("n%d.%d" % (index, i))
            child.value = (index, i)
            root.add_child(child)
            assert child.parent is root and child.value == (index, i)
            grandchild = tree.Node("g%d.%d" % (index, i))
            child.add_child(grandchild)
            assert root.size() >= 2 * (i + 1) + 1
            if i % 25 == 0:
                gc.collect()
                kids = root.children
                assert all(k.parent is root for k in kids)

    run_threads(*[work] * THREADS)
    total = THREADS * children_per_thread
    assert len(root) == total
    assert root.size() == 1 + 2 * total
    names = sorted(k.name for k in root.children)
    assert names == sorted("n%d.%d" % (t, i) for t in range(THREADS) for i in range(children_per_thread))
    del root
    gc.collect()
    live = tree.live_nodes()
    # PyPy finalizes objects that have a finalizer (each Node has tp_destroy) in order: the
    # grandchildren, referred to by the (unreachable) children, are finalized at a later
    # collection (test_tree.settled). There: collect until the count stops changing.
    for _ in range(10 if sys.implementation.name == "pypy" else 0):
        gc.collect()
        live, before = tree.live_nodes(), live
        if live == before:
            break
    assert live == live_before


# scenario -> the module it loads
SCENARIOS = {
    module_functions: "quickstart",
    allow_threads: "quickstart",
    allow_threads_against_calls: "quickstart",
    intlist: "containers",
    point_callbacks: "geometry",
    polyline_buffers: "geometry",
    point_and_buffer_loops: "geometry",
    tree_nodes: "tree",
}
BY_NAME = {f.__name__: f for f in SCENARIOS}


def main():
    scenario, mode = sys.argv[1:]
    # threads switch often, so that racing calls really interleave inside the Rust side
    sys.setswitchinterval(1e-5)
    scratch = tempfile.mkdtemp(prefix="threads-")
    assert ".hpy" not in scratch, "hpy.universal reads the ABI tag from the first '.hpy' in the path"
    try:
        function = BY_NAME[scenario]
        module = load(SCENARIOS[function], mode, scratch)  # outside the leak detector: import is not a call
        leak_check = contextlib.nullcontext()
        if mode == "debug":
            from hpy.debug import LeakDetector
            leak_check = LeakDetector()
        with leak_check:
            function(module)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print("ok %s %s" % (scenario, mode))


if __name__ == "__main__":
    main()
