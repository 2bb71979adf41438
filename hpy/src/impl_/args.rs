//! Argument parsing for generated functions: positional, keyword, keyword-only, defaulted,
//! `*args` and `**kwargs`, with CPython's error messages, and without allocating (keyword names
//! are compared as borrowed UTF-8, and a function's last keyword layout is remembered: see
//! [`KeywordCache`]).

use core::mem::ManuallyDrop;

use crate::exceptions::TypeError;
use crate::ffi;
use crate::handle::{Borrowed, Handle};
use crate::impl_::keyword_cache::{KeywordCache, KeywordMap};
use crate::kinds::{Dict, Tuple};
use crate::{Context, Error, FromHPy, Result};

/// The Python-visible shape of a function's parameters.
#[derive(Debug)]
pub struct FunctionDescription {
    /// The function's name, for messages.
    pub name: &'static str,
    /// Parameters that can be passed by position, in order.
    pub positional: &'static [&'static str],
    /// How many of `positional` are positional-only (before `/`).
    pub positional_only: usize,
    /// How many leading `positional` parameters are required (have no default).
    pub required_positional: usize,
    /// Keyword-only parameters, with whether each is required.
    pub keyword_only: &'static [(&'static str, bool)],
    /// Accepts `*args`.
    pub varargs: bool,
    /// Accepts `**kwargs`.
    pub kwargs: bool,
    /// Where the keywords of the last keyword call went (keyword functions and methods; `None`
    /// where the names come in a fresh tuple every time, as for `__new__`).
    pub keyword_cache: Option<&'static KeywordCache>,
}

/// The parsed arguments of one call: a slot per parameter (positional first, then keyword-only),
/// plus `*args` and `**kwargs` when the function takes them.
pub struct Args<'a, 'ctx, const N: usize> {
    slots: [Option<Borrowed<'a, 'ctx>>; N],
    // The three owning fields are dropped by hand (`Drop` below): most calls own nothing, and
    // then dropping `Args` is one inlined test instead of an out-of-line drop of each field.
    varargs: ManuallyDrop<Option<Handle<'ctx, Tuple>>>,
    kwargs: ManuallyDrop<Option<Handle<'ctx, Dict>>>,
    desc: &'static FunctionDescription,
    /// Handles the slots borrow from, when the arguments came in a dict (`__new__`): dropped
    /// last, so they are closed after everything that borrows them.
    owned: ManuallyDrop<Vec<Handle<'ctx>>>,
}

impl<const N: usize> Drop for Args<'_, '_, N> {
    #[inline]
    fn drop(&mut self) {
        if self.varargs.is_some() || self.kwargs.is_some() || self.owned.capacity() != 0 {
            self.drop_owned();
        }
    }
}

impl<'a, 'ctx, const N: usize> Args<'a, 'ctx, N> {
    /// No arguments yet, for [`FunctionDescription::parse`] to fill.
    #[inline]
    pub fn new(desc: &'static FunctionDescription) -> Self {
        Args {
            slots: [None; N],
            varargs: ManuallyDrop::new(None),
            kwargs: ManuallyDrop::new(None),
            desc,
            owned: ManuallyDrop::new(Vec::new()),
        }
    }

    #[cold]
    #[inline(never)]
    fn drop_owned(&mut self) {
        // SAFETY: called once, from `drop`; the fields are not used afterwards.
        unsafe {
            ManuallyDrop::drop(&mut self.varargs);
            ManuallyDrop::drop(&mut self.kwargs);
            ManuallyDrop::drop(&mut self.owned);
        }
    }

