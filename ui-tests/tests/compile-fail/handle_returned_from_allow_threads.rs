//! A handle moved into `allow_threads` and returned out of it would be used while the
//! interpreter is released: the closure and its result must hold no Python object.
use hpy::{Context, Handle, Result};

fn roundtrip<'ctx>(ctx: Context<'ctx>) -> Result<Handle<'ctx>> {
    let h = ctx.object(1)?;
    Ok(ctx.allow_threads(move || h))
}

fn main() {}
