//! Slices: the kind [`Slice`], its bounds ([`SliceBounds`]), resolved against a length
//! ([`SliceIndices`]), and [`SliceOrIndex`], the key of a sequence's `__getitem__`,
//! `__setitem__` and `__delitem__`.
//!
//! ```
//! # #[hpy::module] mod m {
//! use hpy::exceptions::IndexError;
//! use hpy::{Context, Handle, IntoHPy, Result, SliceOrIndex};
//!
//! #[hpy::class]
//! struct Squares { n: usize }
//!
//! #[hpy::methods]
//! impl Squares {
//!     /// `squares[3]`, `squares[-1]`, `squares[1:10:2]`, `squares[::-1]`.
//!     fn __getitem__<'ctx>(&self, ctx: Context<'ctx>, key: SliceOrIndex) -> Result<Handle<'ctx>> {
//!         match key {
//!             SliceOrIndex::Index(i) => {
//!                 let i = SliceOrIndex::resolve_index(i, self.n)
//!                     .ok_or_else(|| IndexError::new_err("Squares index out of range"))?;
//!                 (i * i).into_hpy(ctx)
//!             }
//!             SliceOrIndex::Slice(s) => s.indices(self.n).iter().map(|i| i * i).collect::<Vec<_>>().into_hpy(ctx),
//!         }
//!     }
//! }
//! # }
//! # fn main() {}
//! ```
//!
//! A slice is read with HPy's `HPySlice_Unpack` (CPython's `PySlice_Unpack`: `None` bounds,
//! `__index__`, clamping to the `isize` range, ValueError for a zero step) and resolved against a
//! length with Python's own rules (`slice.indices(len)`, `PySlice_AdjustIndices`: negative
//! bounds count from the end, out-of-range bounds are clamped, negative steps go backwards).

use crate::conversion::FromHPy;
use crate::exceptions::TypeError;
use crate::ffi;
use crate::handle::Handle;
use crate::kinds::{Any, Long, Slice};
use crate::{Error, Result};

/// The bounds of a Python `slice`, before they are resolved against a length: what
/// `HPySlice_Unpack` reads. Extract one from a `slice` object (TypeError for anything else);
/// [`indices`](Self::indices) resolves it.
///
/// Missing bounds are filled in as CPython does (`start` 0 or `isize::MAX`, `stop` `isize::MAX`
/// or `isize::MIN` by the step's sign), and bounds beyond the `isize` range are clamped to it, so
/// `obj[10**100:]` works. The step is never 0 (ValueError) and never below `-isize::MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SliceBounds {
    start: isize,
    stop: isize,
    step: isize,
}

/// A slice resolved against a sequence of some length: the result of `slice.indices(len)`, plus
/// how many items it selects.
///
/// `start + k * step` for `k` in `0..len` are the selected positions, all in `0..length` (see
/// [`iter`](Self::iter)). `stop` may be `-1` for a backward slice that runs to the front.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SliceIndices {
    /// The first position.
    pub start: isize,
    /// One past the last position, in the direction of `step`.
    pub stop: isize,
    /// The step; never 0.
    pub step: isize,
    /// How many positions the slice selects (`len(range(start, stop, step))`).
    pub len: usize,
}

impl SliceBounds {
    /// The start, as filled in and clamped (see the type's docs).
    pub fn start(&self) -> isize {
        self.start
    }

    /// The stop, as filled in and clamped.
    pub fn stop(&self) -> isize {
        self.stop
    }

    /// The step (never 0).
    pub fn step(&self) -> isize {
        self.step
    }

    /// Resolve against a sequence of `length` items, as Python's `slice.indices(length)`.
    pub fn indices(&self, length: usize) -> SliceIndices {
        // A Rust collection never holds more than `isize::MAX` items (of nonzero size).
        let length = isize::try_from(length).unwrap_or(isize::MAX);
        let step = self.step;
        // CPython's PySlice_AdjustIndices.
        let adjust = |bound: isize| -> isize {
            if bound < 0 {
                let b = bound + length; // no overflow: bound < 0 <= length
                if b < 0 {
                    if step < 0 {
                        -1
                    } else {
                        0
                    }
                } else {
                    b
                }
            } else if bound >= length {
                if step < 0 {
                    length - 1
                } else {
                    length
                }
            } else {
                bound
            }
        };
        let (start, stop) = (adjust(self.start), adjust(self.stop));
        // `start` and `stop` are in `-1..=length` now: the differences cannot overflow, and
        // `-step` cannot either (the step is at least `-isize::MAX`).
        let len = if step < 0 {
            if stop < start {
                (start - stop - 1) / (-step) + 1
            } else {
                0
            }
        } else if start < stop {
            (stop - start - 1) / step + 1
        } else {
            0
        };
        SliceIndices { start, stop, step, len: len as usize }
    }
}