    /// The argument for parameter `i`, if it was passed.
    #[inline]
    pub fn get(&self, i: usize) -> Option<&Handle<'ctx>> {
        self.slots[i].as_deref()
    }

    /// Convert the (required, so present) argument `i` to `T`.
    #[inline]
    pub fn extract<'s, T: FromHPy<'s, 'ctx>>(&'s self, i: usize, arg: &str) -> Result<T> {
        match self.slots[i].as_deref() {
            Some(obj) => T::from_hpy(obj).map_err(|e| e.for_argument(self.desc.name, arg)),
            None => Err(TypeError::new_err(format!("{}() missing required argument '{arg}'", self.desc.name))),
        }
    }

    /// Convert argument `i` to `T`, or use `default()` if it was not passed.
    #[inline]
    pub fn extract_or<'s, T: FromHPy<'s, 'ctx>>(&'s self, i: usize, arg: &str, default: impl FnOnce() -> T) -> Result<T> {
        match self.slots[i].as_deref() {
            Some(obj) => T::from_hpy(obj).map_err(|e| e.for_argument(self.desc.name, arg)),
            None => Ok(default()),
        }
    }

    /// The extra positional arguments (`*args`): an empty tuple when there are none.
    pub fn varargs(&self) -> &Handle<'ctx, Tuple> {
        self.varargs.as_ref().expect("the function was declared with *args")
    }

    /// The extra keyword arguments (`**kwargs`), or `None` when there are none.
    pub fn kwargs(&self) -> Option<&Handle<'ctx, Dict>> {
        self.kwargs.as_ref()
    }
}

/// The first `N` handles of `args`, borrowed.
///
/// # Safety
/// `args` holds at least `N` handles of `ctx`, borrowed for `'a`.
#[inline]
pub(crate) unsafe fn borrow_array<'a, 'ctx, const N: usize>(ctx: Context<'ctx>, args: *const ffi::HPy) -> [Borrowed<'a, 'ctx>; N] {
    // SAFETY: per the contract, `args` has `N` handles.
    let raw = unsafe { &*args.cast::<[ffi::HPy; N]>() };
    // SAFETY: per the contract, each is borrowed for `'a`.
    raw.map(|h| unsafe { Borrowed::from_raw(ctx, h) })
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

/// `'a'`, `'a' and 'b'`, `'a', 'b', and 'c'` (CPython's list style).
fn quoted_list(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [a] => format!("'{a}'"),
        [a, b] => format!("'{a}' and '{b}'"),
        [rest @ .., last] => {
            let head: Vec<String> = rest.iter().map(|n| format!("'{n}'")).collect();
            format!("{}, and '{last}'", head.join(", "))
        }
    }
}

impl FunctionDescription {
    fn too_many_positional(&self, given: usize) -> Error {
        let max = self.positional.len();
        let takes = if self.required_positional == max {
            plural(max, "positional argument", "positional arguments")
        } else {
            format!("from {} to {max} positional arguments", self.required_positional)
        };
        let was = if given == 1 { "was" } else { "were" };
        TypeError::new_err(format!("{}() takes {takes} but {given} {was} given", self.name))
    }

    fn missing_positional(&self, missing: &[&str]) -> Error {
        TypeError::new_err(format!(
            "{}() missing {}: {}",
            self.name,
            plural(missing.len(), "required positional argument", "required positional arguments"),
            quoted_list(missing)
        ))
    }

    /// The error for a call with `nargs` positional arguments (and no keywords) that does not
    /// match the positional parameters: too many, or some required ones missing.
    #[cold]
    #[inline(never)]
    pub fn wrong_count(&self, nargs: usize) -> Error {
        if nargs > self.positional.len() {
            self.too_many_positional(nargs)
        } else {
            self.missing_positional(&self.positional[nargs.min(self.required_positional)..self.required_positional])
        }
    }

