//! Support code for what `#[hpy::module]` and `#[hpy::function]` generate. Not a public API:
//! names and signatures change without notice.
//!
//! The macros emit only safe code plus invocations of the `macro_rules!` macros below; the
//! `unsafe` blocks live here, so a user crate can be `#![forbid(unsafe_code)]`.

pub mod args;
pub mod keyword_cache;
pub mod cast;
pub mod slots;
pub mod protocols;
mod trampoline;
pub mod abi;

pub use args::{Args, FunctionDescription};
pub use keyword_cache::KeywordCache;
pub use slots::{add_class, traverse_def};
pub use trampoline::*;
pub use abi::trampoline_context;

pub use crate::class::{extract_clone, not_an_instance, receiver};

pub use crate::ffi;

use core::sync::atomic::{AtomicBool, Ordering};

// ---- interpreter quirks, detected once at module exec ----

/// CPython < 3.10 and PyPy convert any object with `__int__` (floats, Decimals: truncating) where
/// CPython 3.10+ only accepts `__index__`; hpy-rs applies 3.10's rule everywhere.
static INT_CONVERSION_USES_INT: AtomicBool = AtomicBool::new(false);

#[inline]
pub(crate) fn int_conversion_uses_int() -> bool {
    INT_CONVERSION_USES_INT.load(Ordering::Relaxed)
}

/// Is the runtime CPython's `hpy` package? It gives guarantees that PyPy's HPy does not; each
/// is read through a function named after it, below. False until detected, so an unknown
/// runtime gets the careful path.
static CPYTHON_RUNTIME: AtomicBool = AtomicBool::new(false);

/// CPython's `HPyUnicode_AsUTF8AndSize` returns only valid UTF-8 (it raises for lone
/// surrogates); PyPy's returns lone surrogates encoded (see `Handle<Unicode>::to_str`).
#[inline]
pub(crate) fn runtime_validates_utf8() -> bool {
    CPYTHON_RUNTIME.load(Ordering::Relaxed)
}

/// CPython's `HPyUnicode_FromString` decodes strictly (UnicodeDecodeError for invalid UTF-8);
/// PyPy 7.3.19's fails such bytes with a SystemError (C on HPy meets the same).
#[inline]
pub(crate) fn runtime_decodes_utf8_strictly() -> bool {
    CPYTHON_RUNTIME.load(Ordering::Relaxed)
}

/// CPython's runtime implements `_HPy_AsStruct_<Shape>` for every built-in shape; PyPy 7.3.19
/// only for `Object`, `Type` and `Legacy`: the others are stubs that set NotImplementedError and
/// return garbage (so C on HPy with `.builtin_shape = HPyType_BuiltinShape_Float` fails there
/// too). Classes that extend `float`, `int`, `str`, `tuple` or `list` need them.
#[inline]
pub(crate) fn runtime_has_builtin_shapes() -> bool {
    CPYTHON_RUNTIME.load(Ordering::Relaxed)
}

/// CPython's runtime calls `HPy_tp_new` with keywords in a dict, as HPy 0.9 specifies; PyPy
/// 7.3.19 with a names tuple (see `FunctionDescription::parse_with_dict`).
#[inline]
pub(crate) fn runtime_passes_new_keywords_as_dict() -> bool {
    CPYTHON_RUNTIME.load(Ordering::Relaxed)
}

/// CPython's runtime makes getset descriptors that raise a setter's error, refuse assignment
/// to a get-only property and call getters with a valid context in debug mode; PyPy 7.3.19's
/// do none of these (see `slots::PropertyMethods`).
#[inline]
pub(crate) fn runtime_calls_getsets_soundly() -> bool {
    CPYTHON_RUNTIME.load(Ordering::Relaxed)
}

/// CPython refuses to subclass a type without `HPy_TPFLAGS_BASETYPE`; PyPy 7.3.19 ignores the
/// flag (see `slots::refuse_python_subclasses`).
#[inline]
pub(crate) fn runtime_honours_basetype() -> bool {
    CPYTHON_RUNTIME.load(Ordering::Relaxed)
}

/// CPython's runtime runs `tp_destroy` for instances of Python subclasses; PyPy 7.3.19 aborts
/// (see `slots::refuse_python_subclasses`).
#[inline]
pub(crate) fn runtime_finalizes_python_subclasses() -> bool {
    CPYTHON_RUNTIME.load(Ordering::Relaxed)
}

/// CPython's `HPyTracker_New(n)` allocates room for `n` handles or raises MemoryError; PyPy
/// 7.3.19's accepts any `n` (a list size hint) and aborts in the next `HPyTracker_Add` when
/// the hint cannot be allocated (see `Tracker::new`).
#[inline]
pub(crate) fn runtime_allocates_tracker_capacity() -> bool {
    CPYTHON_RUNTIME.load(Ordering::Relaxed)
}

