//! Code generation behind `hpy-macros`: a plain library (no `proc_macro` dependency), so every
//! expansion is unit-tested here with `cargo test`.
//!
//! * [`function`](mod@function): `#[hpy::function]`
//! * [`module`](mod@module): `#[hpy::module]`
//! * [`signature`]: the `signature = (...)` option and `__text_signature__`

pub mod function;
pub mod module;
pub mod signature;

use proc_macro2::TokenStream;

/// Turn a macro result into tokens: errors become `compile_error!` at their span.
fn or_compile_error(result: syn::Result<TokenStream>) -> TokenStream {
    result.unwrap_or_else(syn::Error::into_compile_error)
}

/// `#[hpy::function(attr)] item`
pub fn function(attr: TokenStream, item: TokenStream) -> TokenStream {
    or_compile_error((|| {
        let opts = syn::parse2(attr)?;
        let func = syn::parse2(item)?;
        function::expand(opts, func)
    })())
}

/// `#[hpy::module(attr)] item`
pub fn module(attr: TokenStream, item: TokenStream) -> TokenStream {
    or_compile_error((|| {
        let opts = syn::parse2(attr)?;
        let module = syn::parse2(item)?;
        module::expand(opts, module)
    })())
}
