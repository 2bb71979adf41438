//! Methods specific to a kind of handle (`str`, `bytes`, `tuple`, `list`, `dict`, `type`,
//! capsules), and HPy's builders and tracker.

use core::any::TypeId;
use core::ffi::{c_char, c_void, CStr};
use core::marker::PhantomData;

use crate::conversion::IntoHPy;
use crate::ffi;
use crate::handle::Handle;
use crate::kinds::{Bytes, Capsule, Dict, List, Tuple, Type, Unicode};
use crate::{Context, Error, Result};

impl<'ctx> Handle<'ctx, Unicode> {
    /// The string as UTF-8, borrowed from the string object (valid as long as this handle).
    ///
    /// Fails with UnicodeEncodeError for strings with lone surrogates.
    #[inline]
    pub fn to_str(&self) -> Result<&str> {
        let mut size: ffi::HPy_ssize_t = 0;
        // SAFETY: live context, open str handle.
        let p = unsafe { ffi::HPyUnicode_AsUTF8AndSize(self.ctx().as_ptr(), self.as_raw(), &mut size) };
        if p.is_null() {
            return Err(Error::pending());
        }
        // SAFETY: the runtime returns `size` bytes at `p`, owned by the object, which this handle
        // keeps alive for the lifetime of the returned borrow.
        let bytes = unsafe { core::slice::from_raw_parts(p.cast::<u8>(), size as usize) };
        if crate::impl_::runtime_validates_utf8() {
            // SAFETY: CPython's PyUnicode_AsUTF8AndSize (under every HPy mode) raises for lone
            // surrogates instead of returning them, so what it returns is UTF-8.
            return Ok(unsafe { core::str::from_utf8_unchecked(bytes) });
        }
        // PyPy returns its internal encoding, which keeps lone surrogates (WTF-8), instead of
        // raising: check, and raise what `str.encode()` raises for such a string.
        core::str::from_utf8(bytes).map_err(|_| self.encode_error())
    }

    /// The UnicodeEncodeError of `self.encode()` (a string that is not valid UTF-8).
    #[cold]
    fn encode_error(&self) -> Error {
        match self.call_method("encode", ()) {
            Err(e) => e,
            Ok(_) => crate::exceptions::ValueError::new_err("string is not valid UTF-8"),
        }
    }
}

impl<'ctx> Handle<'ctx, Bytes> {
    /// The bytes, borrowed from the bytes object (valid as long as this handle).
    pub fn as_bytes(&self) -> &[u8] {
        let c = self.ctx().as_ptr();
        // SAFETY: live context, open bytes handle (the kind guarantees it), so neither call fails.
        unsafe {
            let p = ffi::HPyBytes_AS_STRING(c, self.as_raw());
            let n = ffi::HPyBytes_GET_SIZE(c, self.as_raw());
            core::slice::from_raw_parts(p.cast(), n as usize)
        }
    }
}

impl<'ctx> Handle<'ctx, List> {
    /// `list.append(item)`.
    pub fn append(&self, item: impl IntoHPy<'ctx>) -> Result<()> {
        let c = self.ctx().as_ptr();
        // SAFETY: live context, open handles.
        let rc = item.with_raw(self.ctx(), |i| unsafe { ffi::HPyList_Append(c, self.as_raw(), i) })?;
        if rc < 0 {
            Err(Error::pending())
        } else {
            Ok(())
        }
    }
}

