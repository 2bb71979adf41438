//! The context an `#[hpy::function]` receives lives only for the call: declaring it as
//! `Context<'static>` (to keep it, or handles made from it, past the call) must not compile.
#[hpy::module]
mod m {
    use hpy::{Context, Result};

    #[hpy::function]
    fn keep(ctx: Context<'static>) -> Result<()> {
        let _ = ctx;
        Ok(())
    }
}

fn main() {}
