//! The other operand of a binary operator is converted to the type of the method's parameter: a
//! type that does not convert from a Python object is an error naming `FromHPy`, at that type.
#[hpy::module]
mod m {
    pub struct Meters(pub f64);

    #[hpy::class]
    struct Length {
        m: f64,
    }

    #[hpy::methods]
    impl Length {
        fn __add__(&self, other: Meters) -> Length {
            Length { m: self.m + other.0 }
        }
    }
}

fn main() {}
