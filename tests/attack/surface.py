"""The public surface of a loaded module, found by introspection, with its signatures.

What is public: every name of `dir(module)` without a leading underscore; for each class, every
attribute of its own `vars()` (methods, static and class methods, properties, members, the slot
wrappers of its dunders, `__new__`, `__init__`) except the ones CPython adds to every type
(`IGNORED_CLASS_ATTRIBUTES`). Each becomes a `Target`; a kind the attack does not know is a
coverage failure, not a silent skip.

A submodule (`#[hpy::submodule]`: an attribute that is a module named `<module>.<attr>`) is
searched the same way, its targets named by their path (`layout.geometry.scale`, called as
`m.geometry.scale(...)`).

Signatures and parameter types come from the type stub `#[hpy::module]` embeds in the binary
(an ELF section, read with tools/pep517/hpy_build/stubs.py; a submodule's stub is a comment block
in its parent's, `# The submodule ... whose stub is:`); a function without a stub entry
(rawadd is written on hpy-sys alone; `import` is a Python keyword) falls back to its
`__text_signature__`, untyped.
"""
import ast
import inspect
import os
import re
import sys
import types

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "pep517"))
from hpy_build import stubs  # noqa: E402

# what CPython puts on every class: not hpy-rs code
IGNORED_CLASS_ATTRIBUTES = {
    "__doc__": "the docstring, a str",
    "__module__": "the module name, a str",
    "__weakref__": "CPython's weak-reference slot of exception types",
    "__dict__": "CPython's instance dictionary",
    "__qualname__": "a str",
    "__vectorcalloffset__": "CPython's vectorcall offset member, added for a __call__ slot",
    "__slots__": "a tuple",
}

# the member an exception class that holds a Rust value keeps it in (a hidden object): set from
# Python, it must be refused, never trusted
HIDDEN_VALUE = "__hpy_value__"

# dunders that come in pairs: the buffer protocol is attacked as one target on every version
# (CPython 3.12+ shows its slot wrappers, older versions do not)
BUFFER_DUNDERS = ("__buffer__", "__release_buffer__")


class Param:
    """One parameter: kind is 'pos' (positional-only), 'any', 'kw' (keyword-only), 'var'
    (*args) or 'varkw' (**kwargs); annotation is the stub's text, or None (Any)."""

    def __init__(self, name, kind, annotation=None, default=False):
        self.name, self.kind, self.annotation, self.default = name, kind, annotation, default

    def __repr__(self):
        return "%s:%s%s%s" % (self.name, self.kind, "=" if self.default else "", self.annotation or "")


class Signature:
    def __init__(self, params, returns=None, decorator=None):
        self.params, self.returns, self.decorator = params, returns, decorator

    def __repr__(self):
        return "(%s) -> %s" % (", ".join(map(repr, self.params)), self.returns)

    def inspect(self):
        """As an inspect.Signature, to check how a call binds."""
        kinds = {"pos": inspect.Parameter.POSITIONAL_ONLY, "any": inspect.Parameter.POSITIONAL_OR_KEYWORD,
                 "var": inspect.Parameter.VAR_POSITIONAL, "kw": inspect.Parameter.KEYWORD_ONLY,
                 "varkw": inspect.Parameter.VAR_KEYWORD}
        return inspect.Signature([inspect.Parameter(p.name, kinds[p.kind], default=None if p.default else
                                                    inspect.Parameter.empty) for p in self.params])


class _Source:
    """The text of ast nodes (ast.get_source_segment splits the whole text on every call)."""

    def __init__(self, text):
        self.lines = [line.encode("utf-8") for line in text.splitlines(True)]

    def segment(self, node):
        first, last = node.lineno - 1, node.end_lineno - 1
        if first == last:
            return self.lines[first][node.col_offset:node.end_col_offset].decode("utf-8")
        parts = [self.lines[first][node.col_offset:]] + self.lines[first + 1:last] + [self.lines[last][:node.end_col_offset]]
        return b"".join(parts).decode("utf-8")


def _text(source, node):
    return None if node is None else source.segment(node)


