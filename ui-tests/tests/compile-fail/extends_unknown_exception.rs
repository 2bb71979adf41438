//! `extends = SomethingError` names neither a built-in exception nor an `#[hpy::exception]` of
//! the module (here a misspelt `ConfigError`), nor a class: the error says what an exception class may extend.
#[hpy::module]
mod m {
    #[hpy::exception]
    pub struct ConfigError;

    #[hpy::class(extends = ConfgError)]
    pub struct KeyMissing {
        key: String,
    }
}

fn main() {}
