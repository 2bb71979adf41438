//! `to_str` borrows the string's UTF-8 buffer, which is owned by the object and kept alive by
//! the handle: the `&str` cannot outlive the handle it came from.
use hpy::{Context, Result};

fn dangling(ctx: Context<'_>) -> Result<usize> {
    let s: &str = {
        let h = ctx.str("temporary")?;
        h.to_str()?
    };
    Ok(s.len())
}

fn main() {}
