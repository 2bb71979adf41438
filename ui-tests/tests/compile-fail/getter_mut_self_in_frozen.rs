//! A `#[getter]` of a `frozen` class cannot take `&mut self`: frozen objects are never
//! borrowed mutably (a getter that counts reads needs an atomic field instead).
#[hpy::module]
mod m {
    #[hpy::class(frozen)]
    struct Sensor {
        reads: u64,
    }

    #[hpy::methods]
    impl Sensor {
        #[getter]
        fn reads(&mut self) -> u64 {
            self.reads += 1;
            self.reads
        }
    }
}

fn main() {}
