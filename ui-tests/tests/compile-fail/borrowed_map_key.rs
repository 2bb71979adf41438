//! Like `Vec<&str>`, a map whose keys are `&str` cannot be a parameter (not even inside an
//! `Option`): each key is converted from a temporary handle released before the call. The
//! macro names the owned type to use.
#[hpy::module]
mod m {
    #[hpy::function]
    fn total(counts: Option<std::collections::HashMap<&str, i64>>) -> i64 {
        counts.map_or(0, |c| c.values().sum())
    }
}

fn main() {}
