//! `#[hpy::exception(extends = Base)] pub struct Name;` inside an `#[hpy::module]` (or an
//! `#[hpy::submodule]`): a Python exception class declared in one item.
//!
//! The struct stays a unit struct, the Rust name of the type. Next to it the expansion emits the
//! `Global` that holds the class (registered by the module), `Name::TYPE` (an `ExceptionType`),
//! `Name::new_err(msg)`, `Name::new_err_args(args)`, `impl PyException for Name` (so another
//! declaration can extend it) and `From<Name> for ExceptionType`, as the built-in exceptions
//! have. The module creates the class at import (bases first), named `module.Name` so that
//! `__module__` is the module and pickling finds the class, and sets it as a module attribute.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Ident, Item, ItemStruct, LitStr, Path, Token};

use crate::function::doc_string;

/// Options of `#[hpy::exception(...)]`.
#[derive(Default)]
pub struct ExceptionOptions {
    /// `extends = Base`: a built-in exception or another declared one (default `Exception`).
    pub extends: Option<Path>,
    /// `name = "..."`: the Python name (default: the struct's name).
    pub name: Option<LitStr>,
}

impl Parse for ExceptionOptions {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut opts = ExceptionOptions::default();
        while !input.is_empty() {
            let key: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            match key.to_string().as_str() {
                "extends" => opts.extends = Some(input.parse()?),
                "name" => opts.name = Some(input.parse()?),
                _ => {
                    return Err(syn::Error::new(
                        key.span(),
                        format!("unknown option `{key}`: expected `extends = BaseException` or `name = \"...\"`"),
                    ))
                }
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        Ok(opts)
    }
}

/// One declared exception.
pub struct ExceptionDecl {
    pub ident: Ident,
    pub py_name: String,
    pub extends: Option<Path>,
    pub doc: String,
}

/// Python's built-in exceptions that `hpy::exceptions` has (what `extends = Name` finds there
/// when no exception of the module has that name).
pub(crate) const BUILTINS: &[&str] = &[
    "BaseException", "Exception", "StopAsyncIteration", "StopIteration", "GeneratorExit", "ArithmeticError",
    "LookupError", "AssertionError", "AttributeError", "BufferError", "EOFError", "FloatingPointError", "OSError",
    "ImportError", "ModuleNotFoundError", "IndexError", "KeyError", "KeyboardInterrupt", "MemoryError", "NameError",
    "OverflowError", "RuntimeError", "RecursionError", "NotImplementedError", "SyntaxError", "IndentationError",
    "TabError", "ReferenceError", "SystemError", "SystemExit", "TypeError", "UnboundLocalError", "UnicodeError",
    "ValueError", "ZeroDivisionError", "BlockingIOError", "BrokenPipeError", "ChildProcessError", "ConnectionError",
    "ConnectionAbortedError", "ConnectionRefusedError", "ConnectionResetError", "FileExistsError",
    "FileNotFoundError", "InterruptedError", "IsADirectoryError", "NotADirectoryError", "PermissionError",
    "ProcessLookupError", "TimeoutError", "Warning", "UserWarning", "DeprecationWarning",
    "PendingDeprecationWarning", "SyntaxWarning", "RuntimeWarning", "FutureWarning", "ImportWarning",
    "UnicodeWarning", "BytesWarning", "ResourceWarning", "UnicodeEncodeError", "UnicodeDecodeError",
    "UnicodeTranslateError",
];

/// Is `attr` `#[hpy::exception]` or `#[exception]`?
pub fn is_exception_attr(attr: &syn::Attribute) -> bool {
    crate::module::is_hpy_attr(attr, "exception")
}

/// Every `#[hpy::exception]` struct among `items` (whose options parse): its Rust name and
/// Python name, for `#[hpy::class(extends = ...)]` wherever it is defined.
pub fn declared_exceptions(items: &[Item]) -> Vec<(Ident, String)> {
    items
        .iter()
        .filter_map(|item| {
            let Item::Struct(st) = item else { return None };
            let attr = st.attrs.iter().find(|a| is_exception_attr(a))?;
            let opts: ExceptionOptions = match &attr.meta {
                syn::Meta::Path(_) => ExceptionOptions::default(),
                _ => attr.parse_args().ok()?,
            };
            Some((st.ident.clone(), opts.name.as_ref().map_or_else(|| st.ident.to_string(), LitStr::value)))
        })
        .collect()
}

/// The global that holds the class of `ident`.
pub fn global_ident(ident: &Ident) -> Ident {
    format_ident!("__HPY_EXC_{}", ident)
}

/// If `item` is an `#[hpy::exception]` struct: check it, replace it with its expansion (with
/// `global_vis` on the class's global, for a submodule's parent to register it) and return the
/// declaration.
pub fn take(item: &mut Item, global_vis: &TokenStream) -> syn::Result<Option<ExceptionDecl>> {
    let st = match item {
        Item::Struct(st) => st,
        Item::Enum(e) if e.attrs.iter().any(is_exception_attr) => {
            return Err(syn::Error::new(e.ident.span(), "#[hpy::exception] declares a unit struct: `pub struct Name;`"));
        }
        _ => return Ok(None),
    };
    let Some(pos) = st.attrs.iter().position(is_exception_attr) else { return Ok(None) };
    let attr = st.attrs.remove(pos);
    let opts: ExceptionOptions = match &attr.meta {
        syn::Meta::Path(_) => ExceptionOptions::default(),
        _ => attr.parse_args()?,
    };
    check_struct(st)?;
    if st.attrs.iter().any(|a| crate::module::is_hpy_attr(a, "class")) {
        return Err(syn::Error::new(
            st.ident.span(),
            "a struct is either an #[hpy::exception] or an #[hpy::class], not both (an exception class holding \
             Rust fields is `#[hpy::class(extends = Exception)]` alone)",
        ));
    }
    let py_name = opts.name.as_ref().map_or_else(|| st.ident.to_string(), LitStr::value);
    if py_name.is_empty() || py_name.contains('.') || py_name.contains('\0') {
        let span = opts.name.as_ref().map_or(st.ident.span(), |n| n.span());
        return Err(syn::Error::new(span, "an exception's name must be a non-empty identifier without dots"));
    }
    let decl = ExceptionDecl { ident: st.ident.clone(), py_name, extends: opts.extends, doc: doc_string(&st.attrs) };
    *item = Item::Verbatim(expand(st, &decl, global_vis));
    Ok(Some(decl))
}

/// An exception class has no Rust data: a unit struct without generics.
fn check_struct(st: &ItemStruct) -> syn::Result<()> {
    if !matches!(st.fields, syn::Fields::Unit) {
        return Err(syn::Error::new(
            st.fields.span(),
            "#[hpy::exception] declares a unit struct (`pub struct Name;`), whose data are its Python \
             arguments (`Name::new_err_args((a, b))`); for an exception holding Rust fields, write \
             `#[hpy::class(extends = Exception)]` (or another base exception) on the struct instead",
        ));
    }
    if !st.generics.params.is_empty() {
        return Err(syn::Error::new(st.generics.span(), "#[hpy::exception] cannot be generic: it names one Python class"));
    }
    Ok(())
}

fn expand(st: &ItemStruct, decl: &ExceptionDecl, global_vis: &TokenStream) -> TokenStream {
    let ident = &st.ident;
    let vis = &st.vis;
    let global = global_ident(ident);
    let py_name = &decl.py_name;
    let type_doc = format!("`{py_name}` as an [`ExceptionType`](::hpy::ExceptionType).");
    let new_doc = format!("A new `{py_name}` with message `msg`, raised when it reaches Python.");
    let args_doc = format!("A new `{py_name}(*args)`, raised when it reaches Python (see `hpy::Error::with_args`).");
    quote! {
        #st

        #[doc(hidden)]
        #[allow(non_upper_case_globals)]
        #global_vis static #global: ::hpy::Global = ::hpy::Global::new();

        impl #ident {
            #[doc = #type_doc]
            #vis const TYPE: ::hpy::ExceptionType = ::hpy::ExceptionType::declared(
                {
                    fn global() -> &'static ::hpy::Global {
                        &#global
                    }
                    global
                },
                #py_name,
            );

