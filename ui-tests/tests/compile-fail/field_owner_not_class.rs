//! A `Field` is written through the object that owns it, and only instances of a
//! `#[hpy::class]` can own fields: passing an arbitrary object (`Handle<'_, Any>`, which does
//! not implement `Class`) as the owner must not compile.
use hpy::{Field, Handle, Result};

fn keep<'ctx>(field: &Field, owner: &Handle<'ctx>, value: &Handle<'ctx>) -> Result<()> {
    field.store(owner, value)
}

fn main() {}
