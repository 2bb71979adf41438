//! A `Global` is module state and must be a `static` (registered by `#[hpy::module]`):
//! `store` and `load` take `&'static self`, so a local `Global` cannot be used.
use hpy::{Context, Global, Result};

fn local_global(ctx: Context<'_>) -> Result<()> {
    let g = Global::new();
    g.store(ctx, &ctx.object(1)?);
    Ok(())
}

fn main() {}