def _signature_from_def(source, fn, drop_first):
    a = fn.args
    params = []
    positional = [(p, "pos") for p in getattr(a, "posonlyargs", [])] + [(p, "any") for p in a.args]
    defaults_start = len(positional) - len(a.defaults)
    for i, (p, kind) in enumerate(positional):
        params.append(Param(p.arg, kind, _text(source, p.annotation), i >= defaults_start))
    if a.vararg:
        params.append(Param(a.vararg.arg, "var", _text(source, a.vararg.annotation)))
    for p, d in zip(a.kwonlyargs, a.kw_defaults):
        params.append(Param(p.arg, "kw", _text(source, p.annotation), d is not None))
    if a.kwarg:
        params.append(Param(a.kwarg.arg, "varkw", _text(source, a.kwarg.annotation)))
    if drop_first and params and params[0].name in ("self", "cls", "slf"):
        params = params[1:]
    decorators = [d.id if isinstance(d, ast.Name) else source.segment(d) for d in fn.decorator_list]
    return Signature(params, _text(source, fn.returns), decorators[0] if decorators else None)


_SUBMODULE = re.compile(r"^# The submodule `[\w.]*?(\w+)` .*whose stub is:$")


def _submodule_stubs(text):
    """{attribute: stub text} of the submodules, which the parent's stub holds as comment blocks
    (each line `#   ` + the submodule's stub line, `#` for an empty one)."""
    out = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        match = _SUBMODULE.match(lines[i])
        i += 1
        if not match:
            continue
        body = []
        while i < len(lines) and lines[i].startswith("#"):
            body.append(lines[i][4:] if lines[i].startswith("#   ") else "")
            i += 1
        out[match.group(1)] = "\n".join(body) + "\n"
    return out


class Stub:
    """The parsed stub: `functions[name]` and `classes[cls][member]` are Signatures (a property's
    is its getter's; `setters[cls][name]` the setter's value annotation); `submodules[attr]` the
    Stub of each submodule."""

    def __init__(self, text):
        self.functions, self.classes, self.setters, self.bases, self.submodules = {}, {}, {}, {}, {}
        if not text:
            return
        self.submodules = {name: Stub(sub) for name, sub in _submodule_stubs(text).items()}
        tree = ast.parse(text)
        text = _Source(text)
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                self.functions[node.name] = _signature_from_def(text, node, False)
            elif isinstance(node, ast.ClassDef):
                members, setters = {}, {}
                self.bases[node.name] = [text.segment(b) for b in node.bases]
                for item in node.body:
                    if isinstance(item, ast.FunctionDef):
                        sig = _signature_from_def(text, item, True)
                        if sig.decorator and sig.decorator.endswith(".setter"):
                            setters[item.name] = sig.params[0].annotation if sig.params else None
                        else:
                            if sig.decorator == "staticmethod":
                                sig = _signature_from_def(text, item, False)
                            members[item.name] = sig
                    elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                        members[item.target.id] = Signature([], _text(text, item.annotation), "classattr")
                self.classes[node.name] = members
                self.setters[node.name] = setters


def read_stub(so_path):
    with open(so_path, "rb") as f:
        return Stub(stubs.extract(f.read()))


def text_signature(obj, drop_first=False):
    """Untyped Signature from `__text_signature__` (None if there is none)."""
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    kinds = {inspect.Parameter.POSITIONAL_ONLY: "pos", inspect.Parameter.POSITIONAL_OR_KEYWORD: "any",
             inspect.Parameter.VAR_POSITIONAL: "var", inspect.Parameter.KEYWORD_ONLY: "kw",
             inspect.Parameter.VAR_KEYWORD: "varkw"}
    params = [Param(p.name, kinds[p.kind], None, p.default is not inspect.Parameter.empty)
              for p in sig.parameters.values()]
    if drop_first and params and params[0].name in ("self", "$self", "cls", "type"):
        params = params[1:]
    return Signature(params)


class Target:
    """One thing to attack. kind: function, exception_type, new, init, method, static, classmethod,
    property, member, slot, buffer, classattr."""

    def __init__(self, module_name, cls, name, kind, signature=None, setter=None):
        self.cls, self.name, self.kind, self.signature, self.setter = cls, name, kind, signature, setter
        self.settable = False
        self.id = "%s.%s%s" % (module_name, cls.__name__ + "." if cls is not None else "", name)

    def __repr__(self):
        return "<%s %s %r>" % (self.kind, self.id, self.signature)


