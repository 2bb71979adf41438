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


use crate::class::ClassOptions;
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
pub(crate) fn is_hpy_attr(attr: &Attribute, name: &str) -> bool {
    let path = attr.path();
    let segs: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    match segs.as_slice() {
        [one] => one == name,
        [first, second] => first == "hpy" && second == name,
        _ => false,
    }
}

pub(crate) fn is_global_type(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "Global"))
}

/// What the module needs of a `#[hpy::function]` (from the same options and signature its
/// expansion uses): its `.pyi` lines, and whether it takes keywords (then it has a keyword cache
/// to register).
pub(crate) fn function_info(attr: &Attribute, f: &syn::ItemFn) -> syn::Result<(String, bool)> {
    let opts: crate::function::FunctionOptions = match &attr.meta {
        syn::Meta::Path(_) => Default::default(),
        _ => attr.parse_args()?,
    };
    let (_, params) = crate::function::parse_params(&f.sig, "#[hpy::function]", false)?;
    let sig = crate::function::resolve_signature(opts.signature, &params, f.sig.ident.span())?;
    let name = opts.name.as_ref().map_or_else(|| f.sig.ident.to_string(), LitStr::value);
    let stub = crate::stubs::def_lines(
        "",
        &name,
        &crate::stubs::annotated_signature(&sig, &params, None, None),
        &crate::stubs::return_type(&f.sig.output, None),
        &doc_string(&f.attrs),
    );
    Ok((stub, sig.takes_keywords()))
}

/// The Python name of a `#[hpy::function]` (its `name = "..."`, or the fn's name) and where to
/// point at it. Malformed options are reported by `#[hpy::function]` itself.
fn function_py_name(attr: &Attribute, f: &syn::ItemFn) -> (String, proc_macro2::Span) {
    let opts: crate::function::FunctionOptions = match &attr.meta {
        syn::Meta::Path(_) => Default::default(),
        _ => attr.parse_args().unwrap_or_default(),
    };
    match opts.name {
        Some(n) => (n.value(), n.span()),
        None => (f.sig.ident.to_string(), f.sig.ident.span()),
    }
}

/// The module's functions, by Python name: (Python name, where, Rust fn).
type FunctionNames = Vec<(String, proc_macro2::Span, Ident)>;

/// Two module functions, or a function and a class, of one Python name: the later one would
/// replace the other in the module without a word. (Submodule functions live in their
/// submodule; static and class methods get hidden names: see
/// [`clashing_module_function_names`].)
fn check_function_names(functions: &FunctionNames, classes: &[(Ident, ClassOptions, String)]) -> syn::Result<()> {
    for (i, (name, span, f)) in functions.iter().enumerate() {
        if let Some((_, _, other)) = functions[..i].iter().find(|(n, _, _)| n == name) {
            return Err(syn::Error::new(
                *span,
                format!(
                    "two functions of this module have the Python name `{name}`: `{other}` and `{f}` (one would \
                     replace the other); rename one, e.g. `#[hpy::function(name = \"...\")]`"
                ),
            ));
        }
        if let Some((class, _, _)) = classes.iter().find(|(_, _, n)| n == name) {
            return Err(syn::Error::new(
                *span,
                format!(
                    "`{name}` is the Python name of the function `{f}` and of the class `{class}` (one would \
                     replace the other); rename one, e.g. `#[hpy::function(name = \"...\")]`"
                ),
            ));
        }
    }
    Ok(())
}

