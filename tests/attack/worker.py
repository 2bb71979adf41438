"""Attack one module in one HPy mode, in this interpreter: the process run.py starts per
(interpreter, module, mode). Mode "native" is the native build (HPYRS_ABI=native, hpyrs_abi.py).

    python worker.py --module NAME --so PATH --mode MODE --examples N --seed S
                     --events FILE --current FILE [--skip ID,ID,...]

Discovers the module's public surface (surface.py), checks that every target can be attacked
(coverage), then gives each target N hypothesis examples. One example is one call (a *plan*:
optional receiver construction plus one operation, as Python source) and must satisfy:

* it returns, or raises an Exception (a non-Exception BaseException only if one of our hooks
  raised it, or the target documents it: targets.BASE_EXCEPTIONS);
* no caught Rust panic ("Rust panic: ..." RuntimeError), unless targets.PANICS allows it;
* no SystemError (a C-level misuse), unless targets.SYSTEM_ERRORS documents it;
* in debug mode, no handle left open (HPy's debug generation), unless targets.LEAKS;
* no unraisable exception from hpy-rs code (our hooks' own are expected);
* the receiver stays usable: its class's own __repr__ and __len__ still work;
* where targets.REFERENCES has a Python reference, the same outcome (differential).

Progress goes to FILE (--events, JSON lines: start/done per target); the call being made is kept
in --current (a memory-mapped file, readable after a crash), so run.py can report a segfault or
an abort with its reproducer and restart the worker after that target.
"""
import argparse
import contextlib
import faulthandler
import gc
import json
import keyword
import mmap
import os
import re
import shutil
import struct
import sys
import tempfile
import time
import traceback
import warnings
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.join(HERE, "..", "python"))

# which build is attacked: the universal one (modes universal, debug, trace) or, with
# HPYRS_ABI=native (run.py --modes native sets it), the native one (mode "native"; hpy is then
# not importable at all)
import hpyrs_abi  # noqa: E402
import hypothesis.configuration  # noqa: E402
from hypothesis import HealthCheck, Phase, Verbosity, given, reject, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.errors import HypothesisException, HypothesisWarning  # noqa: E402

import hostile  # noqa: E402
import strategies as S  # noqa: E402
import surface  # noqa: E402
import targets as T  # noqa: E402

if not hpyrs_abi.NATIVE:
    import hpy.universal  # noqa: E402 - debug mode's handle generations
MODES = hpyrs_abi.MODES
# hpy 0.9.0's runtime crashes when an HPy type is instantiated on CPython 3.13 (the rule of
# tests/python/conftest.skip_module_if_types_crash): there, classes and every function that
# creates an instance of one are skipped, and no instance is ever used as an argument. The
# native build has no HPy runtime: everything is attacked there.
TYPES_CRASH = sys.version_info >= (3, 13) and not hpyrs_abi.NATIVE
TYPES_CRASH_REASON = "hpy 0.9.0 crashes instantiating HPy types on CPython 3.13 (hpy PR #490/#494)"
PANIC = re.compile(r"^Rust panic")
# run.py --selftest: failures planted on purpose must be reported (see targets.plant_selftest)
SELFTEST = os.environ.get("HPYRS_ATTACK_SELFTEST") == "1"
SELFTEST_CRASH = "rawadd.ctx_name"
# CPython 3.11's specialised call of a METH_FASTCALL method descriptor with no argument at all
# (`Class.method()`, warm) takes a stale stack slot for `self` and decrefs it: a refcount
# underflow in the interpreter itself (pure Python shows it: `type(obj).pop()` on a list, eight
# times). The attack's "no self" call is therefore not made on 3.11.
NO_SELF_CALLS = sys.version_info[:2] != (3, 11)
NO_SELF_SKIPPED = ("unbound methods are not called without self on CPython 3.11: its specialising interpreter "
                   "then decrefs a stale stack slot (CPython's bug; `type([]).pop()` in a loop shows it)")


@contextlib.contextmanager
def default_recursion_headroom():
    """Python's default recursion limit (1000 frames) from here, for the call being made; the
    worker's own limit (3000, for hypothesis) is back afterwards. A recursion through a module's
    frames (a bus whose fallback emits on it) must end in RecursionError, as it does for users:
    at 3000 levels, an unoptimised build's ~5.5 KB of C stack per level would overflow the
    8 MB stack first, as a C extension's recursion would."""
    saved = sys.getrecursionlimit()
    depth, frame = 0, sys._getframe()
    while frame is not None:
        depth, frame = depth + 1, frame.f_back
    sys.setrecursionlimit(depth + 1000)
    try:
        yield
    finally:
        sys.setrecursionlimit(saved)


def _repr_raises(value):
    """repr(value) raises (a hostile argument's hook, say)."""
    try:
        repr(value)
    except BaseException:  # noqa: B902 - any exception is the answer
        return True
    return False


class AttackFailure(Exception):
    """A check failed; the message holds the reproducer."""


class Current:
    """The call being made, in a memory-mapped file: it survives the process's crash."""

    SIZE = 1 << 16

    def __init__(self, path):
        with open(path, "wb") as f:
            f.write(b"\0" * self.SIZE)
        self.file = open(path, "r+b")
        self.map = mmap.mmap(self.file.fileno(), self.SIZE)

    def set(self, text):
        data = text.encode("utf-8", "backslashreplace")[:self.SIZE - 8]
        self.map[4:4 + len(data)] = data
        self.map[0:4] = struct.pack("<I", len(data))


class Events:
    def __init__(self, path):
        self.file = open(path, "a", encoding="utf-8")

    def emit(self, **event):
        self.file.write(json.dumps(event) + "\n")
        self.file.flush()


# ---------------------------------------------------------------------------------------------
# plans: one call as source
# ---------------------------------------------------------------------------------------------