/// CPython calls a binary slot with the instance on either side (`3 * v`); PyPy 7.3.19 only with
/// the instance on the left (see `slots::REFLECTED_OPERATORS`).
#[inline]
pub(crate) fn runtime_reflects_binary_slots() -> bool {
    CPYTHON_RUNTIME.load(Ordering::Relaxed)
}

/// CPython makes a type with `__eq__` and no `__hash__` unhashable and refuses to pickle a type
/// with a C struct; PyPy 7.3.19 does neither (see `slots::complete_type_for_runtime`).
#[inline]
pub(crate) fn runtime_types_behave_as_cpython() -> bool {
    CPYTHON_RUNTIME.load(Ordering::Relaxed)
}

/// CPython hands `bf_releasebuffer` the view that `bf_getbuffer` filled; PyPy a new one in which
/// only `buf`, `len` and `ndim` are set (see `slots::releasebuffer`).
#[inline]
pub(crate) fn runtime_returns_buffer_views() -> bool {
    CPYTHON_RUNTIME.load(Ordering::Relaxed)
}

/// CPython's debug mode gives every call of an HPy function a context of its own, also one made
/// while another HPy call runs (the private unraisable hook, called from the taking call's
/// `HPyErr_WriteUnraisable`); PyPy 7.3.19's aborts there ("Wrong HPy Context!"; see
/// `err::prepare_fetch`).
#[inline]
pub(crate) fn runtime_gives_nested_calls_their_context() -> bool {
    CPYTHON_RUNTIME.load(Ordering::Relaxed)
}

/// The type of module objects (HPy 0.9 has no constant for it), stored at module exec.
pub static MODULE_TYPE: crate::Global = crate::Global::new();

/// Run at every module exec, before the user's init.
pub fn detect_interpreter(ctx: crate::Context<'_>) -> crate::Result<()> {
    // First, before anything calls a context function behind `h_Builtins` (PyPy 3.11 moved them).
    // SAFETY: `ctx` is the context of the current call (module exec), with no exception set.
    unsafe { ffi::layout::detect(ctx.as_ptr()) };
    // SAFETY: as above.
    unsafe { abi::detect_direct_context(ctx.as_ptr()) };
    let sys = ctx.import("sys")?;
    let implementation: String = sys.getattr("implementation")?.getattr("name")?.extract()?;
    let (major, minor): (i64, i64) = {
        let v = sys.getattr("version_info")?;
        (v.get_index(0)?.extract()?, v.get_index(1)?.extract()?)
    };
    // PyPy's HPyLong_As* take `__int__` as well (its `int_w`), at every Python version.
    INT_CONVERSION_USES_INT.store(implementation != "cpython" || (major, minor) < (3, 10), Ordering::Relaxed);
    CPYTHON_RUNTIME.store(implementation == "cpython", Ordering::Relaxed);
    MODULE_TYPE.store(ctx, &sys.get_type());
    Ok(())
}

// ---- blueprints ----

