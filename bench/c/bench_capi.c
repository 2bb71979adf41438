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
#else
#  define BENCH_TUPLE_SIZE(t) PyTuple_GET_SIZE(t)
#  define BENCH_TUPLE_ITEM(t, i) PyTuple_GET_ITEM((t), (i))
#  define BENCH_TUPLE_SET(t, i, v) PyTuple_SET_ITEM((t), (i), (v))
#  define BENCH_DICT_SIZE(d) PyDict_GET_SIZE(d)
#  define BENCH_TP_ALLOC(tp) ((tp)->tp_alloc)
#  define BENCH_TP_FREE(tp) ((tp)->tp_free)
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
    m = PyModule_Create(&moduledef);
    if (m == NULL)
        return NULL;
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
