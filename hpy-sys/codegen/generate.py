#!/usr/bin/env python3
"""Generate hpy-sys from the C headers of the installed ``hpy==0.9.0`` package.

Run it with a Python that has ``hpy==0.9.0`` installed (``make generate`` does that):

    python hpy-sys/codegen/generate.py          # rewrite the generated files
    python hpy-sys/codegen/generate.py --check  # exit 1 if a generated file would change

It reads only the headers that ship in the wheel (``hpy/devel/include``) and writes:

* ``hpy-sys/src/ctx.rs``    the 266-field ``HPyContext`` and a table of its fields;
* ``hpy-sys/src/api.rs``    one ``#[inline]`` wrapper per context function, under its public C name;
* ``hpy-sys/src/types.rs``  integer typedefs, enum constants, ``#define`` constants, function-pointer
                            typedefs and every struct the ABI uses;
* ``hpy-sys/tests/layout/probe.c`` and ``hpy-sys/tests/layout/rust_layout.rs``: the same list of
  sizes, offsets and constant values, once computed by a C compiler against the headers and once by
  Rust against the generated code. ``hpy-sys/tests/layout.rs`` compares the two.

The parser is deliberately small and strict: every header construct it does not understand is an
error, so a header change cannot be silently skipped.
"""

import argparse
import hashlib
import os
import re
import sys

HPY_VERSION = "0.9.0"
HERE = os.path.dirname(os.path.abspath(__file__))
CRATE = os.path.dirname(HERE)

# Headers read, relative to the include directory. Order matters only for the output order.
HEADERS = [
    "hpy.h",
    "hpy/version.h",
    "hpy/cpy_types.h",
    "hpy/macros.h",
    "hpy/hpyfunc.h",
    "hpy/autogen_hpyfunc_declare.h",
    "hpy/autogen_hpyslot.h",
    "hpy/hpydef.h",
    "hpy/hpytype.h",
    "hpy/hpymodule.h",
    "hpy/universal/hpyfunc_trampolines.h",
    "hpy/universal/autogen_hpyfunc_trampolines.h",
    "hpy/universal/autogen_ctx.h",
    "hpy/universal/autogen_trampolines.h",
    "hpy/universal/misc_trampolines.h",
]

# Object-like macros exported as Rust constants, with their Rust type. Their values are read from
# the headers (and checked again by the C probe); this list only says which macros are constants.
MACRO_CONSTANTS = [
    ("HPY_ABI_VERSION", "u32"),
    ("HPY_ABI_VERSION_MINOR", "u32"),
    ("HPY_ABI_TAG", "&str"),
    ("HPY_VERSION", "&str"),
    ("HPY_GIT_REVISION", "&str"),
    ("HPY_SSIZE_T_MAX", "HPy_ssize_t"),
    ("HPY_SSIZE_T_MIN", "HPy_ssize_t"),
    ("_Py_TPFLAGS_HEAPTYPE", "c_ulong"),
    ("_Py_TPFLAGS_HAVE_VERSION_TAG", "c_ulong"),
    ("HPy_TPFLAGS_DEFAULT", "c_ulong"),
    ("HPy_TPFLAGS_HAVE_VECTORCALL", "c_ulong"),
    ("HPy_TPFLAGS_BASETYPE", "c_ulong"),
    ("HPy_TPFLAGS_HAVE_GC", "c_ulong"),
]

# Scalar C types and their Rust spelling (core::ffi / primitive types).
SCALARS = {
    "void": "c_void",
    "char": "c_char",
    "int": "c_int",
    "unsigned int": "c_uint",
    "long": "c_long",
    "unsigned long": "c_ulong",
    "double": "f64",
    "float": "f32",
    "bool": "bool",
    "_Bool": "bool",
    "size_t": "usize",
    "intptr_t": "isize",
    "int32_t": "i32",
    "uint32_t": "u32",
    "int64_t": "i64",
    "uint64_t": "u64",
    "wchar_t": "wchar_t",
}

# Integer typedefs of the universal ABI (hpy.h, `#else` branch of HPY_ABI_CPYTHON).
INT_TYPEDEFS = [("HPy_ssize_t", "intptr_t"), ("HPy_hash_t", "intptr_t"), ("HPy_UCS4", "uint32_t")]

