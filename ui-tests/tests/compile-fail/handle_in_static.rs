//! A handle cannot be kept in a `static`: handles are neither `Send` nor `Sync` (a static
//! `Mutex` needs its content to be `Send`), and they borrow the call's context besides.
//! Module state belongs in an `hpy::Global`.
use std::sync::Mutex;

use hpy::{Context, Handle, Result};

static CACHE: Mutex<Option<Handle<'static>>> = Mutex::new(None);

fn remember<'ctx>(ctx: Context<'ctx>) -> Result<()> {
    *CACHE.lock().unwrap() = Some(ctx.object(1)?);
    Ok(())
}

fn main() {}
