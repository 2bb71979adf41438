//! The value of an `#[hpy::constant]` becomes a Python object at import: its type must
//! implement `hpy::IntoHPy`.
#[hpy::module]
mod m {
    pub struct Settings;

    #[hpy::constant]
    pub const DEFAULTS: Settings = Settings;
}

fn main() {}
