//! HPy 0.9 can only extend built-in types whose layout it knows (`int`, `float`, `str`,
//! `tuple`, `list`, `type`); `extends = dict` is an error listing them, not a type with a
//! corrupt layout.
#[hpy::module]
mod m {
    #[hpy::class(extends = dict)]
    struct Registry {
        count: usize,
    }
}

fn main() {}