class Plan:
    """`receiver` (source of `obj`, or None), then `op` (an expression, or a statement when
    `statement`); `arglist` is the argument list of the call, for the differential reference."""

    __slots__ = ("receiver", "op", "statement", "arglist", "variant")

    def __init__(self, receiver, op, statement=False, arglist=None, variant="call"):
        self.receiver, self.op, self.statement, self.arglist, self.variant = receiver, op, statement, arglist, variant

    def source(self):
        return ("obj = %s\n" % self.receiver if self.receiver is not None else "") + self.op

    __repr__ = source


def call_parts(args, kwargs):
    parts = list(args)
    odd = []
    for name, value in kwargs:
        if name.isidentifier() and not keyword.iskeyword(name):
            parts.append("%s=%s" % (name, value))
        else:
            odd.append("%r: %s" % (name, value))
    if odd:
        parts.append("**{%s}" % ", ".join(odd))
    return ", ".join(parts)


@st.composite
def arguments(draw, params, value_for, anything):
    """Arguments for `params` (surface.Param list) as (positional sources, [(name, source)]):
    mostly a valid call shape, sometimes a wrong one (missing, extra, unknown or duplicate
    keyword, positional-only by keyword)."""
    args, kwargs = [], []
    positional_open = True
    for p in params:
        if p.kind == "var":
            if positional_open:
                args.extend(draw(st.lists(anything, max_size=3)))
            continue
        if p.kind == "varkw":
            kwargs.extend(draw(st.lists(st.tuples(S.KEYWORD_NAMES, anything), max_size=2,
                                        unique_by=lambda kv: kv[0])))
            continue
        if p.default and draw(st.integers(0, 2)) == 0:
            positional_open = False
            continue
        value = draw(value_for(p))
        if p.kind == "kw" or (p.kind == "any" and (not positional_open or draw(st.integers(0, 3)) == 0)):
            kwargs.append((p.name, value))
            positional_open = False
        elif positional_open:
            args.append(value)
        # a positional-only parameter after a skipped one cannot be passed: the call is short
    shape = draw(st.sampled_from(["valid"] * 8 + ["missing", "extra", "unknown_kw", "dup_kw", "posonly_kw"]))
    if shape == "missing" and (args or kwargs):
        if args:
            args.pop(draw(st.integers(0, len(args) - 1)))
        else:
            kwargs.pop(draw(st.integers(0, len(kwargs) - 1)))
    elif shape == "extra":
        args.append(draw(anything))
    elif shape == "unknown_kw":
        name = draw(S.KEYWORD_NAMES)
        if all(name != k for k, _ in kwargs):
            kwargs.append((name, draw(anything)))
    elif shape in ("dup_kw", "posonly_kw"):
        named = [p for p in params if p.kind in (("any",) if shape == "dup_kw" else ("pos",))]
        if named and all(named[0].name != k for k, _ in kwargs):
            kwargs.append((named[0].name, draw(value_for(named[0]))))
    return args, kwargs


# what a binary operator's slot is called through
BINARY = {"__add__": "+", "__sub__": "-", "__mul__": "*", "__truediv__": "/", "__floordiv__": "//",
          "__mod__": "%", "__matmul__": "@", "__pow__": "**", "__lshift__": "<<", "__rshift__": ">>",
          "__and__": "&", "__or__": "|", "__xor__": "^", "__divmod__": None}
COMPARE = {"__eq__": "==", "__ne__": "!=", "__lt__": "<", "__le__": "<=", "__gt__": ">", "__ge__": ">="}
# unary slots: (syntax, variant); the variant "syntax" is what the differential references answer
UNARY = {"__neg__": [("-obj", "syntax")], "__pos__": [("+obj", "syntax")], "__abs__": [("abs(obj)", "syntax")],
         "__invert__": [("~obj", "syntax")], "__bool__": [("bool(obj)", "syntax"), ("(not obj)", "negated")],
         "__hash__": [("hash(obj)", "syntax")],
         "__repr__": [("repr(obj)", "syntax"), ("str(obj)", "syntax"), ("'%r' % (obj,)", "syntax"),
                      ("format(obj, '')", "syntax")],
         "__str__": [("str(obj)", "syntax")], "__len__": [("len(obj)", "syntax")], "__int__": [("int(obj)", "syntax")],
         "__float__": [("float(obj)", "syntax")], "__index__": [("[0, 1, 2][obj]", "indexing")],
         "__iter__": [("list(obj)", "iterate")], "__next__": [("next(obj)", "syntax")]}
# dunders a class may define as methods (method_descriptor) that also fill a slot: attacked as
# methods and through the syntax that runs the slot (Attack.slot_plans)
PROTOCOL_METHODS = {"__iter__", "__next__", "__getattr__", "__setattr__", "__delattr__", "__get__", "__set__",
                    "__delete__"}


IDENTIFIERS = S.KEYWORD_NAMES.filter(lambda n: n.isidentifier() and not keyword.iskeyword(n))


def weighted_names(names):
    """Attribute names: the parameter's own strategy (str edges, hostile values), and plain
    identifiers, which reach the attributes that exist."""
    return S.weighted((2, names), (2, IDENTIFIERS.map(repr)),
                      (1, st.sampled_from(["'size'", "'names'", "'hello'", "'__class__'", "'__dict__'", "'_x'", "'a'", "'b'"])))


# the stub entry that gives the operand's type of a slot the stub does not list
COMPANION = {"__radd__": "__add__", "__rsub__": "__sub__", "__rmul__": "__mul__", "__rtruediv__": "__truediv__",
             "__rmatmul__": "__matmul__", "__rfloordiv__": "__floordiv__", "__rmod__": "__mod__",
             "__rpow__": "__pow__", "__ne__": "__eq__", "__lt__": "__eq__", "__le__": "__eq__", "__gt__": "__eq__",
             "__ge__": "__eq__", "__delitem__": "__getitem__"}