impl<'ctx> Handle<'ctx, Dict> {
    /// The keys, as a list (`list(d.keys())`).
    pub fn keys(&self) -> Result<Handle<'ctx, List>> {
        // SAFETY: live context, open dict handle.
        unsafe { Handle::from_new(self.ctx(), ffi::HPyDict_Keys(self.ctx().as_ptr(), self.as_raw())) }
    }

    /// The `(key, value)` pairs, in the dict's order (`list(d.items())`). A `dict` subclass
    /// gives the pairs `dict(d)` holds, as the `HashMap` conversion reads it. To go through
    /// them once, [`iter_items`](Self::iter_items) does not collect them.
    pub fn items(&self) -> Result<Vec<(Handle<'ctx>, Handle<'ctx>)>> {
        self.iter_items()?.collect()
    }

    /// The `(key, value)` pairs one by one, in the dict's order, as [`items`](Self::items) lists
    /// them but without collecting them (its `len()` is their number):
    ///
    /// ```
    /// # use hpy::{Dict, Handle, Result};
    /// fn total(d: &Handle<'_, Dict>) -> Result<f64> {
    ///     let mut sum = 0.0;
    ///     for pair in d.iter_items()? {
    ///         let (_key, value) = pair?;
    ///         sum += value.extract::<f64>()?;
    ///     }
    ///     Ok(sum)
    /// }
    /// ```
    ///
    /// HPy 0.9 has no dict iteration: the keys are taken as a list first, and each value is
    /// looked up when its pair is reached, so a key removed meanwhile (by code the loop runs)
    /// is a `KeyError` item.
    pub fn iter_items(&self) -> Result<DictItems<'_, 'ctx>> {
        let dict = self.plain()?;
        let keys = dict.keys()?;
        let len = keys.len()?;
        Ok(DictItems { dict, keys, next: 0, len })
    }

    /// The values, in the dict's order (`list(d.values())`); for a subclass, see
    /// [`items`](Self::items).
    pub fn values(&self) -> Result<Vec<Handle<'ctx>>> {
        self.iter_items()?.map(|pair| pair.map(|(_, value)| value)).collect()
    }

    /// `self` if it is exactly a `dict`, else `dict(self)`.
    fn plain(&self) -> Result<std::borrow::Cow<'_, Self>> {
        if crate::conversion::is_exact_dict(self) {
            Ok(std::borrow::Cow::Borrowed(self))
        } else {
            Ok(std::borrow::Cow::Owned(crate::conversion::plain_dict(self)?))
        }
    }

    /// `d.get(key)`: the value, or `None` if `key` is missing. Other errors of the lookup (an
    /// unhashable key, a raising `__eq__`) propagate. Like Python's `dict.get`, a subclass's
    /// `__missing__` is not called (a `defaultdict` is not changed).
    pub fn get(&self, key: impl IntoHPy<'ctx>) -> Result<Option<Handle<'ctx>>> {
        let ctx = self.ctx();
        if crate::conversion::is_exact_dict(self) {
            // A plain dict raises KeyError only for a missing key (no `__missing__`).
            return match self.get_item(key) {
                Ok(value) => Ok(Some(value)),
                Err(e) if e.matches(ctx, crate::exceptions::KeyError::TYPE) => {
                    e.clear(ctx);
                    Ok(None)
                }
                Err(e) => Err(e),
            };
        }
        // `dict.get(d, key, missing)`, with an object of our own marking a missing key (the
        // subclass may override `get`, `__getitem__` and `__missing__`; `dict.get` is the rule).
        let missing = ctx.list()?;
        let value = ctx.builtins().get_type().getattr("get")?.call((self, key, &missing))?;
        Ok(if value.is(&missing) { None } else { Some(value) })
    }

    /// `d.get(key, default)`: the value, or `default` if `key` is missing; see [`get`](Self::get).
    pub fn get_or(&self, key: impl IntoHPy<'ctx>, default: impl IntoHPy<'ctx>) -> Result<Handle<'ctx>> {
        match self.get(key)? {
            Some(value) => Ok(value),
            None => default.into_hpy(self.ctx()),
        }
    }

    /// A shallow copy (`d.copy()`).
    pub fn copy(&self) -> Result<Handle<'ctx, Dict>> {
        // SAFETY: live context, open dict handle.
        unsafe { Handle::from_new(self.ctx(), ffi::HPyDict_Copy(self.ctx().as_ptr(), self.as_raw())) }
    }
}

