//! A class cannot have a lifetime parameter (here to hold a `Handle<'ctx>` of the call that
//! created it): the object outlives every call, so nothing borrowed can live in it. Python
//! objects referenced by an instance belong in an `hpy::Field`.
#[hpy::module]
mod m {
    use hpy::Handle;

    #[hpy::class]
    struct Node<'ctx> {
        value: Handle<'ctx>,
    }
}

fn main() {}
