//! `allow_threads` releases the interpreter (the GIL): a handle cannot be used until it is
//! re-entered, so the closure may not capture one (`Handle` is not `Sync`, `&Handle` not `Send`).
use hpy::{Context, Result};

fn sum_without_gil<'ctx>(ctx: Context<'ctx>) -> Result<i64> {
    let h = ctx.object(41)?;
    ctx.allow_threads(|| h.extract::<i64>().map(|n| n + 1))
}

fn main() {}