    /// Match the arguments of a vectorcall-style call against the parameters, into `out` (a
    /// fresh [`Args::new`]). Filled in place rather than returned: the caller's `Args` is never
    /// moved, which on the hot paths saves copying it (and the store-forwarding stalls of copying
    /// what was just written).
    ///
    /// # Safety
    /// `args` holds `nargs` borrowed handles followed by one per name in `kwnames` (a tuple of
    /// str, or NULL), all valid for `'a`.
    #[inline]
    pub unsafe fn parse<'a, 'ctx, const N: usize>(
        &'static self,
        out: &mut Args<'a, 'ctx, N>,
        ctx: Context<'ctx>,
        args: *const ffi::HPy,
        nargs: usize,
        kwnames: ffi::HPy,
    ) -> Result<()> {
        debug_assert_eq!(N, self.positional.len() + self.keyword_only.len());
        if kwnames._i == 0 && nargs == N && self.positional.len() == N && !self.varargs {
            // The common case, inlined: exactly the positional parameters, no keywords.
            // SAFETY: per the contract, `args` has `nargs == N` borrowed handles.
            out.slots = unsafe { borrow_array::<N>(ctx, args) }.map(Some);
            return Ok(());
        }
        if kwnames._i != 0 {
            if let Some(map) = self.keyword_cache.and_then(|cache| cache.lookup(ctx, kwnames)) {
                // The names of a call from the same call site: their slots are known.
                let npos = self.positional.len();
                if let Some(keywords) = map.slots_for(nargs.min(npos)) {
                    // SAFETY: per the contract, `args` has `nargs` positional handles, then one
                    // per name, all borrowed for `'a`.
                    unsafe { self.bind_positional::<N>(out, ctx, core::slice::from_raw_parts(args, nargs))? };
                    for (j, &i) in keywords.iter().enumerate() {
                        // SAFETY: as above.
                        out.slots[i as usize] = Some(unsafe { Borrowed::from_raw(ctx, *args.add(nargs + j)) });
                    }
                    return Ok(());
                }
            }
        }
        // SAFETY: per the contract.
        unsafe { self.parse_general(out, ctx, args, nargs, kwnames) }
    }

    /// [`parse`](Self::parse) for everything but the common case.
    ///
    /// # Safety
    /// As for `parse`.
    #[inline(never)]
    unsafe fn parse_general<'a, 'ctx, const N: usize>(
        &'static self,
        out: &mut Args<'a, 'ctx, N>,
        ctx: Context<'ctx>,
        args: *const ffi::HPy,
        nargs: usize,
        kwnames: ffi::HPy,
    ) -> Result<()> {
        // SAFETY: per the contract, `args` has `nargs` positional handles borrowed for `'a`.
        unsafe { self.bind_positional::<N>(out, ctx, core::slice::from_raw_parts(args, nargs))? };
        if kwnames._i == 0 {
            return self.check_required(out, nargs);
        }
        // SAFETY: per the contract.
        let map = unsafe { self.match_keywords(ctx, out, args, nargs, kwnames)? };
        self.check_required(out, nargs)?;
        if let Some(cache) = self.keyword_cache {
            cache.remember(ctx, kwnames, map, self.required_positional);
        }
        Ok(())
    }

    /// Bind the `positional` arguments of a call: the first in their slots, the rest in `*args`
    /// (TypeError if there are too many and no `*args`).
    ///
    /// # Safety
    /// `positional` are argument handles borrowed for `'a`.
    #[inline]
    unsafe fn bind_positional<'a, 'ctx, const N: usize>(
        &'static self,
        out: &mut Args<'a, 'ctx, N>,
        ctx: Context<'ctx>,
        positional: &[ffi::HPy],
    ) -> Result<()> {
        let npos = self.positional.len();
        for (slot, &h) in out.slots.iter_mut().zip(positional.iter().take(npos)) {
            // SAFETY: per the contract.
            *slot = Some(unsafe { Borrowed::from_raw(ctx, h) });
        }
        if self.varargs {
            *out.varargs = Some(crate::types::tuple_from_raw(ctx, positional.get(npos..).unwrap_or(&[]))?);
        } else if positional.len() > npos {
            return Err(self.too_many_positional(positional.len()));
        }
        Ok(())
    }

