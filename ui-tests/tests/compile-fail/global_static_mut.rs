//! A `Global` is shared by every call and already synchronised: `static mut` is never needed
//! (and would need `unsafe` at every use), so the module refuses it.
#[hpy::module]
mod m {
    static mut CACHE: hpy::Global = hpy::Global::new();
}

fn main() {}
