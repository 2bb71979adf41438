//! `#[hpy::module] mod name { ... }`: an HPy module from a Rust module.
//!
//! Inside the `mod`, the macro collects
//! * every `#[hpy::function]` fn (its `static HPyDef`, see [`crate::function::def_ident`]),
//! * every `static NAME: Global` (registered in `HPyModuleDef.globals`),
//! * at most one `#[hpy::init]` fn, run when the module is executed, to add attributes;
//!
//! and emits the `HPyModuleDef` with the module docstring, and the four exported entry points
//! named after the module (`HPyInit_<name>`, ...). Nothing else is exported: every other
//! generated symbol is a Rust-mangled private item, so it cannot clash with a C library's.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Attribute, Ident, Item, ItemMod, LitStr, Token, Type};

use crate::function::{c_str, def_ident, doc_string};

/// Options of `#[hpy::module(...)]`.
#[derive(Default)]
pub struct ModuleOptions {
    pub name: Option<LitStr>,
}

impl Parse for ModuleOptions {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut opts = ModuleOptions::default();
        while !input.is_empty() {
            let key: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            match key.to_string().as_str() {
                "name" => opts.name = Some(input.parse()?),
                _ => {
                    return Err(syn::Error::new(key.span(), format!("unknown option `{key}`: expected `name = \"...\"`")))
                }
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        Ok(opts)
    }
}

/// Is `attr` `#[hpy::<name>]` or `#[<name>]`?
fn is_hpy_attr(attr: &Attribute, name: &str) -> bool {
    let path = attr.path();
    let segs: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    match segs.as_slice() {
        [one] => one == name,
        [first, second] => first == "hpy" && second == name,
        _ => false,
    }
}

fn is_global_type(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "Global"))
}

