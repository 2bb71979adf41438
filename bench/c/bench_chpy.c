/*
 * bench_chpy: the "C on HPy" baseline of the hpy-rs benchmark.
 *
 * Written in C against the hpy 0.9.0 headers and built for the universal ABI
 * (-DHPY_ABI_UNIVERSAL, output bench_chpy.hpy0.so, loaded with hpy.universal.load). Same
 * Python-visible API as bench_capi.c, bench/pyo3 and bench/hpyrs. Keyword arguments are parsed
 * with HPy's own HPyArg_ParseKeywords (runtime/argparse.c, compiled into the module), as a
 * typical C-HPy extension would.
 */
#include <stddef.h> /* offsetof */
#include <stdint.h>
#include <stdlib.h> /* malloc */
#include <string.h> /* memcpy */
#include "hpy.h"

/* ------------------------------------------------------------------------------------------ */
/* Functions (also reused as Foo methods where the signature matches)                         */
/* ------------------------------------------------------------------------------------------ */

static int
check_nargs(HPyContext *ctx, const char *msg, size_t nargs, size_t expected)
{
    if (nargs != expected) {
        HPyErr_SetString(ctx, ctx->h_TypeError, msg);
        return -1;
    }
    return 0;
}

HPyDef_METH(b_noargs, "noargs", HPyFunc_NOARGS)
static HPy
b_noargs_impl(HPyContext *ctx, HPy self)
{
    return HPy_Dup(ctx, ctx->h_None);
}

HPyDef_METH(b_onearg, "onearg", HPyFunc_O)
static HPy
b_onearg_impl(HPyContext *ctx, HPy self, HPy arg)
{
    return HPy_Dup(ctx, ctx->h_None);
}

HPyDef_METH(b_varargs, "varargs", HPyFunc_VARARGS)
static HPy
b_varargs_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    if (check_nargs(ctx, "varargs() takes exactly 2 arguments", nargs, 2) < 0)
        return HPy_NULL;
    return HPy_Dup(ctx, ctx->h_None);
}

HPyDef_METH(b_keywords, "keywords", HPyFunc_KEYWORDS)
static HPy
b_keywords_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
{
    static const char *kwlist[] = {"a", "b", NULL};
    HPyTracker ht;
    HPy a, b;
    /* hpy 0.9's HPyArg_ParseKeywords silently ignores surplus positional arguments and unknown
     * keywords (keywords(1, 2, 3), keywords(a=1, b=2, c=3) would succeed). Both parameters are
     * required, so "exactly two arguments in total" + a successful parse is the exact signature
     * check the other variants do. */
    size_t total = nargs;
    if (!HPy_IsNull(kwnames)) {
        HPy_ssize_t nkw = HPy_Length(ctx, kwnames);
        if (nkw < 0)
            return HPy_NULL;
        total += (size_t)nkw;
    }
    if (total > 2) {
        HPyErr_SetString(ctx, ctx->h_TypeError, "keywords() takes exactly 2 arguments");
        return HPy_NULL;
    }
    if (!HPyArg_ParseKeywords(ctx, &ht, args, nargs, kwnames, "OO:keywords", kwlist, &a, &b))
        return HPy_NULL;
    HPyTracker_Close(ctx, ht);
    return HPy_Dup(ctx, ctx->h_None);
}

HPyDef_METH(b_add_ints, "add_ints", HPyFunc_VARARGS)
static HPy
b_add_ints_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    int64_t a, b, r;
    if (check_nargs(ctx, "add_ints() takes exactly 2 arguments", nargs, 2) < 0)
        return HPy_NULL;
    a = HPyLong_AsInt64_t(ctx, args[0]);
    if (a == -1 && HPyErr_Occurred(ctx))
        return HPy_NULL;
    b = HPyLong_AsInt64_t(ctx, args[1]);
    if (b == -1 && HPyErr_Occurred(ctx))
        return HPy_NULL;
    if (__builtin_add_overflow(a, b, &r)) {
        HPyErr_SetString(ctx, ctx->h_OverflowError, "add_ints: result does not fit in int64");
        return HPy_NULL;
    }
    return HPyLong_FromInt64_t(ctx, r);
}

/* HPy_CallTupleDict itself raises TypeError if args is not a tuple or kwargs not a dict. */
HPyDef_METH(b_call_with_tuple, "call_with_tuple", HPyFunc_VARARGS)
static HPy
b_call_with_tuple_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    if (check_nargs(ctx, "call_with_tuple() takes exactly 2 arguments", nargs, 2) < 0)
        return HPy_NULL;
    return HPy_CallTupleDict(ctx, args[0], args[1], HPy_NULL);
}

HPyDef_METH(b_call_with_tuple_and_dict, "call_with_tuple_and_dict", HPyFunc_VARARGS)
static HPy
b_call_with_tuple_and_dict_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    if (check_nargs(ctx, "call_with_tuple_and_dict() takes exactly 3 arguments", nargs, 3) < 0)
        return HPy_NULL;
    return HPy_CallTupleDict(ctx, args[0], args[1], args[2]);
}

