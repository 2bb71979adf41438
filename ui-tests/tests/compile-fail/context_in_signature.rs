//! The `Context` parameter is the call's context, not a Python parameter: it cannot appear in
//! `signature = (...)` (here with a default).
#[hpy::module]
mod m {
    #[hpy::function(signature = (ctx = None, x = 1))]
    fn f(ctx: hpy::Context<'_>, x: i64) -> i64 {
        let _ = ctx;
        x
    }
}

fn main() {}
