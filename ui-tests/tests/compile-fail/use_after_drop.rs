//! Dropping a `Handle` closes it (`HPy_Close`); using it afterwards would be a use of a closed
//! handle. `drop` takes the handle by value, so any later use is a use of a moved value.
use hpy::{Context, Result};

fn use_closed(ctx: Context<'_>) -> Result<()> {
    let h = ctx.object(1)?;
    drop(h);
    let _ = h.repr()?;
    Ok(())
}

fn main() {}
