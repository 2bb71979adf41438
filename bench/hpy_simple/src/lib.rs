//! `hpy_simple` for HPy's own microbenchmark suite (`microbench/` in the hpy 0.9.0 sdist),
//! written with hpy-rs: the same names and behaviour as its C `hpy_simple.c`, so that its
//! unmodified `test_microbench.py` measures hpy-rs against the C API (`cpy_simple`).
#![forbid(unsafe_code)]

/// hpy-rs version of HPy's microbenchmark module.
#[hpy::module]
mod hpy_simple {
    use hpy::{Context, Dict, Handle, Module, Result, Tuple};

    #[hpy::function]
    fn noargs() {}

    #[hpy::function]
    fn onearg(arg: &Handle<'_>) {
        let _ = arg;
    }

    /// The benchmark calls it with two arguments.
    #[hpy::function]
    fn varargs(a: &Handle<'_>, b: &Handle<'_>) {
        let _ = (a, b);
    }

    #[hpy::function]
    fn call_with_tuple<'ctx>(f: &Handle<'ctx>, args: &Handle<'ctx, Tuple>) -> Result<Handle<'ctx>> {
        f.call_tuple_dict(args, None)
    }

    #[hpy::function]
    fn call_with_tuple_and_dict<'ctx>(
        f: &Handle<'ctx>,
        args: &Handle<'ctx, Tuple>,
        kw: &Handle<'ctx, Dict>,
    ) -> Result<Handle<'ctx>> {
        f.call_tuple_dict(args, Some(kw))
    }

    #[hpy::function]
    fn allocate_int() -> i64 {
        2048
    }

    #[hpy::function]
    fn allocate_tuple() -> (i64, i64) {
        (2048, 2049)
    }

    /// The benchmark's type (also exported as `HTFoo`, like the C version).
    #[hpy::class]
    struct Foo {
        x: i64,
        y: i64,
    }

    #[hpy::methods]
    impl Foo {
        #[new]
        fn new() -> Foo {
            Foo { x: 0, y: 0 }
        }

        fn noargs(&self) {}

        fn onearg(&self, arg: &Handle<'_>) {
            let _ = arg;
        }

        fn varargs(&self, a: &Handle<'_>, b: &Handle<'_>) {
            let _ = (a, b, self.x, self.y);
        }

        fn allocate_int(&self) -> i64 {
            2048
        }

        fn allocate_tuple(&self) -> (i64, i64) {
            (2048, 2049)
        }

        fn __getitem__(&self, i: isize) {
            let _ = i;
        }

        fn __len__(&self) -> usize {
            42
        }
    }

    #[hpy::init]
    fn init(_ctx: Context<'_>, module: &Handle<'_, Module>) -> Result<()> {
        module.setattr("HTFoo", module.getattr("Foo")?)
    }
}
