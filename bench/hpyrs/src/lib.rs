//! The hpy-rs variant of `make bench`: the same Python API as `bench/c/bench_capi.c`,
//! `bench/c/bench_chpy.c` and `bench/pyo3`, written the way a user would write it.

/// Benchmark module: call overhead, conversions, allocation, a class.
#[hpy::module]
mod bench_hpyrs {
    use hpy::{Context, Dict, Handle, Result, Tuple};

    #[hpy::function]
    fn noargs() {}

    #[hpy::function]
    fn onearg(x: &Handle<'_>) {
        let _ = x;
    }

    #[hpy::function]
    fn varargs(a: &Handle<'_>, b: &Handle<'_>) {
        let _ = (a, b);
    }

    #[hpy::function(signature = (a, b))]
    fn keywords(a: &Handle<'_>, b: &Handle<'_>) {
        let _ = (a, b);
    }

    #[hpy::function]
    fn add_ints(a: i64, b: i64) -> Result<i64> {
        a.checked_add(b).ok_or_else(|| hpy::exceptions::OverflowError::new_err("add_ints() overflows"))
    }

    #[hpy::function]
    fn call_with_tuple<'ctx>(f: &Handle<'ctx>, args: &Handle<'ctx, Tuple>) -> Result<Handle<'ctx>> {
        f.call_tuple_dict(args, None)
    }

    #[hpy::function]
    fn call_with_tuple_and_dict<'ctx>(
        f: &Handle<'ctx>,
        args: &Handle<'ctx, Tuple>,
        kwargs: &Handle<'ctx, Dict>,
    ) -> Result<Handle<'ctx>> {
        f.call_tuple_dict(args, Some(kwargs))
    }

    #[hpy::function]
    fn allocate_int() -> i64 {
        2048
    }

    #[hpy::function]
    fn allocate_tuple() -> (i64, i64) {
        (2048, 2049)
    }

    static SPEC: hpy::ffi::HPyType_Spec = hpy::ffi::HPyType_Spec {
        name: c"bench_hpyrs.DynamicType".as_ptr(),
        basicsize: 0,
        itemsize: 0,
        flags: hpy::ffi::HPy_TPFLAGS_DEFAULT,
        builtin_shape: hpy::ffi::HPyType_BuiltinShape_Object,
        legacy_slots: core::ptr::null_mut(),
        defines: core::ptr::null_mut(), // no defines, as in the C variant's spec
        doc: core::ptr::null(),
    };

    /// A new type from a static spec on every call (hpy-rs has no public API for types made at
    /// run time: this goes through the raw layer, as C code would).
    #[hpy::function]
    fn make_type(ctx: Context<'_>) -> Result<Handle<'_>> {
        // SAFETY: live context; a complete static spec; no params.
        let raw = unsafe {
            hpy::ffi::HPyType_FromSpec(ctx.as_ptr(), &SPEC as *const _ as *mut _, core::ptr::null_mut())
        };
        // SAFETY: a new handle, or NULL with an exception set.
        unsafe { Handle::from_new(ctx, raw) }
    }

    /// The benchmark class: immutable, like the C ones (`frozen`: `value` is a member, as in C).
    #[hpy::class(frozen)]
    struct Foo {
        #[hpy(get)]
        value: i64,
    }

    #[hpy::methods]
    impl Foo {
        #[new]
        fn new() -> Foo {
            Foo { value: 42 }
        }

        fn noargs(&self) {}

        fn onearg(&self, x: &Handle<'_>) {
            let _ = x;
        }

        fn varargs(&self, a: &Handle<'_>, b: &Handle<'_>) {
            let _ = (a, b);
        }

        fn field(&self) -> i64 {
            self.value
        }

        fn __len__(&self) -> usize {
            42
        }

        fn __getitem__(&self, i: isize) -> isize {
            i
        }
    }
}