# Opaque CPython types (cpy_types.h, universal branch): forward-declared only.
OPAQUE = ["cpy_PyObject", "cpy_PyMethodDef", "cpy_PyModuleDef", "cpy_Py_buffer"]

RUST_KEYWORDS = {
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for",
    "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
}


class GenError(Exception):
    pass


# Keywords that cannot be raw identifiers either.
NOT_RAW = {"self", "Self", "super", "crate", "_"}


def ident(name):
    """A C identifier as a Rust identifier: keywords become raw identifiers (`r#impl`), except
    the few that cannot be (`self` becomes `self_`)."""
    if name in NOT_RAW:
        return name + "_"
    return "r#" + name if name in RUST_KEYWORDS else name


# --------------------------------------------------------------------------------------------
# Reading headers
# --------------------------------------------------------------------------------------------

def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def strip_preprocessor(text):
    """Drop preprocessor lines (with their continuations): macros are not declarations."""
    out, cont = [], False
    for line in text.split("\n"):
        if cont or line.lstrip().startswith("#"):
            cont = line.rstrip().endswith("\\")
            continue
        out.append(line)
    return "\n".join(out)


def find_include_dir():
    try:
        import hpy.devel
    except ImportError:
        raise GenError("hpy is not installed in this Python (%s): pip install hpy==%s"
                       % (sys.executable, HPY_VERSION))
    inc = os.path.join(os.path.dirname(hpy.devel.__file__), "include")
    return inc


class Headers:
    def __init__(self, include_dir):
        self.dir = include_dir
        self.raw = {}
        for rel in HEADERS:
            path = os.path.join(include_dir, rel)
            with open(path, encoding="utf-8") as f:
                self.raw[rel] = f.read()
        version = re.search(r'#define\s+HPY_VERSION\s+"([^"]+)"', self.raw["hpy/version.h"]).group(1)
        if version != HPY_VERSION:
            raise GenError("the installed hpy is %s; hpy-sys targets exactly %s"
                           % (version, HPY_VERSION))
        digest = hashlib.sha256()
        for rel in HEADERS:
            digest.update(rel.encode() + b"\0" + self.raw[rel].encode() + b"\0")
        self.sha256 = digest.hexdigest()

    def code(self, rel):
        """Declarations of one header: no comments, no preprocessor lines."""
        return strip_preprocessor(strip_comments(self.raw[rel]))

    def all_code(self, rels):
        return "\n".join(self.code(r) for r in rels)


# --------------------------------------------------------------------------------------------
# C types -> Rust types
# --------------------------------------------------------------------------------------------

class Types:
    """Knows every type name the headers declare and spells C declarations in Rust."""

    def __init__(self):
        self.named = set(OPAQUE) | {n for n, _ in INT_TYPEDEFS} | {"HPyContext"}

    def rust(self, ctype):
        """Rust spelling of a C type such as `cpy_PyObject *const *` or `const char *`."""
        tokens = re.findall(r"\w+|\*|\[\]", ctype)
        if not tokens:
            raise GenError("empty type")
        const = False
        base_words = []
        i = 0
        while i < len(tokens) and tokens[i] not in ("*", "[]"):
            if tokens[i] == "const":
                const = True
            elif tokens[i] == "struct":
                pass
            else:
                base_words.append(tokens[i])
            i += 1
        base = " ".join(base_words)
        if base in SCALARS:
            rust = SCALARS[base]
        elif base in self.named:
            rust = base
        else:
            raise GenError("unknown C type %r in %r" % (base, ctype))
        pointers = tokens[i:]
        if base == "void" and not pointers:
            return "()"
        for j, tok in enumerate(pointers):
            if tok == "const":
                continue
            # `T *` and `T[]` (as a parameter) are both pointers to T
            rust = ("*const " if const else "*mut ") + rust
            const = j + 1 < len(pointers) and pointers[j + 1] == "const"
        return rust

    def split_decl(self, decl):
        """Split `const char *name` into (type, name); unnamed declarations give name None."""
        decl = " ".join(decl.split())
        array = decl.endswith("[]")
        if array:
            decl = decl[:-2].rstrip()
        m = re.match(r"^(.*?[\s*])(\w+)$", decl)
        if m and m.group(2) not in SCALARS and m.group(2) not in self.named \
                and m.group(2) not in ("const", "long", "int") \
                and re.search(r"\w", m.group(1)):
            ctype, name = m.group(1).strip(), m.group(2)
        else:
            ctype, name = decl, None
        if array:
            ctype += " []"
        return ctype, name

    def params(self, text):
        """Rust parameter list for a C parameter list."""
        text = text.strip()
        if text in ("", "void"):
            return []
        out = []
        for p in text.split(","):
            ctype, name = self.split_decl(p)
            out.append((name, self.rust(ctype), " ".join(p.split())))
        return out

    def fn_type(self, ret, params, safe_ret=True):
        args = ", ".join(("%s: %s" % (ident(n), t)) if n else t for n, t, _ in params)
        r = self.rust(ret)
        return 'unsafe extern "C" fn(%s)%s' % (args, "" if r == "()" else " -> " + r)