impl SliceIndices {
    /// The selected positions, in slice order (backwards for a negative step).
    pub fn iter(&self) -> impl ExactSizeIterator<Item = usize> + DoubleEndedIterator + 'static {
        let SliceIndices { start, step, len, .. } = *self;
        // Every `start + k * step` for `k < len` is in `0..length`, so none overflows.
        (0..len).map(move |k| (start + k as isize * step) as usize)
    }

    /// Is this a plain `start:stop` range (step 1)? Assignment to it may change the length of
    /// the sequence; to an extended slice, only a value of the same length may be assigned.
    pub fn is_contiguous(&self) -> bool {
        self.step == 1
    }
}

impl<'ctx> Handle<'ctx, Slice> {
    /// The bounds of this slice (see [`SliceBounds`]): TypeError for bounds that are not
    /// integers, `None` or objects with `__index__`; ValueError for a zero step.
    pub fn bounds(&self) -> Result<SliceBounds> {
        let (mut start, mut stop, mut step) = (0, 0, 0);
        // SAFETY: live context, an open slice handle (the kind guarantees it), writable pointers.
        let rc = unsafe { ffi::HPySlice_Unpack(self.ctx().as_ptr(), self.as_raw(), &mut start, &mut stop, &mut step) };
        if rc < 0 {
            return Err(Error::pending());
        }
        Ok(SliceBounds { start, stop, step })
    }

    /// `slice.indices(length)`, with the number of positions selected.
    pub fn indices(&self, length: usize) -> Result<SliceIndices> {
        Ok(self.bounds()?.indices(length))
    }
}

impl<'a, 'ctx> FromHPy<'a, 'ctx> for SliceBounds {
    /// From a `slice`; TypeError for anything else.
    fn from_hpy(obj: &'a Handle<'ctx, Any>) -> Result<Self> {
        obj.downcast::<Slice>()?.bounds()
    }
}

/// The key of a sequence's `__getitem__`, `__setitem__` or `__delitem__`: an integer (anything
/// with `__index__`, as `list` accepts) or a slice.
///
/// Anything else is a TypeError: "indices must be integers or slices, not str", as `list`'s.
///
/// As the key of `__getitem__` it makes a class a sequence, as an integer key does: Python
/// iterates it by index (`for`, `list(obj)`, `in` without `__contains__`: `Index(0)`,
/// `Index(1)`, ... until the method raises IndexError).
///
/// Negative indices: `obj[-1]` (and `obj.__getitem__(-1)`) reaches the method as `Index(-1)`,
/// on every runtime, to be resolved with [`resolve_index`](Self::resolve_index). C code reading
/// the sequence slot (`PySequence_GetItem(obj, -1)`) has CPython add `len(obj)` first, for a class
/// with `__len__`, as for every type: the method gets `Index(len - 1)`, the same item. An index
/// still negative after that was out of range: it reaches the method as the caller wrote it,
/// so it is refused as `obj[i]` is, not counted from the end a second time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SliceOrIndex {
    /// `obj[i]`; a negative index counts from the end (see [`resolve_index`](Self::resolve_index)).
    Index(isize),
    /// `obj[start:stop:step]`; resolve it with [`SliceBounds::indices`].
    Slice(SliceBounds),
}

impl SliceOrIndex {
    /// The position of the Python index `index` in a sequence of `length` items (a negative
    /// index counts from the end), or `None` if it is out of range (an IndexError, for a
    /// sequence).
    #[inline]
    pub fn resolve_index(index: isize, length: usize) -> Option<usize> {
        let length = isize::try_from(length).unwrap_or(isize::MAX);
        let i = if index < 0 { index.checked_add(length)? } else { index };
        (0..length).contains(&i).then_some(i as usize)
    }
}

impl<'a, 'ctx> FromHPy<'a, 'ctx> for SliceOrIndex {
    fn from_hpy(obj: &'a Handle<'ctx, Any>) -> Result<Self> {
        if obj.is_kind::<Slice>() {
            return obj.downcast::<Slice>()?.bounds().map(SliceOrIndex::Slice);
        }
        if !obj.is_kind::<Long>() && !obj.get_type().hasattr("__index__")? {
            return Err(TypeError::new_err(format!(
                "indices must be integers or slices, not {}",
                crate::err::type_name(obj)
            )));
        }
        // An index too large for `isize` is out of range for every sequence; Python's `list`
        // says IndexError ("cannot fit 'int' into an index-sized integer").
        isize::from_hpy(obj).map(SliceOrIndex::Index).map_err(|e| {
            if e.matches(obj.ctx(), crate::exceptions::OverflowError::TYPE) {
                e.clear(obj.ctx());
                crate::exceptions::IndexError::new_err("cannot fit 'int' into an index-sized integer")
            } else {
                e
            }
        })
    }
}