/// The pairs of a dict, from [`Handle::iter_items`]: `Result<(key, value)>` items, new handles.
pub struct DictItems<'a, 'ctx> {
    /// The dict, or `dict(d)` for a subclass.
    dict: std::borrow::Cow<'a, Handle<'ctx, Dict>>,
    keys: Handle<'ctx, List>,
    next: usize,
    len: usize,
}

impl<'ctx> Iterator for DictItems<'_, 'ctx> {
    type Item = Result<(Handle<'ctx>, Handle<'ctx>)>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.next == self.len {
            return None;
        }
        let i = self.next;
        self.next += 1;
        Some(self.keys.get_index(i).and_then(|key| {
            let value = self.dict.get_item(&key)?;
            Ok((key, value))
        }))
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.len - self.next, Some(self.len - self.next))
    }
}

impl ExactSizeIterator for DictItems<'_, '_> {}

impl<'ctx> Handle<'ctx, Type> {
    /// The type's name, as the runtime reports it (CPython: the `__name__`, e.g. `"int"`).
    pub fn name(&self) -> &str {
        // SAFETY: live context, open type handle; the name lives as long as the type.
        unsafe { CStr::from_ptr(ffi::HPyType_GetName(self.ctx().as_ptr(), self.as_raw())) }
            .to_str()
            .unwrap_or("<non-UTF-8 type name>")
    }

    /// Is this type `other` or a subclass of it? (`issubclass` for real classes: no
    /// `__subclasscheck__`.)
    pub fn is_subtype(&self, other: &Handle<'ctx, Type>) -> bool {
        // SAFETY: live context, open handles.
        unsafe { ffi::HPyType_IsSubtype(self.ctx().as_ptr(), self.as_raw(), other.as_raw()) != 0 }
    }
}

/// A tuple from raw handles (none of them is stolen).
#[inline]
pub(crate) fn tuple_from_raw<'ctx>(ctx: Context<'ctx>, items: &[ffi::HPy]) -> Result<Handle<'ctx, Tuple>> {
    // SAFETY: live context; `items` holds open handles; HPy does not write through the pointer
    // (the `const` was added to the signature after 0.9.0).
    let raw = unsafe { ffi::HPyTuple_FromArray(ctx.as_ptr(), items.as_ptr() as *mut ffi::HPy, items.len() as isize) };
    // SAFETY: a new tuple or NULL.
    unsafe { Handle::from_new(ctx, raw) }
}