# --------------------------------------------------------------------------------------------
# Parsers
# --------------------------------------------------------------------------------------------

def parse_enums(code):
    """`typedef enum { A = 1, B, ... } Name;` -> [(Name, [(A, 1), (B, 2), ...])]"""
    enums = []
    for m in re.finditer(r"typedef\s+enum\s*\{(.*?)\}\s*(\w+)\s*;", code, re.S):
        body, name = m.group(1), m.group(2)
        value, items = -1, []
        for item in body.split(","):
            item = item.strip()
            if not item:
                continue
            im = re.fullmatch(r"(\w+)(?:\s*=\s*(-?\d+))?", item)
            if not im:
                raise GenError("cannot parse enum item %r of %s" % (item, name))
            value = int(im.group(2)) if im.group(2) is not None else value + 1
            items.append((im.group(1), value))
        enums.append((name, items))
    return enums


def matching_brace(text, start):
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    raise GenError("unbalanced braces")


def parse_structs(code, types):
    """`typedef struct [tag] { fields } Name;` -> [(Name, fields)].

    A field is (name, c_declaration, rust_type), or ("<union>", [(name, decl, rust_type)...])
    for an anonymous union (only HPyDef has one).
    """
    structs = []
    for m in re.finditer(r"typedef\s+struct\s*(\w+)?\s*\{", code):
        end = matching_brace(code, m.end() - 1)
        body = code[m.end():end]
        nm = re.match(r"\s*(\w+)\s*;", code[end + 1:])
        if not nm:
            raise GenError("struct without typedef name near %r" % code[m.start():m.start() + 60])
        name = nm.group(1)
        types.named.add(name)
        structs.append((name, body))
    parsed = []
    for name, body in structs:
        parsed.append((name, parse_fields(body, types, name)))
    return parsed


def parse_fields(body, types, owner):
    fields = []
    pos = 0
    body = body.strip()
    while pos < len(body):
        um = re.match(r"\s*union\s*\{", body[pos:])
        if um:
            start = pos + um.end() - 1
            end = matching_brace(body, start)
            inner = parse_fields(body[start + 1:end], types, owner)
            semi = body.index(";", end)
            if body[end + 1:semi].strip():
                raise GenError("named unions are not supported (%s)" % owner)
            fields.append(("<union>", inner))
            pos = semi + 1
            continue
        semi = body.find(";", pos)
        if semi < 0:
            if body[pos:].strip():
                raise GenError("trailing text in struct %s: %r" % (owner, body[pos:]))
            break
        decl = body[pos:semi].strip()
        pos = semi + 1
        if not decl:
            continue
        if "(" in decl:
            raise GenError("inline function-pointer field in %s: %r" % (owner, decl))
        ctype, fname = types.split_decl(decl)
        if fname is None:
            raise GenError("unnamed field in %s: %r" % (owner, decl))
        fields.append((fname, " ".join(decl.split()), types.rust(ctype)))
    return fields


def parse_fn_typedefs(code, types):
    """`typedef RET (*Name)(PARAMS);` -> [(Name, ret, params_text)]"""
    out = []
    for m in re.finditer(r"typedef\s+([^;{}()]*?)\(\s*\*\s*(\w+)\s*\)\s*\(([^;]*?)\)\s*;", code, re.S):
        ret, name, params = " ".join(m.group(1).split()), m.group(2), m.group(3)
        types.named.add(name)
        out.append((name, ret, " ".join(params.split())))
    return out


