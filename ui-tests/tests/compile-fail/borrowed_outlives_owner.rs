//! A `Borrowed` handle made with `as_borrowed` lends the owned handle: it cannot outlive the
//! `Handle` it borrows (which closes the object reference on drop).
use hpy::{Borrowed, Context, Result};

fn dangling<'ctx>(ctx: Context<'ctx>) -> Result<()> {
    let b: Borrowed<'_, 'ctx> = {
        let h = ctx.object(1)?;
        h.as_borrowed()
    };
    let _ = b.repr()?;
    Ok(())
}

fn main() {}