/// A tuple of the given handles (none of them is consumed).
pub fn tuple_from_handles<'ctx, K>(ctx: Context<'ctx>, items: &[Handle<'ctx, K>]) -> Result<Handle<'ctx, Tuple>> {
    let mut raw = [ffi::HPy_NULL; 16];
    if items.len() <= raw.len() {
        for (slot, h) in raw.iter_mut().zip(items) {
            *slot = h.as_raw();
        }
        tuple_from_raw(ctx, &raw[..items.len()])
    } else {
        let raw: Vec<ffi::HPy> = items.iter().map(|h| h.as_raw()).collect();
        tuple_from_raw(ctx, &raw)
    }
}

impl<'ctx> Context<'ctx> {
    /// A tuple of the given handles.
    pub fn tuple<K>(self, items: &[Handle<'ctx, K>]) -> Result<Handle<'ctx, Tuple>> {
        tuple_from_handles(self, items)
    }

    /// A new exception class `name` ("module.Name"), subclass of `base` (Exception if `None`).
    /// Store it in a [`crate::Global`] to raise it later with
    /// [`ExceptionType::from_global`](crate::ExceptionType::from_global).
    pub fn new_exception_type(
        self,
        name: &str,
        base: Option<&Handle<'ctx, Type>>,
        doc: Option<&str>,
    ) -> Result<Handle<'ctx, Type>> {
        // CPython's runtime raises SystemError for a name without a dot (the part before the last
        // dot becomes `__module__`); other runtimes may not check at all. A ValueError here says the
        // same thing on every interpreter.
        if !name.contains('.') {
            return Err(crate::exceptions::ValueError::new_err(format!(
                "exception type name must be \"module.Name\", got {name:?}"
            )));
        }
        let name = crate::err::cstring(name)?;
        let base = base.map_or(ffi::HPy_NULL, |b| b.as_raw());
        let raw = match doc {
            None => {
                // SAFETY: live context, NUL-terminated name, open (or NULL) base.
                unsafe { ffi::HPyErr_NewException(self.as_ptr(), name.as_ptr(), base, ffi::HPy_NULL) }
            }
            Some(doc) => {
                let doc = crate::err::cstring(doc)?;
                // SAFETY: as above, with a NUL-terminated doc.
                unsafe {
                    ffi::HPyErr_NewExceptionWithDoc(self.as_ptr(), name.as_ptr(), doc.as_ptr(), base, ffi::HPy_NULL)
                }
            }
        };
        // SAFETY: a new type or NULL.
        unsafe { Handle::from_new(self, raw) }
    }
}

/// The raw HPy builder behind [`ListBuilder`] or [`TupleBuilder`]: cancelled if dropped unbuilt.
///
/// It owns nothing but the builder, so `build` can skip its `Drop` (`ManuallyDrop`) without
/// leaking: the item bookkeeping lives beside it in the public builder, whose fields are dropped
/// normally. (Wrapping the whole public builder in `ManuallyDrop` leaked that bookkeeping's
/// heap memory on every build.)
struct RawBuilder<'ctx, B: BuilderKind> {
    raw: B::Raw,
    ctx: Context<'ctx>,
}

/// What differs between HPy's list and tuple builders.
trait BuilderKind {
    /// `Copy`: a type with drop glue cannot be `Copy`, so `RawBuilder` provably owns no memory.
    type Raw: Copy;
    type Built;
    const NAME: &'static str;
    /// # Safety
    /// A live context.
    unsafe fn new(ctx: *mut ffi::HPyContext, len: ffi::HPy_ssize_t) -> Self::Raw;
    fn is_null(raw: Self::Raw) -> bool;
    /// # Safety
    /// A live context, a live builder, an index in range, an open handle.
    unsafe fn set(ctx: *mut ffi::HPyContext, raw: Self::Raw, index: ffi::HPy_ssize_t, item: ffi::HPy);
    /// # Safety
    /// A live context and a live builder, which this consumes.
    unsafe fn build(ctx: *mut ffi::HPyContext, raw: Self::Raw) -> ffi::HPy;
    /// # Safety
    /// A live context and a live builder, which this consumes.
    unsafe fn cancel(ctx: *mut ffi::HPyContext, raw: Self::Raw);
}

/// A [`BuilderKind`] over HPy's `HPy<Kind>Builder_*` functions.
macro_rules! builder_kind {
    ($kind:ident: $raw:ty, field $field:ident, builds $built:ty, named $name:literal,
     $new:ident, $set:ident, $build:ident, $cancel:ident) => {
        enum $kind {}

        impl BuilderKind for $kind {
            type Raw = $raw;
            type Built = $built;
            const NAME: &'static str = $name;
            unsafe fn new(ctx: *mut ffi::HPyContext, len: ffi::HPy_ssize_t) -> Self::Raw {
                // SAFETY: per the trait contract.
                unsafe { ffi::$new(ctx, len) }
            }
            fn is_null(raw: Self::Raw) -> bool {
                raw.$field == 0
            }
            unsafe fn set(ctx: *mut ffi::HPyContext, raw: Self::Raw, index: ffi::HPy_ssize_t, item: ffi::HPy) {
                // SAFETY: per the trait contract.
                unsafe { ffi::$set(ctx, raw, index, item) }
            }
            unsafe fn build(ctx: *mut ffi::HPyContext, raw: Self::Raw) -> ffi::HPy {
                // SAFETY: per the trait contract.
                unsafe { ffi::$build(ctx, raw) }
            }
            unsafe fn cancel(ctx: *mut ffi::HPyContext, raw: Self::Raw) {
                // SAFETY: per the trait contract.
                unsafe { ffi::$cancel(ctx, raw) }
            }
        }
    };
}

builder_kind!(ListKind: ffi::HPyListBuilder, field _lst, builds List, named "ListBuilder",
              HPyListBuilder_New, HPyListBuilder_Set, HPyListBuilder_Build, HPyListBuilder_Cancel);
builder_kind!(TupleKind: ffi::HPyTupleBuilder, field _tup, builds Tuple, named "TupleBuilder",
              HPyTupleBuilder_New, HPyTupleBuilder_Set, HPyTupleBuilder_Build, HPyTupleBuilder_Cancel);

impl<'ctx, B: BuilderKind> RawBuilder<'ctx, B> {
    fn new(ctx: Context<'ctx>, len: isize) -> Result<Self> {
        // SAFETY: live context.
        let raw = unsafe { B::new(ctx.as_ptr(), len) };
        if B::is_null(raw) {
            // HPy clears the MemoryError of a failed allocation (it expects `Build` to report it).
            return Err(if ctx.err_occurred() {
                Error::pending()
            } else {
                crate::exceptions::MemoryError::new_err("cannot allocate the builder")
            });
        }
        Ok(RawBuilder { raw, ctx })
    }

    /// # Safety
    /// `index` is in range (the builder's length was `> index`).
    unsafe fn set(&mut self, index: usize, item: ffi::HPy) {
        // SAFETY: live context, a live builder, an index in range (caller), an open handle.
        unsafe { B::set(self.ctx.as_ptr(), self.raw, index as isize, item) }
    }

    fn build(self) -> Result<Handle<'ctx, B::Built>> {
        // `Self` owns no memory (only the builder, consumed here), so skipping its `Drop` leaks
        // nothing.
        let this = core::mem::ManuallyDrop::new(self);
        // SAFETY: live context; the builder is consumed here and never cancelled.
        unsafe { Handle::from_new(this.ctx, B::build(this.ctx.as_ptr(), this.raw)) }
    }
}

