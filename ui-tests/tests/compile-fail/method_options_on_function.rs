//! `#[hpy(signature = ...)]` is the form for methods of `#[hpy::methods]`; on a module function
//! it would be ignored (the function would keep its positional-only signature), so it is an error
//! saying to write the options in `#[hpy::function(...)]`.
#[hpy::module]
mod m {
    #[hpy::function]
    #[hpy(signature = (text, *, sep = ","))]
    fn split(text: &str, sep: &str) -> Vec<String> {
        text.split(sep).map(String::from).collect()
    }
}

fn main() {}