            #[doc = #new_doc]
            #[allow(dead_code)]
            #vis fn new_err(msg: impl ::core::convert::Into<::std::borrow::Cow<'static, str>>) -> ::hpy::Error {
                ::hpy::Error::new(Self::TYPE, msg)
            }

            #[doc = #args_doc]
            #[allow(dead_code)]
            #vis fn new_err_args(args: impl ::hpy::ExceptionArgs) -> ::hpy::Error {
                ::hpy::Error::with_args(Self::TYPE, args)
            }
        }

        impl ::hpy::exceptions::PyException for #ident {
            const TYPE: ::hpy::ExceptionType = #ident::TYPE;
        }

        impl ::core::convert::From<#ident> for ::hpy::ExceptionType {
            fn from(_: #ident) -> ::hpy::ExceptionType {
                #ident::TYPE
            }
        }
    }
}

/// The base of `decl` as an `ExceptionType` expression: a declaration of the same module by its
/// name, else a built-in by its name, else the path as written (checked to be an exception).
fn base_expr(decl: &ExceptionDecl, local: &[ExceptionDecl]) -> TokenStream {
    match &decl.extends {
        None => quote!(::hpy::exceptions::Exception::TYPE),
        Some(path) => {
            let single = path.get_ident();
            let is_local = single.is_some_and(|i| local.iter().any(|d| d.ident == *i));
            let path = match single {
                Some(i) if !is_local && BUILTINS.contains(&i.to_string().as_str()) => quote!(::hpy::exceptions::#i),
                _ => quote!(#path),
            };
            quote_spanned_base(&path, decl)
        }
    }
}

fn quote_spanned_base(path: &TokenStream, decl: &ExceptionDecl) -> TokenStream {
    let span = decl.extends.as_ref().map_or_else(proc_macro2::Span::call_site, |p| p.span());
    quote::quote_spanned!(span=> <#path as ::hpy::exceptions::PyException>::TYPE)
}

/// The declarations, bases before the exceptions that extend them (an error for a cycle).
fn bases_first(decls: &[ExceptionDecl]) -> syn::Result<Vec<&ExceptionDecl>> {
    let local_base = |d: &ExceptionDecl| {
        d.extends.as_ref().and_then(Path::get_ident).and_then(|b| decls.iter().position(|o| o.ident == *b))
    };
    let mut order: Vec<usize> = Vec::new();
    for start in 0..decls.len() {
        let mut chain = Vec::new();
        let mut at = Some(start);
        while let Some(i) = at {
            if order.contains(&i) {
                break;
            }
            if chain.contains(&i) {
                let d = &decls[i];
                return Err(syn::Error::new(d.ident.span(), format!("`{}` extends itself through its bases", d.ident)));
            }
            chain.push(i);
            at = local_base(&decls[i]);
        }
        order.extend(chain.into_iter().rev());
    }
    Ok(order.into_iter().map(|i| &decls[i]).collect())
}

/// The statements (inside the module's exec, with `ctx` and `module` in scope) that create the
/// classes, bases first, named `qualified_prefix.Name`.
pub fn setup(decls: &[ExceptionDecl], qualified_prefix: &str, ctx: &Ident, module: &Ident) -> syn::Result<TokenStream> {
    let mut out = TokenStream::new();
    for decl in bases_first(decls)? {
        let global = global_ident(&decl.ident);
        let qualified = format!("{qualified_prefix}.{}", decl.py_name);
        let py_name = &decl.py_name;
        let doc = if decl.doc.is_empty() {
            quote!(::core::option::Option::None)
        } else {
            let d = &decl.doc;
            quote!(::core::option::Option::Some(#d))
        };
        let base = base_expr(decl, decls);
        out.extend(quote! {
            ::hpy::err::add_exception_type(#ctx, #module, &#global, #qualified, #py_name, #doc, #base)?;
        });
    }
    Ok(out)
}

/// The `.pyi` text of the declarations.
pub fn stubs(decls: &[ExceptionDecl]) -> String {
    let mut out = String::new();
    for decl in decls {
        let base = decl
            .extends
            .as_ref()
            .and_then(|p| p.segments.last())
            .map_or_else(|| "Exception".to_string(), |s| {
                // a local base is known by its Python name
                decls.iter().find(|d| d.ident == s.ident).map_or_else(|| s.ident.to_string(), |d| d.py_name.clone())
            });
        out.push_str(&format!("\nclass {}({base}):\n", decl.py_name));
        out.push_str(&crate::stubs::doc_block(&decl.doc, "    "));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn take_all(items: Vec<Item>) -> syn::Result<(Vec<ExceptionDecl>, Vec<Item>)> {
        let mut items = items;
        let mut decls = Vec::new();
        for item in &mut items {
            if let Some(d) = take(item, &quote!())? {
                decls.push(d);
            }
        }
        Ok((decls, items))
    }

    #[test]
    fn expands_a_declaration() {
        let (decls, items) = take_all(vec![parse_quote! {
            /// Bad input.
            #[hpy::exception(extends = ValueError)]
            pub struct ParseError;
        }])
        .unwrap();
        assert_eq!(decls[0].py_name, "ParseError");
        assert_eq!(decls[0].doc, "Bad input.");
        let out = quote!(#(#items)*).to_string();
        assert!(out.contains("static __HPY_EXC_ParseError : :: hpy :: Global"), "{out}");
        assert!(out.contains("pub const TYPE : :: hpy :: ExceptionType"), "{out}");
        assert!(out.contains("\"ParseError\""), "{out}");
        assert!(!out.contains("# [hpy :: exception"), "the attribute is consumed: {out}");
        let ctx = format_ident!("ctx");
        let module = format_ident!("module");
        let setup = setup(&decls, "m", &ctx, &module).unwrap().to_string();
        assert!(setup.contains("\"m.ParseError\""), "{setup}");
        assert!(setup.contains(":: hpy :: exceptions :: ValueError as :: hpy :: exceptions :: PyException"), "{setup}");
        assert_eq!(stubs(&decls), "\nclass ParseError(ValueError):\n    \"\"\"Bad input.\"\"\"\n");
    }

    #[test]
    fn bases_are_created_first() {
        let (decls, _) = take_all(vec![
            parse_quote!(#[hpy::exception(extends = Base)] struct Derived;),
            parse_quote!(#[hpy::exception(name = "BaseError")] struct Base;),
        ])
        .unwrap();
        let ctx = format_ident!("ctx");
        let setup = setup(&decls, "m", &ctx, &ctx).unwrap().to_string();
        assert!(setup.find("\"m.BaseError\"").unwrap() < setup.find("\"m.Derived\"").unwrap(), "{setup}");
        assert!(setup.contains("< Base as :: hpy :: exceptions :: PyException >"), "{setup}");
        assert!(stubs(&decls).contains("class Derived(BaseError):"));
    }

    #[test]
    fn errors() {
        let err = |item: Item| take_all(vec![item]).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err(parse_quote!(#[hpy::exception] struct E { x: i64 })).contains("unit struct"));
        assert!(err(parse_quote!(#[hpy::exception] struct E<T>(T);)).contains("unit struct"));
        assert!(err(parse_quote!(#[hpy::exception] enum E { A })).contains("unit struct"));
        assert!(err(parse_quote!(#[hpy::exception(base = ValueError)] struct E;)).contains("unknown option"));
        assert!(err(parse_quote!(#[hpy::exception(name = "a.b")] struct E;)).contains("without dots"));
        let (decls, _) = take_all(vec![
            parse_quote!(#[hpy::exception(extends = B)] struct A;),
            parse_quote!(#[hpy::exception(extends = A)] struct B;),
        ])
        .unwrap();
        let ctx = format_ident!("ctx");
        assert!(setup(&decls, "m", &ctx, &ctx).unwrap_err().to_string().contains("extends itself"));
    }
}