def discover(module, stub, can_export_buffer):
    """(targets, problems): every public callable of `module` as a Target; problems lists what
    the attack would not know how to call. `can_export_buffer(cls)` says whether instances of
    `cls` export a buffer (found by trying, on every Python version)."""
    targets, problems = [], []
    _module_targets(module.__name__, module, "", stub, can_export_buffer, targets, problems)
    return targets, problems


def _module_targets(name, module, prefix, stub, can_export_buffer, targets, problems):
    """The targets of `module`, the submodule at path `prefix` ("" or "geometry.") of module `name`."""
    for attr in dir(module):
        if attr.startswith("_"):
            continue
        value = getattr(module, attr)
        path = prefix + attr
        if isinstance(value, type) and issubclass(value, BaseException):
            targets.append(Target(name, None, path, "exception_type", text_signature(value)))
            if HIDDEN_VALUE in vars(value) and not prefix:
                # an exception class holding a Rust value (`#[hpy::class(extends = ...)]`): a
                # Python class whose members reach the value; attacked as a class too
                targets.extend(_class_targets(name, value, stub, can_export_buffer, problems))
        elif isinstance(value, type):
            if prefix:
                # receivers are built as `m.<Class>(...)` (targets.RECEIVERS): a class of a
                # submodule would need its path there
                problems.append("%s.%s: a class in a submodule, which the attack does not know how to build"
                                % (name, path))
                continue
            targets.extend(_class_targets(name, value, stub, can_export_buffer, problems))
        elif isinstance(value, types.ModuleType) and getattr(value, "__name__", "") == "%s.%s" % (module.__name__, attr):
            _module_targets(name, value, path + ".", stub.submodules.get(attr) or Stub(""), can_export_buffer,
                            targets, problems)
        elif callable(value):
            sig = stub.functions.get(attr) or text_signature(value)
            if sig is None:
                problems.append("%s.%s: no signature (neither a stub entry nor __text_signature__)" % (name, path))
            targets.append(Target(name, None, path, "function", sig))
        # anything else is data (ANSWER, __version__): nothing to call


def _class_targets(module_name, cls, stub, can_export_buffer, problems):
    members = stub.classes.get(cls.__name__, {})
    setters = stub.setters.get(cls.__name__, {})
    out = []
    buffer_seen = False
    for attr, value in vars(cls).items():
        if attr in IGNORED_CLASS_ATTRIBUTES or (attr == "__hash__" and value is None):
            continue
        if attr in BUFFER_DUNDERS:
            buffer_seen = True
            continue
        sig = members.get(attr)
        kind = type(value).__name__
        if attr == "__new__":
            out.append(Target(module_name, cls, attr, "new", sig or text_signature(value, drop_first=True)))
        elif attr == "__init__":
            init_sig = sig or members.get("__init__") or text_signature(value, drop_first=True)
            out.append(Target(module_name, cls, attr, "init", init_sig))
        elif kind == "wrapper_descriptor":
            out.append(Target(module_name, cls, attr, "slot", sig))
        elif kind == "method_descriptor" or (kind == "function" and attr != "__init__"):
            # (a plain function: a method of an exception class that holds a Rust value)
            out.append(Target(module_name, cls, attr, "method", sig or text_signature(value, drop_first=True)))
        elif kind == "function":
            out.append(Target(module_name, cls, attr, "init", sig or text_signature(value, drop_first=True)))
        elif kind == "staticmethod":
            out.append(Target(module_name, cls, attr, "static", sig or text_signature(value.__func__)))
        elif kind == "classmethod":
            out.append(Target(module_name, cls, attr, "classmethod", sig or text_signature(value.__func__, drop_first=True)))
        elif kind in ("getset_descriptor", "property"):
            target = Target(module_name, cls, attr, "property", sig, setter=setters.get(attr))
            target.settable = attr in setters  # per the stub; setting the others must fail cleanly
            out.append(target)
        elif kind == "member_descriptor":
            out.append(Target(module_name, cls, attr, "member", sig))
        elif isinstance(value, cls) or (sig is not None and sig.decorator == "classattr") or \
                isinstance(value, (int, float, str, bytes, tuple)):
            out.append(Target(module_name, cls, attr, "classattr", sig))
        else:
            problems.append("%s.%s.%s: a %s, which the attack does not know how to call"
                            % (module_name, cls.__name__, attr, kind))
    if buffer_seen or can_export_buffer(cls):
        out.append(Target(module_name, cls, "__buffer__", "buffer"))
    return out
