//! Kinds of handles: zero-sized markers for the built-in Python types.
//!
//! `Handle<'ctx, Long>` is a handle known to be an `int`; `Handle<'ctx>` (kind [`Any`]) is any
//! object. Get a typed handle with [`Handle::downcast`], which raises TypeError naming both
//! types when the object has another type. Kind-specific methods live in [`crate::types`].

use crate::ffi;
use crate::handle::Handle;

/// A kind of Python object that can be checked at runtime.
pub trait Kind {
    /// The Python name used in error messages ("int", "str", ...).
    const NAME: &'static str;
    /// Is `obj` of this kind? (Subclasses count, as with `isinstance`.)
    fn check(obj: &Handle<'_, Any>) -> bool;
}

macro_rules! kinds {
    ($( $(#[$doc:meta])* $kind:ident = $name:literal, |$obj:ident, $ctx:ident| $check:expr; )*) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, Copy)]
            pub enum $kind {}

            impl Kind for $kind {
                const NAME: &'static str = $name;
                #[inline]
                fn check($obj: &Handle<'_, Any>) -> bool {
                    let $ctx = $obj.ctx().as_ptr();
                    // SAFETY: an open handle of a live context; the checks never fail.
                    #[allow(unused_unsafe)]
                    unsafe { $check }
                }
            }
        )*
    };
}

kinds! {
    /// Any Python object (the default kind).
    Any = "object", |_obj, _ctx| true;
    /// `None`.
    NoneType = "None", |obj, ctx| ffi::HPy_Is(ctx, obj.as_raw(), (*ctx).h_None) != 0;
    /// `bool`.
    Bool = "bool", |obj, ctx| ffi::HPy_TypeCheck(ctx, obj.as_raw(), (*ctx).h_BoolType) != 0;
    /// `int` (and subclasses, including `bool`).
    Long = "int", |obj, ctx| ffi::HPy_TypeCheck(ctx, obj.as_raw(), (*ctx).h_LongType) != 0;
    /// `float`.
    Float = "float", |obj, ctx| ffi::HPy_TypeCheck(ctx, obj.as_raw(), (*ctx).h_FloatType) != 0;
    /// `str`.
    Unicode = "str", |obj, ctx| ffi::HPyUnicode_Check(ctx, obj.as_raw()) != 0;
    /// `bytes`.
    Bytes = "bytes", |obj, ctx| ffi::HPyBytes_Check(ctx, obj.as_raw()) != 0;
    /// `tuple`.
    Tuple = "tuple", |obj, ctx| ffi::HPyTuple_Check(ctx, obj.as_raw()) != 0;
    /// `list`.
    List = "list", |obj, ctx| ffi::HPyList_Check(ctx, obj.as_raw()) != 0;
    /// `dict`.
    Dict = "dict", |obj, ctx| ffi::HPyDict_Check(ctx, obj.as_raw()) != 0;
    /// `type` (any class, including exception types).
    Type = "type", |obj, ctx| ffi::HPy_TypeCheck(ctx, obj.as_raw(), (*ctx).h_TypeType) != 0;
    /// A module object.
    Module = "module", |obj, ctx| {
        // HPy 0.9 has no module-type constant: every hpy-rs module stores it at import.
        match crate::impl_::MODULE_TYPE.load(obj.ctx()) {
            Some(module_type) => ffi::HPy_TypeCheck(ctx, obj.as_raw(), module_type.as_raw()) != 0,
            None => false,
        }
    };
    /// A capsule (`PyCapsule`): an opaque Rust value owned by a Python object.
    Capsule = "PyCapsule", |obj, ctx| ffi::HPy_TypeCheck(ctx, obj.as_raw(), (*ctx).h_CapsuleType) != 0;
    /// `set` (methods in [`crate::set`]).
    Set = "set", |obj, _ctx| is_builtin_instance(obj, c"set");
    /// `frozenset` (methods in [`crate::set`]).
    FrozenSet = "frozenset", |obj, _ctx| is_builtin_instance(obj, c"frozenset");
    /// `slice` (`obj[1:5:2]` passes one to `__getitem__`; see [`crate::slice`]).
    Slice = "slice", |obj, ctx| ffi::HPy_TypeCheck(ctx, obj.as_raw(), (*ctx).h_SliceType) != 0;
    /// `bytearray` (methods in [`crate::bytearray`]).
    ByteArray = "bytearray", |obj, _ctx| is_builtin_instance(obj, c"bytearray");
}

/// Is `obj` an instance of the builtin type `name` (or of a subclass)? For the types HPy 0.9 has
/// no constant or check function for; the type is looked up in the builtins namespace, as Python
/// code finds it. `false` if the lookup fails (someone deleted it from `builtins`), without
/// leaving an exception behind.
fn is_builtin_instance(obj: &Handle<'_, Any>, name: &core::ffi::CStr) -> bool {
    let ctx = obj.ctx();
    match builtin(ctx, name) {
        // SAFETY: live context, open handles.
        Ok(ty) => unsafe { ffi::HPy_TypeCheck(ctx.as_ptr(), obj.as_raw(), ty.as_raw()) != 0 },
        Err(e) => {
            e.clear(ctx);
            false
        }
    }
}

/// `builtins.<name>` (a KeyError if it is not there).
pub(crate) fn builtin<'ctx>(ctx: crate::Context<'ctx>, name: &core::ffi::CStr) -> crate::Result<Handle<'ctx, Any>> {
    // SAFETY: live context, the builtins dict (a context constant), a NUL-terminated key; returns
    // a new handle or NULL with an exception.
    unsafe { Handle::from_new(ctx, ffi::HPy_GetItem_s(ctx.as_ptr(), ctx.builtins().as_raw(), name.as_ptr())) }
}
