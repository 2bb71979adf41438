//! Code generation behind `hpy-macros`: a plain library (no `proc_macro` dependency), so every
//! expansion is unit-tested here with `cargo test`.
//!
//! * [`function`](mod@function): `#[hpy::function]`
//! * [`module`](mod@module): `#[hpy::module]`
//! * [`signature`]: the `signature = (...)` option and `__text_signature__`

pub mod class;
pub mod constant;
pub mod exception;
pub mod function;
pub mod methods;
pub mod module;
pub mod signature;
pub mod stubs;
pub mod submodule;

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

/// `#[hpy::class]` or `#[hpy::methods]` outside an `#[hpy::module]`: the module macro expands
/// them, because it registers the type; on their own they are a mistake.
pub fn outside_module(what: &str, item: TokenStream) -> TokenStream {
    let msg = format!("{what} must be inside an `#[hpy::module] mod`: the module creates the type when it is imported");
    let err = syn::Error::new(proc_macro2::Span::call_site(), msg).into_compile_error();
    quote::quote!(#err #item)
}

/// `#[hpy::exception]`, `#[hpy::constant]` or `#[hpy::submodule]` outside an `#[hpy::module]`:
/// the module macro expands them; `why` says what the module does with it.
pub fn outside_module_because(what: &str, why: &str, item: TokenStream) -> TokenStream {
    let msg = format!("{what} must be inside an `#[hpy::module] mod`: {why}");
    let err = syn::Error::new(proc_macro2::Span::call_site(), msg).into_compile_error();
    quote::quote!(#err #item)
}