HPyDef_METH(b_allocate_int, "allocate_int", HPyFunc_NOARGS)
static HPy
b_allocate_int_impl(HPyContext *ctx, HPy self)
{
    return HPyLong_FromInt64_t(ctx, 2048);
}

HPyDef_METH(b_allocate_tuple, "allocate_tuple", HPyFunc_NOARGS)
static HPy
b_allocate_tuple_impl(HPyContext *ctx, HPy self)
{
    HPy items[2], t;
    items[0] = HPyLong_FromInt64_t(ctx, 2048);
    if (HPy_IsNull(items[0]))
        return HPy_NULL;
    items[1] = HPyLong_FromInt64_t(ctx, 2049);
    if (HPy_IsNull(items[1])) {
        HPy_Close(ctx, items[0]);
        return HPy_NULL;
    }
    t = HPyTuple_FromArray(ctx, items, 2); /* does not steal */
    HPy_Close(ctx, items[0]);
    HPy_Close(ctx, items[1]);
    return t;
}

/* make_type(): a new heap type from this static spec on every call. */
static HPyType_Spec Dynamic_spec = {
    .name = "bench_chpy.DynamicType",
    .basicsize = 0, /* no struct of its own */
    .flags = HPy_TPFLAGS_DEFAULT,
};

HPyDef_METH(b_make_type, "make_type", HPyFunc_NOARGS)
static HPy
b_make_type_impl(HPyContext *ctx, HPy self)
{
    return HPyType_FromSpec(ctx, &Dynamic_spec, NULL);
}

/* ------------------------------------------------------------------------------------------ */
/* Foo                                                                                        */
/* ------------------------------------------------------------------------------------------ */

typedef struct {
    long value;
} FooObject;

HPyType_HELPERS(FooObject)

HPyDef_SLOT(Foo_new, HPy_tp_new)
static HPy
Foo_new_impl(HPyContext *ctx, HPy type, const HPy *args, HPy_ssize_t nargs, HPy kw)
{
    FooObject *p;
    HPy h;
    if (nargs != 0 || (!HPy_IsNull(kw) && HPy_Length(ctx, kw) != 0)) {
        HPyErr_SetString(ctx, ctx->h_TypeError, "Foo() takes no arguments");
        return HPy_NULL;
    }
    h = HPy_New(ctx, type, &p);
    if (HPy_IsNull(h))
        return HPy_NULL;
    p->value = 42;
    return h;
}

HPyDef_METH(Foo_field, "field", HPyFunc_NOARGS)
static HPy
Foo_field_impl(HPyContext *ctx, HPy self)
{
    return HPyLong_FromLong(ctx, FooObject_AsStruct(ctx, self)->value);
}

HPyDef_MEMBER(Foo_value, "value", HPyMember_LONG, offsetof(FooObject, value), .readonly = 1)

HPyDef_SLOT(Foo_len, HPy_sq_length)
static HPy_ssize_t
Foo_len_impl(HPyContext *ctx, HPy self)
{
    return 42;
}

HPyDef_SLOT(Foo_item, HPy_sq_item)
static HPy
Foo_item_impl(HPyContext *ctx, HPy self, HPy_ssize_t i)
{
    return HPyLong_FromSsize_t(ctx, i);
}

static HPyDef *Foo_defines[] = {
    &Foo_new,
    &b_noargs,
    &b_onearg,
    &b_varargs,
    &Foo_field,
    &Foo_value,
    &Foo_len,
    &Foo_item,
    NULL,
};

static HPyType_Spec Foo_spec = {
    .name = "bench_chpy.Foo",
    .basicsize = sizeof(FooObject),
    .flags = HPy_TPFLAGS_DEFAULT,
    .builtin_shape = SHAPE(FooObject),
    .defines = Foo_defines,
};

/* ------------------------------------------------------------------------------------------ */
/* Workloads (bench/workloads.py): Array, decode, encode                                      */
/* ------------------------------------------------------------------------------------------ */

#define MAX_DEPTH 100 /* a list, tuple or dict inside this many others is refused */

/* PyPy, where the same binary runs too (make test checks it there), differs in two places this
 * code meets; module_exec sets these from the context it is given:
 * - PyPy 3.11 (7.3.19 up to at least 7.3.23) reports HPy's ABI 0.0, but its context has one more
 *   handle, h_DictType, right after h_Builtins: every function after that in HPy 0.9.0's
 *   HPyContext (ctx_Capsule_New ... ctx_CallMethod) sits one HPy further on. Of those, this file
 *   uses HPyDict_Keys (through the 0.9.0 headers it would call ctx_Unicode_Substring there) and
 *   HPyUnicode_FromEncodedObject: both go through CTX_TAIL, which applies the shift (0 elsewhere).
 *   hpy-rs does the same (hpy-sys/src/layout.rs; tests/pypy/triage/README.md).
 * - PyPy's HPyUnicode_FromString raises SystemError, not UnicodeDecodeError, for invalid UTF-8
 *   (see utf8_to_str), and its HPyUnicode_AsUTF8AndSize gives a str with lone surrogates as
 *   they are held, encoded, where CPython raises UnicodeEncodeError (see write_str). */
