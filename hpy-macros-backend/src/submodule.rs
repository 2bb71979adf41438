//! `#[hpy::submodule] mod child { ... }` inside an `#[hpy::module] mod parent`: the module
//! `parent.child`, an attribute of the parent and importable (`import parent.child`, `from
//! parent.child import f`; it is in `sys.modules`).
//!
//! A submodule holds `#[hpy::function]`s, `#[hpy::constant]`s, `#[hpy::exception]`s, `Global`
//! statics and ordinary Rust items. Classes, `#[hpy::methods]`, `#[hpy::init]` and nested
//! submodules are refused with a compile error (declare classes in the top module).
//!
//! HPy 0.9 creates functions only with the module being imported (from its `HPyModuleDef`) and
//! has no call to create another module, so:
//! * the submodule is a `types.ModuleType("parent.child", doc)` made at the parent's exec;
//! * its functions are in the parent's definitions under the names `child.f` (a dotted name
//!   cannot clash with a function of the parent), and the exec moves each one to the submodule
//!   as `f`. So a function's `__name__` and `__qualname__` are `child.f` and its `__module__` is
//!   `parent`: the pair by which `pickle` finds it (`parent` → `child` → `f`). Its text
//!   signature is that of `f`;
//! * the `#[hpy::function]` expansion happens here (not by the attribute), with the generated
//!   statics made `pub(super)` so the parent's definition lists can name them;
//! * everything else is done by a generated `pub(super) fn __hpy_submodule_exec` inside the
//!   submodule, where its private items are in scope.

use proc_macro2::{Literal, Span, TokenStream, TokenTree};
use quote::{format_ident, quote};
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Ident, Item, ItemMod, LitStr, Token};

use crate::function::{def_ident, doc_string, keyword_cache_ident, FunctionOptions};
use crate::module::is_hpy_attr;

/// Options of `#[hpy::submodule(...)]`.
#[derive(Default)]
pub struct SubmoduleOptions {
    /// `name = "..."`: the Python name (default: the `mod`'s).
    pub name: Option<LitStr>,
}

impl Parse for SubmoduleOptions {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut opts = SubmoduleOptions::default();
        while !input.is_empty() {
            let key: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            match key.to_string().as_str() {
                "name" => opts.name = Some(input.parse()?),
                _ => return Err(syn::Error::new(key.span(), format!("unknown option `{key}`: expected `name = \"...\"`"))),
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        Ok(opts)
    }
}

/// What the parent module needs of one submodule.
pub struct Submodule {
    /// The Python name (`child`).
    pub py_name: String,
    /// The Rust `mod` (for error spans).
    pub span: Span,
    /// Paths of the `HPyDef` statics of its functions (for the parent's definitions).
    pub defs: Vec<TokenStream>,
    /// Paths of its globals (keyword caches, exception classes, `Global` statics).
    pub globals: Vec<TokenStream>,
    /// The statement of the parent's exec that creates it.
    pub exec: TokenStream,
    /// Its part of the parent's `.pyi`.
    pub stub: String,
}

/// If `item` is an `#[hpy::submodule] mod`: expand it in place (a submodule of the module
/// `parent`) and return what the parent needs.
pub fn take(item: &mut Item, parent: &str) -> syn::Result<Option<Submodule>> {
    let Item::Mod(module) = item else { return Ok(None) };
    let Some(pos) = module.attrs.iter().position(|a| is_hpy_attr(a, "submodule")) else { return Ok(None) };
    let attr = module.attrs.remove(pos);
    let opts: SubmoduleOptions = match &attr.meta {
        syn::Meta::Path(_) => SubmoduleOptions::default(),
        _ => attr.parse_args()?,
    };
    let py_name = opts.name.as_ref().map_or_else(|| module.ident.to_string(), LitStr::value);
    if py_name.is_empty() || !py_name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        let span = opts.name.as_ref().map_or(module.ident.span(), |n| n.span());
        return Err(syn::Error::new(span, "the submodule name must be a non-empty ASCII identifier"));
    }
    expand(module, parent, py_name).map(Some)
}

