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
/* Module                                                                                     */
/* ------------------------------------------------------------------------------------------ */

HPyDef_SLOT(module_exec, HPy_mod_exec)
static int
module_exec_impl(HPyContext *ctx, HPy m)
{
    if (!HPyHelpers_AddType(ctx, m, "Foo", &Foo_spec, NULL))
        return -1;
    return 0;
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
    &module_exec,
    NULL,
};

static HPyModuleDef moduledef = {
    .doc = "hpy-rs benchmark: C on HPy (universal ABI) baseline",
    .size = 0,
    .defines = module_defines,
};

HPy_MODINIT(bench_chpy, moduledef)