static int on_pypy;
static size_t ctx_tail_shift;
#define CTX_TAIL(ctx) ((HPyContext *)((char *)(ctx) + ctx_tail_shift))

/* ctx->name says PyPy; sys.version_info[1] says 3.11 or later. Only members before h_Builtins. */
static int
detect_runtime(HPyContext *ctx)
{
    HPy sys, info, item;
    long minor = -1;
    on_pypy = ctx->name != NULL && strstr(ctx->name, "PyPy") != NULL;
    ctx_tail_shift = 0;
    if (!on_pypy)
        return 0;
    sys = HPyImport_ImportModule(ctx, "sys");
    if (HPy_IsNull(sys))
        return -1;
    info = HPy_GetAttr_s(ctx, sys, "version_info");
    HPy_Close(ctx, sys);
    if (HPy_IsNull(info))
        return -1;
    item = HPy_GetItem_i(ctx, info, 1);
    HPy_Close(ctx, info);
    if (HPy_IsNull(item))
        return -1;
    minor = HPyLong_AsLong(ctx, item);
    HPy_Close(ctx, item);
    if (minor == -1 && HPyErr_Occurred(ctx))
        return -1;
    if (minor >= 11)
        ctx_tail_shift = sizeof(HPy);
    return 0;
}

/* Array: an immutable 1-D array of doubles. HPy 0.9's universal ABI has no var-sized objects
 * with inline items, so the elements live in a malloc'd buffer that HPy_tp_destroy frees. */
typedef struct {
    HPy_ssize_t n;
    double *items; /* n of them; NULL when n == 0 */
} ArrayObject;

HPyType_HELPERS(ArrayObject)

/* The Array type, for the operators' type test (HPy_TypeCheck): stored by module_exec. */
static HPyGlobal Array_type;

/* A new Array of n elements, not yet set: *items points at them. */
static HPy
array_alloc(HPyContext *ctx, HPy type, HPy_ssize_t n, double **items)
{
    ArrayObject *a;
    double *buf = NULL;
    HPy h;
    if (n > 0) {
        buf = malloc((size_t)n * sizeof(double));
        if (buf == NULL)
            return HPyErr_NoMemory(ctx);
    }
    h = HPy_New(ctx, type, &a);
    if (HPy_IsNull(h)) {
        free(buf);
        return HPy_NULL;
    }
    a->n = n;
    a->items = buf;
    *items = buf;
    return h;
}

HPyDef_SLOT(Array_destroy, HPy_tp_destroy)
static void
Array_destroy_impl(void *obj)
{
    free(((ArrayObject *)obj)->items);
}

HPyDef_SLOT(Array_new, HPy_tp_new)
static HPy
Array_new_impl(HPyContext *ctx, HPy type, const HPy *args, HPy_ssize_t nargs, HPy kw)
{
    HPy seq, h;
    HPy_ssize_t n, i;
    double *items;

    if (!HPy_IsNull(kw) && HPy_Length(ctx, kw) != 0) {
        HPyErr_SetString(ctx, ctx->h_TypeError, "Array() takes no keyword arguments");
        return HPy_NULL;
    }
    if (nargs != 1) {
        HPyErr_SetString(ctx, ctx->h_TypeError, "Array() takes exactly one argument");
        return HPy_NULL;
    }
    seq = args[0];
    if (!HPyList_Check(ctx, seq) && !HPyTuple_Check(ctx, seq)) {
        HPyErr_SetString(ctx, ctx->h_TypeError, "Array() argument must be a list or a tuple");
        return HPy_NULL;
    }
    n = HPy_Length(ctx, seq);
    if (n < 0)
        return HPy_NULL;
    h = array_alloc(ctx, type, n, &items);
    if (HPy_IsNull(h))
        return HPy_NULL;
    for (i = 0; i < n; i++) {
        /* a new handle per item (HPy 0.9 has no borrowed access); a list shrunk meanwhile by
         * some item's __float__ gives IndexError here */
        HPy item = HPy_GetItem_i(ctx, seq, i);
        double v;
        if (HPy_IsNull(item))
            goto error;
        v = HPyFloat_AsDouble(ctx, item); /* a float or an int; a str: TypeError */
        HPy_Close(ctx, item);
        if (v == -1.0 && HPyErr_Occurred(ctx))
            goto error;
        items[i] = v;
    }
    return h;
error:
    HPy_Close(ctx, h); /* Array_destroy frees the buffer */
    return HPy_NULL;
}

HPyDef_SLOT(Array_len, HPy_sq_length)
static HPy_ssize_t
Array_len_impl(HPyContext *ctx, HPy self)
{
    return ArrayObject_AsStruct(ctx, self)->n;
}

/* Only sq_item: the interpreter has already added len(self) to a negative index (CPython in
 * PySequence_GetItem, PyPy in its slot wrapper) and refused a non-int one (TypeError); what is
 * still out of range here is an IndexError. */
HPyDef_SLOT(Array_item, HPy_sq_item)
static HPy
Array_item_impl(HPyContext *ctx, HPy self, HPy_ssize_t i)
{
    ArrayObject *a = ArrayObject_AsStruct(ctx, self);
    if ((size_t)i >= (size_t)a->n) {
        HPyErr_SetString(ctx, ctx->h_IndexError, "Array index out of range");
        return HPy_NULL;
    }
    return HPyFloat_FromDouble(ctx, a->items[i]);
}