impl<B: BuilderKind> Drop for RawBuilder<'_, B> {
    fn drop(&mut self) {
        // SAFETY: an unbuilt builder of a live context (`build` skips this drop).
        unsafe { B::cancel(self.ctx.as_ptr(), self.raw) }
    }
}

/// A builder plus which items were set: a list or tuple with a missing item would crash whoever
/// reads it, so `build` refuses with a SystemError instead.
///
/// Items set in order (the usual way) need only a count; the first item set out of order
/// switches to a bitset of the items set (the only allocation, and only then).
struct CheckedBuilder<'ctx, B: BuilderKind> {
    builder: RawBuilder<'ctx, B>,
    len: usize,
    /// Items `0..in_order` are set (while `out_of_order` is `None`).
    in_order: usize,
    /// One bit per item, once an item was set out of order.
    out_of_order: Option<Vec<u64>>,
}

impl<'ctx, B: BuilderKind> CheckedBuilder<'ctx, B> {
    fn new(ctx: Context<'ctx>, len: usize) -> Result<Self> {
        let too_many = || crate::exceptions::MemoryError::new_err("too many items");
        let n = isize::try_from(len).map_err(|_| too_many())?;
        // PyPy 7.3.19 aborts the process when its builder cannot allocate: a length whose bytes
        // alone cannot be reserved is refused first (a reservation given back at once; short
        // builders, whose bytes surely fit, skip it).
        if len >= 1 << 16 {
            let mut probe = Vec::<u8>::new();
            probe.try_reserve_exact(len).map_err(|_| too_many())?;
            // Kept observable, so that the reservation is not optimised away.
            core::hint::black_box(&probe);
        }
        Ok(CheckedBuilder { builder: RawBuilder::new(ctx, n)?, len, in_order: 0, out_of_order: None })
    }

