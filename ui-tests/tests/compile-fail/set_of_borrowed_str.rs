//! `HashSet<&str>` cannot be a parameter: the items of a set are read from a temporary snapshot
//! (`tuple(s)`) whose handles are closed after conversion, so a `&str` borrowing one would
//! dangle. Take a `HashSet<String>`: set items must own their data (`FromHPyOwned`).
#[hpy::module]
mod m {
    #[hpy::function]
    fn count(words: std::collections::HashSet<&str>) -> usize {
        words.len()
    }
}

fn main() {}