/* A scalar operand: 1 with *v set, 0 if o is not a float or an int (NotImplemented), -1 on
 * error (an int too large for a double: OverflowError, as float() raises). */
static int
as_scalar(HPyContext *ctx, HPy o, double *v)
{
    if (HPy_TypeCheck(ctx, o, ctx->h_FloatType)) {
        *v = HPyFloat_AsDouble(ctx, o);
        return 1;
    }
    if (HPy_TypeCheck(ctx, o, ctx->h_LongType)) {
        *v = HPyLong_AsDouble(ctx, o);
        return (*v == -1.0 && HPyErr_Occurred(ctx)) ? -1 : 1;
    }
    return 0;
}

/* out[i] = x[i * sx] op y[i * sy]: a stride of 0 repeats a scalar, so one loop per operator
 * serves array-array, array-scalar and scalar-array (the reflected forms keep their order). */
static void
combine(double *out, HPy_ssize_t n, const double *x, HPy_ssize_t sx, const double *y,
        HPy_ssize_t sy, int op)
{
    HPy_ssize_t i;
    switch (op) {
    case '+':
        for (i = 0; i < n; i++)
            out[i] = x[i * sx] + y[i * sy];
        break;
    case '-':
        for (i = 0; i < n; i++)
            out[i] = x[i * sx] - y[i * sy];
        break;
    default:
        for (i = 0; i < n; i++)
            out[i] = x[i * sx] * y[i * sy];
        break;
    }
}

/* HPy_nb_add etc. are called with the Array on either side (a + 2.0 and 2.0 + a). */
static HPy
array_binop(HPyContext *ctx, HPy a, HPy b, int op)
{
    HPy type = HPyGlobal_Load(ctx, Array_type);
    HPy result;
    const ArrayObject *arr;
    const double *x, *y;
    HPy_ssize_t sx = 1, sy = 1, n;
    double s, *out;
    int rc;

    if (HPy_TypeCheck(ctx, a, type)) {
        arr = ArrayObject_AsStruct(ctx, a);
        n = arr->n;
        x = arr->items;
        if (HPy_TypeCheck(ctx, b, type)) {
            arr = ArrayObject_AsStruct(ctx, b);
            if (arr->n != n) {
                HPy_Close(ctx, type);
                HPyErr_SetString(ctx, ctx->h_ValueError, "Array lengths differ");
                return HPy_NULL;
            }
            y = arr->items;
        }
        else {
            rc = as_scalar(ctx, b, &s);
            if (rc <= 0)
                goto not_scalar;
            y = &s;
            sy = 0;
        }
    }
    else if (HPy_TypeCheck(ctx, b, type)) {
        rc = as_scalar(ctx, a, &s);
        if (rc <= 0)
            goto not_scalar;
        arr = ArrayObject_AsStruct(ctx, b);
        n = arr->n;
        x = &s;
        sx = 0;
        y = arr->items;
    }
    else {
        rc = 0;
        goto not_scalar;
    }
    result = array_alloc(ctx, type, n, &out);
    HPy_Close(ctx, type);
    if (!HPy_IsNull(result))
        combine(out, n, x, sx, y, sy, op);
    return result;
not_scalar:
    HPy_Close(ctx, type);
    if (rc < 0)
        return HPy_NULL;
    return HPy_Dup(ctx, ctx->h_NotImplemented); /* a str, None, a list...: Python's TypeError */
}

HPyDef_SLOT(Array_add, HPy_nb_add)
static HPy
Array_add_impl(HPyContext *ctx, HPy a, HPy b)
{
    return array_binop(ctx, a, b, '+');
}

HPyDef_SLOT(Array_sub, HPy_nb_subtract)
static HPy
Array_sub_impl(HPyContext *ctx, HPy a, HPy b)
{
    return array_binop(ctx, a, b, '-');
}

HPyDef_SLOT(Array_mul, HPy_nb_multiply)
static HPy
Array_mul_impl(HPyContext *ctx, HPy a, HPy b)
{
    return array_binop(ctx, a, b, '*');
}

/* The reflected operators again, as methods: PyPy 7.3.19 makes only __add__ etc. of the binary
 * slots (2.0 * a is a TypeError there without __rmul__). CPython derives __radd__ etc. from the
 * slots itself and keeps its own (a method of the same name does not replace a slot wrapper), so
 * there these are never called and cost nothing. */
HPyDef_METH(Array_radd, "__radd__", HPyFunc_O)
static HPy
Array_radd_impl(HPyContext *ctx, HPy self, HPy other)
{
    return array_binop(ctx, other, self, '+');
}

HPyDef_METH(Array_rsub, "__rsub__", HPyFunc_O)
static HPy
Array_rsub_impl(HPyContext *ctx, HPy self, HPy other)
{
    return array_binop(ctx, other, self, '-');
}

