//! A module has one init function (HPy's `HPy_mod_exec` slot): a second `#[hpy::init]` is an
//! error, not a silently ignored function.
#[hpy::module]
mod m {
    use hpy::{Context, Handle, Module, Result};

    #[hpy::init]
    fn first(_ctx: Context<'_>, m: &Handle<'_, Module>) -> Result<()> {
        m.setattr("A", 1)
    }

    #[hpy::init]
    fn second(_ctx: Context<'_>, m: &Handle<'_, Module>) -> Result<()> {
        m.setattr("B", 2)
    }
}

fn main() {}
