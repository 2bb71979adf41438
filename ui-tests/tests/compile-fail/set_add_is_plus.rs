//! On a `Handle<'_, Set>`, `add` is every handle's `+` (`obj + other`, a new object), not
//! `set.add`: adding an item is `insert` (as for Rust's `HashSet`). Here the result of `+` is
//! returned where `()` is expected.
#[hpy::module]
mod m {
    use hpy::{Handle, Result, Set};

    #[hpy::function]
    fn remember(seen: &Handle<'_, Set>, word: &str) -> Result<()> {
        seen.add(word)
    }
}

fn main() {}
