//! A `Field` must be a direct field of the class: the generated traverse slot reports only
//! direct fields to the garbage collector, so one hidden in an `Option` (or a `Vec`, an array,
//! another struct) would never be traced, and could leak or dangle.
#[hpy::module]
mod m {
    use hpy::Field;

    #[hpy::class]
    struct Holder {
        maybe: Option<Field>,
    }
}

fn main() {}
