//! `set` and `frozenset`: the kinds [`Set`] and [`FrozenSet`], their methods, and the
//! conversions of `HashSet<T, S>` and `BTreeSet<T>`.
//!
//! ```
//! # #[hpy::module] mod m {
//! use std::collections::BTreeSet;
//! use hpy::{Handle, Result, Set};
//!
//! /// The words of both sets, sorted (`set` or `frozenset` of `str` in, `set` out).
//! #[hpy::function]
//! fn union(a: BTreeSet<String>, b: BTreeSet<String>) -> BTreeSet<String> {
//!     a.union(&b).cloned().collect()
//! }
//!
//! /// Add `word` to a Python set, in place (`seen.add(word)`).
//! #[hpy::function]
//! fn remember(seen: &Handle<'_, Set>, word: &str) -> Result<()> {
//!     seen.insert(word)
//! }
//! # }
//! # fn main() {}
//! ```
//!
//! HPy 0.9 has no set API: sets are made and changed through the `set` and `frozenset` types of
//! the builtins namespace and their methods, each one Python call (`set(list)` for a whole Rust
//! set, not one call per item).
//!
//! `HashSet<T>` and `BTreeSet<T>` are extracted from a `set` or a `frozenset` (or a subclass)
//! only, as in PyO3: from a list, duplicates would vanish without a word. Take a `Vec<T>` and
//! collect it to accept any sequence. They convert to a `set`.

use std::collections::{BTreeSet, HashSet};
use std::hash::{BuildHasher, Hash};

use crate::conversion::{FromHPy, FromHPyOwned, IntoHPy};
use crate::handle::Handle;
use crate::kinds::{builtin, Any, FrozenSet, Set, Tuple};
use crate::{Context, Error, Result};

impl<'ctx> Handle<'ctx, Set> {
    /// `set.add(item)` (TypeError for an unhashable item). Named as `HashSet::insert`: `add`
    /// is every handle's `+`.
    pub fn insert(&self, item: impl IntoHPy<'ctx>) -> Result<()> {
        self.call_method("add", (item,)).map(drop)
    }

    /// `set.discard(item)`: remove `item` if present; no error if it is not.
    pub fn discard(&self, item: impl IntoHPy<'ctx>) -> Result<()> {
        self.call_method("discard", (item,)).map(drop)
    }

    /// `set.clear()`.
    pub fn clear(&self) -> Result<()> {
        self.call_method("clear", ()).map(drop)
    }

    /// `set.pop()`: remove and return an arbitrary item; `None` if the set is empty.
    pub fn pop(&self) -> Result<Option<Handle<'ctx>>> {
        if self.is_empty()? {
            return Ok(None);
        }
        self.call_method("pop", ()).map(Some)
    }
}

impl<'ctx> Context<'ctx> {
    /// A new empty `set`.
    pub fn set(self) -> Result<Handle<'ctx, Set>> {
        // SAFETY: `set()` returns a set.
        Ok(unsafe { builtin(self, c"set")?.call0()?.cast_into_unchecked() })
    }

    /// `set(iterable)`: a new `set` of the items of any iterable.
    pub fn set_from<K>(self, iterable: &Handle<'ctx, K>) -> Result<Handle<'ctx, Set>> {
        // `set` may have been replaced in the builtins namespace: check what came back.
        builtin(self, c"set")?.call1(iterable)?.downcast_into()
    }

    /// `frozenset(iterable)`: a new `frozenset` of the items of any iterable.
    pub fn frozenset_from<K>(self, iterable: &Handle<'ctx, K>) -> Result<Handle<'ctx, FrozenSet>> {
        builtin(self, c"frozenset")?.call1(iterable)?.downcast_into()
    }
}

/// The items of a `set` or `frozenset` (or a subclass), as the tuple `tuple(obj)`: one Python
/// call, then the items are read by index (not one `next` call per item). A set changed while
/// its items are converted (Python code in `__index__`, ...) does not change the snapshot.
fn set_items<'ctx>(obj: &Handle<'ctx>) -> Result<Handle<'ctx, Tuple>> {
    if !obj.is_kind::<Set>() && !obj.is_kind::<FrozenSet>() {
        return Err(Error::wrong_type("set or frozenset", obj));
    }
    let ctx = obj.ctx();
    // SAFETY: `tuple(x)` returns a tuple.
    Ok(unsafe { ctx.tuple_type().call1(obj)?.cast_into_unchecked() })
}

/// Convert every item of `tuple` and give it to `insert`; errors name no item index (a set has
/// no order), but say which item failed.
fn extract_each<'ctx, T: FromHPyOwned<'ctx>>(tuple: &Handle<'ctx, Tuple>, mut insert: impl FnMut(T)) -> Result<()> {
    for i in 0..tuple.len()? {
        let item = tuple.get_index(i)?;
        let value = T::from_hpy(&item).map_err(|e| e.in_part(format_args!("set item {item:?}")))?;
        insert(value);
    }
    Ok(())
}

/// A `set` of the converted items: the items go into a list (one HPy builder), and `set(list)`
/// is one Python call.
fn set_of<'ctx, T: IntoHPy<'ctx>, I>(ctx: Context<'ctx>, items: I) -> Result<Handle<'ctx>>
where
    I: IntoIterator<Item = T>,
    I::IntoIter: ExactSizeIterator,
{
    let list = crate::types::list_from_exact_iter(ctx, items.into_iter().map(|item| item.into_hpy(ctx)))?;
    Ok(ctx.set_from(&list)?.into_any())
}

impl<'a, 'ctx, T, S> FromHPy<'a, 'ctx> for HashSet<T, S>
where
    T: FromHPyOwned<'ctx> + Hash + Eq,
    S: BuildHasher + Default,
{
    /// From a `set` or `frozenset` (or a subclass); TypeError for anything else.
    fn from_hpy(obj: &'a Handle<'ctx, Any>) -> Result<Self> {
        let tuple = set_items(obj)?;
        let mut out = HashSet::with_capacity_and_hasher(tuple.len()?, S::default());
        extract_each(&tuple, |v| {
            out.insert(v);
        })?;
        Ok(out)
    }
}

impl<'a, 'ctx, T> FromHPy<'a, 'ctx> for BTreeSet<T>
where
    T: FromHPyOwned<'ctx> + Ord,
{
    /// From a `set` or `frozenset` (or a subclass); TypeError for anything else.
    fn from_hpy(obj: &'a Handle<'ctx, Any>) -> Result<Self> {
        let tuple = set_items(obj)?;
        let mut out = BTreeSet::new();
        extract_each(&tuple, |v| {
            out.insert(v);
        })?;
        Ok(out)
    }
}

impl<'ctx, T: IntoHPy<'ctx>, S> IntoHPy<'ctx> for HashSet<T, S> {
    /// A `set`.
    fn into_hpy(self, ctx: Context<'ctx>) -> Result<Handle<'ctx>> {
        set_of(ctx, self)
    }
}

impl<'ctx, T: IntoHPy<'ctx>> IntoHPy<'ctx> for BTreeSet<T> {
    /// A `set`.
    fn into_hpy(self, ctx: Context<'ctx>) -> Result<Handle<'ctx>> {
        set_of(ctx, self)
    }
}
