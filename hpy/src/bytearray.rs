//! `bytearray`: the kind [`ByteArray`], reading its contents and making one.
//!
//! ```
//! # #[hpy::module] mod m {
//! use hpy::{ByteArray, Context, Handle, Result};
//!
//! /// The bytes of `data`, reversed, as a new bytearray.
//! #[hpy::function]
//! fn reversed<'ctx>(ctx: Context<'ctx>, data: &Handle<'ctx, ByteArray>) -> Result<Handle<'ctx, ByteArray>> {
//!     let mut bytes = data.to_vec()?;
//!     bytes.reverse();
//!     ctx.bytearray(&bytes)
//! }
//! # }
//! # fn main() {}
//! ```
//!
//! The contents are only ever copied out, never borrowed: a `bytearray` can be resized by any
//! Python code that runs while a Rust borrow of its buffer would be alive (a callback, a
//! destructor, another thread when the interpreter is released), which would leave the borrow
//! dangling. HPy 0.9 has no bytearray or buffer-reading API anyway: the copy is `bytes(ba)`, one
//! Python call whatever the size, then the bytes object's buffer.

use crate::conversion::IntoHPy;
use crate::handle::Handle;
use crate::kinds::{builtin, ByteArray, Bytes};
use crate::{Context, Result};

impl<'ctx> Handle<'ctx, ByteArray> {
    /// The contents now, as a `bytes` object (`bytes(ba)`): a snapshot that later changes to the
    /// bytearray do not affect.
    pub fn to_bytes(&self) -> Result<Handle<'ctx, Bytes>> {
        // SAFETY: `bytes(x)` returns a bytes object.
        Ok(unsafe { self.ctx().bytes_type().call1(self)?.cast_into_unchecked() })
    }

    /// A copy of the contents now.
    pub fn to_vec(&self) -> Result<Vec<u8>> {
        Ok(self.to_bytes()?.as_bytes().to_vec())
    }
}

impl<'ctx> Context<'ctx> {
    /// A new `bytearray` holding a copy of `data`.
    pub fn bytearray(self, data: &[u8]) -> Result<Handle<'ctx, ByteArray>> {
        let bytes = data.into_hpy(self)?;
        // `bytearray` may have been replaced in the builtins namespace: check what came back.
        builtin(self, c"bytearray")?.call1(&bytes)?.downcast_into()
    }
}