HPyDef_METH(Array_rmul, "__rmul__", HPyFunc_O)
static HPy
Array_rmul_impl(HPyContext *ctx, HPy self, HPy other)
{
    return array_binop(ctx, other, self, '*');
}

HPyDef_METH(Array_sum, "sum", HPyFunc_NOARGS)
static HPy
Array_sum_impl(HPyContext *ctx, HPy self)
{
    const ArrayObject *a = ArrayObject_AsStruct(ctx, self);
    double total = 0.0;
    HPy_ssize_t i;
    for (i = 0; i < a->n; i++)
        total += a->items[i];
    return HPyFloat_FromDouble(ctx, total);
}

/* No __iter__: `for v in a` goes through sq_item until IndexError (the sequence protocol). */
static HPyDef *Array_defines[] = {
    &Array_new,
    &Array_destroy,
    &Array_len,
    &Array_item,
    &Array_add,
    &Array_sub,
    &Array_mul,
    &Array_radd,
    &Array_rsub,
    &Array_rmul,
    &Array_sum,
    NULL,
};

static HPyType_Spec Array_spec = {
    .name = "bench_chpy.Array",
    .basicsize = sizeof(ArrayObject),
    .flags = HPy_TPFLAGS_DEFAULT, /* no HPy_TPFLAGS_BASETYPE: not subclassable */
    .builtin_shape = SHAPE(ArrayObject),
    .defines = Array_defines,
};

/* --- the codec: little-endian fixed-size fields, read and written bytewise (one load or store
 * once compiled, on any host byte order) --------------------------------------------------- */

static uint32_t
load_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t
load_u64(const unsigned char *p)
{
    return (uint64_t)load_u32(p) | (uint64_t)load_u32(p + 4) << 32;
}

static void
store_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static void
store_u64(unsigned char *p, uint64_t v)
{
    store_u32(p, (uint32_t)v);
    store_u32(p + 4, (uint32_t)(v >> 32));
}

/* decode(buf) ----------------------------------------------------------------------------- */

typedef struct {
    const unsigned char *p;   /* next byte */
    const unsigned char *end; /* one past the last */
} Reader;

static HPy
decode_error(HPyContext *ctx, const char *msg)
{
    HPyErr_SetString(ctx, ctx->h_ValueError, msg);
    return HPy_NULL;
}

/* The n bytes at r->p (NULL, ValueError, if fewer are left), consumed. */
static const unsigned char *
take(HPyContext *ctx, Reader *r, size_t n)
{
    const unsigned char *p = r->p;
    if ((size_t)(r->end - p) < n) {
        decode_error(ctx, "decode: truncated input");
        return NULL;
    }
    r->p = p + n;
    return p;
}

/* n bytes of UTF-8 as a str. HPy 0.9 has no HPyUnicode_DecodeUTF8(data, size): it offers
 * HPyUnicode_DecodeASCII/DecodeLatin1 (a length, but not UTF-8), HPyUnicode_FromString (UTF-8,
 * strict, but NUL-terminated) and HPyUnicode_FromEncodedObject (any codec, but of a bytes
 * object). Cheapest first: ASCII (the common case; NULs included) is decoded in place; other
 * text without a NUL is copied NUL-terminated (on the stack when short) for FromString; only
 * non-ASCII text holding a NUL pays for a temporary bytes object, and so does all non-ASCII text
 * on PyPy, whose FromString fails invalid UTF-8 with a SystemError. All of them are strict:
 * invalid UTF-8 is a UnicodeDecodeError. */
static HPy
utf8_to_str(HPyContext *ctx, const char *s, size_t n)
{
    char stack[256], *copy;
    unsigned char high = 0;
    HPy bytes, str;
    size_t i;
    for (i = 0; i < n; i++)
        high |= (unsigned char)s[i];
    if (high < 0x80)
        return HPyUnicode_DecodeASCII(ctx, s, (HPy_ssize_t)n, "strict");
    if (!on_pypy && memchr(s, 0, n) == NULL) {
        copy = n < sizeof stack ? stack : malloc(n + 1);
        if (copy == NULL)
            return HPyErr_NoMemory(ctx);
        memcpy(copy, s, n);
        copy[n] = '\0';
        str = HPyUnicode_FromString(ctx, copy);
        if (copy != stack)
            free(copy);
        return str;
    }
    bytes = HPyBytes_FromStringAndSize(ctx, s, (HPy_ssize_t)n);
    if (HPy_IsNull(bytes))
        return HPy_NULL;
    /* HPyUnicode_FromEncodedObject, where this runtime keeps it */
    str = CTX_TAIL(ctx)->ctx_Unicode_FromEncodedObject(ctx, bytes, "utf-8", "strict");
    HPy_Close(ctx, bytes);
    return str;
}

/* The body of a b"s" value (its tag consumed): u32 length + UTF-8. */
static HPy
decode_str(HPyContext *ctx, Reader *r)
{
    const unsigned char *p = take(ctx, r, 4);
    uint32_t n;
    if (p == NULL)
        return HPy_NULL;
    n = load_u32(p);
    if ((p = take(ctx, r, n)) == NULL)
        return HPy_NULL;
    return utf8_to_str(ctx, (const char *)p, n);
}