class Attack:
    """How to attack the targets of one module: the strategies of plans."""

    def __init__(self, module, stub, targets, config, mode):
        self.module, self.stub, self.config, self.mode = module, stub, config, mode
        self.classes = {t.cls for t in targets if t.cls is not None}
        self.functions = [t for t in targets if t.kind == "function"]
        self.receivers = {}
        for cls in self.classes:
            builder = config.RECEIVERS.get(cls.__name__)
            if builder is not None:
                self.receivers[cls.__name__] = builder(S)
        self.instances = {name: strategy for name, strategy in self.receivers.items()}
        self.types_cache = {}  # (class, with obj) -> S.Types, shared by the targets of a class

    # ---- values ----

    def simple(self, annotation):
        """A plain valid value for `annotation`, for re-entry actions (source)."""
        text = annotation or "Any"
        text = text.split("|")[0].strip()
        return self.config.SIMPLE.get(text) or T.SIMPLE_BY_TYPE.get(text.split("[")[0], "1")

    def actions(self, target):
        """Re-entry actions for callbacks attacking `target`: calls into the same object (its
        class's methods, slots, properties) or into the module, and a garbage collection."""
        out = ["gc.collect()"]
        if target.cls is not None and target.cls.__name__ in self.receivers:
            for t in self.class_targets(target.cls):
                out.extend(self.actions_on(t))
        for t in self.functions:
            if t.id in T.NOT_REENTERED or (TYPES_CRASH and instantiates(t, self.classes)):
                continue
            params = [p for p in t.signature.params if p.kind in ("pos", "any") and not p.default]
            out.append("m.%s(%s)" % (t.name, ", ".join(self.simple(p.annotation) for p in params)))
        return sorted(set(out))

    def actions_on(self, t):
        if t.kind == "method":
            params = [p for p in t.signature.params if p.kind in ("pos", "any") and not p.default]
            return ["obj.%s(%s)" % (t.name, ", ".join(self.simple(p.annotation) for p in params))]
        if t.kind in ("property", "member"):
            out = ["obj.%s" % t.name]
            if t.settable:
                out.append("setattr(obj, %r, %s)" % (t.name, self.simple(t.setter)))
            return out
        if t.kind == "slot" and t.name in ("__len__", "__repr__", "__bool__", "__hash__"):
            return [UNARY[t.name][0][0]]
        if t.kind == "slot" and t.name == "__getitem__":
            return ["obj[%s]" % self.simple(t.signature.params[0].annotation if t.signature else None)]
        if t.kind == "slot" and t.name == "__setitem__" and t.signature:
            return ["type(obj).__setitem__(obj, %s)" % ", ".join(self.simple(p.annotation) for p in t.signature.params)]
        if t.kind == "buffer":
            return ["memoryview(obj).tolist()"]
        return []

    def class_targets(self, cls):
        return [t for t in self.all_targets if t.cls is cls]

    def callbacks(self, target):
        actions = st.sampled_from(self.actions(target))
        result = st.one_of(S.floats(), S.ints(), st.sampled_from(["None", "'x'", "a[0] if a else None"]))
        return S.weighted(
            (2, st.tuples(actions, result).map(lambda ar: "Hostile(call=Do(lambda: %s, then=%s))" % (
                ar[0], ar[1].replace("a[0] if a else None", "None")))),
            (1, actions.map(lambda a: "Hostile(call=Do(lambda: %s, then=RAISE, swallow=False))" % a)),
            (2, result.map(lambda r: "(lambda *a, **k: %s)" % r)),
            (1, actions.map(lambda a: "Hostile(del_=Do(lambda: %s))" % a)),
            (1, actions.map(lambda a: "Hostile(float=Do(lambda: %s, then=1.0), index=Do(lambda: %s, then=1))" % (a, a))),
            (1, actions.map(lambda a: "Hostile(len=Do(lambda: %s, then=2), getitem=Do(lambda: %s, then=3))" % (a, a))),
        )

    def types(self, target, with_obj):
        key = (target.cls, with_obj)
        if key not in self.types_cache:
            self.types_cache[key] = self.make_types(target, with_obj)
        return self.types_cache[key]

    def make_types(self, target, with_obj):
        extra = []
        if not TYPES_CRASH and self.receivers:
            extra.append(st.one_of(*self.receivers.values()))
        if with_obj:
            extra.append(st.just("obj"))
        extra.append(self.callbacks(target))
        extra.extend(self.config.EXTRA_ANYTHING.get(self.module.__name__, lambda S: [])(S))
        instances = {} if TYPES_CRASH else self.instances
        return S.Types(instances, st.one_of(*extra))

    def value_for(self, target, types):
        constrained = T.ARGUMENTS.get(target.id, ({}, None))[0]
        annotations = T.ANNOTATIONS.get(target.id, ({}, None))[0]
        cache = {}

        def for_param(p):
            if p.name not in cache:
                cache[p.name] = constrained[p.name](S) if p.name in constrained else \
                    S.for_annotation(annotations.get(p.name, p.annotation), types)
            return cache[p.name]
        return for_param

    # ---- plans ----

    def plans(self, target):
        kind = target.kind
        with_obj = kind not in ("function", "exception_type", "new", "static", "classattr")
        types = self.types(target, with_obj)
        anything = S.anything(types)
        value_for = self.value_for(target, types)
        params = target.signature.params if target.signature else [surface.Param("args", "var")]
        call = arguments(params, value_for, anything)
        cls = "m.%s" % target.cls.__name__ if target.cls is not None else None
        receiver = self.receivers.get(target.cls.__name__) if target.cls is not None else st.none()
        wrong_self = st.one_of(S.hostile(), *[r for n, r in self.receivers.items() if n != getattr(target.cls, "__name__", None)])
        subclassable = target.cls is not None and bool(target.cls.__flags__ & (1 << 10))

        def plan(op, statement=False, arglist=None, variant="call"):
            return lambda r: Plan(r, op(r) if callable(op) else op, statement, arglist, variant)

        if kind in ("function", "exception_type"):
            return call.map(lambda ak: Plan(None, "m.%s(%s)" % (target.name, call_parts(*ak)),
                                            arglist=call_parts(*ak)))
        if kind == "new":
            others = ["int", "object"] + ["m.%s" % c.__name__ for c in self.classes if c is not target.cls]
            if subclassable:
                others.append("subclass(%s)" % cls)
            callee = S.weighted((6, st.just(cls)), (1, st.just("%s.__new__" % cls)), (1, st.sampled_from(others).map(
                lambda o: "%s.__new__" % cls + "\0" + o)), *([(1, st.just("subclass(%s)" % cls))] if subclassable else []))

            def new_plan(c_ak):
                c, (args, kwargs) = c_ak
                if c.endswith("__new__"):
                    return Plan(None, "%s(%s)" % (c, call_parts([cls] + args, kwargs)), variant="new")
                if "\0" in c:
                    c, first = c.split("\0")
                    return Plan(None, "%s(%s)" % (c, call_parts([first] + args, kwargs)), variant="wrong_cls")
                return Plan(None, "%s(%s)" % (c, call_parts(args, kwargs)), arglist=call_parts(args, kwargs),
                            variant="construct" if c == cls else "subclass")
            return st.tuples(callee, call).map(new_plan)
        if kind == "init":
            return S.weighted(
                (3, call.map(lambda ak: Plan(None, "%s(%s)" % (cls, call_parts(*ak)), arglist=call_parts(*ak),
                                             variant="construct"))),
                (2, st.tuples(receiver, call).map(lambda r_ak: Plan(r_ak[0], "obj.__init__(%s)" % call_parts(*r_ak[1]),
                                                                      variant="reinit"))))
        if kind == "method":
            # a protocol dunder the class defines as a method (`__iter__`, `__getattr__`,
            # `__get__`, ...): also through the syntax that runs its slot
            protocol = [(4, self.slot_plans(target, receiver, wrong_self, types, value_for, anything))] \
                if target.name in PROTOCOL_METHODS else []
            return S.weighted(
                *protocol,
                (6, st.tuples(receiver, call).map(lambda r_ak: Plan(
                    r_ak[0], "obj.%s(%s)" % (target.name, call_parts(*r_ak[1])), arglist=call_parts(*r_ak[1])))),
                (1, st.tuples(receiver, wrong_self, call).map(lambda r_w_ak: Plan(
                    r_w_ak[0], "type(obj).%s(%s)" % (target.name, call_parts([r_w_ak[1]] + r_w_ak[2][0], r_w_ak[2][1])),
                    variant="wrong_self"))),
                *([(1, receiver.map(lambda r: Plan(r, "type(obj).%s()" % target.name, variant="no_self")))]
                  if NO_SELF_CALLS else []))
        if kind in ("static", "classmethod"):
            via = [st.just(cls)]
            if subclassable:
                via.append(st.just("subclass(%s)" % cls))
            return S.weighted(
                (4, st.tuples(st.one_of(*via), call).map(lambda v_ak: Plan(
                    None, "%s.%s(%s)" % (v_ak[0], target.name, call_parts(*v_ak[1])), arglist=call_parts(*v_ak[1])))),
                (1, st.tuples(receiver, call).map(lambda r_ak: Plan(
                    r_ak[0], "obj.%s(%s)" % (target.name, call_parts(*r_ak[1])), variant="via_instance"))))
        if kind in ("property", "member"):
            value = S.for_annotation(target.setter if target.settable else (target.signature.returns
                                     if target.signature else None), types)
            name = target.name
            return S.weighted(
                (3, receiver.map(lambda r: Plan(r, "obj.%s" % name, variant="get"))),
                (4, st.tuples(receiver, value).map(lambda rv: Plan(rv[0], "obj.%s = %s" % (name, rv[1]), True,
                                                                   arglist=rv[1], variant="set"))),
                (1, receiver.map(lambda r: Plan(r, "del obj.%s" % name, True, variant="delete"))),
                (1, st.tuples(receiver, wrong_self).map(lambda rw: Plan(
                    rw[0], "type(obj).%s.__get__(%s)" % (name, rw[1]), variant="wrong_self"))),
                (1, st.tuples(receiver, wrong_self, value).map(lambda rwv: Plan(
                    rwv[0], "type(obj).%s.__set__(%s, %s)" % (name, rwv[1], rwv[2]), variant="wrong_self"))),
                (1, receiver.map(lambda r: Plan(r, "type(obj).%s.__get__(None, type(obj))" % name, variant="class"))))
        if kind == "classattr":
            return S.weighted((2, st.just(Plan(None, "%s.%s" % (cls, target.name), variant="get"))),
                              (1, st.just(Plan(None, "repr(%s.%s)" % (cls, target.name), variant="repr"))))
        if kind == "buffer":
            mutate = st.sampled_from(self.actions(target))
            return S.weighted(
                (3, receiver.map(lambda r: Plan(r, "memoryview(obj).tolist()", variant="tolist"))),
                (1, receiver.map(lambda r: Plan(r, "bytes(obj)", variant="bytes"))),
                (1, receiver.map(lambda r: Plan(r, "memoryview(obj).cast('B').tolist()", variant="cast"))),
                (2, st.tuples(receiver, mutate).map(lambda ra: Plan(
                    ra[0], "with memoryview(obj) as view:\n    %s\n    view.tolist()" % ra[1], True, variant="mutate_while_viewed"))),
                (1, receiver.map(lambda r: Plan(r, "views = [memoryview(obj) for _ in range(3)]\nviews[1].release()\n"
                                                   "del views", True, variant="many_views"))))
        if kind == "slot":
            return self.slot_plans(target, receiver, wrong_self, types, value_for, anything)
        raise AssertionError("no plans for %r" % target)

    def slot_plans(self, target, receiver, wrong_self, types, value_for, anything):
        name = target.name
        sig = target.signature or self.stub.classes.get(target.cls.__name__, {}).get(COMPANION.get(name, ""))
        params = list(sig.params) if sig else []
        operand = value_for(params[0]) if params else anything
        forms = []

        def one(template, statement=False, variant="syntax"):
            return st.tuples(receiver, operand).map(lambda ro: Plan(ro[0], template.replace("{0}", ro[1]), statement,
                                                                     arglist=ro[1], variant=variant))
        direct = "type(obj).%s(obj, {0})" % name
        if name in BINARY and BINARY[name]:
            forms += [(4, one("obj %s {0}" % BINARY[name])), (1, one(direct, variant="direct"))]
        elif name.startswith("__r") and "__" + name[3:] in BINARY and BINARY["__" + name[3:]]:
            forms += [(4, one("{0} %s obj" % BINARY["__" + name[3:]])), (1, one(direct, variant="direct"))]
        elif name.startswith("__i") and "__" + name[3:] in BINARY and BINARY["__" + name[3:]]:
            forms += [(4, one("obj %s= {0}" % BINARY["__" + name[3:]], True, variant="inplace")),
                      (1, one(direct, variant="direct"))]
        elif name in COMPARE:
            forms += [(3, one("obj %s {0}" % COMPARE[name])), (1, one("{0} %s obj" % COMPARE[name], variant="reflected")),
                      (1, one(direct, variant="direct"))]
        elif name in UNARY:
            forms += [(3, receiver.map(lambda r, t=t, v=v: Plan(r, t, variant=v))) for t, v in UNARY[name]]
            forms.append((1, receiver.map(lambda r: Plan(r, "type(obj).%s(obj)" % name, variant="direct"))))
        elif name == "__getitem__":
            forms += [(4, one("obj[{0}]")), (1, one(direct, variant="direct")),
                      (1, receiver.map(lambda r: Plan(r, "list(obj)", variant="iterate")))]
        elif name == "__contains__":
            forms += [(4, one("{0} in obj")), (1, one(direct, variant="direct"))]
        elif name in ("__setitem__", "__delitem__"):
            value = value_for(params[1]) if len(params) > 1 else anything
            set_forms = st.tuples(receiver, operand, value)
            if name == "__setitem__":
                forms += [(4, set_forms.map(lambda rov: Plan(rov[0], "obj[%s] = %s" % (rov[1], rov[2]), True,
                                                               arglist="%s, %s" % (rov[1], rov[2])))),
                          (1, set_forms.map(lambda rov: Plan(rov[0], "type(obj).__setitem__(obj, %s, %s)" % rov[1:],
                                                               arglist="%s, %s" % rov[1:], variant="direct")))]
            forms += [(2, one("del obj[{0}]", True, variant="delete"))]
            forms += [(1, one("type(obj).__delitem__(obj, {0})", variant="direct_delete"))]
        elif name == "__getattr__":
            names = weighted_names(operand)
            forms += [(3, st.tuples(receiver, names).map(lambda rn: Plan(rn[0], "getattr(obj, %s)" % rn[1], variant="getattr"))),
                      (1, st.tuples(receiver, names).map(lambda rn: Plan(rn[0], "hasattr(obj, %s)" % rn[1], variant="hasattr"))),
                      (1, st.tuples(receiver, names, anything).map(lambda rnd: Plan(
                          rnd[0], "getattr(obj, %s, %s)" % rnd[1:], variant="getattr_default"))),
                      (1, st.tuples(receiver, IDENTIFIERS).map(lambda rn: Plan(
                          rn[0], "obj.%s" % rn[1], variant="attribute")))]
        elif name == "__setattr__":
            value = value_for(params[1]) if len(params) > 1 else anything
            forms += [(3, st.tuples(receiver, weighted_names(operand), value).map(lambda rnv: Plan(
                          rnv[0], "setattr(obj, %s, %s)" % rnv[1:], variant="setattr"))),
                      (1, st.tuples(receiver, IDENTIFIERS, value).map(lambda rnv: Plan(
                          rnv[0], "obj.%s = %s" % rnv[1:], True, variant="attribute")))]
        elif name == "__delattr__":
            forms += [(3, st.tuples(receiver, weighted_names(operand)).map(lambda rn: Plan(
                          rn[0], "delattr(obj, %s)" % rn[1], variant="delattr"))),
                      (1, st.tuples(receiver, IDENTIFIERS).map(lambda rn: Plan(
                          rn[0], "del obj.%s" % rn[1], True, variant="attribute")))]
        elif name in ("__get__", "__set__", "__delete__"):
            # the descriptor protocol, through an owner class whose attribute `d` is obj (with an
            # instance attribute `base`, which the fixtures' descriptors read)
            base = anything
            if name == "__get__":
                forms += [(3, st.tuples(receiver, base).map(lambda rb: Plan(rb[0], "owner_of(obj, base=%s).d" % rb[1],
                                                                               variant="descriptor"))),
                          (1, receiver.map(lambda r: Plan(r, "type(owner_of(obj)).d", variant="descriptor_class")))]
            elif name == "__set__":
                value = value_for(params[1]) if len(params) > 1 else anything
                forms += [(3, st.tuples(receiver, base, value).map(lambda rbv: Plan(
                    rbv[0], "owner = owner_of(obj, base=%s)\nowner.d = %s" % rbv[1:], True, variant="descriptor")))]
            else:
                forms += [(3, st.tuples(receiver, base).map(lambda rb: Plan(
                    rb[0], "owner = owner_of(obj, base=%s)\ndel owner.d" % rb[1], True, variant="descriptor")))]
            forms.append((1, st.tuples(receiver, arguments(params, value_for, anything)).map(lambda r_ak: Plan(
                r_ak[0], "type(obj).%s(%s)" % (name, call_parts(["obj"] + r_ak[1][0], r_ak[1][1])), variant="direct"))))
        elif name == "__call__":
            call = arguments(params, value_for, anything)
            forms += [(4, st.tuples(receiver, call).map(lambda r_ak: Plan(r_ak[0], "obj(%s)" % call_parts(*r_ak[1]),
                                                                             arglist=call_parts(*r_ak[1])))),
                      (1, st.tuples(receiver, call).map(lambda r_ak: Plan(
                          r_ak[0], "type(obj).__call__(obj, %s)" % call_parts(*r_ak[1]), variant="direct")))]
        elif sig is not None:
            # a dunder this file has no syntax for: called through its slot wrapper, with the
            # arguments its stub gives
            forms.append((1, st.tuples(receiver, arguments(params, value_for, anything)).map(lambda r_ak: Plan(
                r_ak[0], "type(obj).%s(%s)" % (name, call_parts(["obj"] + r_ak[1][0], r_ak[1][1])), variant="direct"))))
        else:
            # ... and without a stub entry, with anything
            extra = st.lists(anything, max_size=2)
            forms.append((1, st.tuples(receiver, extra).map(lambda re_: Plan(
                re_[0], "type(obj).%s(%s)" % (name, ", ".join(["obj"] + re_[1])), variant="direct"))))
        forms.append((1, st.tuples(receiver, wrong_self, operand).map(lambda rwo: Plan(
            rwo[0], "type(obj).%s(%s)" % (name, ", ".join([rwo[1]] + ([rwo[2]] if params or name in BINARY
                                                                      or name in COMPARE else []))),
            variant="wrong_self"))))
        return S.weighted(*forms)


