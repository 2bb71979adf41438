//! `Vec<&str>` cannot be a parameter: each item is a temporary handle fetched from the sequence
//! and closed right after conversion, so a `&str` borrowing it would dangle. Collections need
//! item types that own their data (`Vec<String>`), i.e. `FromHPyOwned`: the macro says so at
//! the `&str` (rustc alone would only say "`FromHPy` is not general enough").
#[hpy::module]
mod m {
    #[hpy::function]
    fn join(words: Vec<&str>) -> String {
        words.join(" ")
    }
}

fn main() {}
