//! Inside `allow_threads` the interpreter is released: the context must not be used there, so
//! the closure cannot capture it (`Context` is neither `Send` nor `Sync`).
use hpy::{Context, Result};

fn name_without_gil(ctx: Context<'_>) -> Result<usize> {
    ctx.allow_threads(move || Ok(ctx.name().len()))
}

fn main() {}
