//! The generated code takes a slot's first argument as the class without a check only for the
//! slots every HPy implementation checks (`hpy::impl_::slots::runtime_checks_receiver`). A
//! binary operator is called with the instance on either side (`1 + obj`), so asking for an
//! unchecked receiver there is refused at compile time. (`__hpy_slot_def!` is what
//! `#[hpy::methods]` expands to; this guards the macros themselves.)
#[hpy::module]
mod m {
    #[hpy::class]
    struct Num {
        value: i64,
    }

    static ADD: hpy::ffi::HPyDef =
        hpy::__hpy_slot_def!(binary[Num], hpy::ffi::HPy_nb_add, |_ctx, _a, _b| Err(hpy::exceptions::TypeError::new_err("no")));
}

fn main() {}
