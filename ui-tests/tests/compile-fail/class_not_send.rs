//! Python may use an object from any thread (one at a time), and drop it on any thread. A class
//! holding a non-`Send` value (here an `Rc`) must say `#[hpy::class(unsendable)]`, which makes
//! every access check the thread; without it the class does not compile.
#[hpy::module]
mod m {
    #[hpy::class]
    struct Shared {
        value: std::rc::Rc<i32>,
    }
}

fn main() {}