def parse_context(code):
    """The members of `struct _HPyContext_s`, in order: (kind, name, ret, params, c_text)."""
    m = re.search(r"struct\s+_HPyContext_s\s*\{(.*?)\};", code, re.S)
    if not m:
        raise GenError("struct _HPyContext_s not found")
    members = []
    for line in m.group(1).split(";"):
        line = " ".join(line.split())
        if not line:
            continue
        fm = re.fullmatch(r"(.+?)\(\s*\*\s*(ctx_\w+)\s*\)\s*\((.*)\)", line)
        if fm:
            members.append(("fn", fm.group(2), fm.group(1).strip(), fm.group(3), line + ";"))
            continue
        hm = re.fullmatch(r"HPy (h_\w+)", line)
        if hm:
            members.append(("handle", hm.group(1), None, None, line + ";"))
            continue
        dm = re.fullmatch(r"(const char \*|void \*|int )\s*(\w+)", line)
        if dm and len(members) < 3:
            members.append(("data", dm.group(2), dm.group(1).strip(), None, line + ";"))
            continue
        raise GenError("cannot parse HPyContext member %r" % line)
    return members


def parse_wrappers(trampolines_code, misc_code):
    """Public names of the context functions: {ctx_field: (public_name, ret, params, noreturn)}."""
    wrappers = {}
    # `{ return ctx->ctx_X(ctx, a, b); }`, or `{ ctx->ctx_X(ctx, a); return HPy_NULL; }` for the
    # HPyErr_* setters, which return HPy_NULL in C although the context function returns void.
    pat = re.compile(r"HPyAPI_FUNC\s+(.+?)\b(\w+)\s*\(([^)]*)\)\s*\{\s*(return\s+)?ctx->(ctx_\w+)"
                     r"\s*\(([^)]*)\)\s*;\s*(return\s+HPy_NULL\s*;\s*)?\}", re.S)
    for m in pat.finditer(trampolines_code):
        ret, name, params, field, args = m.group(1), m.group(2), m.group(3), m.group(5), m.group(6)
        if (m.group(4) and m.group(7)) or (ret.strip() != "void" and not (m.group(4) or m.group(7))):
            raise GenError("%s: expected either `return ctx->...` or `return HPy_NULL`" % name)
        names = [a.strip() for a in args.split(",")]
        pnames = [re.sub(r"\[\]$", "", p.strip()).split()[-1].lstrip("*") for p in params.split(",")]
        if names != pnames:
            raise GenError("%s does not simply forward its arguments: %r" % (name, args))
        wrappers[field] = (name, " ".join(ret.split()), " ".join(params.split()),
                           "null" if m.group(7) else False)
    # misc_trampolines.h: hand-written inline functions over one context function each.
    pat = re.compile(r"static\s+inline\s+(_HPy_NO_RETURN\s+)?(.+?)\b(\w+)\s*\(([^)]*)\)\s*\{(.*?)\n\}",
                     re.S)
    for m in pat.finditer(misc_code):
        noreturn, ret, name, params, body = m.groups()
        fields = re.findall(r"ctx->(ctx_\w+)", body)
        if len(fields) != 1 or fields[0] in wrappers:
            continue  # a convenience helper over a function that already has a wrapper
        wrappers[fields[0]] = (name, " ".join(ret.split()), " ".join(params.split()), bool(noreturn))
    return wrappers


def parse_macro_constants(code_with_pp):
    """Values of MACRO_CONSTANTS, evaluated from the headers' #define lines."""
    defines = {}
    for m in re.finditer(r"^\s*#\s*define\s+(\w+)\s+(.+?)\s*$", code_with_pp, re.M):
        defines.setdefault(m.group(1), []).append(m.group(2))
    env = {"INTPTR_MAX": 2 ** 63 - 1}
    values = []
    for name, rtype in MACRO_CONSTANTS:
        if name not in defines:
            raise GenError("#define %s not found" % name)
        text = defines[name][-1]  # last definition: the universal (`#else`) branch comes last
        if rtype == "&str":
            sm = re.fullmatch(r'"([^"\\]*)"', text)
            if not sm:
                raise GenError("%s is not a plain string: %r" % (name, text))
            values.append((name, rtype, sm.group(1)))
            continue
        expr = re.sub(r"\b(\d+)U?L{0,2}\b", r"\1", text)
        expr = re.sub(r"\b([A-Za-z_]\w*)\b", lambda w: "env[%r]" % w.group(1), expr)
        try:
            value = eval(expr, {"env": env})
        except Exception as e:
            raise GenError("cannot evaluate #define %s %s: %s" % (name, text, e))
        env[name] = value
        values.append((name, rtype, value))
    return values