fn expand(module: &mut ItemMod, parent: &str, py_name: String) -> syn::Result<Submodule> {
    let span = module.ident.span();
    let mod_ident = module.ident.clone();
    let qualified = format!("{parent}.{py_name}");
    let doc = doc_string(&module.attrs);
    let Some((_, items)) = module.content.as_mut() else {
        return Err(syn::Error::new(
            module.span(),
            "#[hpy::submodule] needs the module's items inline: `mod name { ... }`, not `mod name;`",
        ));
    };
    let mut defs = Vec::new();
    let mut globals = Vec::new();
    let mut moves = Vec::new();
    let mut function_stubs = String::new();
    let mut exceptions = Vec::new();
    let mut constants = Vec::new();
    let mut names: Vec<(String, Span)> = Vec::new();
    for item in items.iter_mut() {
        refuse_unsupported(item)?;
        if let Some(decl) = crate::exception::take(item, &quote!(pub(super)))? {
            globals.push(path_in(&mod_ident, &crate::exception::global_ident(&decl.ident)));
            names.push((decl.py_name.clone(), decl.ident.span()));
            exceptions.push(decl);
            continue;
        }
        if let Some(decl) = crate::constant::take(item)? {
            names.push((decl.py_name.clone(), decl.ident.span()));
            constants.push(decl);
            continue;
        }
        match item {
            Item::Fn(f) => {
                let Some(pos) = f.attrs.iter().position(|a| is_hpy_attr(a, "function")) else { continue };
                let attr = f.attrs.remove(pos);
                let (stub, takes_keywords) = crate::module::function_info(&attr, f)?;
                function_stubs.push_str(&stub);
                let mut opts: FunctionOptions = match &attr.meta {
                    syn::Meta::Path(_) => FunctionOptions::default(),
                    _ => attr.parse_args()?,
                };
                let name = opts.name.as_ref().map_or_else(|| f.sig.ident.to_string(), LitStr::value);
                let registered = format!("{py_name}.{name}");
                opts.name = Some(LitStr::new(&registered, Span::call_site()));
                opts.in_module = true;
                let expanded = crate::function::expand(opts, f.clone())?;
                let expanded = with_text_signature_of(expanded, &registered, &name);
                defs.push(path_in(&mod_ident, &def_ident(&f.sig.ident)));
                if takes_keywords {
                    globals.push(path_in(&mod_ident, &keyword_cache_ident(&f.sig.ident)));
                }
                names.push((name.clone(), f.sig.ident.span()));
                moves.push(quote!(::hpy::submodule::move_function(__hpy_parent, &__hpy_module, #registered, #name)?;));
                *item = Item::Verbatim(visible_to_parent(expanded)?);
            }
            Item::Static(s) if crate::module::is_global_type(&s.ty) => {
                if matches!(s.mutability, syn::StaticMutability::Mut(_)) {
                    return Err(syn::Error::new(s.span(), "a `Global` must be a plain `static`, not `static mut`"));
                }
                if matches!(s.vis, syn::Visibility::Inherited) {
                    s.vis = syn::parse_quote!(pub(super));
                }
                globals.push(path_in(&mod_ident, &s.ident));
            }
            _ => {}
        }
    }
    for (i, (n, span)) in names.iter().enumerate() {
        if names[..i].iter().any(|(m, _)| m == n) {
            return Err(syn::Error::new(*span, format!("`{n}` is defined twice in submodule `{py_name}`")));
        }
    }

    let ctx = format_ident!("__hpy_ctx");
    let module_var = format_ident!("__hpy_module");
    let constant_setup = crate::constant::setup(&constants, &module_var);
    let exception_setup = crate::exception::setup(&exceptions, &qualified, &ctx, &module_var)?;
    let doc_expr = if doc.is_empty() { quote!(::core::option::Option::None) } else { quote!(::core::option::Option::Some(#doc)) };
    let exec_fn: Item = syn::parse_quote! {
        #[doc(hidden)]
        pub(super) fn __hpy_submodule_exec<'ctx>(
            __hpy_ctx: ::hpy::Context<'ctx>,
            __hpy_parent: &::hpy::Handle<'ctx, ::hpy::Module>,
        ) -> ::hpy::Result<()> {
            let __hpy_module = ::hpy::submodule::create(__hpy_ctx, __hpy_parent, #py_name, #qualified, #doc_expr)?;
            #[allow(unused_variables)]
            let __hpy_module = &__hpy_module;
            #(#moves)*
            #constant_setup
            #exception_setup
            ::core::result::Result::Ok(())
        }
    };
    items.push(exec_fn);

    let mut sub_stub = String::new();
    sub_stub.push_str(&crate::constant::stubs(&constants));
    sub_stub.push_str(&function_stubs);
    sub_stub.push_str(&crate::exception::stubs(&exceptions));
    let mut stub = format!("\n# The submodule `{qualified}` (`import {qualified}`), whose stub is:\n");
    for line in sub_stub.lines() {
        stub.push_str(if line.is_empty() { "#\n" } else { "#   " });
        if !line.is_empty() {
            stub.push_str(line);
            stub.push('\n');
        }
    }
    stub.push_str(&format!("{py_name}: types.ModuleType\n"));
    Ok(Submodule {
        py_name,
        span,
        defs,
        globals,
        exec: quote!(#mod_ident::__hpy_submodule_exec(__hpy_ctx, __hpy_module)?;),
        stub,
    })
}

/// `module::name`.
fn path_in(module: &Ident, name: &Ident) -> TokenStream {
    quote!(#module::#name)
}

/// What a submodule cannot hold, as a compile error at the item.
fn refuse_unsupported(item: &Item) -> syn::Result<()> {
    let refuse = |span: Span, msg: &str| Err(syn::Error::new(span, msg));
    match item {
        Item::Struct(s) if s.attrs.iter().any(|a| is_hpy_attr(a, "class")) => refuse(
            s.ident.span(),
            "#[hpy::class] is not supported in an #[hpy::submodule]: declare the class in the top #[hpy::module]",
        ),
        Item::Impl(b) if b.attrs.iter().any(|a| is_hpy_attr(a, "methods")) => refuse(
            b.self_ty.span(),
            "#[hpy::methods] is not supported in an #[hpy::submodule]: classes belong to the top #[hpy::module]",
        ),
        Item::Fn(f) if f.attrs.iter().any(|a| is_hpy_attr(a, "init")) => refuse(
            f.sig.ident.span(),
            "#[hpy::init] is not supported in an #[hpy::submodule]: use the top module's init, or #[hpy::constant]s",
        ),
        Item::Mod(m) if m.attrs.iter().any(|a| is_hpy_attr(a, "submodule")) => refuse(
            m.ident.span(),
            "an #[hpy::submodule] cannot contain another one: declare each submodule in the top #[hpy::module]",
        ),
        _ => Ok(()),
    }
}

/// Make the statics of a function's expansion (its `HPyDef`, its keyword cache) `pub(super)`,
/// so that the parent module can list them.
fn visible_to_parent(expanded: TokenStream) -> syn::Result<TokenStream> {
    let mut file: syn::File = syn::parse2(expanded)?;
    for item in &mut file.items {
        if let Item::Static(s) = item {
            if s.ident.to_string().starts_with("__HPY_") {
                s.vis = syn::parse_quote!(pub(super));
            }
        }
    }
    Ok(quote!(#file))
}

/// The function is registered as `child.f`, but its docstring's signature line must start with
/// `f(` for the interpreter to take it as `__text_signature__` (CPython looks for the part of a
/// dotted name after the last dot): rewrite the C-string literals that start `child.f(`.
fn with_text_signature_of(tokens: TokenStream, registered: &str, name: &str) -> TokenStream {
    let from = format!("c\"{registered}(");
    let to = format!("c\"{name}(");
    tokens
        .into_iter()
        .map(|t| match t {
            TokenTree::Group(g) => {
                let mut new = proc_macro2::Group::new(g.delimiter(), with_text_signature_of(g.stream(), registered, name));
                new.set_span(g.span());
                TokenTree::Group(new)
            }
            TokenTree::Literal(l) => {
                let text = l.to_string();
                match text.strip_prefix(&from) {
                    Some(rest) => {
                        let mut new: Literal = format!("{to}{rest}").parse().expect("a C string literal stays one");
                        new.set_span(l.span());
                        TokenTree::Literal(new)
                    }
                    None => TokenTree::Literal(l),
                }
            }
            other => other,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    #[test]
    fn expands_a_submodule() {
        let mut item: Item = parse_quote! {
            /// The child.
            #[hpy::submodule]
            mod child {
                /// Add.
                #[hpy::function] fn add(a: i64, b: i64) -> i64 { a + b }
                #[hpy::function(signature = (x = 1))] fn kw(x: i64) -> i64 { x }
                #[hpy::constant] pub const LIMIT: i64 = 3;
                #[hpy::exception(extends = KeyError)] pub struct Missing;
                static CACHE: hpy::Global = hpy::Global::new();
                fn helper() {}
            }
        };
        let sub = take(&mut item, "top").unwrap().unwrap();
        assert_eq!(sub.py_name, "child");
        let defs: Vec<String> = sub.defs.iter().map(|d| d.to_string()).collect();
        assert_eq!(defs, ["child :: __HPY_DEF_add", "child :: __HPY_DEF_kw"]);
        let globals: Vec<String> = sub.globals.iter().map(|d| d.to_string()).collect();
        assert_eq!(globals, ["child :: __HPY_KWCACHE_kw", "child :: __HPY_EXC_Missing", "child :: CACHE"]);
        let out = quote!(#item).to_string();
        assert!(out.contains("pub (super) static __HPY_DEF_add"), "{out}");
        assert!(out.contains("pub (super) static CACHE"), "{out}");
        assert!(out.contains(r#"c"child.add""#), "registered under the dotted name: {out}");
        assert!(out.contains(r#"c"add(a, b, /)\n--\n\nAdd.""#), "the text signature names `add`: {out}");
        assert!(out.contains(r#"move_function (__hpy_parent , & __hpy_module , "child.add" , "add")"#), "{out}");
        assert!(out.contains(r#"create (__hpy_ctx , __hpy_parent , "child" , "top.child" , :: core :: option :: Option :: Some ("The child."))"#), "{out}");
        assert!(out.contains(r#""top.child.Missing""#), "{out}");
        assert!(out.contains(r#"setattr (__hpy_module , "LIMIT" , LIMIT)"#), "{out}");
        assert!(sub.stub.contains("child: types.ModuleType\n"), "{}", sub.stub);
        assert!(sub.stub.contains("#   def add(a: int, b: int, /) -> int:\n"), "{}", sub.stub);
        assert!(sub.stub.contains("#   LIMIT: int\n"), "{}", sub.stub);
        assert!(sub.stub.contains("#   class Missing(KeyError):\n"), "{}", sub.stub);
    }

    #[test]
    fn refuses_what_a_submodule_cannot_hold() {
        let err = |mut item: Item| take(&mut item, "top").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err(parse_quote!(#[hpy::submodule] mod c { #[hpy::class] struct C; })).contains("#[hpy::class] is not supported"));
        assert!(err(parse_quote!(#[hpy::submodule] mod c { #[hpy::submodule] mod d {} })).contains("cannot contain another"));
        assert!(err(parse_quote!(#[hpy::submodule] mod c { #[hpy::init] fn i() {} })).contains("#[hpy::init] is not supported"));
        assert!(err(parse_quote!(#[hpy::submodule] mod c;)).contains("inline"));
        assert!(err(parse_quote!(#[hpy::submodule(name = "a.b")] mod c {})).contains("identifier"));
        assert!(err(parse_quote!(#[hpy::submodule] mod c {
            #[hpy::function] fn f() {}
            #[hpy::constant] const f: i64 = 1;
        }))
        .contains("`f` is defined twice"));
    }
}
