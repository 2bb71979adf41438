//! A module attribute has one value: a constant and a function of the same Python name would
//! replace each other at import.
#[hpy::module]
mod m {
    #[hpy::function]
    fn version() -> i64 {
        1
    }

    #[hpy::constant(name = "version")]
    pub const VERSION: &str = "1.0";
}

fn main() {}