static HPy decode_value(HPyContext *ctx, Reader *r, int depth);

/* The count of a b"l" or b"m" value: every element takes at least one byte, so a count larger
 * than the bytes left is truncated input, refused before anything is allocated for it. */
static int
decode_count(HPyContext *ctx, Reader *r, HPy_ssize_t *n)
{
    const unsigned char *p = take(ctx, r, 4);
    uint32_t count;
    if (p == NULL)
        return -1;
    count = load_u32(p);
    if (count > (size_t)(r->end - r->p)) {
        decode_error(ctx, "decode: truncated input");
        return -1;
    }
    *n = (HPy_ssize_t)count;
    return 0;
}

static HPy
decode_list(HPyContext *ctx, Reader *r, int depth)
{
    HPy_ssize_t n, i;
    HPyListBuilder lb;
    if (decode_count(ctx, r, &n) < 0)
        return HPy_NULL;
    lb = HPyListBuilder_New(ctx, n); /* n <= the bytes left: bounded by the input's size */
    for (i = 0; i < n; i++) {
        HPy item = decode_value(ctx, r, depth + 1);
        if (HPy_IsNull(item)) {
            HPyListBuilder_Cancel(ctx, lb);
            return HPy_NULL;
        }
        HPyListBuilder_Set(ctx, lb, i, item); /* does not steal */
        HPy_Close(ctx, item);
    }
    return HPyListBuilder_Build(ctx, lb);
}

static HPy
decode_dict(HPyContext *ctx, Reader *r, int depth)
{
    HPy_ssize_t n, i;
    HPy dict;
    if (decode_count(ctx, r, &n) < 0)
        return HPy_NULL;
    dict = HPyDict_New(ctx);
    if (HPy_IsNull(dict))
        return HPy_NULL;
    for (i = 0; i < n; i++) {
        HPy key, value;
        int rc;
        /* a key must be a b"s" value: any other tag is refused before it is built */
        if (r->p == r->end) {
            decode_error(ctx, "decode: truncated input");
            goto error;
        }
        if (*r->p != 's') {
            decode_error(ctx, "decode: dict key not a str");
            goto error;
        }
        r->p++;
        key = decode_str(ctx, r);
        if (HPy_IsNull(key))
            goto error;
        value = decode_value(ctx, r, depth + 1);
        if (HPy_IsNull(value)) {
            HPy_Close(ctx, key);
            goto error;
        }
        rc = HPy_SetItem(ctx, dict, key, value);
        HPy_Close(ctx, key);
        HPy_Close(ctx, value);
        if (rc < 0)
            goto error;
    }
    return dict;
error:
    HPy_Close(ctx, dict);
    return HPy_NULL;
}

/* depth: the lists and dicts around this value. */
static HPy
decode_value(HPyContext *ctx, Reader *r, int depth)
{
    const unsigned char *p;
    uint64_t bits;
    double d;

    if (r->p == r->end)
        return decode_error(ctx, "decode: truncated input");
    switch (*r->p++) {
    case 'N':
        return HPy_Dup(ctx, ctx->h_None);
    case 'T':
        return HPy_Dup(ctx, ctx->h_True);
    case 'F':
        return HPy_Dup(ctx, ctx->h_False);
    case 'i':
        if ((p = take(ctx, r, 8)) == NULL)
            return HPy_NULL;
        return HPyLong_FromInt64_t(ctx, (int64_t)load_u64(p));
    case 'd':
        if ((p = take(ctx, r, 8)) == NULL)
            return HPy_NULL;
        bits = load_u64(p);
        memcpy(&d, &bits, sizeof d);
        return HPyFloat_FromDouble(ctx, d);
    case 's':
        return decode_str(ctx, r);
    case 'l':
        if (depth >= MAX_DEPTH)
            return decode_error(ctx, "decode: nested too deeply");
        return decode_list(ctx, r, depth);
    case 'm':
        if (depth >= MAX_DEPTH)
            return decode_error(ctx, "decode: nested too deeply");
        return decode_dict(ctx, r, depth);
    default:
        return decode_error(ctx, "decode: unknown tag");
    }
}

HPyDef_METH(b_decode, "decode", HPyFunc_O)
static HPy
b_decode_impl(HPyContext *ctx, HPy self, HPy buf)
{
    Reader r;
    HPy result;
    if (!HPyBytes_Check(ctx, buf)) {
        HPyErr_SetString(ctx, ctx->h_TypeError, "decode() argument must be bytes");
        return HPy_NULL;
    }
    /* valid while buf's handle is open: all of this call */
    r.p = (const unsigned char *)HPyBytes_AsString(ctx, buf);
    r.end = r.p + HPyBytes_Size(ctx, buf);
    result = decode_value(ctx, &r, 0);
    if (!HPy_IsNull(result) && r.p != r.end) {
        HPy_Close(ctx, result);
        return decode_error(ctx, "decode: bytes left over");
    }
    return result;
}

/* encode(obj) ---------------------------------------------------------------------------- */

/* The output, in a growing buffer: on the stack while it fits (small values allocate nothing
 * but their bytes object), then on the heap, doubling. Copied once into the bytes object at the
 * end (HPy 0.9 has no bytes builder nor resize). */
