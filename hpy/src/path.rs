//! File system paths: `PathBuf` and `OsString` from any path-like object, and `&Path`,
//! `PathBuf`, `&OsStr`, `OsString` to `str`.
//!
//! ```
//! # #[hpy::module] mod m {
//! use std::path::PathBuf;
//!
//! /// The file name of `path` (a `str`, `bytes`, `pathlib.Path`, anything with `__fspath__`).
//! #[hpy::function]
//! fn file_name(path: PathBuf) -> Option<PathBuf> {
//!     path.file_name().map(PathBuf::from)
//! }
//! # }
//! # fn main() {}
//! ```
//!
//! Python's own rules, through the `os` module (one call each way):
//! * from Python: `os.fsencode(obj)`, which takes `str`, `bytes` and any `os.PathLike`
//!   (`pathlib.Path`, ...) and encodes a `str` with the file system encoding and the
//!   `surrogateescape` handler, so a name that is not valid UTF-8 (listed by `os.listdir` as a
//!   `str` with lone surrogates) comes back as the same bytes. TypeError for anything else.
//! * to Python: `os.fsdecode(bytes)`, a `str` (not a `pathlib.Path`, as PyO3: every API that takes
//!   a path takes a `str`; wrap it in `pathlib.Path` in Python if you need one). Bytes that are
//!   not valid in the file system encoding become lone surrogates, which `os.fsencode` (and
//!   opening the file) turn back into the same bytes.
//!
//! On Unix a path is bytes, so every path round-trips. Elsewhere a path must be valid Unicode:
//! one that is not is a UnicodeDecodeError or UnicodeEncodeError.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use crate::conversion::{FromHPy, IntoHPy};
use crate::handle::Handle;
use crate::kinds::{Any, Bytes};
use crate::{Context, Result};

/// The file system bytes of a path-like object (`os.fsencode(obj)`).
fn fs_bytes<'ctx>(obj: &Handle<'ctx, Any>) -> Result<Handle<'ctx, Bytes>> {
    let os = obj.ctx().import("os")?;
    os.getattr("fsencode")?.call1(obj)?.downcast_into()
}

#[cfg(unix)]
fn os_string_of(bytes: &[u8]) -> Result<OsString> {
    use std::os::unix::ffi::OsStrExt;
    Ok(OsStr::from_bytes(bytes).to_os_string())
}

#[cfg(not(unix))]
fn os_string_of(bytes: &[u8]) -> Result<OsString> {
    match core::str::from_utf8(bytes) {
        Ok(s) => Ok(OsString::from(s)),
        Err(_) => Err(crate::exceptions::UnicodeDecodeError::new_err("path is not valid UTF-8")),
    }
}

impl<'a, 'ctx> FromHPy<'a, 'ctx> for OsString {
    /// From `str`, `bytes` or any `os.PathLike` (see the module docs).
    fn from_hpy(obj: &'a Handle<'ctx, Any>) -> Result<Self> {
        os_string_of(fs_bytes(obj)?.as_bytes())
    }
}

impl<'a, 'ctx> FromHPy<'a, 'ctx> for PathBuf {
    /// From `str`, `bytes` or any `os.PathLike` (see the module docs).
    fn from_hpy(obj: &'a Handle<'ctx, Any>) -> Result<Self> {
        OsString::from_hpy(obj).map(PathBuf::from)
    }
}

/// `os.fsdecode(bytes)`: the `str` Python uses for this file name.
fn fs_str<'ctx>(ctx: Context<'ctx>, name: &OsStr) -> Result<Handle<'ctx>> {
    #[cfg(unix)]
    let bytes = {
        use std::os::unix::ffi::OsStrExt;
        name.as_bytes().into_hpy(ctx)?
    };
    #[cfg(not(unix))]
    let bytes = match name.to_str() {
        Some(s) => s.as_bytes().into_hpy(ctx)?,
        None => return Err(crate::exceptions::UnicodeEncodeError::new_err("path is not valid Unicode")),
    };
    ctx.import("os")?.getattr("fsdecode")?.call1(&bytes)
}

impl<'ctx> IntoHPy<'ctx> for &OsStr {
    /// A `str` (`os.fsdecode`).
    fn into_hpy(self, ctx: Context<'ctx>) -> Result<Handle<'ctx>> {
        fs_str(ctx, self)
    }
}

impl<'ctx> IntoHPy<'ctx> for OsString {
    /// A `str` (`os.fsdecode`).
    fn into_hpy(self, ctx: Context<'ctx>) -> Result<Handle<'ctx>> {
        fs_str(ctx, &self)
    }
}

impl<'ctx> IntoHPy<'ctx> for &Path {
    /// A `str` (`os.fsdecode`).
    fn into_hpy(self, ctx: Context<'ctx>) -> Result<Handle<'ctx>> {
        fs_str(ctx, self.as_os_str())
    }
}

impl<'ctx> IntoHPy<'ctx> for PathBuf {
    /// A `str` (`os.fsdecode`).
    fn into_hpy(self, ctx: Context<'ctx>) -> Result<Handle<'ctx>> {
        fs_str(ctx, self.as_os_str())
    }
}

impl<'ctx> IntoHPy<'ctx> for &PathBuf {
    /// A `str` (`os.fsdecode`).
    fn into_hpy(self, ctx: Context<'ctx>) -> Result<Handle<'ctx>> {
        fs_str(ctx, self.as_os_str())
    }
}