# ---------------------------------------------------------------------------------------------
# running a plan
# ---------------------------------------------------------------------------------------------

_code_cache = {}


def compiled(source, mode):
    key = (source, mode)
    code = _code_cache.get(key)
    if code is None:
        if len(_code_cache) > 20000:
            _code_cache.clear()
        code = _code_cache[key] = compile(source, "<attack>", mode)
    return code


class Outcome:
    __slots__ = ("value", "error")

    def __init__(self, value=None, error=None):
        self.value, self.error = value, error

    def describe(self):
        if self.error is not None:
            return "raised %s: %s" % (type(self.error).__name__, safe_str(self.error))
        return "returned %s" % safe_repr(self.value)


def safe_repr(value, limit=300):
    try:
        text = repr(value)
    except BaseException as e:  # noqa: B902 - a repr that fails is still reported
        text = "<%s object, repr raised %s>" % (type(value).__name__, type(e).__name__)
    return text if len(text) <= limit else text[:limit] + "..."


def safe_str(value, limit=300):
    try:
        text = str(value)
    except BaseException:  # noqa: B902
        text = "<str() failed>"
    return text if len(text) <= limit else text[:limit] + "..."


class Runner:
    def __init__(self, module, mode, config, attack, current, scratch):
        self.module, self.mode, self.config, self.attack, self.current = module, mode, config, attack, current
        self.debug = hpy.universal._debug if mode == "debug" else None
        self.base = {name: getattr(hostile, name) for name in hostile.__all__}
        self.base.update(T.HELPERS)
        self.base.update(m=module, obj=None, TMP=scratch)
        self.unraisable = []
        self.calls = 0
        self.slowest = (0.0, None)  # the slowest call of the current target
        self.log = open(os.environ["HPYRS_ATTACK_LOG"], "a") if os.environ.get("HPYRS_ATTACK_LOG") else None
        sys.unraisablehook = self.unraisable.append

    def namespace(self):
        ns = dict(self.base)
        return ns

    def run_op(self, plan, ns):
        try:
            if plan.statement:
                exec(compiled(plan.op, "exec"), ns)
                return Outcome(ns.get("obj") if plan.variant == "inplace" else None)
            return Outcome(eval(compiled(plan.op, "eval"), ns))
        except BaseException as e:  # noqa: B902 - every outcome is judged below
            return Outcome(error=e)

    def execute(self, target, plan):
        source = plan.source()
        self.current.set("%s [%s]\n%s" % (target.id, self.mode, source))
        if SELFTEST and target.id == SELFTEST_CRASH:
            os.abort()  # the planted crash: run.py must report it with this call and go on
        if self.log is not None:  # every call, for hunting a crash that an earlier call prepared
            self.log.write("# %s\n%s\n" % (target.id, source))
            self.log.flush()
        ns = self.namespace()
        if plan.receiver is not None:
            try:
                ns["obj"] = eval(compiled(plan.receiver, "eval"), ns)
            except Exception:
                reject()  # a receiver that cannot be built is not a plan (the builders avoid it)
        generation = self.debug.new_generation() if self.debug else None
        del self.unraisable[:]
        self.calls += 1
        started = time.perf_counter()
        outcome = self.run_op(plan, ns)
        elapsed = time.perf_counter() - started
        if elapsed > self.slowest[0]:
            self.slowest = (elapsed, source)
        problems = self.judge(target, plan, outcome, ns, generation)
        if problems:
            raise AttackFailure("%s [%s mode]: %s\n  reproducer:\n    %s\n  outcome: %s" % (
                target.id, self.mode, "; ".join(problems), source.replace("\n", "\n    "), outcome.describe()))

    def judge(self, target, plan, outcome, ns, generation):
        problems = []
        e = outcome.error
        if e is not None:
            if isinstance(e, RuntimeError) and PANIC.match(safe_str(e)):
                allowed = T.PANICS.get(target.id)
                if allowed is None or not re.search(allowed[0], safe_str(e)):
                    problems.append("a Rust panic reached Python")
            elif isinstance(e, SystemError):
                allowed = T.SYSTEM_ERRORS.get(target.id)
                if allowed is None or not re.search(allowed[0], safe_str(e)):
                    problems.append("SystemError (a C-level misuse inside the call)")
            elif not isinstance(e, Exception) and not isinstance(e, hostile.Escape):
                allowed = T.BASE_EXCEPTIONS.get(target.id)
                if allowed is None or not isinstance(e, allowed[0]):
                    problems.append("raised %s, a BaseException that is not an Exception" % type(e).__name__)
        if self.debug is not None and target.id not in T.LEAKS:
            leaks = self.debug.get_open_handles(generation)
            if leaks:
                problems.append("%d HPy handle(s) left open: %s" % (len(leaks), safe_repr(leaks[:3])))
        if self.unraisable and target.id not in T.UNRAISABLE:
            ours = (hostile.HostileError, hostile.Escape)
            theirs = [u for u in self.unraisable if not isinstance(u.exc_value, ours)]
            if theirs:
                u = theirs[0]
                problems.append("unraisable exception %s: %s (in %s)" % (
                    type(u.exc_value).__name__, safe_str(u.exc_value), safe_repr(u.object, 80)))
        obj = ns.get("obj")
        # (an exception whose hidden value was deleted or replaced holds no Rust value: every use
        # is then a TypeError saying so, which is the point)
        if target.cls is not None and isinstance(obj, target.cls) and target.name != surface.HIDDEN_VALUE:
            problems.extend(self.usable(target.cls, obj))
        if not problems:
            problems.extend(self.differential(target, plan, outcome, ns))
        return problems

    def usable(self, cls, obj):
        """The object still works: its class's own repr and len (not a subclass's hooks)."""
        out = []
        for dunder, check in (("__repr__", lambda v: isinstance(v, str)), ("__len__", lambda v: isinstance(v, int) and v >= 0)):
            slot = getattr(cls, dunder, None)
            if slot is None or (dunder == "__len__" and "__len__" not in vars(cls)):
                continue
            try:
                value = slot(obj)
            except BaseException as e:  # noqa: B902
                if dunder == "__len__" and isinstance(e, OverflowError):
                    continue  # a length past sys.maxsize (len(Code(-2**63))): Python's limit, not a broken object
                if dunder == "__repr__" and isinstance(e, RecursionError) and isinstance(obj, BaseException) \
                        and any(a is obj for a in obj.args):
                    # an exception that is its own argument (`e.__init__(e)`): BaseException's repr
                    # recurses for a pure-Python exception too (`e = ValueError(1); e.__init__(e); repr(e)`)
                    continue
                if dunder == "__repr__" and isinstance(obj, BaseException) and any(_repr_raises(a) for a in obj.args):
                    # an exception with an argument whose repr raises: BaseException's repr shows
                    # its arguments, so a pure-Python exception raises the same
                    continue
                out.append("the object is unusable afterwards: %s raised %s: %s" % (dunder, type(e).__name__, safe_str(e)))
                continue
            if not check(value):
                out.append("the object is broken afterwards: %s returned %s" % (dunder, safe_repr(value)))
        return out

    def differential(self, target, plan, outcome, ns):
        reference = T.REFERENCES.get(target.id)
        if reference is None or plan.variant not in reference.variants:
            return []
        fresh = self.namespace()
        try:
            if plan.receiver is not None:
                fresh["obj"] = eval(compiled(plan.receiver, "eval"), fresh)
            args, kwargs = eval(compiled("_collect(%s)" % (plan.arglist or ""), "eval"), dict(fresh, _collect=_collect))
        except BaseException:  # noqa: B902 - the arguments raise while being built: no reference
            return []
        classes = self.attack.classes
        if reference.clean_only and not (all(T.clean(a, classes) for a in args)
                                         and all(T.clean(v, classes) for v in kwargs.values())
                                         and (plan.receiver is None or type(fresh["obj"]) is target.cls)):
            return []
        context = T.Context(self.module, fresh.get("obj"), self.mode, plan.variant)
        try:
            if plan.variant in ("call", "construct") and target.signature is not None and reference.binds:
                # the call shape first: wrong arguments are a TypeError whatever the reference is
                target.signature.inspect().bind(*args, **kwargs)
            expected = Outcome(reference.function(context, *args, **kwargs))
        except T.NoReference:
            return []
        except BaseException as e:  # noqa: B902
            expected = Outcome(error=e)
        return T.compare(target, outcome, expected, ns.get("obj"), context, reference)


