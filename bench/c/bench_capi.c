/*
 * bench_capi: the CPython C-API baseline of the hpy-rs benchmark.
 *
 * Same Python-visible API as bench_chpy.c (C on HPy), bench/pyo3 and bench/hpyrs. Every function
 * uses the fastest calling convention the C API offers for its signature (METH_NOARGS, METH_O,
 * METH_FASTCALL, METH_FASTCALL|METH_KEYWORDS with a hand-written keyword matcher), so this is the
 * "best a C programmer would do" reference point.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stddef.h> /* offsetof */
#include <stdint.h>
#include <string.h> /* memcpy */

/* Built with -DPy_LIMITED_API=0x030c0000 as well (bench/bench.sh's stable-ABI part, on CPython
 * 3.12): the stable ABI's cost, measured on the same code. The few macros the limited API lacks
 * become their function forms there. */
#ifdef Py_LIMITED_API
#  define BENCH_TUPLE_SIZE(t) PyTuple_Size(t)
#  define BENCH_TUPLE_ITEM(t, i) PyTuple_GetItem((t), (i))
#  define BENCH_TUPLE_SET(t, i, v) PyTuple_SetItem((t), (i), (v))
#  define BENCH_DICT_SIZE(d) PyDict_Size(d)
#  define BENCH_TP_ALLOC(tp) ((allocfunc)PyType_GetSlot((tp), Py_tp_alloc))
#  define BENCH_TP_FREE(tp) ((freefunc)PyType_GetSlot((tp), Py_tp_free))
#  define BENCH_LIST_SIZE(l) PyList_Size(l)
#  define BENCH_LIST_ITEM(l, i) PyList_GetItem((l), (i))
#  define BENCH_LIST_SET(l, i, v) PyList_SetItem((l), (i), (v))
#  define BENCH_FLOAT_AS_DOUBLE(f) PyFloat_AsDouble(f)
#  define BENCH_BYTES_DATA(b) PyBytes_AsString(b)
#  define BENCH_BYTES_SIZE(b) PyBytes_Size(b)
#else
#  define BENCH_TUPLE_SIZE(t) PyTuple_GET_SIZE(t)
#  define BENCH_TUPLE_ITEM(t, i) PyTuple_GET_ITEM((t), (i))
#  define BENCH_TUPLE_SET(t, i, v) PyTuple_SET_ITEM((t), (i), (v))
#  define BENCH_DICT_SIZE(d) PyDict_GET_SIZE(d)
#  define BENCH_TP_ALLOC(tp) ((tp)->tp_alloc)
#  define BENCH_TP_FREE(tp) ((tp)->tp_free)
#  define BENCH_LIST_SIZE(l) PyList_GET_SIZE(l)
#  define BENCH_LIST_ITEM(l, i) PyList_GET_ITEM((l), (i))
#  define BENCH_LIST_SET(l, i, v) PyList_SET_ITEM((l), (i), (v))
#  define BENCH_FLOAT_AS_DOUBLE(f) PyFloat_AS_DOUBLE(f)
#  define BENCH_BYTES_DATA(b) PyBytes_AS_STRING(b)
#  define BENCH_BYTES_SIZE(b) PyBytes_GET_SIZE(b)
#endif

#if PY_VERSION_HEX >= 0x030C0000
#  define BENCH_T_LONG Py_T_LONG
#  define BENCH_READONLY Py_READONLY
#else
#  include <structmember.h>
#  define BENCH_T_LONG T_LONG
#  define BENCH_READONLY READONLY
#endif

/* ------------------------------------------------------------------------------------------ */
/* Shared helpers                                                                             */
/* ------------------------------------------------------------------------------------------ */