typedef struct {
    unsigned char *data;
    size_t len, cap;
    unsigned char small[512];
} Writer;

static void
writer_init(Writer *w)
{
    w->data = w->small;
    w->len = 0;
    w->cap = sizeof w->small;
}

static void
writer_free(Writer *w)
{
    if (w->data != w->small)
        free(w->data);
}

static int
writer_grow(HPyContext *ctx, Writer *w, size_t extra)
{
    size_t cap = w->cap, max = (size_t)HPY_SSIZE_T_MAX;
    unsigned char *data;
    if (extra > max - w->len) {
        HPyErr_NoMemory(ctx);
        return -1;
    }
    while (cap - w->len < extra)
        cap = cap > max / 2 ? max : cap * 2;
    if (w->data == w->small) {
        data = malloc(cap);
        if (data != NULL)
            memcpy(data, w->small, w->len);
    }
    else
        data = realloc(w->data, cap);
    if (data == NULL) {
        HPyErr_NoMemory(ctx);
        return -1;
    }
    w->data = data;
    w->cap = cap;
    return 0;
}

/* Room for `extra` more bytes: a pointer to write them at (the caller then adds to len). */
static inline unsigned char *
writer_reserve(HPyContext *ctx, Writer *w, size_t extra)
{
    if (w->cap - w->len < extra && writer_grow(ctx, w, extra) < 0)
        return NULL;
    return w->data + w->len;
}

static int
write_tag(HPyContext *ctx, Writer *w, unsigned char tag)
{
    unsigned char *p = writer_reserve(ctx, w, 1);
    if (p == NULL)
        return -1;
    *p = tag;
    w->len += 1;
    return 0;
}

static int
write_u64(HPyContext *ctx, Writer *w, unsigned char tag, uint64_t v)
{
    unsigned char *p = writer_reserve(ctx, w, 9);
    if (p == NULL)
        return -1;
    p[0] = tag;
    store_u64(p + 1, v);
    w->len += 9;
    return 0;
}

/* a length beyond the format's 32 bits */
static int
count_overflow(HPyContext *ctx)
{
    HPyErr_SetString(ctx, ctx->h_OverflowError, "encode: length does not fit in 32 bits");
    return -1;
}

/* tag + u32 count */
static int
write_count(HPyContext *ctx, Writer *w, unsigned char tag, HPy_ssize_t n)
{
    unsigned char *p;
    if ((size_t)n > UINT32_MAX)
        return count_overflow(ctx);
    if ((p = writer_reserve(ctx, w, 5)) == NULL)
        return -1;
    p[0] = tag;
    store_u32(p + 1, (uint32_t)n);
    w->len += 5;
    return 0;
}

/* Whether UTF-8-like bytes hold an encoded surrogate (U+D800..U+DFFF: ED A0..BF xx). */
static int
has_surrogate(const char *s, HPy_ssize_t n)
{
    HPy_ssize_t i;
    for (i = 0; i + 1 < n; i++)
        if ((unsigned char)s[i] == 0xED && ((unsigned char)s[i + 1] & 0xE0) == 0xA0)
            return 1;
    return 0;
}

static int
write_str(HPyContext *ctx, Writer *w, HPy s)
{
    HPy_ssize_t n;
    /* kept by the str (valid while its handle is open): no copy, no free */
    const char *utf8 = HPyUnicode_AsUTF8AndSize(ctx, s, &n);
    unsigned char *p;
    if (utf8 == NULL) /* a lone surrogate: UnicodeEncodeError */
        return -1;
    if (on_pypy && has_surrogate(utf8, n)) {
        /* a ValueError as UnicodeEncodeError is (HPy 0.9 cannot make one with its 5 arguments) */
        HPyErr_SetString(ctx, ctx->h_ValueError, "encode: surrogates not allowed in a str");
        return -1;
    }
    if ((size_t)n > UINT32_MAX)
        return count_overflow(ctx);
    if ((p = writer_reserve(ctx, w, 5 + (size_t)n)) == NULL)
        return -1;
    p[0] = 's';
    store_u32(p + 1, (uint32_t)n);
    memcpy(p + 5, utf8, (size_t)n);
    w->len += 5 + (size_t)n;
    return 0;
}

static int encode_value(HPyContext *ctx, Writer *w, HPy obj, int depth);

