//! A misspelt class option must be an error, not silently ignored (`frozn` would leave the
//! class mutable): the message lists the known options.
#[hpy::module]
mod m {
    #[hpy::class(frozn)]
    struct Vector {
        x: f64,
    }
}

fn main() {}
