//! A class cannot own a handle: a `Handle` is valid only during the call that opened it, while
//! the object lives as long as Python keeps it. References from an object to other Python
//! objects belong in an `hpy::Field` (loaded and stored through the owner's handle).
#[hpy::module]
mod m {
    use hpy::Handle;

    #[hpy::class]
    struct Node {
        value: Handle<'static>,
    }
}

fn main() {}