static int
check_nargs(const char *name, Py_ssize_t nargs, Py_ssize_t expected)
{
    if (nargs != expected) {
        PyErr_Format(PyExc_TypeError, "%s() takes exactly %zd arguments (%zd given)",
                     name, expected, nargs);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Functions (also reused as Foo methods where the signature matches)                         */
/* ------------------------------------------------------------------------------------------ */

static PyObject *
b_noargs(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    Py_RETURN_NONE;
}

static PyObject *
b_onearg(PyObject *self, PyObject *arg)
{
    Py_RETURN_NONE;
}

static PyObject *
b_varargs(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (check_nargs("varargs", nargs, 2) < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* keywords(a, b): both required, each may be given positionally or by keyword.
 * Hand-written matcher over the vectorcall kwnames tuple: identity against interned "a"/"b"
 * first (the common case: names in call sites are interned), then a string comparison. */
static PyObject *str_a; /* interned "a", set at module init, never freed */
static PyObject *str_b; /* interned "b" */

static int
kw_index(PyObject *name)
{
    if (name == str_a)
        return 0;
    if (name == str_b)
        return 1;
    if (PyUnicode_Check(name)) {
        if (PyUnicode_CompareWithASCIIString(name, "a") == 0)
            return 0;
        if (PyUnicode_CompareWithASCIIString(name, "b") == 0)
            return 1;
    }
    return -1;
}

static PyObject *
b_keywords(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[2] = {"a", "b"};
    PyObject *vals[2] = {NULL, NULL};
    Py_ssize_t i, nkw;

    if (nargs > 2) {
        PyErr_Format(PyExc_TypeError, "keywords() takes at most 2 arguments (%zd given)", nargs);
        return NULL;
    }
    for (i = 0; i < nargs; i++)
        vals[i] = args[i];
    nkw = kwnames == NULL ? 0 : BENCH_TUPLE_SIZE(kwnames);
    for (i = 0; i < nkw; i++) {
        PyObject *name = BENCH_TUPLE_ITEM(kwnames, i);
        int k = kw_index(name);
        if (k < 0) {
            PyErr_Format(PyExc_TypeError,
                         "keywords() got an unexpected keyword argument '%S'", name);
            return NULL;
        }
        if (vals[k] != NULL) {
            PyErr_Format(PyExc_TypeError,
                         "keywords() got multiple values for argument '%s'", names[k]);
            return NULL;
        }
        vals[k] = args[nargs + i];
    }
    for (i = 0; i < 2; i++) {
        if (vals[i] == NULL) {
            PyErr_Format(PyExc_TypeError,
                         "keywords() missing required argument '%s' (pos %zd)", names[i], i + 1);
            return NULL;
        }
    }
    Py_RETURN_NONE;
}

static PyObject *
b_add_ints(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    long long a, b, r;
    if (check_nargs("add_ints", nargs, 2) < 0)
        return NULL;
    a = PyLong_AsLongLong(args[0]);
    if (a == -1 && PyErr_Occurred())
        return NULL;
    b = PyLong_AsLongLong(args[1]);
    if (b == -1 && PyErr_Occurred())
        return NULL;
    if (__builtin_add_overflow(a, b, &r)) {
        PyErr_SetString(PyExc_OverflowError, "add_ints: result does not fit in int64");
        return NULL;
    }
    return PyLong_FromLongLong(r);
}

static PyObject *
b_call_with_tuple(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (check_nargs("call_with_tuple", nargs, 2) < 0)
        return NULL;
    /* PyObject_Call does not type-check its arguments in release builds; HPy_CallTupleDict does. */
    if (!PyTuple_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "call_with_tuple: args must be a tuple");
        return NULL;
    }
    return PyObject_Call(args[0], args[1], NULL);
}

static PyObject *
b_call_with_tuple_and_dict(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (check_nargs("call_with_tuple_and_dict", nargs, 3) < 0)
        return NULL;
    if (!PyTuple_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "call_with_tuple_and_dict: args must be a tuple");
        return NULL;
    }
    if (!PyDict_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError, "call_with_tuple_and_dict: kwargs must be a dict");
        return NULL;
    }
    return PyObject_Call(args[0], args[1], args[2]);
}

static PyObject *
b_allocate_int(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    return PyLong_FromLong(2048);
}

static PyObject *
b_allocate_tuple(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *x, *y, *t;
    x = PyLong_FromLong(2048);
    if (x == NULL)
        return NULL;
    y = PyLong_FromLong(2049);
    if (y == NULL) {
        Py_DECREF(x);
        return NULL;
    }
    t = PyTuple_New(2);
    if (t == NULL) {
        Py_DECREF(x);
        Py_DECREF(y);
        return NULL;
    }
    BENCH_TUPLE_SET(t, 0, x); /* steals */
    BENCH_TUPLE_SET(t, 1, y);
    return t;
}

/* make_type(): a new heap type from this static spec on every call. */
static PyType_Slot Dynamic_slots[] = {
    {0, NULL},
};

static PyType_Spec Dynamic_spec = {
    .name = "bench_capi.DynamicType",
    .basicsize = 0, /* inherit object's */
    .itemsize = 0,
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = Dynamic_slots,
};

static PyObject *
b_make_type(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    return PyType_FromSpec(&Dynamic_spec);
}

/* ------------------------------------------------------------------------------------------ */
/* Foo                                                                                        */
/* ------------------------------------------------------------------------------------------ */

typedef struct {
    PyObject_HEAD
    long value;
} FooObject;

static PyObject *
Foo_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    FooObject *self;
    if (BENCH_TUPLE_SIZE(args) != 0 || (kwds != NULL && BENCH_DICT_SIZE(kwds) != 0)) {
        PyErr_SetString(PyExc_TypeError, "Foo() takes no arguments");
        return NULL;
    }
    self = (FooObject *)BENCH_TP_ALLOC(type)(type, 0);
    if (self == NULL)
        return NULL;
    self->value = 42;
    return (PyObject *)self;
}