    /// Put the keyword arguments of a call in their slots (or `**kwargs`); returns where they
    /// went.
    ///
    /// # Safety
    /// As for `parse`, with `kwnames` not NULL.
    unsafe fn match_keywords<'a, 'ctx, const N: usize>(
        &'static self,
        ctx: Context<'ctx>,
        out: &mut Args<'a, 'ctx, N>,
        args: *const ffi::HPy,
        nargs: usize,
        kwnames: ffi::HPy,
    ) -> Result<KeywordMap> {
        let c = ctx.as_ptr();
        // SAFETY: live context, a tuple handle.
        let nkw = unsafe { ffi::HPy_Length(c, kwnames) };
        if nkw < 0 {
            return Err(Error::pending());
        }
        // SAFETY: the keyword values follow the positional ones.
        let values = unsafe { core::slice::from_raw_parts(args.add(nargs), nkw as usize) };
        // In HPy's debug mode every UTF-8 view of a str is a fresh, page-protected copy
        // (tens of microseconds each): there the names are compared as Python strings.
        let debug = ctx.is_debug();
        let mut map = KeywordMap::EMPTY;
        for (j, &value) in values.iter().enumerate() {
            // SAFETY: live context; item j of the kwnames tuple (a new handle, a str).
            let key = unsafe { Handle::<crate::kinds::Unicode>::from_new(ctx, ffi::HPy_GetItem_i(c, kwnames, j as isize))? };
            let slot = if debug {
                self.keyword_slot_of(&key)?
            } else {
                match key.to_str() {
                    Ok(name) => self.keyword_slot(name),
                    // A name with a lone surrogate has no UTF-8 form, so it names no parameter
                    // (Python allows such keys in `**kwargs`).
                    Err(e) => {
                        e.clear(ctx);
                        None
                    }
                }
            };
            // SAFETY: an argument handle, borrowed for the call.
            let value = unsafe { Borrowed::from_raw(ctx, value) };
            match slot {
                Some(i) if out.slots[i].is_none() => {
                    out.slots[i] = Some(value);
                    map.push(i);
                }
                Some(_) => return Err(self.multiple_values(key.to_str()?)),
                None if self.kwargs => {
                    let dict = match &*out.kwargs {
                        Some(d) => d,
                        None => out.kwargs.insert(ctx.dict()?),
                    };
                    dict.set_item(&key, value)?;
                    map.push_extra();
                }
                None => return Err(self.unexpected_keyword_of(ctx, &key)),
            }
        }
        Ok(map)
    }

    /// `out`, if every required parameter has a value. (The messages are built only when one is
    /// missing.)
    #[inline]
    fn check_required<const N: usize>(&self, out: &Args<'_, '_, N>, nargs: usize) -> Result<()> {
        let required = &out.slots[..self.required_positional];
        if nargs < self.required_positional && required.iter().any(Option::is_none) {
            return Err(self.missing_positional_in(required));
        }
        let keyword_slots = &out.slots[self.positional.len()..];
        if self.keyword_only.iter().zip(keyword_slots).any(|((_, required), slot)| *required && slot.is_none()) {
            return Err(self.missing_keyword_only_in(keyword_slots));
        }
        Ok(())
    }

