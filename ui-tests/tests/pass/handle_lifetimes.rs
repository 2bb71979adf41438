//! The correct forms of the mistakes in `compile-fail/`: duplicating a handle to return it,
//! returning an argument, using a `&str` while its handle lives, keeping state in a `Global`,
//! and releasing the interpreter with a closure that captures only owned Rust data.
#![forbid(unsafe_code)]

use hpy::{Borrowed, Context, Global, Handle, NoneType, Result, Unicode};

/// `clone()` duplicates (`HPy_Dup`): both handles are owned and closed independently.
fn duplicate<'ctx>(ctx: Context<'ctx>) -> Result<(Handle<'ctx>, Handle<'ctx>)> {
    let h = ctx.object(1)?;
    let dup = h.clone();
    Ok((h, dup))
}

/// A borrowed argument becomes an owned handle with `to_owned`.
fn own_argument<'ctx>(arg: Borrowed<'_, 'ctx>) -> Handle<'ctx> {
    arg.to_owned()
}

/// `&str` is used (and copied out) while its handle is alive.
fn length(ctx: Context<'_>) -> Result<usize> {
    let h: Handle<'_, Unicode> = ctx.str("hello")?;
    let s: &str = h.to_str()?;
    let owned: String = s.to_owned();
    drop(h);
    Ok(owned.len())
}

/// A handle outlives the call only as a `Global`.
static CACHE: Global = Global::new();

fn cache<'ctx>(ctx: Context<'ctx>) -> Result<Handle<'ctx>> {
    if let Some(h) = CACHE.load(ctx) {
        return Ok(h);
    }
    let h = ctx.object("computed once")?;
    CACHE.store(ctx, &h);
    Ok(h)
}

/// The closure owns plain Rust data (copied out of Python objects first) and returns Rust data.
fn sum_without_gil(ctx: Context<'_>, obj: &Handle<'_>) -> Result<u64> {
    let values: Vec<u64> = obj.extract()?;
    let total = ctx.allow_threads(move || values.iter().sum::<u64>());
    Ok(total)
}

/// An `hpy::Error` is plain Rust data: it can be made inside `allow_threads` and raised after.
fn fail_without_gil(ctx: Context<'_>) -> Result<()> {
    ctx.allow_threads(|| Err(hpy::exceptions::ValueError::new_err("made without the GIL")))
}

/// Context constants are borrowed for the whole call.
fn none<'ctx>(ctx: Context<'ctx>) -> Borrowed<'ctx, 'ctx, NoneType> {
    ctx.none()
}

/// Typed handles: checked downcasts borrow, `downcast_into` consumes.
fn typed<'ctx>(obj: Handle<'ctx>) -> Result<Handle<'ctx, Unicode>> {
    let _len = obj.downcast::<Unicode>()?.to_str()?.len();
    obj.downcast_into::<Unicode>()
}

fn main() {
    // Only type-checked: there is no interpreter here.
    let _ = (duplicate, own_argument, length, cache, sum_without_gil, fail_without_gil, none, typed);
}