def _collect(*args, **kwargs):
    return args, kwargs


# ---------------------------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------------------------

def load(name, so_path, mode, scratch):
    # a copy under its own file name (a native module's must end in EXT_SUFFIX)
    target = os.path.join(scratch, os.path.basename(so_path))
    shutil.copy(so_path, target)
    if mode not in MODES:
        raise SystemExit("mode %r needs HPYRS_ABI=%s" % (mode, "native" if mode == "native" else "universal"))
    return hpyrs_abi.load_file(name, target, mode)


# address space the attack may add to what the worker uses at start: a runaway allocation (a Vec
# read from a huge sequence until memory runs out, which hpy-rs does by design) must be a quick
# MemoryError in this process, not the machine's memory exhausted
MEMORY_HEADROOM = 3 << 30


def limit_memory():
    try:
        import resource
        with open("/proc/self/status") as status:
            vm_size = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))
    except (ImportError, OSError, StopIteration):
        return  # not Linux: no limit
    resource.setrlimit(resource.RLIMIT_AS, (vm_size + MEMORY_HEADROOM, resource.RLIM_INFINITY))


def instantiates(target, classes):
    """Does calling this function create an instance of one of the module's classes (its stub
    return type names one, or targets.INSTANTIATES says so; or it is an exception class that
    holds a Rust value, an HPy class instance)?"""
    if target.id in T.INSTANTIATES:
        return True
    if target.kind == "exception_type":
        return any(c.__name__ == target.name and surface.HIDDEN_VALUE in vars(c) for c in classes)
    returns = target.signature.returns if target.signature else None
    return bool(returns) and any(re.search(r"\b%s\b" % c.__name__, returns) for c in classes)