/// Expand `#[hpy::module(opts)] mod ... { ... }`.
pub fn expand(opts: ModuleOptions, mut module: ItemMod) -> syn::Result<TokenStream> {
    let Some((_, items)) = module.content.as_mut() else {
        return Err(syn::Error::new(
            module.span(),
            "#[hpy::module] needs the module's items inline: `mod name { ... }`, not `mod name;`",
        ));
    };
    let name = opts.name.as_ref().map_or_else(|| module.ident.to_string(), LitStr::value);
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        let span = opts.name.as_ref().map_or(module.ident.span(), |n| n.span());
        return Err(syn::Error::new(span, "the module name must be a non-empty ASCII identifier"));
    }

    let mut functions = Vec::new();
    let mut globals = Vec::new();
    let mut init: Option<Ident> = None;
    for item in items.iter_mut() {
        match item {
            Item::Fn(f) => {
                if f.attrs.iter().any(|a| is_hpy_attr(a, "function")) {
                    functions.push(f.sig.ident.clone());
                }
                if let Some(pos) = f.attrs.iter().position(|a| is_hpy_attr(a, "init")) {
                    let attr = f.attrs.remove(pos);
                    if init.is_some() {
                        return Err(syn::Error::new(attr.span(), "a module can have only one `#[hpy::init]` function"));
                    }
                    init = Some(f.sig.ident.clone());
                }
            }
            Item::Static(s) if is_global_type(&s.ty) => {
                if matches!(s.mutability, syn::StaticMutability::Mut(_)) {
                    return Err(syn::Error::new(s.span(), "a `Global` must be a plain `static`, not `static mut`"));
                }
                globals.push(s.ident.clone());
            }
            _ => {}
        }
    }

    let doc = doc_string(&module.attrs);
    let doc_expr = if doc.is_empty() {
        quote!(::core::option::Option::None)
    } else {
        let d = c_str(&doc);
        quote!(::core::option::Option::Some(#d))
    };
    let defs = functions.iter().map(def_ident);
    let n_defines = functions.len() + 2; // + the exec slot + NULL
    let n_globals = globals.len() + 1;
    let init_call = init.as_ref().map(|i| {
        quote_spanned!(i.span()=> ::hpy::impl_::IntoInitResult::into_init_result(#i(__hpy_ctx, __hpy_module))?;)
    });
    let major = format!("get_required_hpy_major_version_{name}");
    let minor = format!("get_required_hpy_minor_version_{name}");
    let init_ctx = format!("HPyInitGlobalContext_{name}");
    let init_sym = format!("HPyInit_{name}");

    let generated: Vec<Item> = vec![
        syn::parse_quote! {
            #[doc(hidden)]
            static __HPY_MOD_EXEC: ::hpy::ffi::HPyDef = ::hpy::__hpy_mod_exec_def!(|__hpy_ctx, __hpy_module| {
                #init_call
                ::core::result::Result::Ok(())
            });
        },
        syn::parse_quote! {
            #[doc(hidden)]
            static __HPY_DEFINES: [::hpy::ffi::HPyDefPtr; #n_defines] = [
                #(::hpy::ffi::HPyDefPtr(&#defs),)*
                ::hpy::ffi::HPyDefPtr(&__HPY_MOD_EXEC),
                ::hpy::ffi::HPyDefPtr::NULL,
            ];
        },
        syn::parse_quote! {
            #[doc(hidden)]
            static __HPY_GLOBALS: [::hpy::impl_::GlobalPtr; #n_globals] = [
                #(::hpy::impl_::GlobalPtr(#globals.as_raw_ptr()),)*
                ::hpy::impl_::GlobalPtr::NULL,
            ];
        },
        syn::parse_quote! {
            #[doc(hidden)]
            static __HPY_MODULE_DEF: ::hpy::ffi::HPyModuleDef =
                ::hpy::impl_::module_def(#doc_expr, &__HPY_DEFINES, &__HPY_GLOBALS);
        },
        syn::parse_quote! {
            ::hpy::__hpy_export_module!(#major, #minor, #init_ctx, #init_sym, __HPY_MODULE_DEF);
        },
    ];
    items.extend(generated);
    Ok(quote!(#module))
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    #[test]
    fn collects_functions_globals_and_init() {
        let m: ItemMod = parse_quote! {
            /// The docs.
            mod demo {
                static COUNT: hpy::Global = hpy::Global::new();
                #[hpy::function] fn a() {}
                #[function] fn b(x: i64) -> i64 { x }
                fn helper() {}
                #[hpy::init] fn setup(ctx: hpy::Context<'_>, m: &hpy::Handle<'_, hpy::Module>) -> hpy::Result<()> { Ok(()) }
            }
        };
        let out = expand(ModuleOptions::default(), m).unwrap().to_string();
        assert!(out.contains("HPyDefPtr (& __HPY_DEF_a)"), "{out}");
        assert!(out.contains("HPyDefPtr (& __HPY_DEF_b)"), "{out}");
        assert!(!out.contains("__HPY_DEF_helper"), "{out}");
        assert!(out.contains("GlobalPtr (COUNT . as_raw_ptr ())"), "{out}");
        assert!(out.contains("setup (__hpy_ctx , __hpy_module)"), "{out}");
        assert!(out.contains(r#""HPyInit_demo""#), "{out}");
        assert!(out.contains(r#""HPyInitGlobalContext_demo""#), "{out}");
        assert!(out.contains(r#"c"The docs.""#), "{out}");
        assert!(!out.contains("# [hpy :: init]"), "the init attribute is consumed: {out}");
    }

    #[test]
    fn name_option_and_errors() {
        let m: ItemMod = parse_quote!(mod demo {});
        let opts: ModuleOptions = syn::parse2(quote!(name = "other")).unwrap();
        assert!(expand(opts, m).unwrap().to_string().contains(r#""HPyInit_other""#));
        let outline: ItemMod = parse_quote!(mod demo;);
        assert!(expand(ModuleOptions::default(), outline).unwrap_err().to_string().contains("inline"));
        let two_inits: ItemMod = parse_quote!(mod d { #[hpy::init] fn a() {} #[init] fn b() {} });
        assert!(expand(ModuleOptions::default(), two_inits).unwrap_err().to_string().contains("only one"));
        let bad: ModuleOptions = syn::parse2(quote!(name = "a.b")).unwrap();
        assert!(expand(bad, parse_quote!(mod d {})).unwrap_err().to_string().contains("identifier"));
    }
}