/* Heap type without GC: drop the reference every instance holds on its type. */
static void
Foo_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    BENCH_TP_FREE(tp)(self);
    Py_DECREF(tp);
}

static PyObject *
Foo_field(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    return PyLong_FromLong(((FooObject *)self)->value);
}

static Py_ssize_t
Foo_len(PyObject *self)
{
    return 42;
}

static PyObject *
Foo_item(PyObject *self, Py_ssize_t i)
{
    return PyLong_FromSsize_t(i);
}

static PyMethodDef Foo_methods[] = {
    {"noargs", b_noargs, METH_NOARGS, NULL},
    {"onearg", b_onearg, METH_O, NULL},
    {"varargs", (PyCFunction)(void (*)(void))b_varargs, METH_FASTCALL, NULL},
    {"field", Foo_field, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef Foo_members[] = {
    {"value", BENCH_T_LONG, offsetof(FooObject, value), BENCH_READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot Foo_slots[] = {
    {Py_tp_new, Foo_new},
    {Py_tp_dealloc, Foo_dealloc},
    {Py_tp_methods, Foo_methods},
    {Py_tp_members, Foo_members},
    {Py_sq_length, Foo_len},
    {Py_sq_item, Foo_item},
    {0, NULL},
};

static PyType_Spec Foo_spec = {
    .name = "bench_capi.Foo",
    .basicsize = sizeof(FooObject),
    .itemsize = 0,
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = Foo_slots,
};

/* ------------------------------------------------------------------------------------------ */
/* Workloads (bench/workloads.py): Array, decode, encode                                      */
/* ------------------------------------------------------------------------------------------ */

#define MAX_DEPTH 100 /* a list, tuple or dict inside this many others is refused */

/* Array: an immutable 1-D array of doubles, stored inline after the header (tp_itemsize), so
 * one allocation per array. A heap type from a spec, like Foo: the same source builds for the
 * limited API (bench.sh's abi3 part) and for PyPy's cpyext, where a static PyTypeObject cannot
 * be written. Not subclassable, so the type test is a pointer comparison. */
typedef struct {
    PyObject_VAR_HEAD /* ob_size: the number of elements */
    double items[];
} ArrayObject;

static PyTypeObject *Array_Type; /* set at module init, never freed (also the module's Array) */

#define ARRAY_ITEMS(o) (((ArrayObject *)(o))->items)

/* Not subclassable: PyObject_NewVar, not tp_alloc (which would zero the items first). */
static ArrayObject *
array_alloc(Py_ssize_t n)
{
    return PyObject_NewVar(ArrayObject, Array_Type, n);
}

static void
Array_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_Free(self); /* pairs with PyObject_NewVar */
    Py_DECREF(tp);       /* instances of a heap type hold a reference to it */
}

static PyObject *
Array_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    PyObject *seq;
    ArrayObject *self;
    Py_ssize_t n, i;
    int is_list;

    if (kwds != NULL && BENCH_DICT_SIZE(kwds) != 0) {
        PyErr_SetString(PyExc_TypeError, "Array() takes no keyword arguments");
        return NULL;
    }
    if (BENCH_TUPLE_SIZE(args) != 1) {
        PyErr_SetString(PyExc_TypeError, "Array() takes exactly one argument");
        return NULL;
    }
    seq = BENCH_TUPLE_ITEM(args, 0);
    is_list = PyList_Check(seq);
    if (is_list)
        n = BENCH_LIST_SIZE(seq);
    else if (PyTuple_Check(seq))
        n = BENCH_TUPLE_SIZE(seq);
    else {
        PyErr_SetString(PyExc_TypeError, "Array() argument must be a list or a tuple");
        return NULL;
    }
    self = array_alloc(n);
    if (self == NULL)
        return NULL;
    for (i = 0; i < n; i++) {
        PyObject *item;
        double v;
        if (is_list) {
            /* __float__ of a foreign item may run Python code that shrinks the list */
            if (i >= BENCH_LIST_SIZE(seq)) {
                PyErr_SetString(PyExc_RuntimeError, "list changed size during Array()");
                goto error;
            }
            item = BENCH_LIST_ITEM(seq, i);
        }
        else
            item = BENCH_TUPLE_ITEM(seq, i);
        /* A float (or subclass) is read directly; anything else goes through PyFloat_AsDouble
         * (ints, __float__/__index__; a str: TypeError), holding the borrowed item meanwhile. */
        if (PyFloat_Check(item))
            v = BENCH_FLOAT_AS_DOUBLE(item);
        else {
            Py_INCREF(item);
            v = PyFloat_AsDouble(item);
            Py_DECREF(item);
            if (v == -1.0 && PyErr_Occurred())
                goto error;
        }
        self->items[i] = v;
    }
    return (PyObject *)self;
error:
    Py_DECREF((PyObject *)self);
    return NULL;
}

static Py_ssize_t
Array_len(PyObject *self)
{
    return Py_SIZE(self);
}

/* Only sq_item (no mp_subscript): CPython has already added len(self) to a negative index and
 * refused a non-int one (TypeError); what is still out of range here is an IndexError. PyPy's
 * cpyext passes the index as written (a[-1] arrives as -1), so there it is adjusted here. */
static PyObject *
Array_item(PyObject *self, Py_ssize_t i)
{
#ifdef PYPY_VERSION
    if (i < 0)
        i += Py_SIZE(self);
#endif
    if ((size_t)i >= (size_t)Py_SIZE(self)) {
        PyErr_SetString(PyExc_IndexError, "Array index out of range");
        return NULL;
    }
    return PyFloat_FromDouble(ARRAY_ITEMS(self)[i]);
}

/* A scalar operand: 1 with *v set, 0 if o is not a float or an int (NotImplemented), -1 on
 * error (an int too large for a double: OverflowError, as float() raises). */
static int
as_scalar(PyObject *o, double *v)
{
    if (PyFloat_Check(o)) {
        *v = BENCH_FLOAT_AS_DOUBLE(o);
        return 1;
    }
    if (PyLong_Check(o)) {
        *v = PyLong_AsDouble(o);
        return (*v == -1.0 && PyErr_Occurred()) ? -1 : 1;
    }
    return 0;
}

/* out[i] = x[i * sx] op y[i * sy]: a stride of 0 repeats a scalar, so one loop per operator
 * serves array-array, array-scalar and scalar-array (the reflected forms keep their order). */
static void
combine(double *out, Py_ssize_t n, const double *x, Py_ssize_t sx, const double *y, Py_ssize_t sy,
        int op)
{
    Py_ssize_t i;
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

/* nb_add etc. are called with the Array on either side (a + 2.0 and 2.0 + a). */
static PyObject *
array_binop(PyObject *a, PyObject *b, int op)
{
    const double *x, *y;
    Py_ssize_t sx = 1, sy = 1, n;
    double s;
    int rc;
    ArrayObject *r;

    if (Py_TYPE(a) == Array_Type) {
        n = Py_SIZE(a);
        x = ARRAY_ITEMS(a);
        if (Py_TYPE(b) == Array_Type) {
            if (Py_SIZE(b) != n) {
                PyErr_SetString(PyExc_ValueError, "Array lengths differ");
                return NULL;
            }
            y = ARRAY_ITEMS(b);
        }
        else {
            rc = as_scalar(b, &s);
            if (rc <= 0)
                goto not_scalar;
            y = &s;
            sy = 0;
        }
    }
    else if (Py_TYPE(b) == Array_Type) {
        rc = as_scalar(a, &s);
        if (rc <= 0)
            goto not_scalar;
        n = Py_SIZE(b);
        x = &s;
        sx = 0;
        y = ARRAY_ITEMS(b);
    }
    else
        Py_RETURN_NOTIMPLEMENTED;
    r = array_alloc(n);
    if (r == NULL)
        return NULL;
    combine(r->items, n, x, sx, y, sy, op);
    return (PyObject *)r;
not_scalar:
    if (rc < 0)
        return NULL;
    Py_RETURN_NOTIMPLEMENTED; /* a str, None, a list...: Python raises its TypeError */
}

static PyObject *
Array_add(PyObject *a, PyObject *b)
{
    return array_binop(a, b, '+');
}

static PyObject *
Array_sub(PyObject *a, PyObject *b)
{
    return array_binop(a, b, '-');
}

static PyObject *
Array_mul(PyObject *a, PyObject *b)
{
    return array_binop(a, b, '*');
}

static PyObject *
Array_sum(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    const double *x = ARRAY_ITEMS(self);
    Py_ssize_t i, n = Py_SIZE(self);
    double total = 0.0;
    for (i = 0; i < n; i++)
        total += x[i];
    return PyFloat_FromDouble(total);
}

static PyMethodDef Array_methods[] = {
    {"sum", Array_sum, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

/* No tp_iter: `for v in a` goes through sq_item until IndexError (the sequence protocol). */
static PyType_Slot Array_slots[] = {
    {Py_tp_new, Array_new},
    {Py_tp_dealloc, Array_dealloc},
    {Py_tp_methods, Array_methods},
    {Py_sq_length, Array_len},
    {Py_sq_item, Array_item},
    {Py_nb_add, Array_add},
    {Py_nb_subtract, Array_sub},
    {Py_nb_multiply, Array_mul},
    {0, NULL},
};

static PyType_Spec Array_spec = {
    .name = "bench_capi.Array",
    .basicsize = offsetof(ArrayObject, items),
    .itemsize = sizeof(double),
    .flags = Py_TPFLAGS_DEFAULT, /* no Py_TPFLAGS_BASETYPE: not subclassable */
    .slots = Array_slots,
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

static PyObject *
decode_error(const char *msg)
{
    PyErr_SetString(PyExc_ValueError, msg);
    return NULL;
}

/* The n bytes at r->p (NULL, ValueError, if fewer are left), consumed. */
static const unsigned char *
take(Reader *r, size_t n)
{
    const unsigned char *p = r->p;
    if ((size_t)(r->end - p) < n) {
        decode_error("decode: truncated input");
        return NULL;
    }
    r->p = p + n;
    return p;
}

/* The body of a b"s" value (its tag consumed): u32 length + UTF-8 (invalid: UnicodeDecodeError). */
static PyObject *
decode_str(Reader *r)
{
    const unsigned char *p = take(r, 4);
    uint32_t n;
    if (p == NULL)
        return NULL;
    n = load_u32(p);
    if ((p = take(r, n)) == NULL)
        return NULL;
    return PyUnicode_DecodeUTF8((const char *)p, (Py_ssize_t)n, NULL /* strict */);
}

static PyObject *decode_value(Reader *r, int depth);

/* The count of a b"l" or b"m" value: every element takes at least one byte, so a count larger
 * than the bytes left is truncated input, refused before anything is allocated for it. */
static int
decode_count(Reader *r, Py_ssize_t *n)
{
    const unsigned char *p = take(r, 4);
    uint32_t count;
    if (p == NULL)
        return -1;
    count = load_u32(p);
    if (count > (size_t)(r->end - r->p)) {
        decode_error("decode: truncated input");
        return -1;
    }
    *n = (Py_ssize_t)count;
    return 0;
}

static PyObject *
decode_list(Reader *r, int depth)
{
    Py_ssize_t n, i;
    PyObject *list;
    if (decode_count(r, &n) < 0)
        return NULL;
    list = PyList_New(n); /* n <= the bytes left: bounded by the input's size */
    if (list == NULL)
        return NULL;
    for (i = 0; i < n; i++) {
        PyObject *item = decode_value(r, depth + 1);
        if (item == NULL) {
            Py_DECREF(list); /* the slots not yet filled are NULL: list_dealloc skips them */
            return NULL;
        }
        BENCH_LIST_SET(list, i, item); /* steals */
    }
    return list;
}

static PyObject *
decode_dict(Reader *r, int depth)
{
    Py_ssize_t n, i;
    PyObject *dict;
    if (decode_count(r, &n) < 0)
        return NULL;
    dict = PyDict_New();
    if (dict == NULL)
        return NULL;
    for (i = 0; i < n; i++) {
        PyObject *key, *value;
        int rc;
        /* a key must be a b"s" value: any other tag is refused before it is built */
        if (r->p == r->end) {
            decode_error("decode: truncated input");
            goto error;
        }
        if (*r->p != 's') {
            decode_error("decode: dict key not a str");
            goto error;
        }
        r->p++;
        key = decode_str(r);
        if (key == NULL)
            goto error;
        value = decode_value(r, depth + 1);
        if (value == NULL) {
            Py_DECREF(key);
            goto error;
        }
        rc = PyDict_SetItem(dict, key, value);
        Py_DECREF(key);
        Py_DECREF(value);
        if (rc < 0)
            goto error;
    }
    return dict;
error:
    Py_DECREF(dict);
    return NULL;
}

/* depth: the lists and dicts around this value. */
static PyObject *
decode_value(Reader *r, int depth)
{
    const unsigned char *p;
    uint64_t bits;
    double d;

    if (r->p == r->end)
        return decode_error("decode: truncated input");
    switch (*r->p++) {
    case 'N':
        Py_INCREF(Py_None);
        return Py_None;
    case 'T':
        Py_INCREF(Py_True);
        return Py_True;
    case 'F':
        Py_INCREF(Py_False);
        return Py_False;
    case 'i':
        if ((p = take(r, 8)) == NULL)
            return NULL;
        return PyLong_FromLongLong((long long)(int64_t)load_u64(p));
    case 'd':
        if ((p = take(r, 8)) == NULL)
            return NULL;
        bits = load_u64(p);
        memcpy(&d, &bits, sizeof d);
        return PyFloat_FromDouble(d);
    case 's':
        return decode_str(r);
    case 'l':
        if (depth >= MAX_DEPTH)
            return decode_error("decode: nested too deeply");
        return decode_list(r, depth);
    case 'm':
        if (depth >= MAX_DEPTH)
            return decode_error("decode: nested too deeply");
        return decode_dict(r, depth);
    default:
        return decode_error("decode: unknown tag");
    }
}

static PyObject *
b_decode(PyObject *self, PyObject *buf)
{
    Reader r;
    PyObject *result;
    if (!PyBytes_Check(buf)) {
        PyErr_SetString(PyExc_TypeError, "decode() argument must be bytes");
        return NULL;
    }
    r.p = (const unsigned char *)BENCH_BYTES_DATA(buf);
    r.end = r.p + BENCH_BYTES_SIZE(buf);
    result = decode_value(&r, 0);
    if (result != NULL && r.p != r.end) {
        Py_DECREF(result);
        return decode_error("decode: bytes left over");
    }
    return result;
}

/* encode(obj) ---------------------------------------------------------------------------- */

/* The output, in a growing buffer: on the stack while it fits (small values allocate nothing
 * but their bytes object), then on the heap, doubling. Copied once into the bytes object at the
 * end (the limited API has no _PyBytes_Resize to build it in place). */
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
        PyMem_Free(w->data);
}

static int
writer_grow(Writer *w, size_t extra)
{
    size_t cap = w->cap;
    unsigned char *data;
    if (extra > (size_t)PY_SSIZE_T_MAX - w->len) {
        PyErr_NoMemory();
        return -1;
    }
    while (cap - w->len < extra)
        cap = cap > (size_t)PY_SSIZE_T_MAX / 2 ? (size_t)PY_SSIZE_T_MAX : cap * 2;
    if (w->data == w->small) {
        data = PyMem_Malloc(cap);
        if (data != NULL)
            memcpy(data, w->small, w->len);
    }
    else
        data = PyMem_Realloc(w->data, cap);
    if (data == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    w->data = data;
    w->cap = cap;
    return 0;
}

/* Room for `extra` more bytes: a pointer to write them at (the caller then adds to len). */
static inline unsigned char *
writer_reserve(Writer *w, size_t extra)
{
    if (w->cap - w->len < extra && writer_grow(w, extra) < 0)
        return NULL;
    return w->data + w->len;
}

static int
write_tag(Writer *w, unsigned char tag)
{
    unsigned char *p = writer_reserve(w, 1);
    if (p == NULL)
        return -1;
    *p = tag;
    w->len += 1;
    return 0;
}

static int
write_u64(Writer *w, unsigned char tag, uint64_t v)
{
    unsigned char *p = writer_reserve(w, 9);
    if (p == NULL)
        return -1;
    p[0] = tag;
    store_u64(p + 1, v);
    w->len += 9;
    return 0;
}

/* a length beyond the format's 32 bits */
static int
count_overflow(void)
{
    PyErr_SetString(PyExc_OverflowError, "encode: length does not fit in 32 bits");
    return -1;
}

/* tag + u32 count */
static int
write_count(Writer *w, unsigned char tag, Py_ssize_t n)
{
    unsigned char *p;
    if ((size_t)n > UINT32_MAX)
        return count_overflow();
    if ((p = writer_reserve(w, 5)) == NULL)
        return -1;
    p[0] = tag;
    store_u32(p + 1, (uint32_t)n);
    w->len += 5;
    return 0;
}

static int
write_str(Writer *w, PyObject *s)
{
    Py_ssize_t n;
    const char *utf8 = PyUnicode_AsUTF8AndSize(s, &n); /* kept by the str: no copy, no free */
    unsigned char *p;
    if (utf8 == NULL) /* a lone surrogate: UnicodeEncodeError */
        return -1;
    if ((size_t)n > UINT32_MAX)
        return count_overflow();
    if ((p = writer_reserve(w, 5 + (size_t)n)) == NULL)
        return -1;
    p[0] = 's';
    store_u32(p + 1, (uint32_t)n);
    memcpy(p + 5, utf8, (size_t)n);
    w->len += 5 + (size_t)n;
    return 0;
}

/* depth: the lists, tuples and dicts around obj. The containers are read through borrowed
 * references: nothing here runs Python code (no __float__ etc., no GC-tracked allocation that
 * could start a collection), so they cannot change while they are written. */
static int
encode_value(Writer *w, PyObject *obj, int depth)
{
    Py_ssize_t i, n;

    if (obj == Py_None)
        return write_tag(w, 'N');
    if (obj == Py_True)
        return write_tag(w, 'T');
    if (obj == Py_False)
        return write_tag(w, 'F');
    if (PyLong_Check(obj)) {
        long long v = PyLong_AsLongLong(obj); /* outside int64: OverflowError */
        if (v == -1 && PyErr_Occurred())
            return -1;
        return write_u64(w, 'i', (uint64_t)v);
    }
    if (PyFloat_Check(obj)) {
        double d = BENCH_FLOAT_AS_DOUBLE(obj);
        uint64_t bits;
        memcpy(&bits, &d, sizeof bits);
        return write_u64(w, 'd', bits);
    }
    if (PyUnicode_Check(obj))
        return write_str(w, obj);
    if (PyList_Check(obj)) {
        if (depth >= MAX_DEPTH)
            goto too_deep;
        n = BENCH_LIST_SIZE(obj);
        if (write_count(w, 'l', n) < 0)
            return -1;
        for (i = 0; i < n; i++)
            if (encode_value(w, BENCH_LIST_ITEM(obj, i), depth + 1) < 0)
                return -1;
        return 0;
    }
    if (PyTuple_Check(obj)) {
        if (depth >= MAX_DEPTH)
            goto too_deep;
        n = BENCH_TUPLE_SIZE(obj);
        if (write_count(w, 'l', n) < 0)
            return -1;
        for (i = 0; i < n; i++)
            if (encode_value(w, BENCH_TUPLE_ITEM(obj, i), depth + 1) < 0)
                return -1;
        return 0;
    }
    if (PyDict_Check(obj)) {
        PyObject *key, *value;
        Py_ssize_t pos = 0;
        if (depth >= MAX_DEPTH)
            goto too_deep;
        if (write_count(w, 'm', BENCH_DICT_SIZE(obj)) < 0)
            return -1;
        while (PyDict_Next(obj, &pos, &key, &value)) { /* the dict's order */
            if (!PyUnicode_Check(key)) {
                PyErr_SetString(PyExc_TypeError, "encode: dict key not a str");
                return -1;
            }
            if (write_str(w, key) < 0 || encode_value(w, value, depth + 1) < 0)
                return -1;
        }
        return 0;
    }
    PyErr_SetString(PyExc_TypeError, "encode: unsupported type");
    return -1;
too_deep:
    PyErr_SetString(PyExc_ValueError, "encode: nested too deeply");
    return -1;
}

static PyObject *
b_encode(PyObject *self, PyObject *obj)
{
    Writer w;
    PyObject *result = NULL;
    writer_init(&w);
    if (encode_value(&w, obj, 0) == 0)
        result = PyBytes_FromStringAndSize((const char *)w.data, (Py_ssize_t)w.len);
    writer_free(&w);
    return result;
}

/* ------------------------------------------------------------------------------------------ */
/* Module                                                                                     */
/* ------------------------------------------------------------------------------------------ */

#define FASTCALL(f) ((PyCFunction)(void (*)(void))(f))

static PyMethodDef module_methods[] = {
    {"noargs", b_noargs, METH_NOARGS, NULL},
    {"onearg", b_onearg, METH_O, NULL},
    {"varargs", FASTCALL(b_varargs), METH_FASTCALL, NULL},
    {"keywords", FASTCALL(b_keywords), METH_FASTCALL | METH_KEYWORDS, NULL},
    {"add_ints", FASTCALL(b_add_ints), METH_FASTCALL, NULL},
    {"call_with_tuple", FASTCALL(b_call_with_tuple), METH_FASTCALL, NULL},
    {"call_with_tuple_and_dict", FASTCALL(b_call_with_tuple_and_dict), METH_FASTCALL, NULL},
    {"allocate_int", b_allocate_int, METH_NOARGS, NULL},
    {"allocate_tuple", b_allocate_tuple, METH_NOARGS, NULL},
    {"make_type", b_make_type, METH_NOARGS, NULL},
    {"decode", b_decode, METH_O, NULL},
    {"encode", b_encode, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT,
    .m_name = "bench_capi",
    .m_doc = "hpy-rs benchmark: C-API baseline",
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC
PyInit_bench_capi(void)
{
    PyObject *m, *foo;

    if (str_a == NULL) {
        str_a = PyUnicode_InternFromString("a");
        if (str_a == NULL)
            return NULL;
    }
    if (str_b == NULL) {
        str_b = PyUnicode_InternFromString("b");
        if (str_b == NULL)
            return NULL;
    }
    if (Array_Type == NULL) { /* kept for the operators' type test, as str_a is */
        Array_Type = (PyTypeObject *)PyType_FromSpec(&Array_spec);
        if (Array_Type == NULL)
            return NULL;
    }
    m = PyModule_Create(&moduledef);
    if (m == NULL)
        return NULL;
    Py_INCREF((PyObject *)Array_Type);
    if (PyModule_AddObject(m, "Array", (PyObject *)Array_Type) < 0) {
        Py_DECREF((PyObject *)Array_Type);
        Py_DECREF(m);
        return NULL;
    }
    foo = PyType_FromSpec(&Foo_spec);
    if (foo == NULL) {
        Py_DECREF(m);
        return NULL;
    }
    if (PyModule_AddObject(m, "Foo", foo) < 0) { /* steals foo only on success */
        Py_DECREF(foo);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