/// An `HPyDef` of kind `Meth`.
pub const fn meth_def(
    name: &'static core::ffi::CStr,
    doc: &'static core::ffi::CStr,
    signature: ffi::HPyFunc_Signature,
    impl_: ffi::HPyCFunction,
    cpy_trampoline: ffi::cpy_PyCFunction,
) -> ffi::HPyDef {
    ffi::HPyDef {
        kind: ffi::HPyDef_Kind_Meth,
        u: ffi::HPyDef_Union {
            meth: ffi::HPyMeth { name: name.as_ptr(), r#impl: impl_, cpy_trampoline, signature, doc: doc.as_ptr() },
        },
    }
}

/// An `HPyDef` of kind `Slot`.
pub const fn slot_def(slot: ffi::HPySlot_Slot, impl_: ffi::HPyCFunction, cpy_trampoline: ffi::cpy_PyCFunction) -> ffi::HPyDef {
    ffi::HPyDef {
        kind: ffi::HPyDef_Kind_Slot,
        u: ffi::HPyDef_Union { slot: ffi::HPySlot { slot, r#impl: impl_, cpy_trampoline } },
    }
}

/// A Rust field type the interpreter can read straight from an object's memory, as the
/// `HPyMember` field type `TYPE` (a C type of the same size and representation).
///
/// # Safety
/// `TYPE` must read the bytes of a `Self` as the same value.
pub unsafe trait MemberField {
    const TYPE: ffi::HPyMember_FieldType;
}

macro_rules! member_fields {
    ($($t:ty => $m:ident),* $(,)?) => {
        // SAFETY: each C type has the Rust type's size and representation (LP64 and LLP64
        // alike: only fixed-size C types are used for 64-bit values).
        $(unsafe impl MemberField for $t { const TYPE: ffi::HPyMember_FieldType = ffi::$m; })*
    };
}
member_fields! {
    i8 => HPyMember_BYTE, u8 => HPyMember_UBYTE, i16 => HPyMember_SHORT, u16 => HPyMember_USHORT,
    i32 => HPyMember_INT, u32 => HPyMember_UINT, i64 => HPyMember_LONGLONG, u64 => HPyMember_ULONGLONG,
    f32 => HPyMember_FLOAT, f64 => HPyMember_DOUBLE,
    // A Rust bool is one byte, 0 or 1; the C reader takes a `char` and tests it for non-zero.
    bool => HPyMember_BOOL,
}
// SAFETY: `HPy_ssize_t` is `isize` on every platform HPy supports.
unsafe impl MemberField for isize {
    const TYPE: ffi::HPyMember_FieldType = ffi::HPyMember_HPYSSIZET;
}
// SAFETY: `usize` has the size of one of the two fixed-size unsigned C types.
unsafe impl MemberField for usize {
    const TYPE: ffi::HPyMember_FieldType =
        if core::mem::size_of::<usize>() == 8 { ffi::HPyMember_ULONGLONG } else { ffi::HPyMember_UINT };
}

/// An `HPyDef` of kind `Member`: the read-only attribute `name`, which the interpreter reads as
/// an `F` at `field_offset` in the value of class `C` (HPy adds the size of the object header).
/// Refused at compile time unless `C`'s values can be read with no check.
pub const fn readonly_member_def<C: crate::Class, F: MemberField>(
    name: &'static core::ffi::CStr,
    doc: &'static core::ffi::CStr,
    field_offset: usize,
) -> ffi::HPyDef {
    assert!(crate::class::reads_need_no_check::<C>(), "a member needs a frozen, sendable class without `extends`");
    let offset = crate::class::data_offset::<C>(field_offset);
    ffi::HPyDef {
        kind: ffi::HPyDef_Kind_Member,
        u: ffi::HPyDef_Union {
            member: ffi::HPyMember { name: name.as_ptr(), r#type: F::TYPE, offset: offset as ffi::HPy_ssize_t, readonly: 1, doc: doc.as_ptr() },
        },
    }
}

/// An `HPyGlobal*` in a static, NULL-terminated `globals` array.
#[repr(transparent)]
pub struct GlobalPtr(pub *mut ffi::HPyGlobal);
// SAFETY: points to a `Global` static, whose access is serialised by the interpreter.
unsafe impl Sync for GlobalPtr {}
impl GlobalPtr {
    /// The terminating NULL.
    pub const NULL: GlobalPtr = GlobalPtr(core::ptr::null_mut());
}

/// A `static` HPyModuleDef for the macro output.
pub const fn module_def(
    doc: Option<&'static core::ffi::CStr>,
    defines: &'static [ffi::HPyDefPtr],
    globals: &'static [GlobalPtr],
) -> ffi::HPyModuleDef {
    ffi::HPyModuleDef {
        doc: match doc {
            Some(d) => d.as_ptr(),
            None => core::ptr::null(),
        },
        size: 0,
        legacy_methods: core::ptr::null_mut(),
        defines: defines.as_ptr() as *mut *mut ffi::HPyDef,
        globals: globals.as_ptr() as *mut *mut ffi::HPyGlobal,
    }
}

/// The module's type stubs (`.pyi` text), in the `.hpy_stubs` section of the binary, where the
/// wheel builder finds them (`tools/pep517/hpy_build/stubs.py`).
#[doc(hidden)]
#[macro_export]
macro_rules! __hpy_stubs {
    ($name:ident, $len:literal, $bytes:literal) => {
        #[doc(hidden)]
        #[used]
        #[link_section = ".hpy_stubs"]
        static $name: [u8; $len] = *$bytes;
    };
}

/// Convert the single argument of an `O` function, naming it in the error.
#[inline]
pub fn extract_arg<'a, 'ctx, T: crate::FromHPy<'a, 'ctx>>(
    obj: &'a crate::Handle<'ctx>,
    func: &str,
    arg: &str,
) -> crate::Result<T> {
    T::from_hpy(obj).map_err(|e| e.for_argument(func, arg))
}

/// The integer key of a `__getitem__`, `__setitem__` or `__delitem__`: an int out of the key
/// type's range (`v[2**70]`, or `v[-1]` for a `usize` key) is an IndexError ("index out of
/// range"), as CPython's sequences raise for `[][2**70]`, rather than an argument's OverflowError.
pub fn extract_index<'a, 'ctx, T: crate::FromHPy<'a, 'ctx>>(
    obj: &'a crate::Handle<'ctx>,
    func: &str,
    arg: &str,
) -> crate::Result<T> {
    T::from_hpy(obj).map_err(|e| {
        if e.matches(obj.ctx(), crate::exceptions::OverflowError::TYPE) {
            e.clear(obj.ctx());
            crate::exceptions::IndexError::new_err("index out of range")
        } else {
            e.for_argument(func, arg)
        }
    })
}
