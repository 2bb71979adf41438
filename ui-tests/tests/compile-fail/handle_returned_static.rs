//! A function given `Context<'ctx>` cannot return a `Handle<'static>`: the handle's lifetime is
//! the call's, and claiming `'static` would let it outlive the context it must be closed with.
use hpy::{Context, Handle, Result};

fn leak<'ctx>(ctx: Context<'ctx>) -> Result<Handle<'static>> {
    ctx.object("escaped")
}

fn main() {}