/// The Python names that more than one module function would have: `#[hpy::function]`s and the
/// static/class methods of every class (which are module functions until import).
fn clashing_module_function_names(items: &[Item]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let name_option = |attrs: &[Attribute], default: &Ident| {
        let mut name = default.to_string();
        for a in attrs.iter().filter(|a| is_hpy_attr(a, "function") || a.path().is_ident("hpy")) {
            let _ = a.parse_nested_meta(|meta| {
                if meta.path.is_ident("name") {
                    name = meta.value()?.parse::<LitStr>()?.value();
                } else if let Ok(v) = meta.value() {
                    let _: proc_macro2::TokenStream = v.parse()?;
                }
                Ok(())
            });
        }
        name
    };
    for item in items {
        match item {
            Item::Fn(f) if f.attrs.iter().any(|a| is_hpy_attr(a, "function")) => {
                names.push(name_option(&f.attrs, &f.sig.ident));
            }
            Item::Impl(block) if block.attrs.iter().any(|a| is_hpy_attr(a, "methods")) => {
                for m in &block.items {
                    if let syn::ImplItem::Fn(m) = m {
                        if m.attrs.iter().any(|a| a.path().is_ident("staticmethod") || a.path().is_ident("classmethod")) {
                            names.push(name_option(&m.attrs, &m.sig.ident));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    let mut clashing: Vec<String> = names.iter().filter(|n| names.iter().filter(|m| m == n).count() > 1).cloned().collect();
    clashing.dedup();
    clashing
}

/// The module's `#[hpy::exception]`s, `#[hpy::constant]`s and `#[hpy::submodule]`s.
#[derive(Default)]
struct Declarations {
    exceptions: Vec<crate::exception::ExceptionDecl>,
    constants: Vec<crate::constant::ConstantDecl>,
    submodules: Vec<crate::submodule::Submodule>,
}

impl Declarations {
    /// If `item` is one of them: expand it and keep what the module needs.
    fn take(&mut self, item: &mut Item, module: &str) -> syn::Result<bool> {
        if let Some(decl) = crate::exception::take(item, &quote!())? {
            self.exceptions.push(decl);
        } else if let Some(decl) = crate::constant::take(item)? {
            self.constants.push(decl);
        } else if let Some(sub) = crate::submodule::take(item, module)? {
            self.submodules.push(sub);
        } else {
            return Ok(false);
        }
        Ok(true)
    }

    /// The function definitions they add: hpy-rs's private unraisable hook (see `hpy::err`;
    /// the exec takes it out of the module again), the submodules' functions.
    fn defs(&self) -> Vec<TokenStream> {
        let mut out = vec![quote!(::hpy::err::HOOK_DISPATCH_DEF)];
        out.extend(self.submodules.iter().flat_map(|s| s.defs.iter().cloned()));
        out
    }

    /// The globals they add: hpy-rs's own for taking exceptions (see `hpy::err`), the exception
    /// classes, the submodules' globals.
    fn globals(&self) -> Vec<TokenStream> {
        let mut out = vec![
            quote!(::hpy::err::SYS_DICT),
            quote!(::hpy::err::HOOK_DISPATCH),
            quote!(::hpy::err::HOOK_TARGETS),
            quote!(::hpy::err::HOOK_SAVED),
        ];
        out.extend(self.exceptions.iter().map(|d| {
            let g = crate::exception::global_ident(&d.ident);
            quote!(#g)
        }));
        out.extend(self.submodules.iter().flat_map(|s| s.globals.iter().cloned()));
        out
    }

    /// The start of the module's exec: what taking exceptions needs, then the exception
    /// classes, the constants and the submodules (before classes and the init function, which
    /// may use them).
    fn setup(&self, module: &str) -> syn::Result<TokenStream> {
        let ctx = Ident::new("__hpy_ctx", proc_macro2::Span::call_site());
        let m = Ident::new("__hpy_module", proc_macro2::Span::call_site());
        let exceptions = crate::exception::setup(&self.exceptions, module, &ctx, &m)?;
        let constants = crate::constant::setup(&self.constants, &m);
        let submodules = self.submodules.iter().map(|s| &s.exec);
        Ok(quote! {
            ::hpy::err::prepare_fetch(__hpy_ctx, __hpy_module)?;
            #exceptions
            #constants
            #(#submodules)*
        })
    }

    fn constant_stubs(&self) -> String {
        let stubs = crate::constant::stubs(&self.constants);
        if stubs.is_empty() { stubs } else { format!("{stubs}\n") }
    }

    fn other_stubs(&self) -> String {
        let mut out = crate::exception::stubs(&self.exceptions);
        for s in &self.submodules {
            out.push_str(&s.stub);
        }
        out
    }

    /// Every module attribute they define: (name, span, what).
    fn names(&self) -> Vec<(String, proc_macro2::Span, &'static str)> {
        let mut out: Vec<_> = self.exceptions.iter().map(|d| (d.py_name.clone(), d.ident.span(), "an exception")).collect();
        out.extend(self.constants.iter().map(|d| (d.py_name.clone(), d.ident.span(), "a constant")));
        out.extend(self.submodules.iter().map(|s| (s.py_name.clone(), s.span, "a submodule")));
        out
    }
}

/// The Python names of the module's functions and classes.
fn items_names(functions: &FunctionNames, classes: &[(Ident, ClassOptions, String)]) -> Vec<(String, proc_macro2::Span, &'static str)> {
    let mut out: Vec<_> = functions.iter().map(|(n, span, _)| (n.clone(), *span, "a function")).collect();
    out.extend(classes.iter().map(|(i, _, n)| (n.clone(), i.span(), "a class")));
    out
}

/// Two module attributes of the same name (a constant and a function, ...): the second would
/// replace the first at import. Function and class names among themselves are checked where
/// they are collected.
fn check_attribute_names(
    items: &[(String, proc_macro2::Span, &'static str)],
    declarations: &Declarations,
) -> syn::Result<()> {
    let declared = declarations.names();
    for (i, (name, span, what)) in declared.iter().enumerate() {
        let earlier = items.iter().chain(&declared[..i]).find(|(n, _, _)| n == name);
        if let Some((_, _, other)) = earlier {
            return Err(syn::Error::new(
                *span,
                format!("`{name}` is {what} of this module and also {other}: one module attribute cannot be both; rename one"),
            ));
        }
    }
    Ok(())
}

/// For an exception class (`#[hpy::class(extends = SomeException)]`), once its value type is
/// complete: the statement making its exception class, which forwards every Python name the
/// class defines (`names`: (class, name) of the module's classes) but `__del__` (run by the
/// value object itself when it dies), `__richcmp__` as the comparisons it defines; its two
/// globals are added to `globals`.
fn exception_class_setup(
    class: &Ident,
    opts: &ClassOptions,
    module: &str,
    names: &[(Ident, String)],
    has_new: bool,
    globals: &mut Vec<Ident>,
) -> TokenStream {
    let Some(base) = crate::class::exception_base_type(opts) else { return quote!() };
    globals.push(crate::class::exception_class_global(class));
    globals.push(crate::class::exception_helpers_global(class));
    let doc = crate::class::doc_const(class);
    // `__richcmp__` is no Python name: it defines the six comparison methods.
    const COMPARISONS: [&str; 6] = ["__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"];
    let forwarded = names.iter().filter(|(c, n)| c == class && n != "__del__").flat_map(|(_, n)| {
        if n == "__richcmp__" { COMPARISONS.map(String::from).to_vec() } else { vec![n.clone()] }
    });
    quote! {
        ::hpy::exception_class::create::<#class>(
            __hpy_ctx, __hpy_module, &__hpy_ty, #module, #doc, #base, &[#(#forwarded),*], #has_new,
        )?;
    }
}

/// The module's classes with `#[hpy::class(name = "...")]`: (Rust ident, Python name), for the
/// stubs' annotations.
fn renamed_classes(module: &ItemMod) -> Vec<(String, String)> {
    let Some((_, items)) = module.content.as_ref() else { return Vec::new() };
    items
        .iter()
        .filter_map(|item| match item {
            Item::Struct(st) => {
                let attr = st.attrs.iter().find(|a| is_hpy_attr(a, "class"))?;
                let opts: ClassOptions = match &attr.meta {
                    syn::Meta::Path(_) => return None,
                    _ => attr.parse_args().ok()?,
                };
                opts.name.as_ref().map(|n| (st.ident.to_string(), n.value()))
            }
            _ => None,
        })
        .collect()
}

/// Expand `#[hpy::module(opts)] mod ... { ... }`.
pub fn expand(opts: ModuleOptions, module: ItemMod) -> syn::Result<TokenStream> {
    crate::stubs::with_class_names(renamed_classes(&module), || expand_module(opts, module))
}

fn expand_module(opts: ModuleOptions, mut module: ItemMod) -> syn::Result<TokenStream> {
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
    let mut function_names = FunctionNames::new();
    let mut function_stubs = String::new();
    let mut class_stubs: Vec<(Ident, String)> = Vec::new();
    let mut globals = Vec::new();
    let mut init: Option<Ident> = None;
    // Classes, in definition order: (struct ident, options, Python name).
    let mut classes: Vec<(Ident, ClassOptions, String)> = Vec::new();
    // Attribute names defined by `#[hpy(get, set)]` fields, per class.
    let mut class_props: Vec<(Ident, String)> = Vec::new();
    // Every class, for `extends = OtherClass` wherever that class is defined.
    let declared = crate::class::declared_classes(items);
    // And every `#[hpy::exception]`, for `#[hpy::class(extends = SomeError)]`.
    let declared_exceptions = crate::exception::declared_exceptions(items);
    // Exceptions, constants and submodules (exception.rs, constant.rs, submodule.rs).
    let mut declarations = Declarations::default();
    for item in items.iter_mut() {
        if declarations.take(item, &name)? {
            continue;
        }
        match item {
            Item::Fn(f) => {
                if let Some(attr) = f.attrs.iter().find(|a| is_hpy_attr(a, "function")) {
                    functions.push(f.sig.ident.clone());
                    let (py_name, span) = function_py_name(attr, f);
                    function_names.push((py_name, span, f.sig.ident.clone()));
                    // A malformed function is reported by #[hpy::function] itself: no stub for it.
                    if let Ok((stub, takes_keywords)) = function_info(attr, f) {
                        function_stubs.push_str(&stub);
                        if takes_keywords {
                            globals.push(crate::function::keyword_cache_ident(&f.sig.ident));
                        }
                    }
                }
                // Tell #[hpy::function] that it is registered: it refuses functions elsewhere.
                if let Some(attr) = f.attrs.iter_mut().find(|a| is_hpy_attr(a, "function")) {
                    crate::function::mark_in_module(attr);
                }
                if let Some(pos) = f.attrs.iter().position(|a| is_hpy_attr(a, "init")) {
                    let attr = f.attrs.remove(pos);
                    if init.is_some() {
                        return Err(syn::Error::new(attr.span(), "a module can have only one `#[hpy::init]` function"));
                    }
                    crate::function::check_init_signature(f)?;
                    init = Some(f.sig.ident.clone());
                }
            }
            Item::Static(s) if is_global_type(&s.ty) => {
                if matches!(s.mutability, syn::StaticMutability::Mut(_)) {
                    return Err(syn::Error::new(s.span(), "a `Global` must be a plain `static`, not `static mut`"));
                }
                globals.push(s.ident.clone());
            }
            Item::Enum(e) if e.attrs.iter().any(|a| is_hpy_attr(a, "class")) => {
                return Err(syn::Error::new(
                    e.ident.span(),
                    "#[hpy::class] supports structs only: wrap the enum in a struct field",
                ));
            }
            Item::Struct(st) => {
                if let Some(pos) = st.attrs.iter().position(|a| is_hpy_attr(a, "class")) {
                    let attr = st.attrs.remove(pos);
                    let mut opts: ClassOptions = match &attr.meta {
                        syn::Meta::Path(_) => ClassOptions::default(),
                        _ => attr.parse_args()?,
                    };
                    crate::class::resolve_extends(&mut opts, &st.ident, &declared, &declared_exceptions)?;
                    let py_name = crate::class::py_name(st, &opts);
                    class_stubs.push((st.ident.clone(), crate::class::stub_header(st, &opts)));
                    if let Some((other, _, _)) = classes.iter().find(|(_, _, n)| *n == py_name) {
                        return Err(syn::Error::new(
                            st.ident.span(),
                            format!("two classes are named `{py_name}` in this module (the other is `{other}`)"),
                        ));
                    }
                    for (n, _) in crate::class::property_names(st) {
                        class_props.push((st.ident.clone(), n));
                    }
                    let expanded = crate::class::expand(&opts, st.clone())?;
                    classes.push((st.ident.clone(), opts, py_name));
                    *item = Item::Verbatim(expanded);
                }
            }
            _ => {}
        }
    }

    check_function_names(&function_names, &classes)?;

    // Static and class methods are module functions moved onto their class at import (see
    // methods.rs). They keep their Python name unless it clashes with another module function.
    let clashing = clashing_module_function_names(items);

    // `#[hpy::methods]` blocks, numbered per class.
    let mut blocks: Vec<(Ident, usize, Vec<Ident>)> = Vec::new();
    // Classes with a `#[new]` (in any of their blocks).
    let mut constructible: Vec<Ident> = Vec::new();
    let mut seen_names: Vec<(Ident, String)> = class_props;
    for item in items.iter_mut() {
        let Item::Impl(block) = item else { continue };
        let Some(pos) = block.attrs.iter().position(|a| is_hpy_attr(a, "methods")) else { continue };
        block.attrs.remove(pos);
        let class_ident = match &*block.self_ty {
            Type::Path(p) => p.path.get_ident().cloned(),
            _ => None,
        };
        let Some((class, opts, py_name)) = class_ident.as_ref().and_then(|c| classes.iter().find(|(i, _, _)| i == c)) else {
            return Err(syn::Error::new(
                block.self_ty.span(),
                "#[hpy::methods] must be on `impl C { ... }` where `C` is a #[hpy::class] struct of this module",
            ));
        };
        let k = blocks.iter().filter(|(c, _, _)| c == class).count();
        let expansion = crate::methods::expand(opts, &clashing, py_name, k, block.clone())?;
        crate::class::check_exception_methods(opts, &expansion.names)?;
        for (n, span) in &expansion.names {
            if seen_names.iter().any(|(c, m)| c == class && m == n) {
                return Err(syn::Error::new(*span, format!("`{n}` is defined twice for class `{class}`")));
            }
            seen_names.push((class.clone(), n.clone()));
        }
        if let Some((_, text)) = class_stubs.iter_mut().find(|(c, _)| c == class) {
            text.push_str(&expansion.stub);
        }
        globals.extend(expansion.keyword_caches);
        if expansion.has_new {
            constructible.push(class.clone());
        }
        blocks.push((class.clone(), k, expansion.modfuncs));
        *item = Item::Verbatim(expansion.tokens);
    }
    let mut class_setup = Vec::new();
    let mut modfuncs = Vec::new();
    for (class, opts, py_name) in crate::class::bases_first(&classes) {
        let qualified = c_str(&format!("{name}.{py_name}"));
        let doc = crate::class::doc_const(class);
        let flags = crate::class::flags_const(class);
        let defs = crate::class::class_defs(class);
        let base = crate::class::base_expr(opts);
        let mine: Vec<&(Ident, usize, Vec<Ident>)> = blocks.iter().filter(|(c, _, _)| c == class).collect();
        let method_statics = mine.iter().map(|(c, k, _)| crate::methods::methods_static(c, *k));
        let setups = mine.iter().map(|(c, k, _)| crate::methods::setup_fn(c, *k));
        modfuncs.extend(mine.iter().flat_map(|(_, _, m)| m.iter().cloned()));
        globals.push(crate::class::type_global(class));
        // Without `#[new]`, Python code must not create instances: they would have no value.
        // (A class that `extends` a built-in gets its objects from the base's constructor.)
        let no_constructor = !constructible.contains(class) && !opts.extends_shape();
        let (no_constructor_static, no_constructor) = if no_constructor {
            (
                quote! {
                    static __HPY_NO_CONSTRUCTOR: [::hpy::ffi::HPyDefPtr; 1] = [{
                        static D: ::hpy::ffi::HPyDef = ::hpy::impl_::slots::no_constructor_def::<#class>();
                        ::hpy::ffi::HPyDefPtr(&D)
                    }];
                },
                quote!(, &__HPY_NO_CONSTRUCTOR),
            )
        } else {
            (quote!(), quote!())
        };
        let exception_class = exception_class_setup(class, opts, &name, &seen_names, constructible.contains(class), &mut globals);
        class_setup.push(quote! {
            {
                #no_constructor_static
                let __hpy_ty = ::hpy::impl_::add_class::<#class>(
                    __hpy_ctx, __hpy_module, #qualified, #doc, #flags, #base,
                    &[&#defs #(, &#method_statics)* #no_constructor],
                )?;
                #( #setups(__hpy_ctx, __hpy_module, &__hpy_ty)?; )*
                #exception_class
            }
        });
    }

    let doc = doc_string(&module.attrs);
    let doc_expr = if doc.is_empty() {
        quote!(::core::option::Option::None)
    } else {
        let d = c_str(&doc);
        quote!(::core::option::Option::Some(#d))
    };
    let defs: Vec<Ident> = functions.iter().map(def_ident).chain(modfuncs).collect();
    let more_defs = declarations.defs();
    let more_globals = declarations.globals();
    let n_defines = defs.len() + more_defs.len() + 2; // + the exec slot + NULL
    let n_globals = globals.len() + more_globals.len() + 2; // + hpy's module-type global + NULL
    check_attribute_names(&items_names(&function_names, &classes), &declarations)?;
    let declared_setup = declarations.setup(&name)?;
    let init_call = init.as_ref().map(|i| {
        quote_spanned!(i.span()=> ::hpy::impl_::IntoInitResult::into_init_result(#i(__hpy_ctx, __hpy_module))?;)
    });
    let mut stub_text = crate::stubs::module_header(&name, &doc);
    stub_text.push_str(&declarations.constant_stubs());
    stub_text.push_str(&function_stubs);
    stub_text.push_str(&declarations.other_stubs());
    for (_, text) in &class_stubs {
        stub_text.push('\n');
        stub_text.push_str(text);
    }
    let mut stub_bytes = format!("{name}\0").into_bytes();
    stub_bytes.extend_from_slice(stub_text.as_bytes());
    stub_bytes.push(0);
    let stub_len = stub_bytes.len();
    let stub_lit = syn::LitByteStr::new(&stub_bytes, proc_macro2::Span::call_site());
    let major = format!("get_required_hpy_major_version_{name}");
    let minor = format!("get_required_hpy_minor_version_{name}");
    let init_ctx = format!("HPyInitGlobalContext_{name}");
    let init_sym = format!("HPyInit_{name}");
    // The native build's entry point; the universal build ignores it (see hpy's `impl_::abi`).
    let pyinit_sym = format!("PyInit_{name}");
    let name_cstr = syn::LitCStr::new(&std::ffi::CString::new(name.to_string()).expect("a module name has no NUL"), proc_macro2::Span::call_site());

    let generated: Vec<Item> = vec![
        syn::parse_quote! {
            #[doc(hidden)]
            static __HPY_MOD_EXEC: ::hpy::ffi::HPyDef = ::hpy::__hpy_mod_exec_def!(|__hpy_ctx, __hpy_module| {
                #declared_setup
                #(#class_setup)*
                #init_call
                ::core::result::Result::Ok(())
            });
        },
        syn::parse_quote! {
            #[doc(hidden)]
            static __HPY_DEFINES: [::hpy::ffi::HPyDefPtr; #n_defines] = [
                #(::hpy::ffi::HPyDefPtr(&#defs),)*
                #(::hpy::ffi::HPyDefPtr(&#more_defs),)*
                ::hpy::ffi::HPyDefPtr(&__HPY_MOD_EXEC),
                ::hpy::ffi::HPyDefPtr::NULL,
            ];
        },
        syn::parse_quote! {
            #[doc(hidden)]
            static __HPY_GLOBALS: [::hpy::impl_::GlobalPtr; #n_globals] = [
                #(::hpy::impl_::GlobalPtr(#globals.as_raw_ptr()),)*
                #(::hpy::impl_::GlobalPtr(#more_globals.as_raw_ptr()),)*
                ::hpy::impl_::GlobalPtr(::hpy::impl_::MODULE_TYPE.as_raw_ptr()),
                ::hpy::impl_::GlobalPtr::NULL,
            ];
        },
        syn::parse_quote! {
            #[doc(hidden)]
            static __HPY_MODULE_DEF: ::hpy::ffi::HPyModuleDef =
                ::hpy::impl_::module_def(#doc_expr, &__HPY_DEFINES, &__HPY_GLOBALS);
        },
        syn::parse_quote! {
            ::hpy::__hpy_stubs!(__HPY_STUBS, #stub_len, #stub_lit);
        },
        syn::parse_quote! {
            ::hpy::__hpy_export_module!(#major, #minor, #init_ctx, #init_sym, #pyinit_sym, #name_cstr, __HPY_MODULE_DEF, __HPY_STUBS);
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
    fn registers_the_keyword_caches_of_keyword_functions_and_methods() {
        let m: ItemMod = parse_quote! {
            mod demo {
                #[hpy::function(signature = (a, b = 1))] fn kw(a: i64, b: i64) {}
                #[hpy::function] fn positional(a: i64, b: i64) {}
                #[hpy::class] struct C;
                #[hpy::methods] impl C {
                    #[hpy(signature = (x = 0))] fn m(&self, x: i64) {}
                    fn p(&self, x: i64) {}
                    #[staticmethod] #[hpy(signature = (*, y))] fn s(y: i64) {}
                    #[hpy(signature = (by = 1))] fn __call__(&self, by: i64) {}
                }
            }
        };
        let out = expand(ModuleOptions::default(), m).unwrap().to_string();
        assert!(out.contains("GlobalPtr (__HPY_KWCACHE_kw . as_raw_ptr ())"), "{out}");
        assert!(!out.contains("__HPY_KWCACHE_positional"), "{out}");
        assert!(out.contains("GlobalPtr (__HPY_KWCACHE_C_0_0 . as_raw_ptr ())"), "{out}");
        assert!(out.contains("GlobalPtr (__HPY_KWCACHE_C_0_1 . as_raw_ptr ())"), "{out}");
        assert!(!out.contains("__HPY_KWCACHE_C_0_2"), "only two methods take keywords: {out}");
        assert!(out.contains("GlobalPtr (__HPY_KWCACHE_C___call__ . as_raw_ptr ())"), "{out}");
    }

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
    fn defines_the_private_unraisable_hook_and_hands_the_exec_the_module() {
        // The hook is made with the module (no Python source compiled at import); the exec
        // takes it, and only once, before anything that could take an exception.
        let m: ItemMod = parse_quote!(mod demo { #[hpy::function] fn a() {} });
        let out = expand(ModuleOptions::default(), m).unwrap().to_string();
        assert_eq!(out.matches("HPyDefPtr (& :: hpy :: err :: HOOK_DISPATCH_DEF)").count(), 1, "{out}");
        assert_eq!(out.matches("prepare_fetch (__hpy_ctx , __hpy_module) ?").count(), 1, "{out}");
        let exec = out.find("static __HPY_MOD_EXEC").unwrap();
        assert!(out[exec..].find("prepare_fetch").unwrap() < out[exec..].find("Ok (())").unwrap(), "{out}");
    }

    #[test]
    fn functions_of_one_python_name_are_refused() {
        let err = |m: ItemMod| expand(ModuleOptions::default(), m).err().map(|e| e.to_string());
        // two fns exported as `f`; a `name` clashing with another fn's own name
        let e = err(parse_quote!(mod d { #[hpy::function] fn f() {} #[hpy::function(name = "f")] fn g() {} }));
        assert!(e.as_deref().is_some_and(|e| e.starts_with("two functions of this module have the Python name `f`: `f` and `g`")), "{e:?}");
        let e = err(parse_quote!(mod d { #[hpy::function(name = "g")] fn a() {} #[function] fn g() {} }));
        assert!(e.as_deref().is_some_and(|e| e.contains("the Python name `g`: `a` and `g`")), "{e:?}");
        let e = err(parse_quote!(mod d { #[hpy::function(name = "h")] fn a() {} #[hpy::function(name = "h", signature = ())] fn b() {} }));
        assert!(e.as_deref().is_some_and(|e| e.contains("the Python name `h`: `a` and `b`")), "{e:?}");
        // a function and a class of one name
        let e = err(parse_quote!(mod d { #[hpy::class] struct Point; #[hpy::function(name = "Point")] fn make() {} }));
        assert!(e.as_deref().is_some_and(|e| e.starts_with("`Point` is the Python name of the function `make` and of the class `Point`")), "{e:?}");
        // a constant and a function renamed to its name
        let e = err(parse_quote!(mod d { #[hpy::function(name = "VERSION")] fn version() {} #[hpy::constant] pub const VERSION: i64 = 1; }));
        assert!(e.as_deref().is_some_and(|e| e.contains("`VERSION` is a constant of this module and also a function")), "{e:?}");

        // Not clashes: renamed apart; a static method of a function's name (it gets a hidden
        // module name); a submodule's function (registered as `child.f`).
        assert_eq!(err(parse_quote!(mod d { #[hpy::function(name = "g")] fn f() {} #[hpy::function(name = "f")] fn g() {} })), None);
        assert_eq!(err(parse_quote!(mod d {
            #[hpy::function] fn make() {}
            #[hpy::class] struct C;
            #[hpy::methods] impl C { #[staticmethod] fn make() {} }
        })), None);
        assert_eq!(err(parse_quote!(mod d {
            #[hpy::function] fn f() {}
            #[hpy::submodule] mod child { #[hpy::function] fn f() {} }
        })), None);
    }

    #[test]
    fn creates_exception_classes_after_their_value_types() {
        let m: ItemMod = parse_quote! {
            mod demo {
                #[hpy::exception(extends = KeyError, name = "Missing")] pub struct MissingKey;
                #[hpy::class(extends = MissingKey)] pub struct Lookup { #[hpy(get)] key: String }
                #[hpy::methods] impl Lookup {
                    #[new] fn new(key: String) -> Self { Lookup { key } }
                    fn __str__(&self) -> String { self.key.clone() }
                    fn __del__(&self) {}
                    fn __richcmp__(&self, other: i64, op: hpy::CompareOp) -> bool { true }
                }
            }
        };
        let out = expand(ModuleOptions::default(), m).unwrap().to_string();
        assert!(out.contains("GlobalPtr (__HPY_EXCCLASS_Lookup . as_raw_ptr ())"), "{out}");
        assert!(out.contains("GlobalPtr (__HPY_EXCHELPERS_Lookup . as_raw_ptr ())"), "{out}");
        let create = out.find(":: hpy :: exception_class :: create :: < Lookup >").expect("created");
        assert!(out.find(":: hpy :: impl_ :: add_class :: < Lookup >").unwrap() < create, "{out}");
        let call = &out[create..];
        assert!(call.contains(r#""demo" , __HPY_DOC_Lookup , < MissingKey as :: hpy :: exceptions :: PyException > :: TYPE"#), "{call}");
        // the forwarded names: fields and methods, but not `__del__` (the value object's own),
        // and the comparisons `__richcmp__` defines
        let forwarded = r#"& ["key" , "__str__" , "__eq__" , "__ne__" , "__lt__" , "__le__" , "__gt__" , "__ge__"] , true"#;
        assert!(call.contains(forwarded), "{call}");
        assert!(out.contains("class Lookup(Missing):"), "{out}");
    }

    #[test]
    fn name_option_and_errors() {
        let m: ItemMod = parse_quote!(mod demo {});
        let opts: ModuleOptions = syn::parse2(quote!(name = "other")).unwrap();
        assert!(expand(opts, m).unwrap().to_string().contains(r#""HPyInit_other""#));
        let outline: ItemMod = parse_quote!(mod demo;);
        assert!(expand(ModuleOptions::default(), outline).unwrap_err().to_string().contains("inline"));
        let two_inits: ItemMod = parse_quote!(mod d { #[hpy::init] fn a(c: Context<'_>, m: &M) {} #[init] fn b(c: Context<'_>, m: &M) {} });
        assert!(expand(ModuleOptions::default(), two_inits).unwrap_err().to_string().contains("only one"));
        let bad: ModuleOptions = syn::parse2(quote!(name = "a.b")).unwrap();
        assert!(expand(bad, parse_quote!(mod d {})).unwrap_err().to_string().contains("identifier"));
    }
}
