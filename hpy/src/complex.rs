//! [`Complex`]: a complex number, converted to and from Python's `complex`.
//!
//! ```
//! # #[hpy::module] mod m {
//! use hpy::Complex;
//!
//! /// `z` times its conjugate (accepts `complex`, `float`, `int`, anything with `__complex__`).
//! #[hpy::function]
//! fn norm2(z: Complex) -> f64 {
//!     z.re * z.re + z.im * z.im
//! }
//! # }
//! # fn main() {}
//! ```
//!
//! HPy 0.9 has no complex API: a `complex` is read through its `real` and `imag` attributes and
//! made by calling the `complex` type. Extraction accepts what CPython's `PyComplex_AsCComplex`
//! accepts (and PyO3's `Complex`): `complex`, `float`, `int`, and any object whose type has
//! `__complex__`, `__float__` or `__index__`, but not a string (`complex("1+2j")` parses; a
//! conversion does not).

use crate::conversion::{FromHPy, IntoHPy};
use crate::handle::Handle;
use crate::kinds::{Any, Float, Long};
use crate::{Context, Error, Result};

/// A complex number `re + im·j`: Python's `complex`, with its two `f64` parts.
///
/// A plain value type (no `num-complex` dependency); convert from and to your own complex type
/// with its fields.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Complex {
    /// The real part.
    pub re: f64,
    /// The imaginary part.
    pub im: f64,
}

impl Complex {
    /// `re + im·j`.
    pub const fn new(re: f64, im: f64) -> Self {
        Complex { re, im }
    }
}

impl<'a, 'ctx> FromHPy<'a, 'ctx> for Complex {
    /// From `complex`, `float`, `int` or any number type with `__complex__`, `__float__` or
    /// `__index__` (TypeError otherwise; OverflowError for an int too large for a float).
    fn from_hpy(obj: &'a Handle<'ctx, Any>) -> Result<Self> {
        let ctx = obj.ctx();
        if obj.is_kind::<Float>() || obj.is_kind::<Long>() {
            return Ok(Complex::new(f64::from_hpy(obj)?, 0.0));
        }
        if obj.is_instance(&ctx.complex_type()) {
            return parts(obj);
        }
        let ty = obj.get_type();
        if !(ty.hasattr("__complex__")? || ty.hasattr("__float__")? || ty.hasattr("__index__")?) {
            return Err(Error::wrong_type("complex", obj));
        }
        // `complex(obj)` calls `__complex__` (or `__float__`, `__index__`) and checks its result.
        parts(&ctx.complex_type().call1(obj)?)
    }
}

/// The parts of a `complex` (or a subclass).
fn parts(z: &Handle<'_, Any>) -> Result<Complex> {
    Ok(Complex::new(f64::from_hpy(&z.getattr("real")?)?, f64::from_hpy(&z.getattr("imag")?)?))
}

impl<'ctx> IntoHPy<'ctx> for Complex {
    /// A `complex`.
    fn into_hpy(self, ctx: Context<'ctx>) -> Result<Handle<'ctx>> {
        ctx.complex_type().call((self.re, self.im))
    }
}
