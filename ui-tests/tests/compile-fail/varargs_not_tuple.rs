//! `*args` arrives as the tuple of extra arguments, `&Handle<'_, Tuple>`: declaring it as a
//! `Vec<i64>` is an error that says to convert the tuple in the body.
#[hpy::module]
mod m {
    #[hpy::function(signature = (*args))]
    fn total(args: Vec<i64>) -> i64 {
        args.iter().sum()
    }
}

fn main() {}
