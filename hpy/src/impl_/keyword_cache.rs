//! [`KeywordCache`]: a keyword function remembers which parameter each keyword of its last call
//! filled, keyed by the identity of that call's keyword-names tuple.
//!
//! A call from Python code passes its keyword names as a tuple that is a constant of the calling
//! code object, so every call from one call site passes the same tuple object. One identity test
//! (`HPy_Is`) then replaces, per keyword, an `HPy_GetItem_i` (which boxes the index and goes
//! through `PyObject_GetItem` in hpy 0.9), a UTF-8 view and a comparison of names. The cache
//! holds a reference to the tuple (an HPy global, listed in `HPyModuleDef.globals` by
//! `#[hpy::module]`), so its identity cannot pass to another object. Calls whose names come in a
//! new tuple every time (`f(**d)`, most calls from C, every call on PyPy, which builds the tuple
//! per call) miss, and are matched as usual (on PyPy without storing the new tuple: see
//! `KeywordCache::remember`).

use core::cell::UnsafeCell;

use crate::ffi;
use crate::handle::Borrowed;
use crate::kinds::Tuple;
use crate::{Context, Global};

/// How many keywords a call may pass for its layout to be remembered.
const CACHED_KEYWORDS: usize = 8;

/// How many names tuples a function's cache may store on PyPy, where each store leaks (see
/// [`KeywordCache::remember`]): enough for the layout changes of a program's warm-up.
const MAX_STORES_PYPY: u8 = 32;

/// A function's keyword cache (one `static` per keyword function or method).
pub struct KeywordCache {
    names: Global,
    map: UnsafeCell<KeywordMap>,
    /// How many tuples were stored in `names` (saturating).
    stores: UnsafeCell<u8>,
}

// SAFETY: the map and the store count are read and written only while a context is held (under
// the GIL on CPython), like the `Global` next to them.
unsafe impl Sync for KeywordCache {}

impl core::fmt::Debug for KeywordCache {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("KeywordCache")
    }
}

/// The parameter slot of each keyword, in the order of the names tuple, and which calls with
/// these names it serves.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct KeywordMap {
    /// The number of keywords, or [`KeywordMap::UNUSABLE`].
    len: u8,
    /// A call with these names whose positional arguments fill the slots `..p` (`p` is
    /// `min(nargs, number of positional parameters)`) binds every parameter once and gives every
    /// required one a value exactly when `min_positional <= p <= max_positional`.
    min_positional: u8,
    max_positional: u8,
    slots: [u8; CACHED_KEYWORDS],
}

impl KeywordMap {
    /// The length of a map that cannot serve a call: one that was not finished, had too many
    /// keywords, or sent some to `**kwargs`.
    const UNUSABLE: u8 = u8::MAX;
    pub(crate) const EMPTY: KeywordMap =
        KeywordMap { len: 0, min_positional: 0, max_positional: u8::MAX, slots: [0; CACHED_KEYWORDS] };

    /// Record that the next keyword fills `slot`.
    pub(crate) fn push(&mut self, slot: usize) {
        let len = self.len as usize;
        if len >= CACHED_KEYWORDS || slot >= Self::UNUSABLE as usize {
            self.len = Self::UNUSABLE;
        } else {
            self.slots[len] = slot as u8;
            self.len += 1;
            self.max_positional = self.max_positional.min(slot as u8);
        }
    }

    /// Record that a keyword went to `**kwargs`.
    pub(crate) fn push_extra(&mut self) {
        self.len = Self::UNUSABLE;
    }

    /// The keyword slots, if a call whose positional arguments fill `..positional` can use them.
    #[inline]
    pub(crate) fn slots_for(&self, positional: usize) -> Option<&[u8]> {
        let usable = self.len != Self::UNUSABLE
            && self.min_positional as usize <= positional
            && positional <= self.max_positional as usize;
        usable.then(|| &self.slots[..self.len as usize])
    }
}

impl KeywordCache {
    #[allow(clippy::new_without_default)] // used in `static` initialisers: must be const
    pub const fn new() -> Self {
        KeywordCache {
            names: Global::new(),
            map: UnsafeCell::new(KeywordMap { len: KeywordMap::UNUSABLE, ..KeywordMap::EMPTY }),
            stores: UnsafeCell::new(0),
        }
    }

    /// The address HPy needs in `HPyModuleDef.globals`.
    #[doc(hidden)]
    pub const fn as_raw_ptr(&'static self) -> *mut ffi::HPyGlobal {
        self.names.as_raw_ptr()
    }

