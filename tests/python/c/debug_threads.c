/*
 * debug_threads: HPy 0.9's debug-mode limits with threads and callbacks, written in plain C on
 * HPy (universal ABI), so that tests/python/test_debug_mode_threads.py can show they belong to
 * HPy and not to hpy-rs. Built at test time against the running interpreter's hpy package.
 *
 *   leave_and_sleep(ms)  releases the interpreter (HPy_LeavePythonExecution), sleeps, re-enters:
 *                        what hpy-rs's Context::allow_threads does in universal mode.
 *   noop()               the cheapest HPy call, for another thread to make many of.
 *   call(f)              calls f() from inside an HPy call (a callback, like Point.update_x).
 *   Exporter()           a type exporting a read-only buffer of 4 bytes, whose bf_releasebuffer
 *                        goes through HPy's trampoline like any HPy slot.
 */
#include <time.h>
#include "hpy.h"

HPyDef_METH(leave_and_sleep, "leave_and_sleep", HPyFunc_O)
static HPy
leave_and_sleep_impl(HPyContext *ctx, HPy self, HPy arg)
{
    long ms = HPyLong_AsLong(ctx, arg);
    if (ms == -1 && HPyErr_Occurred(ctx))
        return HPy_NULL;
    HPyThreadState state = HPy_LeavePythonExecution(ctx);
    struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&t, NULL);
    HPy_ReenterPythonExecution(ctx, state);
    return HPyLong_FromLong(ctx, ms);
}

HPyDef_METH(noop, "noop", HPyFunc_NOARGS)
static HPy
noop_impl(HPyContext *ctx, HPy self)
{
    return HPy_Dup(ctx, ctx->h_None);
}

HPyDef_METH(call, "call", HPyFunc_O)
static HPy
call_impl(HPyContext *ctx, HPy self, HPy f)
{
    return HPy_Call(ctx, f, NULL, 0, HPy_NULL);
}

typedef struct {
    char data[4];
} ExporterObject;

HPyType_HELPERS(ExporterObject)

HPyDef_SLOT(exporter_new, HPy_tp_new)
static HPy
exporter_new_impl(HPyContext *ctx, HPy cls, const HPy *args, HPy_ssize_t nargs, HPy kw)
{
    ExporterObject *e;
    HPy h = HPy_New(ctx, cls, &e);
    if (HPy_IsNull(h))
        return HPy_NULL;
    e->data[0] = 'h'; e->data[1] = 'p'; e->data[2] = 'y'; e->data[3] = '!';
    return h;
}

HPyDef_SLOT(exporter_getbuffer, HPy_bf_getbuffer)
static int
exporter_getbuffer_impl(HPyContext *ctx, HPy self, HPy_buffer *view, int flags)
{
    ExporterObject *e = ExporterObject_AsStruct(ctx, self);
    view->buf = e->data;
    view->obj = HPy_Dup(ctx, self);
    view->len = 4;
    view->itemsize = 1;
    view->readonly = 1;
    view->ndim = 1;
    view->format = "B";
    view->shape = NULL;
    view->strides = NULL;
    view->suboffsets = NULL;
    view->internal = NULL;
    return 0;
}

HPyDef_SLOT(exporter_releasebuffer, HPy_bf_releasebuffer)
static void
exporter_releasebuffer_impl(HPyContext *ctx, HPy self, HPy_buffer *view)
{
    /* nothing to free: the point is that HPy's trampoline runs at all */
}

static HPyDef *exporter_defines[] = {
    &exporter_new, &exporter_getbuffer, &exporter_releasebuffer, NULL
};

static HPyType_Spec exporter_spec = {
    .name = "debug_threads.Exporter",
    .basicsize = sizeof(ExporterObject),
    .builtin_shape = SHAPE(ExporterObject),
    .defines = exporter_defines,
};

HPyDef_SLOT(debug_threads_exec, HPy_mod_exec)
static int
debug_threads_exec_impl(HPyContext *ctx, HPy module)
{
    HPy t = HPyType_FromSpec(ctx, &exporter_spec, NULL);
    if (HPy_IsNull(t))
        return -1;
    int rc = HPy_SetAttr_s(ctx, module, "Exporter", t);
    HPy_Close(ctx, t);
    return rc;
}

static HPyDef *module_defines[] = {
    &leave_and_sleep, &noop, &call, &debug_threads_exec, NULL
};

static HPyModuleDef moduledef = {
    .doc = "HPy 0.9's debug-mode limits, in C",
    .defines = module_defines,
};

HPy_MODINIT(debug_threads, moduledef)