# --------------------------------------------------------------------------------------------
# Emitting Rust and C
# --------------------------------------------------------------------------------------------

def banner(headers, what, comment="//"):
    return (
        "%s @generated by hpy-sys/codegen/generate.py from the C headers of hpy %s; do not edit.\n"
        "%s %s\n"
        "%s Regenerate with `make generate`. Headers sha256: %s\n"
        % (comment, HPY_VERSION, comment, what, comment, headers.sha256)
    )


class Model:
    def __init__(self, headers):
        self.headers = headers
        self.types = Types()
        decl_headers = [h for h in HEADERS if h not in (
            "hpy/universal/autogen_ctx.h", "hpy/universal/autogen_trampolines.h",
            "hpy/universal/misc_trampolines.h")]
        code = headers.all_code(decl_headers)
        self.enums = parse_enums(code)
        for name, _ in self.enums:
            self.types.named.add(name)
        self.fn_typedefs = parse_fn_typedefs(code, self.types)
        self.structs = parse_structs(code, self.types)
        self.context = parse_context(headers.code("hpy/universal/autogen_ctx.h"))
        self.wrappers = parse_wrappers(headers.code("hpy/universal/autogen_trampolines.h"),
                                       headers.code("hpy/universal/misc_trampolines.h"))
        self.macros = parse_macro_constants("\n".join(headers.raw[h] for h in HEADERS))
        self.check()

    def check(self):
        fns = [m for m in self.context if m[0] == "fn"]
        handles = [m for m in self.context if m[0] == "handle"]
        if (len(self.context), len(handles), len(fns)) != (266, 83, 180):
            raise GenError("HPyContext of hpy 0.9.0 has 266 fields (3 + 83 handles + 180 functions);"
                           " found %d (%d handles, %d functions)"
                           % (len(self.context), len(handles), len(fns)))
        missing = [m[1] for m in fns if m[1] not in self.wrappers]
        if missing:
            raise GenError("no public wrapper name found for %s" % ", ".join(missing))

    # -- types.rs ------------------------------------------------------------------------------
    def types_rs(self):
        t = self.types
        out = [banner(self.headers, "Types, constants and structs of the universal ABI.")]
        out.append("use core::ffi::{c_char, c_int, c_ulong, c_void};\n")
        out.append("use crate::HPyContext;\n")
        out.append("\n// ---- integer typedefs (universal ABI branch of hpy.h) ----\n")
        for name, c in INT_TYPEDEFS:
            out.append("/// C `typedef %s %s;`\npub type %s = %s;\n" % (c, name, name, SCALARS[c]))
        out.append("/// C `wchar_t` (32-bit signed on Linux and macOS, 16-bit unsigned on Windows).\n"
                   "#[cfg(not(windows))]\npub type wchar_t = i32;\n"
                   "/// C `wchar_t` (32-bit signed on Linux and macOS, 16-bit unsigned on Windows).\n"
                   "#[cfg(windows)]\npub type wchar_t = u16;\n")
        out.append("\n// ---- opaque CPython types (forward declarations only in universal mode) ----\n")
        for name in OPAQUE:
            out.append("/// Opaque CPython type: universal modules only pass pointers to it around.\n"
                       "#[repr(C)]\npub struct %s {\n    _opaque: [u8; 0],\n}\n" % name)
        out.append("\n// ---- enums: C enums are `int`-sized; their values are integer constants ----\n")
        for name, items in self.enums:
            out.append("/// C `enum %s` (an `int`).\npub type %s = c_int;\n" % (name, name))
            for item, value in items:
                out.append("/// C `%s` (`%s`).\npub const %s: %s = %d;\n" % (item, name, item, name, value))
        out.append("\n// ---- #define constants ----\n")
        for name, rtype, value in self.macros:
            lit = '"%s"' % value if rtype == "&str" else str(value)
            out.append("/// C `#define %s`.\npub const %s: %s = %s;\n" % (name, name, rtype, lit))
        out.append("\n// ---- function-pointer typedefs (`None` is C's NULL) ----\n")
        for name, ret, params in self.fn_typedefs:
            ps = t.params(params)
            out.append("/// C `typedef %s (*%s)(%s);`\npub type %s = Option<%s>;\n"
                       % (ret, name, params, name, t.fn_type(ret, ps)))
        out.append("\n// ---- structs ----\n")
        for name, fields in self.structs:
            out.append(self.struct_rs(name, fields))
        return "".join(out)

    def struct_rs(self, name, fields):
        derives = "Copy, Clone" if any(f[0] == "<union>" for f in fields) else "Copy, Clone, Debug"
        out = ["/// C `%s`.\n#[repr(C)]\n#[derive(%s)]\npub struct %s {\n" % (name, derives, name)]
        extra = []
        for f in fields:
            if f[0] == "<union>":
                uname = union_name(name)
                out.append("    /// The anonymous C union: its members are `%s`'s fields in C.\n"
                           "    pub u: %s,\n" % (name, uname))
                extra.append("/// The anonymous union inside C `%s`.\n#[repr(C)]\n#[derive(Copy, Clone)]\n"
                             "pub union %s {\n" % (name, uname)
                             + "".join("    /// C: `%s;`\n    pub %s: %s,\n" % (d, ident(n), r) for n, d, r in f[1])
                             + "}\n")
            else:
                out.append("    /// C: `%s;`\n    pub %s: %s,\n" % (f[1], ident(f[0]), f[2]))
        out.append("}\n")
        return "".join(out) + "".join(extra)

    # -- ctx.rs --------------------------------------------------------------------------------
    def ctx_rs(self):
        t = self.types
        out = [banner(self.headers, "`HPyContext`: the function table every universal module calls.")]
        out.append("#![allow(clippy::type_complexity)]\n")
        out.append("use core::ffi::{c_char, c_int, c_void};\n")
        out.append("use crate::types::*;\n\n")
        out.append("/// C `struct _HPyContext_s` of HPy %s (`hpy/universal/autogen_ctx.h`): %d fields.\n"
                   "///\n/// Fields are in C order; each function pointer has its exact C signature.\n"
                   "/// Call them through the wrappers in [`crate::api`] (`HPy_Dup(ctx, h)`), never\n"
                   "/// directly, and only with the context passed to the current call.\n"
                   "#[repr(C)]\npub struct HPyContext {\n" % (HPY_VERSION, len(self.context)))
        for kind, name, ret, params, text in self.context:
            out.append("    /// C: `%s`\n" % text)
            if kind == "fn":
                out.append("    pub %s: %s,\n" % (name, t.fn_type(ret, t.params(params))))
            elif kind == "handle":
                out.append("    pub %s: HPy,\n" % name)
            else:
                out.append("    pub %s: %s,\n" % (name, t.rust(ret)))
        out.append("}\n\n")
        tail = self.context[self.tail_start():]
        out.append("/// The members of [`HPyContext`] after `h_Builtins`, in the same order: the part of the\n"
                   "/// context whose position depends on the runtime (see [`crate::layout`]). The wrappers of\n"
                   "/// these functions find them through [`crate::layout::tail`].\n"
                   "#[repr(C)]\npub struct HPyContextTail {\n")
        for kind, name, ret, params, text in tail:
            if kind != "fn":
                raise GenError("the context tail holds a non-function member %s" % name)
            out.append("    /// C: `%s`\n" % text)
            out.append("    pub %s: %s,\n" % (name, t.fn_type(ret, t.params(params))))
        out.append("}\n\n")
        out.append("/// Number of fields of [`HPyContext`] in HPy %s.\npub const HPY_CONTEXT_FIELD_COUNT:"
                   " usize = %d;\n\n" % (HPY_VERSION, len(self.context)))
        out.append("/// Every field of [`HPyContext`] in order: `(name, C declaration)`.\n"
                   "pub const CTX_FIELDS: [(&str, &str); HPY_CONTEXT_FIELD_COUNT] = [\n")
        for _, name, _, _, text in self.context:
            out.append('    ("%s", "%s"),\n' % (name, text))
        out.append("];\n")
        return "".join(out)

    def tail_start(self):
        """Index of the first context member after `h_Builtins`: PyPy 3.11 inserts `h_DictType`
        there (see hpy-sys/src/layout.rs), so the members from here on are reached through
        `layout::tail`."""
        names = [m[1] for m in self.context]
        return names.index("h_Builtins") + 1

    # -- api.rs --------------------------------------------------------------------------------
    def api_rs(self):
        t = self.types
        out = [banner(self.headers, "One `#[inline]` wrapper per context function, under its public C name.")]
        out.append("#![allow(clippy::missing_safety_doc, clippy::too_many_arguments)]\n")
        out.append("use core::ffi::{c_char, c_int, c_void};\n")
        out.append("use crate::types::*;\nuse crate::HPyContext;\n\n")
        in_tail = set(m[1] for m in self.context[self.tail_start():])
        for kind, field, _, ctx_params, _ in self.context:
            if kind != "fn":
                continue
            name, ret, params, noreturn = self.wrappers[field]
            table = "(*crate::layout::tail(ctx))" if field in in_tail else "(*ctx)"
            ps = t.params(params)
            if [p[1] for p in ps] != [p[1] for p in t.params(ctx_params)]:
                raise GenError("%s and %s disagree on parameter types" % (name, field))
            args = ", ".join("%s: %s" % (ident(n), r) for n, r, _ in ps)
            call_args = ", ".join(ident(n) for n, _, _ in ps)
            rret = t.rust(ret)
            sig_ret = " -> !" if noreturn is True else ("" if rret == "()" else " -> " + rret)
            out.append("/// C `%s %s(%s)`: calls `ctx->%s`.\n" % (ret, name, params, field))
            if field in in_tail:
                out.append("///\n/// The member is found through [`crate::layout::tail`]: its position depends on the runtime.\n")
            out.append("///\n/// # Safety\n/// `ctx` must be the context passed to the current call;"
                       " every handle and pointer must be valid for it.\n")
            out.append("#[inline]\npub unsafe fn %s(%s)%s {\n" % (name, args, sig_ret))
            out.append("    // SAFETY: the caller guarantees `ctx` is the live context of this call,"
                       " so its function table is valid.\n")
            if noreturn == "null":
                out.append("    unsafe { (%s.%s)(%s) };\n" % (table, field, call_args))
                out.append("    // C returns HPy_NULL so that `return HPyErr_SetString(...);` reads well.\n")
                out.append("    crate::HPy_NULL\n}\n\n")
            elif noreturn:
                out.append("    unsafe { (%s.%s)(%s) };\n" % (table, field, call_args))
                out.append("    // C marks this function noreturn; abort if an implementation returns.\n")
                out.append("    std::process::abort()\n}\n\n")
            else:
                out.append("    unsafe { (%s.%s)(%s) }\n}\n\n" % (table, field, call_args))
        return "".join(out)

    # -- layout probe ----------------------------------------------------------------------------
    def layout_items(self):
        """(key, c_expr, rust_expr, c_format) for every size, offset and constant checked."""
        items = []

        def struct_items(cname, fields, rname_path):
            items.append(("sizeof %s" % cname, "sizeof(%s)" % cname, "size_of::<%s>()" % cname))
            items.append(("alignof %s" % cname, "_Alignof(%s)" % cname, "align_of::<%s>()" % cname))
            for f in fields:
                if f[0] == "<union>":
                    for n, _, _ in f[1]:
                        items.append(("offsetof %s.%s" % (cname, n), "offsetof(%s, %s)" % (cname, n),
                                      "offset_of!(%s, u.%s)" % (cname, ident(n))))
                        items.append(("sizeof %s.%s" % (cname, n), "sizeof(((%s *)0)->%s)" % (cname, n),
                                      "field_size(|s: &%s| unsafe { &s.u.%s })" % (cname, ident(n))))
                    continue
                n = f[0]
                items.append(("offsetof %s.%s" % (cname, n), "offsetof(%s, %s)" % (cname, n),
                              "offset_of!(%s, %s)" % (cname, ident(n))))
                items.append(("sizeof %s.%s" % (cname, n), "sizeof(((%s *)0)->%s)" % (cname, n),
                              "field_size(|s: &%s| &s.%s)" % (cname, ident(n))))

        ctx_fields = [(m[1], None, None) for m in self.context]
        struct_items("HPyContext", ctx_fields, "HPyContext")
        for name, fields in self.structs:
            struct_items(name, fields, name)
        for name, _ in INT_TYPEDEFS:
            items.append(("sizeof %s" % name, "sizeof(%s)" % name, "size_of::<%s>()" % name))
        for name, _, _ in self.fn_typedefs:
            items.append(("sizeof %s" % name, "sizeof(%s)" % name, "size_of::<%s>()" % name))
        for name, entries in self.enums:
            items.append(("sizeof %s" % name, "sizeof(%s)" % name, "size_of::<%s>()" % name))
            for item, _ in entries:
                items.append(("const %s" % item, "(long long)(%s)" % item, "%s as i64" % item))
        for name, rtype, _ in self.macros:
            if rtype == "&str":
                items.append(("const %s" % name, "%s" % name, name))
            else:
                items.append(("const %s" % name, "(long long)(%s)" % name, "%s as i64" % name))
        return items

    def probe_c(self):
        out = [banner(self.headers, "Layout probe: compiled against the hpy headers by tests/layout.rs.")]
        out.append("#include <stdio.h>\n#include <stddef.h>\n#include \"hpy.h\"\n#include \"hpy/version.h\"\n\n")
        out.append("int main(void)\n{\n")
        for key, cexpr, _ in self.layout_items():
            if key.startswith("const ") and not cexpr.startswith("(long long)"):
                out.append('    printf("%%s %%s\\n", "%s", %s);\n' % (key, cexpr))
            elif cexpr.startswith("(long long)"):
                out.append('    printf("%%s %%lld\\n", "%s", %s);\n' % (key, cexpr))
            else:
                out.append('    printf("%%s %%zu\\n", "%s", (size_t)%s);\n' % (key, cexpr))
        out.append("    return 0;\n}\n")
        return "".join(out)

    def rust_layout_rs(self):
        out = [banner(self.headers, "Layout facts computed by Rust, compared with probe.c by tests/layout.rs.")]
        out.append("#[allow(unused_imports)]\nuse hpy_sys::*;\n"
                   "use std::mem::{align_of, offset_of, size_of};\n\n"
                   "/// The size of the field a projection closure names.\n"
                   "///\n"
                   "/// SAFETY (the `unsafe { &s.u.field }` closures below, for union fields): the closure\n"
                   "/// is never called; it only tells the compiler which field's type to measure.\n"
                   "fn field_size<S, F>(_: impl Fn(&S) -> &F) -> usize {\n    size_of::<F>()\n}\n\n"
                   "/// `(key, value)` for every size, offset and constant that probe.c prints.\n"
                   "pub fn rust_layout() -> Vec<(&'static str, String)> {\n    vec![\n")
        for key, _, rexpr in self.layout_items():
            out.append('        ("%s", (%s).to_string()),\n' % (key, rexpr))
        out.append("    ]\n}\n")
        return "".join(out)