    #[inline]
    fn set<K>(&mut self, index: usize, item: &Handle<'ctx, K>) {
        let len = self.len;
        assert!(index < len, "{} index {index} out of range for length {len}", B::NAME);
        if self.out_of_order.is_none() && index == self.in_order {
            self.in_order += 1;
        } else {
            self.record_unusual(index);
        }
        // SAFETY: the index is in range (asserted above).
        unsafe { self.builder.set(index, item.as_raw()) }
    }

    /// Record that item `index` (in range) is set, when it is not the next one in order.
    #[cold]
    #[inline(never)]
    fn record_unusual(&mut self, index: usize) {
        match &mut self.out_of_order {
            // set again: nothing new to record
            None if index < self.in_order => {}
            None => {
                let mut bits = vec![0u64; self.len.div_ceil(64)];
                for i in (0..self.in_order).chain([index]) {
                    bits[i / 64] |= 1 << (i % 64);
                }
                self.out_of_order = Some(bits);
            }
            Some(bits) => bits[index / 64] |= 1 << (index % 64),
        }
    }

    /// The first item never set, if any.
    fn first_unset(&self) -> Option<usize> {
        match &self.out_of_order {
            None => (self.in_order < self.len).then_some(self.in_order),
            Some(bits) => (0..self.len).find(|&i| bits[i / 64] & (1 << (i % 64)) == 0),
        }
    }

    fn build(self) -> Result<Handle<'ctx, B::Built>> {
        if let Some(i) = self.first_unset() {
            // Dropping `self` cancels the builder.
            return Err(crate::exceptions::SystemError::new_err(format!("{} item {i} was never set", B::NAME)));
        }
        // Destructured: the bitset, if any, is freed here.
        let CheckedBuilder { builder, .. } = self;
        builder.build()
    }
}

/// A list of the items of `items`, converted in order: what `Vec<T>` becomes in Python.
///
/// Every item is set in order, so no bookkeeping of which items were set is needed.
pub(crate) fn list_from_exact_iter<'ctx, I>(ctx: Context<'ctx>, items: I) -> Result<Handle<'ctx, List>>
where
    I: ExactSizeIterator<Item = Result<Handle<'ctx>>>,
{
    let len = items.len();
    let n = isize::try_from(len).map_err(|_| crate::exceptions::MemoryError::new_err("too many items"))?;
    let mut builder = RawBuilder::<ListKind>::new(ctx, n)?;
    let mut filled = 0;
    // `take`: an iterator that yields more than its `len` cannot write past the end.
    for (index, item) in items.take(len).enumerate() {
        // SAFETY: `index < len`, the builder's length.
        unsafe { builder.set(index, item?.as_raw()) };
        filled += 1;
    }
    if filled != len {
        // An iterator that lied about its length; dropping `builder` cancels it.
        return Err(crate::exceptions::SystemError::new_err(format!(
            "list conversion: {filled} of {len} items were produced"
        )));
    }
    builder.build()
}

/// Builds a list of known length (`HPyListBuilder`); cancelled if dropped unbuilt.
///
/// Every item must be set before [`build`](Self::build) (a list with missing items would crash
/// whoever reads them: `build` refuses with a SystemError instead).
pub struct ListBuilder<'ctx>(CheckedBuilder<'ctx, ListKind>);

impl<'ctx> ListBuilder<'ctx> {
    /// A builder for a list of `len` items.
    #[inline]
    pub fn new(ctx: Context<'ctx>, len: usize) -> Result<Self> {
        CheckedBuilder::new(ctx, len).map(ListBuilder)
    }

    /// Set item `index` (the handle is not consumed). Panics if `index >= len`.
    #[inline]
    pub fn set<K>(&mut self, index: usize, item: &Handle<'ctx, K>) {
        self.0.set(index, item)
    }

    /// The list. SystemError if an item was never set.
    #[inline]
    pub fn build(self) -> Result<Handle<'ctx, List>> {
        self.0.build()
    }
}

