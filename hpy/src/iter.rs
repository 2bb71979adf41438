//! Iterating a Python iterable from Rust: [`Handle::iter`] and [`Iter`].
//!
//! ```
//! # #[hpy::module] mod m {
//! use hpy::{Handle, Result};
//!
//! /// The sum of any iterable of floats: a list, a generator, a set, a NumPy array ...
//! #[hpy::function]
//! fn total(xs: &Handle<'_>) -> Result<f64> {
//!     let mut sum = 0.0;
//!     for item in xs.iter()? {
//!         sum += item?.extract::<f64>()?;
//!     }
//!     Ok(sum)
//! }
//! # }
//! # fn main() {}
//! ```
//!
//! HPy 0.9 has no iterator API: the iterator is `iter(obj)`, and each step calls the builtin
//! `next(iterator, end)` with an object of our own as the end marker, so exhaustion costs no
//! StopIteration exception.

use crate::handle::Handle;
use crate::kinds::Any;
use crate::{Context, Result};

/// The items of a Python iterable, as `Result<Handle>`: what a `for` loop in Python sees.
///
/// An error (raised by the iterator's `__next__`) is yielded once, and ends the iteration.
/// Made by [`Handle::iter`]; like every handle, it cannot outlive its call.
pub struct Iter<'ctx> {
    iterator: Handle<'ctx>,
    next: Handle<'ctx>,
    /// `next(iterator, end)` returns `end` when the iterator is exhausted: a new object that the
    /// iterator never saw, so it cannot be an item.
    end: Handle<'ctx>,
    done: bool,
}

impl<'ctx, K> Handle<'ctx, K> {
    /// `iter(obj)`: iterate any iterable (list, tuple, set, dict keys, generator, file, ...).
    /// TypeError ("'int' object is not iterable") if `obj` is not iterable.
    pub fn iter(&self) -> Result<Iter<'ctx>> {
        Iter::new(self.as_any())
    }
}

impl<'ctx> Iter<'ctx> {
    fn new(obj: &Handle<'ctx, Any>) -> Result<Self> {
        let ctx: Context<'ctx> = obj.ctx();
        let builtins = ctx.builtins();
        let iterator = builtins.get_item("iter")?.call1(obj)?;
        let next = builtins.get_item("next")?;
        let end = ctx.list()?.into_any();
        Ok(Iter { iterator, next, end, done: false })
    }

    /// The Python iterator object itself (`iter(obj)`).
    pub fn as_handle(&self) -> &Handle<'ctx> {
        &self.iterator
    }
}

impl<'ctx> Iterator for Iter<'ctx> {
    type Item = Result<Handle<'ctx>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next.call((&self.iterator, &self.end)) {
            Ok(item) if item.is(&self.end) => {
                self.done = true;
                None
            }
            Ok(item) => Some(Ok(item)),
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

impl core::iter::FusedIterator for Iter<'_> {}