    /// The parameters a keyword can name (all but the positional-only ones), with their slots.
    #[inline]
    fn nameable(&self) -> impl Iterator<Item = (usize, &'static str)> + '_ {
        let positional = self.positional.iter().enumerate().skip(self.positional_only).map(|(i, p)| (i, *p));
        let keyword_only = self.keyword_only.iter().enumerate().map(|(k, (p, _))| (self.positional.len() + k, *p));
        positional.chain(keyword_only)
    }

    /// The slot of the parameter that keyword `name` names, if any. Compares bytes in a loop
    /// (names are short, and this runs for every keyword).
    #[inline]
    fn keyword_slot(&self, name: &str) -> Option<usize> {
        let same = |p: &str| p.len() == name.len() && p.bytes().zip(name.bytes()).all(|(a, b)| a == b);
        self.nameable().find(|(_, p)| same(p)).map(|(i, _)| i)
    }

    /// [`keyword_slot`](Self::keyword_slot), comparing `key` with each name as Python strings.
    #[inline(never)]
    fn keyword_slot_of(&self, key: &Handle<'_, crate::kinds::Unicode>) -> Result<Option<usize>> {
        for (i, p) in self.nameable() {
            if key.eq(p)? {
                return Ok(Some(i));
            }
        }
        Ok(None)
    }

    #[cold]
    #[inline(never)]
    fn multiple_values(&self, name: &str) -> Error {
        TypeError::new_err(format!("{}() got multiple values for argument '{name}'", self.name))
    }

    /// [`unexpected_keyword`](Self::unexpected_keyword) for a keyword given as a Python string,
    /// which may have no UTF-8 form (a lone surrogate): then its `repr` stands for it.
    #[cold]
    #[inline(never)]
    fn unexpected_keyword_of(&self, ctx: Context<'_>, key: &Handle<'_, crate::kinds::Unicode>) -> Error {
        match key.to_str() {
            Ok(name) => return self.unexpected_keyword(name),
            Err(e) => e.clear(ctx),
        }
        let repr = match key.repr() {
            Ok(repr) => repr,
            Err(e) => return e,
        };
        match repr.to_str() {
            Ok(repr) => TypeError::new_err(format!("{}() got an unexpected keyword argument {repr}", self.name)),
            Err(e) => e,
        }
    }

    #[cold]
    #[inline(never)]
    fn unexpected_keyword(&self, name: &str) -> Error {
        if self.positional[..self.positional_only].contains(&name) {
            TypeError::new_err(format!(
                "{}() got some positional-only arguments passed as keyword arguments: '{name}'",
                self.name
            ))
        } else {
            TypeError::new_err(format!("{}() got an unexpected keyword argument '{name}'", self.name))
        }
    }

    /// The error for the unfilled ones among the required positional `slots`.
    #[cold]
    #[inline(never)]
    fn missing_positional_in<T>(&self, slots: &[Option<T>]) -> Error {
        let missing: Vec<&str> =
            slots.iter().zip(self.positional).filter(|(slot, _)| slot.is_none()).map(|(_, name)| *name).collect();
        self.missing_positional(&missing)
    }

    /// The error for the required keyword-only parameters whose `slots` are unfilled.
    #[cold]
    #[inline(never)]
    fn missing_keyword_only_in<T>(&self, slots: &[Option<T>]) -> Error {
        let missing: Vec<&str> = self
            .keyword_only
            .iter()
            .zip(slots)
            .filter(|((_, required), slot)| *required && slot.is_none())
            .map(|((name, _), _)| *name)
            .collect();
        TypeError::new_err(format!(
            "{}() missing {}: {}",
            self.name,
            plural(missing.len(), "required keyword-only argument", "required keyword-only arguments"),
            quoted_list(&missing)
        ))
    }
}

impl FunctionDescription {
    /// Like [`parse`](Self::parse), with the keywords in a dict (or NULL), as `__new__` gets them.
    ///
    /// PyPy 7.3.19 calls `HPy_tp_new` the `HPyFunc_KEYWORDS` way instead: the keyword values
    /// after the `nargs` positional ones and `kw` a tuple of their names (its `W_tp_new_wrapper`
    /// uses its keywords calling helper; its own `tp_init` wrapper passes a dict, as HPy 0.9
    /// specifies). A tuple is therefore read as names.
    ///
    /// # Safety
    /// `args` holds `nargs` borrowed handles valid for `'a`; `kw` is NULL, a dict, or a tuple of
    /// names whose values follow the `nargs` handles in `args`.
    #[inline]
    pub unsafe fn parse_with_dict<'a, 'ctx, const N: usize>(
        &'static self,
        out: &mut Args<'a, 'ctx, N>,
        ctx: Context<'ctx>,
        args: *const ffi::HPy,
        nargs: usize,
        kw: ffi::HPy,
    ) -> Result<()> {
        if kw._i == 0 {
            // SAFETY: per the contract.
            unsafe { self.parse::<N>(out, ctx, args, nargs, ffi::HPy_NULL) }
        } else if !crate::impl_::runtime_passes_new_keywords_as_dict()
            // SAFETY: live context, borrowed handle.
            && unsafe { ffi::HPyTuple_Check(ctx.as_ptr(), kw) } != 0
        {
            // SAFETY: per the contract, a names tuple with its values after the positional ones.
            unsafe { self.parse::<N>(out, ctx, args, nargs, kw) }
        } else {
            // SAFETY: per the contract.
            unsafe { self.parse_dict::<N>(out, ctx, args, nargs, kw) }
        }
    }