/* A list or a tuple: HPy 0.9 reads either through HPy_GetItem_i (a new handle per item). */
static int
encode_items(HPyContext *ctx, Writer *w, HPy seq, int depth)
{
    HPy_ssize_t i, n = HPy_Length(ctx, seq);
    if (n < 0 || write_count(ctx, w, 'l', n) < 0)
        return -1;
    for (i = 0; i < n; i++) {
        HPy item = HPy_GetItem_i(ctx, seq, i);
        int rc;
        if (HPy_IsNull(item))
            return -1;
        rc = encode_value(ctx, w, item, depth + 1);
        HPy_Close(ctx, item);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* A dict, in its order: HPy 0.9 has no HPyDict_Next, so its keys (a new list) and a lookup
 * per key. */
static int
encode_dict(HPyContext *ctx, Writer *w, HPy dict, int depth)
{
    HPy keys = CTX_TAIL(ctx)->ctx_Dict_Keys(ctx, dict); /* HPyDict_Keys, where it is */
    HPy_ssize_t i, n;
    int rc = -1;
    if (HPy_IsNull(keys))
        return -1;
    n = HPy_Length(ctx, keys);
    if (n < 0 || write_count(ctx, w, 'm', n) < 0)
        goto done;
    for (i = 0; i < n; i++) {
        HPy key = HPy_GetItem_i(ctx, keys, i), value = HPy_NULL;
        int err;
        if (HPy_IsNull(key))
            goto done;
        if (!HPyUnicode_Check(ctx, key))
            HPyErr_SetString(ctx, ctx->h_TypeError, "encode: dict key not a str");
        else if (write_str(ctx, w, key) == 0)
            value = HPy_GetItem(ctx, dict, key);
        HPy_Close(ctx, key);
        if (HPy_IsNull(value))
            goto done;
        err = encode_value(ctx, w, value, depth + 1);
        HPy_Close(ctx, value);
        if (err < 0)
            goto done;
    }
    rc = 0;
done:
    HPy_Close(ctx, keys);
    return rc;
}

/* depth: the lists, tuples and dicts around obj. */
static int
encode_value(HPyContext *ctx, Writer *w, HPy obj, int depth)
{
    if (HPy_Is(ctx, obj, ctx->h_None))
        return write_tag(ctx, w, 'N');
    if (HPy_Is(ctx, obj, ctx->h_True))
        return write_tag(ctx, w, 'T');
    if (HPy_Is(ctx, obj, ctx->h_False))
        return write_tag(ctx, w, 'F');
    if (HPy_TypeCheck(ctx, obj, ctx->h_LongType)) {
        int64_t v = HPyLong_AsInt64_t(ctx, obj); /* outside int64: OverflowError */
        if (v == -1 && HPyErr_Occurred(ctx))
            return -1;
        return write_u64(ctx, w, 'i', (uint64_t)v);
    }
    if (HPy_TypeCheck(ctx, obj, ctx->h_FloatType)) {
        double d = HPyFloat_AsDouble(ctx, obj);
        uint64_t bits;
        memcpy(&bits, &d, sizeof bits);
        return write_u64(ctx, w, 'd', bits);
    }
    if (HPyUnicode_Check(ctx, obj))
        return write_str(ctx, w, obj);
    if (HPyList_Check(ctx, obj) || HPyTuple_Check(ctx, obj)) {
        if (depth >= MAX_DEPTH)
            goto too_deep;
        return encode_items(ctx, w, obj, depth);
    }
    if (HPyDict_Check(ctx, obj)) {
        if (depth >= MAX_DEPTH)
            goto too_deep;
        return encode_dict(ctx, w, obj, depth);
    }
    HPyErr_SetString(ctx, ctx->h_TypeError, "encode: unsupported type");
    return -1;
too_deep:
    HPyErr_SetString(ctx, ctx->h_ValueError, "encode: nested too deeply");
    return -1;
}

HPyDef_METH(b_encode, "encode", HPyFunc_O)
static HPy
b_encode_impl(HPyContext *ctx, HPy self, HPy obj)
{
    Writer w;
    HPy result = HPy_NULL;
    writer_init(&w);
    if (encode_value(ctx, &w, obj, 0) == 0)
        result = HPyBytes_FromStringAndSize(ctx, (const char *)w.data, (HPy_ssize_t)w.len);
    writer_free(&w);
    return result;
}

/* ------------------------------------------------------------------------------------------ */
/* Module                                                                                     */
/* ------------------------------------------------------------------------------------------ */

HPyDef_SLOT(module_exec, HPy_mod_exec)
static int
module_exec_impl(HPyContext *ctx, HPy m)
{
    HPy array;
    int rc;
    if (detect_runtime(ctx) < 0)
        return -1;
    if (!HPyHelpers_AddType(ctx, m, "Foo", &Foo_spec, NULL))
        return -1;
    array = HPyType_FromSpec(ctx, &Array_spec, NULL);
    if (HPy_IsNull(array))
        return -1;
    HPyGlobal_Store(ctx, &Array_type, array);
    rc = HPy_SetAttr_s(ctx, m, "Array", array);
    HPy_Close(ctx, array);
    return rc;
}

static HPyDef *module_defines[] = {
    &b_noargs,
    &b_onearg,
    &b_varargs,
    &b_keywords,
    &b_add_ints,
    &b_call_with_tuple,
    &b_call_with_tuple_and_dict,
    &b_allocate_int,
    &b_allocate_tuple,
    &b_make_type,
    &b_decode,
    &b_encode,
    &module_exec,
    NULL,
};

static HPyGlobal *module_globals[] = {
    &Array_type,
    NULL,
};

static HPyModuleDef moduledef = {
    .doc = "hpy-rs benchmark: C on HPy (universal ABI) baseline",
    .size = 0,
    .defines = module_defines,
    .globals = module_globals,
};

HPy_MODINIT(bench_chpy, moduledef)
