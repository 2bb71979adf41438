//! A handle cannot be kept in a `thread_local!` between calls: it borrows the call's
//! `Context<'ctx>`, and a thread-local outlives every call (it needs `Handle<'static>`).
use std::cell::RefCell;

use hpy::{Context, Handle, Result};

thread_local! {
    static LAST: RefCell<Option<Handle<'static>>> = const { RefCell::new(None) };
}

fn remember<'ctx>(ctx: Context<'ctx>) -> Result<()> {
    let h = ctx.object(1)?;
    LAST.with(|last| *last.borrow_mut() = Some(h));
    Ok(())
}

fn main() {}
