//! `**kwargs` arrives as `Option<&Handle<'_, Dict>>` (`None` when no extra keyword was
//! passed): declaring it as a map is an error that says so.
#[hpy::module]
mod m {
    #[hpy::function(signature = (**kwargs))]
    fn count(kwargs: std::collections::HashMap<String, i64>) -> usize {
        kwargs.len()
    }
}

fn main() {}