    /// [`parse_with_dict`](Self::parse_with_dict) with keywords.
    ///
    /// # Safety
    /// As for `parse_with_dict`, with `kw` a dict.
    #[inline(never)]
    unsafe fn parse_dict<'a, 'ctx, const N: usize>(
        &'static self,
        out: &mut Args<'a, 'ctx, N>,
        ctx: Context<'ctx>,
        args: *const ffi::HPy,
        nargs: usize,
        kw: ffi::HPy,
    ) -> Result<()> {
        // Lay the call out vectorcall-style: positional values, keyword values, names tuple.
        // SAFETY: `kw` is a borrowed dict.
        let dict = unsafe { Borrowed::<Dict>::from_raw(ctx, kw) };
        let keys = dict.keys()?;
        let nkw = keys.len()?;
        let mut names: Vec<Handle<'ctx>> = Vec::with_capacity(nkw);
        // The keyword values are new handles: `out` keeps them (its slots borrow them).
        out.owned.reserve(nkw);
        for i in 0..nkw {
            let key = keys.get_index(i)?;
            out.owned.push(dict.get_item(&key)?);
            names.push(key);
        }
        let names = crate::types::tuple_from_handles(ctx, &names)?;
        // SAFETY: per the contract, `args` has `nargs` handles.
        let positional = unsafe { core::slice::from_raw_parts(args, nargs) };
        let all: Vec<ffi::HPy> = positional.iter().copied().chain(out.owned.iter().map(|h| h.as_raw())).collect();
        // SAFETY: `all` holds `nargs` + len(names) open handles: the positional ones, borrowed
        // for `'a`, and `out.owned`, which live as long as `out`.
        unsafe { self.parse::<N>(out, ctx, all.as_ptr(), nargs, names.as_raw()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_lists_read_like_cpython() {
        assert_eq!(quoted_list(&["a"]), "'a'");
        assert_eq!(quoted_list(&["a", "b"]), "'a' and 'b'");
        assert_eq!(quoted_list(&["a", "b", "c"]), "'a', 'b', and 'c'");
    }

    #[test]
    fn too_many_positional_wording() {
        static EXACT: FunctionDescription = FunctionDescription {
            name: "f",
            positional: &["a", "b"],
            positional_only: 0,
            required_positional: 2,
            keyword_only: &[],
            varargs: false,
            kwargs: false,
            keyword_cache: None,
        };
        static RANGE: FunctionDescription = FunctionDescription { required_positional: 1, ..EXACT };
        static NONE: FunctionDescription = FunctionDescription { positional: &[], required_positional: 0, ..EXACT };
        assert_eq!(
            EXACT.too_many_positional(3).to_string(),
            "TypeError: f() takes 2 positional arguments but 3 were given"
        );
        assert_eq!(
            RANGE.too_many_positional(3).to_string(),
            "TypeError: f() takes from 1 to 2 positional arguments but 3 were given"
        );
        assert_eq!(NONE.too_many_positional(1).to_string(), "TypeError: f() takes 0 positional arguments but 1 was given");
        assert_eq!(EXACT.wrong_count(3).to_string(), "TypeError: f() takes 2 positional arguments but 3 were given");
        assert_eq!(
            EXACT.wrong_count(0).to_string(),
            "TypeError: f() missing 2 required positional arguments: 'a' and 'b'"
        );
        assert_eq!(EXACT.wrong_count(1).to_string(), "TypeError: f() missing 1 required positional argument: 'b'");
    }
}
