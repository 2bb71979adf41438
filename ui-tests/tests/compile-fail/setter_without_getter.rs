//! A property that can be written but not read (`#[setter]` without `#[getter]`) is almost
//! certainly a mistake (a misspelt getter name): an error naming the property.
#[hpy::module]
mod m {
    #[hpy::class]
    struct Temperature {
        kelvin: f64,
    }

    #[hpy::methods]
    impl Temperature {
        #[getter]
        fn kelvin(&self) -> f64 {
            self.kelvin
        }

        #[setter]
        fn set_celsius(&mut self, value: f64) {
            self.kelvin = value + 273.15;
        }
    }
}

fn main() {}