def union_name(struct_name):
    return struct_name + "_Union"


def outputs(model):
    return {
        os.path.join(CRATE, "src", "types.rs"): model.types_rs(),
        os.path.join(CRATE, "src", "ctx.rs"): model.ctx_rs(),
        os.path.join(CRATE, "src", "api.rs"): model.api_rs(),
        os.path.join(CRATE, "tests", "layout", "probe.c"): model.probe_c(),
        os.path.join(CRATE, "tests", "layout", "rust_layout.rs"): model.rust_layout_rs(),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true",
                    help="do not write; exit 1 if any generated file differs from what is committed")
    ap.add_argument("--include-dir", help="hpy include directory (default: from the installed hpy)")
    args = ap.parse_args()
    try:
        headers = Headers(args.include_dir or find_include_dir())
        model = Model(headers)
    except GenError as e:
        print("generate.py: error: %s" % e, file=sys.stderr)
        return 2
    stale = []
    for path, text in outputs(model).items():
        try:
            with open(path, encoding="utf-8") as f:
                current = f.read()
        except FileNotFoundError:
            current = None
        if current == text:
            continue
        stale.append(os.path.relpath(path, os.path.dirname(CRATE)))
        if not args.check:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
    fns = sum(1 for m in model.context if m[0] == "fn")
    summary = ("hpy-sys generator: hpy %s headers (sha256 %s...): %d context fields, %d wrappers, "
               "%d structs, %d enums, %d fn typedefs"
               % (HPY_VERSION, headers.sha256[:12], len(model.context), fns, len(model.structs),
                  len(model.enums), len(model.fn_typedefs)))
    if args.check:
        if stale:
            print("freshness: FAILED, regenerating would change: %s (run `make generate`)"
                  % ", ".join(stale), file=sys.stderr)
            return 1
        print("freshness: generated hpy-sys sources are up to date (%s)" % summary)
        return 0
    print(summary)
    print("wrote: %s" % (", ".join(stale) if stale else "nothing (already up to date)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