    /// The remembered map, if `kwnames` is the names tuple it was made for.
    #[inline]
    pub(crate) fn lookup(&'static self, ctx: Context<'_>, kwnames: ffi::HPy) -> Option<KeywordMap> {
        // SAFETY: read while holding a context (see `Sync`).
        self.names.holds(ctx, kwnames).then(|| unsafe { *self.map.get() })
    }

    /// Remember `map`, made by a successful call with the names `kwnames`. `required` are the
    /// slots of the required positional parameters. (Required keyword-only parameters are among
    /// the map's slots, since the call succeeded.)
    #[cold]
    #[inline(never)]
    pub(crate) fn remember(&'static self, ctx: Context<'_>, kwnames: ffi::HPy, mut map: KeywordMap, required: usize) {
        if map.len == KeywordMap::UNUSABLE {
            return;
        }
        let keywords = &map.slots[..map.len as usize];
        // Positional arguments must fill the required slots that no keyword fills.
        let unfilled = (0..required).rev().find(|i| !keywords.contains(&(*i as u8)));
        map.min_positional = unfilled.map_or(0, |i| i as u8 + 1);
        // SAFETY: read and written while holding a context (see `Sync`).
        let (cached, stores) = unsafe { (*self.map.get(), *self.stores.get()) };
        // PyPy 7.3.19's HPyGlobal_Store opens a new handle to the stored object and never closes
        // the one it replaces, so every store leaks the tuple; and PyPy builds a new names tuple
        // for every call, so every keyword call misses and would store (+100 MB per 10^6 calls
        // of `f(a=1, b=2)`). There, a miss whose map equals the remembered one (the same names in
        // the same order: each slot is one parameter, matched by its name) keeps the stored
        // tuple, and a function stores at most MAX_STORES_PYPY tuples. On CPython a new tuple
        // with the same names is another call site, or `f(**d)`: stored, that site hits from its
        // next call on. (Only misses get here, and only ones with an equal map or past the
        // limit read the context's name.)
        if (map == cached || stores >= MAX_STORES_PYPY) && ctx.name().contains("PyPy") {
            return;
        }
        // SAFETY: as above.
        unsafe { *self.stores.get() = stores.saturating_add(1) };
        // Replacing the stored tuple may free the old one, and with it run Python code that calls
        // this function again: until the new map is written, lookups must miss.
        // SAFETY: written while holding a context (see `Sync`).
        unsafe { (*self.map.get()).len = KeywordMap::UNUSABLE };
        // SAFETY: `kwnames` is the call's names tuple, borrowed for the call.
        self.names.store(ctx, &*unsafe { Borrowed::<Tuple>::from_raw(ctx, kwnames) });
        // SAFETY: as above.
        unsafe { *self.map.get() = map };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(slots: &[usize]) -> KeywordMap {
        let mut m = KeywordMap::EMPTY;
        for &s in slots {
            m.push(s);
        }
        m
    }

    #[test]
    fn serves_calls_whose_positional_arguments_stop_before_the_first_keyword_slot() {
        let m = map(&[2, 1]);
        assert_eq!(m.slots_for(0), Some(&[2u8, 1][..]));
        assert_eq!(m.slots_for(1), Some(&[2u8, 1][..]));
        assert_eq!(m.slots_for(2), None, "slot 1 would get two values");
        let mut needs_one = m;
        needs_one.min_positional = 1;
        assert_eq!(needs_one.slots_for(0), None, "required slot 0 would be missing");
        assert!(needs_one.slots_for(1).is_some());
    }

    #[test]
    fn too_many_keywords_or_extras_are_not_cached() {
        assert_eq!(map(&[0, 1, 2, 3, 4, 5, 6, 7]).slots_for(0).map(<[u8]>::len), Some(8));
        assert_eq!(map(&[0, 1, 2, 3, 4, 5, 6, 7, 8]).slots_for(0), None);
        assert_eq!(map(&[300]).slots_for(0), None);
        let mut extra = map(&[0]);
        extra.push_extra();
        assert_eq!(extra.slots_for(0), None);
    }

    #[test]
    fn maps_of_the_same_names_are_equal_and_of_others_not() {
        // on PyPy, `remember` keeps the stored tuple when a miss made an equal map
        assert_eq!(map(&[0, 1]), map(&[0, 1]));
        assert_ne!(map(&[0, 1]), map(&[1, 0]));
        assert_ne!(map(&[0]), map(&[0, 1]));
    }
}
