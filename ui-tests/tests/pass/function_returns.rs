//! What an `#[hpy::function]` may return: borrowed arguments (converted before the arguments are
//! released), duplicated argument handles, new handles, `Result` with an error that converts into
//! `hpy::Error`, and `()`.
#![forbid(unsafe_code)]

#[hpy::module]
mod returns {
    use hpy::{Context, Handle, Result};

    /// The `&str` borrows the argument; it is converted to a new `str` while the argument lives.
    #[hpy::function]
    fn echo(s: &str) -> &str {
        s
    }

    /// A reference to an argument handle is returned as a new (duplicated) handle.
    #[hpy::function]
    fn same<'a, 'ctx>(obj: &'a Handle<'ctx>) -> &'a Handle<'ctx> {
        obj
    }

    /// A handle cloned from an argument and returned.
    #[hpy::function]
    fn dup<'ctx>(obj: &Handle<'ctx>) -> Handle<'ctx> {
        obj.clone()
    }

    #[hpy::function]
    fn first<'ctx>(ctx: Context<'ctx>, s: &str) -> Result<Handle<'ctx>> {
        ctx.object(s.chars().next().map(String::from))
    }

    pub struct MyError(String);

    impl From<MyError> for hpy::Error {
        fn from(e: MyError) -> Self {
            hpy::exceptions::ValueError::new_err(e.0)
        }
    }

    #[hpy::function]
    fn parse(text: &str) -> std::result::Result<i64, MyError> {
        text.trim().parse().map_err(|_| MyError(format!("not an int: {text:?}")))
    }

    #[hpy::function]
    fn unit() {}
}

fn main() {}
