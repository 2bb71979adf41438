//! `extends` takes a `#[hpy::class(subclass)]` struct of the module or a built-in shape HPy can
//! extend (`int`, `float`, `str`, `tuple`, `list`, `type`); `extends = dict` is an error listing
//! them, not a type with a corrupt layout.
#[hpy::module]
mod m {
    #[hpy::class(extends = dict)]
    struct Registry {
        count: usize,
    }
}

fn main() {}
