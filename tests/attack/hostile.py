"""Hostile objects for the attack suite: the names every reproducer is evaluated with.

Every attack value is a Python *source string* evaluated in a namespace made of this module's
public names plus `m` (the module under attack) and `obj` (the receiver, for methods). A failure
report therefore prints source that reproduces it: `from hostile import *` and run it.

The objects lie or fail in the protocols that conversions rely on: `__index__`, `__int__`,
`__float__`, `__complex__`, `__bool__`, `__len__`, `__getitem__`, `__iter__`, `__eq__`,
`__hash__`, `__repr__`, `__call__`, `__del__`; subclasses of int, float, str, bytes, list, tuple,
dict, set and complex do the same behind a real built-in type; hooks may also run actions first
(re-enter the object under attack, mutate a container being converted, collect garbage).
"""
import array  # noqa: F401 - used by attack sources
import datetime
import gc
import math  # noqa: F401 - used by attack sources
import types

__all__ = [
    "RAISE", "ESCAPE", "HostileError", "Escape", "Do", "Hostile", "Sub", "Reflector", "REFLECTED",
    "LyingSeq", "SelfClearing", "cyclic_list", "cyclic_dict", "nested", "fresh_module", "subclass",
    "CAPSULE", "gc", "array", "math", "owner_of",
]


class HostileError(Exception):
    """What a hostile hook raises: an ordinary Exception the code under attack must pass on."""


class Escape(BaseException):
    """A BaseException that is not an Exception, raised by a hook: like KeyboardInterrupt, it
    must travel through the code under attack unchanged (and is then accepted as its result)."""


class _Marker:
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


RAISE = _Marker("RAISE")    # hook value: raise HostileError
ESCAPE = _Marker("ESCAPE")  # hook value: raise Escape


class Do:
    """Hook value: run `actions` (callables) first, then behave as `then` (a value, RAISE or
    ESCAPE). Exceptions from the actions are swallowed when `swallow` (the hook then still
    returns), else they propagate out of the hook."""

    def __init__(self, *actions, then=None, swallow=True):
        self.actions, self.then, self.swallow = actions, then, swallow

    def __repr__(self):
        return "Do(%d actions, then=%r)" % (len(self.actions), self.then)


def _resolve(hook, name, args):
    if isinstance(hook, Do):
        for action in hook.actions:
            if hook.swallow:
                try:
                    action(*args) if _takes_args(action) else action()
                except Exception:
                    pass
            else:
                action(*args) if _takes_args(action) else action()
        hook = hook.then
    if hook is RAISE:
        raise HostileError("%s hook" % name)
    if hook is ESCAPE:
        raise Escape("%s hook" % name)
    if callable(hook) and name == "call":
        return hook(*args)
    return hook


def _takes_args(action):
    code = getattr(action, "__code__", None)
    return code is not None and (code.co_argcount > 0 or code.co_flags & 0x04)


# dunder -> the hook name that configures it
_DUNDERS = {
    "index": "__index__", "int": "__int__", "float": "__float__", "bool": "__bool__",
    "len": "__len__", "getitem": "__getitem__", "setitem": "__setitem__", "delitem": "__delitem__",
    "iter": "__iter__", "contains": "__contains__", "eq": "__eq__", "ne": "__ne__", "lt": "__lt__",
    "hash": "__hash__", "repr": "__repr__", "str": "__str__", "call": "__call__", "del": "__del__",
    "keys": "keys", "items": "items", "values": "values", "getattr": "__getattr__",
    "complex": "__complex__",
}

_class_cache = {}
_ITEMS_BEFORE_INDEX_ERROR = 8


def _make_method(hook_name):
    if hook_name == "iter":
        def method(self, *args):
            return iter(_resolve(self._hooks["iter"], "iter", args))
    elif hook_name == "del":
        def method(self):
            _resolve(self._hooks["del"], "del", ())
    elif hook_name == "getitem":
        def method(self, key):
            hook = self._hooks["getitem"]
            if isinstance(hook, (list, tuple)):  # a sequence: index it (IndexError at the end)
                return hook[key]
            if isinstance(key, int) and key >= _ITEMS_BEFORE_INDEX_ERROR:
                raise IndexError(key)  # iteration through __getitem__ ends (`x in obj` would not)
            return _resolve(hook, "getitem", (key,))
    else:
        def method(self, *args):
            return _resolve(self._hooks[hook_name], hook_name, args)
    method.__name__ = _DUNDERS[hook_name]
    return method


def _hostile_class(base, hook_names):
    key = (base, hook_names)
    cls = _class_cache.get(key)
    if cls is None:
        namespace = {_DUNDERS[h]: _make_method(h) for h in hook_names}
        if "hash" not in hook_names and "eq" in hook_names:
            namespace["__hash__"] = base.__hash__  # keep it hashable when only __eq__ lies
        name = "Hostile" if base is object else "Hostile_" + base.__name__
        cls = type(name, (base,), namespace)
        _class_cache[key] = cls
    return cls


