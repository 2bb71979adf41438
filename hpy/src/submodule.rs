//! Submodules: `#[hpy::submodule] mod child { ... }` inside an `#[hpy::module] mod parent`.
//!
//! ```
//! #[hpy::module]
//! mod geometry {
//!     /// Units of measure.
//!     #[hpy::submodule]
//!     mod units {
//!         #[hpy::constant]
//!         pub const METERS_PER_FOOT: f64 = 0.3048;
//!
//!         #[hpy::function]
//!         fn feet(meters: f64) -> f64 {
//!             meters / METERS_PER_FOOT
//!         }
//!     }
//! }
//! # fn main() {}
//! ```
//!
//! `geometry.units` is an attribute of `geometry`, is in `sys.modules`, and imports as Python's
//! own submodules do: `import geometry.units`, `from geometry.units import feet`.
//!
//! A submodule holds `#[hpy::function]`s, `#[hpy::constant]`s, `#[hpy::exception]`s, `Global`
//! statics and any Rust items; classes, `#[hpy::methods]`, `#[hpy::init]` and nested submodules
//! are compile errors (classes belong to the top module).
//!
//! HPy 0.9 creates functions only with the module being imported, and cannot create another
//! module. So the submodule is a `types.ModuleType("parent.child")` made when the parent is
//! imported, and its functions are created with the parent under the dotted names `child.f` and
//! moved to the submodule as `f`: their `__name__`/`__qualname__` are `child.f` (error messages
//! say `child.f()`) and `__module__` is `parent`, which is the pair `pickle` resolves. The text
//! signature is `f`'s.

use crate::handle::Handle;
use crate::kinds::Module;
use crate::{Context, Result};

/// Create the submodule `qualified` (`parent.name`), set it as `parent.name` and in
/// `sys.modules` (called by `#[hpy::module]`'s exec).
#[doc(hidden)]
pub fn create<'ctx>(
    ctx: Context<'ctx>,
    parent: &Handle<'ctx, Module>,
    name: &str,
    qualified: &str,
    doc: Option<&str>,
) -> Result<Handle<'ctx, Module>> {
    let module_type = crate::impl_::MODULE_TYPE
        .load(ctx)
        .ok_or_else(|| crate::exceptions::SystemError::new_err("the module type is not known yet"))?;
    let module = module_type.call((qualified, doc))?.downcast_into::<Module>()?;
    parent.setattr(name, &module)?;
    ctx.import("sys")?.getattr("modules")?.set_item(qualified, &module)?;
    Ok(module)
}

/// Move the function the parent was created with as `registered` (`child.f`) to `module` as
/// `name` (called by `#[hpy::module]`'s exec).
#[doc(hidden)]
pub fn move_function(parent: &Handle<'_, Module>, module: &Handle<'_, Module>, registered: &str, name: &str) -> Result<()> {
    let function = parent.getattr(registered)?;
    module.setattr(name, &function)?;
    parent.delattr(registered)
}