/// Builds a tuple of known length (`HPyTupleBuilder`); cancelled if dropped unbuilt.
///
/// Every item must be set before [`build`](Self::build) (SystemError otherwise).
pub struct TupleBuilder<'ctx>(CheckedBuilder<'ctx, TupleKind>);

impl<'ctx> TupleBuilder<'ctx> {
    /// A builder for a tuple of `len` items.
    #[inline]
    pub fn new(ctx: Context<'ctx>, len: usize) -> Result<Self> {
        CheckedBuilder::new(ctx, len).map(TupleBuilder)
    }

    /// Set item `index` (the handle is not consumed). Panics if `index >= len`.
    #[inline]
    pub fn set<K>(&mut self, index: usize, item: &Handle<'ctx, K>) {
        self.0.set(index, item)
    }

    /// The tuple. SystemError if an item was never set.
    #[inline]
    pub fn build(self) -> Result<Handle<'ctx, Tuple>> {
        self.0.build()
    }
}

/// Closes many handles at once (`HPyTracker`): hand it handles with [`add`](Self::add); they are
/// all closed when the tracker is dropped, unless [`forget_all`](Self::forget_all) was called.
pub struct Tracker<'ctx> {
    raw: ffi::HPyTracker,
    ctx: Context<'ctx>,
}

impl<'ctx> Tracker<'ctx> {
    /// A tracker with room for `capacity` handles (it grows as needed).
    pub fn new(ctx: Context<'ctx>, capacity: usize) -> Result<Self> {
        // Room for more handles than memory has bytes is refused here on every runtime: PyPy
        // 7.3.19 accepts any capacity (a list size hint) and then aborts on the first add.
        if capacity.checked_mul(core::mem::size_of::<ffi::HPy>()).is_none_or(|bytes| bytes > isize::MAX as usize) {
            return Err(crate::exceptions::MemoryError::new_err("tracker too large"));
        }
        let mut capacity = capacity as isize;
        if !crate::impl_::runtime_allocates_tracker_capacity() {
            // The capacity is only a hint (the tracker grows), and a large one is where PyPy
            // aborts instead of raising MemoryError.
            capacity = capacity.min(1 << 12);
        }
        // SAFETY: live context.
        let raw = unsafe { ffi::HPyTracker_New(ctx.as_ptr(), capacity) };
        if raw._i == 0 {
            return Err(Error::pending());
        }
        Ok(Tracker { raw, ctx })
    }

    /// Track `handle` (the tracker now owns it) and return its raw value.
    pub fn add<K>(&mut self, handle: Handle<'ctx, K>) -> Result<ffi::HPy> {
        let raw = handle.as_raw();
        // The tracker owns the handle from here on, even when adding fails (HPy then closes it).
        core::mem::forget(handle);
        // SAFETY: live context, live tracker, open handle.
        if unsafe { ffi::HPyTracker_Add(self.ctx.as_ptr(), self.raw, raw) } < 0 {
            return Err(Error::pending());
        }
        Ok(raw)
    }

    /// Stop tracking: the handles stay open and their ownership goes back to the caller.
    ///
    /// # Safety
    /// The caller takes over closing every handle added so far.
    pub unsafe fn forget_all(&mut self) {
        // SAFETY: live context, live tracker.
        unsafe { ffi::HPyTracker_ForgetAll(self.ctx.as_ptr(), self.raw) }
    }
}

impl Drop for Tracker<'_> {
    fn drop(&mut self) {
        // SAFETY: live context, live tracker: closes the tracked handles and the tracker.
        unsafe { ffi::HPyTracker_Close(self.ctx.as_ptr(), self.raw) }
    }
}

// ---- capsules ----

/// What a capsule points to: the value and the `TypeId` that makes `get` type-safe.
#[repr(C)]
struct CapsuleBox<T> {
    type_id: TypeId,
    value: T,
}

struct CapsuleDestructor<T>(PhantomData<T>);

