//! A class cannot be generic: a Python type is one concrete Rust type, and `Wrapper<T>` names
//! no type until `T` is chosen. Declare one class per concrete type instead.
#[hpy::module]
mod m {
    #[hpy::class]
    struct Wrapper<T> {
        value: T,
    }
}

fn main() {}
