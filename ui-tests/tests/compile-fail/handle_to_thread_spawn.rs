//! A handle cannot be moved to another thread: it is only valid on the calling thread, inside
//! the call (and with the interpreter held), so `Handle` is not `Send`.
use hpy::{Context, Result};

fn spawn_with_handle<'ctx>(ctx: Context<'ctx>) -> Result<()> {
    let h = ctx.object(1)?;
    std::thread::spawn(move || drop(h));
    Ok(())
}

fn main() {}
