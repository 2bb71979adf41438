//! A handle made during a call cannot be smuggled out of it: `Handle<'ctx>` borrows the call's
//! `Context<'ctx>`, so storing one made in a closure into a slot that expects
//! `Handle<'static>` must be rejected (the handle would be closed after its context is gone).
use hpy::{Context, Handle, Result};

fn keep<'ctx>(ctx: Context<'ctx>, saved: &mut Option<Handle<'static>>) -> Result<()> {
    let make = || ctx.object(42);
    *saved = Some(make()?);
    Ok(())
}

fn main() {}