def _hook_names(hooks):
    """The hooks by their names in _DUNDERS: a keyword (`del`) is written with a trailing `_`."""
    return {name.rstrip("_"): value for name, value in hooks.items()}


def Hostile(**hooks):
    """An object with exactly the given protocol hooks, e.g. `Hostile(index=RAISE)`,
    `Hostile(len=10**6, getitem=[1.0, 2.0])`, `Hostile(float=Do(lambda: obj.clear(), then=1.0))`.
    A hook value is returned as is, RAISE/ESCAPE raise, `Do(...)` runs actions first; `getitem`
    may be a list to index. `del_=` is the `__del__` hook (`del` is a keyword)."""
    hooks = _hook_names(hooks)
    cls = _hostile_class(object, tuple(sorted(hooks)))
    self = cls()
    self._hooks = hooks
    return self


def Sub(base, value, **hooks):
    """An instance of a subclass of the built-in `base` holding `value`, whose hooks lie or fail:
    `Sub(int, 5, index=RAISE, eq=RAISE)`, `Sub(list, [1, 2], len=10**6)`."""
    hooks = _hook_names(hooks)
    cls = _hostile_class(base, tuple(sorted(hooks)))
    self = cls(value)
    self._hooks = hooks
    return self


_subclass_cache = {}


def subclass(cls, **hooks):
    """A Python subclass of the class under attack, with overriding hooks (cached per hooks)."""
    hooks = _hook_names(hooks)
    key = (cls, tuple(sorted(hooks)))
    sub = _subclass_cache.get(key)
    if sub is None:
        namespace = {_DUNDERS[h]: _make_method(h) for h in hooks}
        namespace["_hooks"] = {}
        sub = type(cls.__name__ + "Sub", (cls,), namespace)
        _subclass_cache[key] = sub
    if hooks:
        # hooks are per subclass here: the instances are made by the class under attack
        sub._hooks = hooks
    return sub


REFLECTED = "reflected"


class Reflector:
    """Answers every reflected operator and comparison with ("reflected", name): an operator
    of the class under attack that cannot use this operand must return NotImplemented, so that
    Python then asks this object (checked by the differential tests)."""

    def _answer(name):
        def method(self, other=None, *rest):
            return (REFLECTED, name)
        method.__name__ = name
        return method

    for _name in ["__radd__", "__rsub__", "__rmul__", "__rtruediv__", "__rfloordiv__", "__rmatmul__",
                  "__rmod__", "__rpow__", "__rlshift__", "__rrshift__", "__rand__", "__ror__", "__rxor__",
                  "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"]:
        locals()[_name] = _answer(_name)
    del _name, _answer
    __hash__ = object.__hash__

    def __repr__(self):
        return "Reflector()"


class LyingSeq:
    """A sequence (`__len__` + `__getitem__`) that claims `claimed` items but has `items`."""

    def __init__(self, items, claimed):
        self.items, self.claimed = items, claimed

    def __len__(self):
        return self.claimed

    def __getitem__(self, index):
        return self.items[index]


class SelfClearing:
    """Converting it runs `__index__`/`__float__`/`__int__`/`__eq__`/`__hash__`, each of which
    first empties `owner` (the container being converted), then answers `value`."""

    def __init__(self, value):
        self.value, self.owner = value, None

    def _strike(self):
        owner = self.owner
        if owner is not None:
            owner.clear()
            gc.collect()

    def __index__(self):
        self._strike()
        return int(self.value)

    def __int__(self):
        self._strike()
        return int(self.value)

    def __float__(self):
        self._strike()
        return float(self.value)

    def __eq__(self, other):
        self._strike()
        return self.value == other

    def __hash__(self):
        self._strike()
        return hash(self.value)

    @staticmethod
    def list(value, n=3, container=list):
        """A container of `n` values whose first item empties the container when converted."""
        first = SelfClearing(value)
        owner = container([first] + [value] * (n - 1))
        first.owner = owner
        return owner

    @staticmethod
    def dict(value, n=3):
        first = SelfClearing(value)
        owner = {first: value}
        for i in range(n - 1):
            owner["k%d" % i] = value
        first.owner = owner
        return owner


def cyclic_list(*items):
    """A list that contains itself after `items`."""
    out = list(items)
    out.append(out)
    return out


def cyclic_dict(**items):
    out = dict(items)
    out["self"] = out
    return out


def nested(depth, leaf=0):
    """A list nested `depth` levels deep (recursion in converters and comparisons)."""
    out = leaf
    for _ in range(depth):
        out = [out]
    return out


def owner_of(descriptor, **attributes):
    """An instance of a fresh class whose attribute `d` is `descriptor`, with `attributes` in its
    own `__dict__`: `owner_of(obj, base=3).d` runs the descriptor protocol (`__get__`), as do
    `owner.d = v` (`__set__`) and `del owner.d` (`__delete__`)."""
    instance = type("Owner", (), {"d": descriptor})()
    instance.__dict__.update(attributes)
    return instance


def fresh_module(name="scratch"):
    return types.ModuleType(name)


# A real capsule of the standard library, named "datetime.datetime_CAPI".
CAPSULE = datetime.datetime_CAPI