impl<T: 'static> CapsuleDestructor<T> {
    const DESTRUCTOR: ffi::HPyCapsule_Destructor = ffi::HPyCapsule_Destructor {
        cpy_trampoline: Some(Self::cpy_trampoline),
        r#impl: Some(Self::destroy),
    };

    unsafe extern "C" fn destroy(_name: *const c_char, pointer: *mut c_void, _context: *mut c_void) {
        // Called once, when the capsule dies; a panic in `T::drop` must not unwind into C.
        let _ = std::panic::catch_unwind(|| {
            // SAFETY: `pointer` is the Box created in `Context::capsule`.
            drop(unsafe { Box::from_raw(pointer as *mut CapsuleBox<T>) })
        });
    }

    unsafe extern "C" fn cpy_trampoline(capsule: *mut ffi::cpy_PyObject) {
        // SAFETY: the capsule destructor protocol of HPy: the capsule object is passed as the
        // argument struct, with the module's trampoline context.
        unsafe {
            ffi::_HPy_CallRealFunctionFromTrampoline(
                crate::impl_::trampoline_context(),
                ffi::HPyFunc_CAPSULE_DESTRUCTOR,
                Some(core::mem::transmute::<
                    unsafe extern "C" fn(*const c_char, *mut c_void, *mut c_void),
                    unsafe extern "C" fn() -> *mut c_void,
                >(Self::destroy)),
                capsule.cast(),
            )
        }
    }
}

impl<'ctx> Context<'ctx> {
    /// A capsule owning `value`; `value` is dropped when the capsule dies. `name` identifies the
    /// capsule for [`Handle::capsule_get`].
    pub fn capsule<T: Send + 'static>(self, name: &'static CStr, value: T) -> Result<Handle<'ctx, Capsule>> {
        let boxed = Box::into_raw(Box::new(CapsuleBox { type_id: TypeId::of::<T>(), value }));
        let destructor: &'static ffi::HPyCapsule_Destructor = &CapsuleDestructor::<T>::DESTRUCTOR;
        // SAFETY: live context; the pointer, name and destructor outlive the capsule.
        let raw = unsafe {
            ffi::HPyCapsule_New(self.as_ptr(), boxed.cast(), name.as_ptr(), destructor as *const _ as *mut _)
        };
        if raw._i == 0 {
            // SAFETY: the capsule was not created, so the box is still ours.
            drop(unsafe { Box::from_raw(boxed) });
            return Err(Error::pending());
        }
        // SAFETY: a new capsule handle.
        Ok(unsafe { Handle::from_raw(self, raw) })
    }
}

impl<'ctx, K> Handle<'ctx, K> {
    /// The value of a capsule made by [`Context::capsule`] with this `name` and type `T`.
    /// TypeError if the object is not such a capsule.
    pub fn capsule_get<T: 'static>(&self, name: &CStr) -> Result<&T> {
        let c = self.ctx().as_ptr();
        self.as_any().downcast::<Capsule>()?;
        // SAFETY: live context, an open capsule handle, NUL-terminated name.
        if unsafe { ffi::HPyCapsule_IsValid(c, self.as_raw(), name.as_ptr()) } == 0 {
            return Err(crate::exceptions::TypeError::new_err(format!(
                "not a capsule named {:?}",
                name.to_string_lossy()
            )));
        }
        // SAFETY: validated above; the name matched.
        let p = unsafe { ffi::HPyCapsule_GetPointer(c, self.as_raw(), name.as_ptr()) } as *const CapsuleBox<T>;
        // SAFETY: every capsule made by `Context::capsule` points to a `CapsuleBox<_>` whose first
        // field is the TypeId; other capsules with the same name would be a naming clash, which
        // the TypeId check below turns into an error instead of a bad cast.
        unsafe {
            if p.is_null() || (*p.cast::<TypeId>()) != TypeId::of::<T>() {
                return Err(crate::exceptions::TypeError::new_err(format!(
                    "capsule {:?} does not hold a {}",
                    name.to_string_lossy(),
                    core::any::type_name::<T>()
                )));
            }
            Ok(&(*p).value)
        }
    }
}