def main():
    parser = argparse.ArgumentParser()
    for option in ("--module", "--so", "--mode", "--events", "--current"):
        parser.add_argument(option, required=True)
    parser.add_argument("--examples", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip", default="")
    parser.add_argument("--only", default="")
    options = parser.parse_args()

    faulthandler.enable(all_threads=True)
    limit_memory()
    # hypothesis caches its unicode tables there (building them costs seconds); never the cwd
    hypothesis.configuration.set_hypothesis_home_dir(os.environ.get(
        "HYPOTHESIS_STORAGE_DIRECTORY", os.path.join(HERE, "..", "..", "build", "attack", "hypothesis")))
    warnings.simplefilter("error")  # a warning raised inside a conversion is one more error path
    warnings.filterwarnings("ignore", category=HypothesisWarning)  # hypothesis's own, about its PRNG
    sys.setrecursionlimit(3000)
    if SELFTEST:
        T.plant_selftest()
    events = Events(options.events)
    current = Current(options.current)
    scratch = tempfile.mkdtemp(prefix="attack-")
    T.prepare_files(scratch)
    module = load(options.module, options.so, options.mode, scratch)
    config = T
    stub = surface.read_stub(options.so)

    def can_export_buffer(cls):
        builder = T.RECEIVERS.get(cls.__name__)
        if builder is None or TYPES_CRASH:
            return False
        try:
            obj = eval(T.SIMPLE[cls.__name__], dict(m=module, **{n: getattr(hostile, n) for n in hostile.__all__}, **T.HELPERS))
            memoryview(obj).release()
            return True
        except TypeError:
            return False

    targets, problems = surface.discover(module, stub, can_export_buffer)
    attack = Attack(module, stub, targets, config, options.mode)
    attack.all_targets = targets
    problems.extend(T.coverage_problems(module.__name__, targets, stub))
    events.emit(event="surface", targets=[t.id for t in targets], problems=problems,
                notes=[] if NO_SELF_CALLS else [NO_SELF_SKIPPED])

    classes = attack.classes
    # everything alive now (hypothesis, the module, the stub) is never garbage: collections then
    # only walk what the attack creates, a full one costs microseconds instead of 40 ms
    gc.collect()
    gc.freeze()
    skip = set(filter(None, options.skip.split(",")))
    only = set(filter(None, options.only.split(",")))
    runner = Runner(module, options.mode, config, attack, current, scratch)
    for target in targets:
        if target.id in skip or (only and target.id not in only):
            continue
        if target.id in T.EXCLUDED:
            events.emit(event="skipped", target=target.id, reason=T.EXCLUDED[target.id])
            continue
        if TYPES_CRASH and (target.cls is not None or instantiates(target, classes)):
            events.emit(event="skipped", target=target.id, reason=TYPES_CRASH_REASON)
            continue
        events.emit(event="start", target=target.id)
        started = time.perf_counter()
        calls_before = runner.calls
        examples = [0]
        failure = None
        runner.slowest = (0.0, None)
        try:
            strategy = attack.plans(target)

            @seed(zlib.crc32(target.id.encode()) ^ options.seed)
            @settings(max_examples=options.examples, database=None, deadline=None, derandomize=False,
                      suppress_health_check=list(HealthCheck), report_multiple_bugs=False, print_blob=False,
                      verbosity=Verbosity.quiet, phases=[Phase.explicit, Phase.generate, Phase.shrink])
            @given(plan=strategy)
            def attack_target(plan):
                examples[0] += 1
                with default_recursion_headroom():
                    runner.execute(target, plan)
                if examples[0] % 32 == 0:
                    gc.collect()  # let the __del__ games and cycle collection run inside the attack

            attack_target()
        except AttackFailure as e:
            failure = str(e)
        except HypothesisException as e:
            # a flaky failure carries the original one(s): report them, not just the summary
            inner = [str(x) if isinstance(x, AttackFailure) else "".join(
                traceback.format_exception(type(x), x, x.__traceback__))[-2000:] for x in getattr(e, "exceptions", ())]
            failure = "%s: %s (hypothesis: %s)%s" % (target.id, type(e).__name__, safe_str(e, 2000),
                                                     "".join("\n  " + i.replace("\n", "\n  ") for i in inner))
        except BaseException as e:  # noqa: B902 - a failure of the attack itself is reported too
            failure = "%s: the attack itself failed: %s" % (target.id, "".join(
                traceback.format_exception(type(e), e, e.__traceback__))[-3000:])
        gc.collect()
        events.emit(event="done", target=target.id, examples=examples[0], calls=runner.calls - calls_before,
                    seconds=round(time.perf_counter() - started, 3), failure=failure,
                    slowest=[round(runner.slowest[0], 3), runner.slowest[1]])
    events.emit(event="finished")
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
