//! `#[hpy::function]`: a Rust function becomes an HPy module function.
//!
//! The function itself is kept as written. Next to it the macro emits a `static` `HPyDef`
//! named [`def_ident`] (found by `#[hpy::module]`), built by `hpy::__hpy_function_def!`, which
//! holds the `unsafe` trampolines, so the user's crate needs no `unsafe`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Attribute, FnArg, Ident, ItemFn, LitStr, Pat, ReturnType, Token, Type};

use crate::signature::{parse_signature, Signature};

/// The name of the `static HPyDef` generated for function `f`.
pub fn def_ident(f: &Ident) -> Ident {
    format_ident!("__HPY_DEF_{}", f)
}

/// Options of `#[hpy::function(...)]`.
#[derive(Default)]
pub struct FunctionOptions {
    pub name: Option<LitStr>,
    pub signature: Option<Signature>,
    /// Set by `#[hpy::module]` ([`mark_in_module`]) on the functions it registers.
    pub in_module: bool,
}

/// The hidden option [`mark_in_module`] adds.
const IN_MODULE: &str = "__in_module";

/// Rewrite a function's `#[hpy::function(...)]` to `#[hpy::function(__in_module, ...)]`: called
/// by `#[hpy::module]` on every function it registers, so that the function macro can tell a
/// function nobody would register (outside the module, or in a nested `mod`) and refuse it
/// instead of leaving Python an `AttributeError`.
pub fn mark_in_module(attr: &mut Attribute) {
    let mark = Ident::new(IN_MODULE, Span::call_site());
    match &mut attr.meta {
        syn::Meta::Path(path) => {
            attr.meta = syn::Meta::List(syn::MetaList {
                path: path.clone(),
                delimiter: syn::MacroDelimiter::Paren(Default::default()),
                tokens: quote!(#mark),
            });
        }
        syn::Meta::List(list) => {
            let rest = &list.tokens;
            list.tokens = quote!(#mark, #rest);
        }
        // Not an attribute form the function macro accepts: rustc reports it.
        syn::Meta::NameValue(_) => {}
    }
}

impl Parse for FunctionOptions {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut opts = FunctionOptions::default();
        while !input.is_empty() {
            let key: Ident = input.parse()?;
            if key == IN_MODULE {
                opts.in_module = true;
                if !input.is_empty() {
                    input.parse::<Token![,]>()?;
                }
                continue;
            }
            input.parse::<Token![=]>()?;
            match key.to_string().as_str() {
                "name" => opts.name = Some(input.parse()?),
                "signature" => {
                    let group: proc_macro2::Group = input.parse()?;
                    opts.signature = Some(parse_signature(quote!(#group))?);
                }
                _ => {
                    return Err(syn::Error::new(
                        key.span(),
                        format!("unknown option `{key}`: expected `name = \"...\"` or `signature = (...)`"),
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

/// The docstring from `///` comments.
pub fn doc_string(attrs: &[Attribute]) -> String {
    let mut lines = Vec::new();
    for attr in attrs {
        if !attr.path().is_ident("doc") {
            continue;
        }
        if let syn::Meta::NameValue(nv) = &attr.meta {
            if let syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) = &nv.value {
                let line = s.value();
                lines.push(line.strip_prefix(' ').unwrap_or(&line).to_string());
            }
        }
    }
    lines.join("\n").trim().to_string()
}

/// A C string literal token.
pub fn c_str(s: &str) -> TokenStream {
    let lit = syn::LitCStr::new(&std::ffi::CString::new(s).expect("no NUL in names and docs"), Span::call_site());
    quote!(#lit)
}

/// Is `ty` (the type of a parameter) hpy's `Context`?
fn is_context(ty: &Type) -> bool {
    match ty {
        Type::Path(p) => p.path.segments.last().is_some_and(|s| s.ident == "Context"),
        _ => false,
    }
}

/// The parameter type with the function's own lifetime parameters replaced by `'_`, for the
/// `let` that converts the argument (those lifetimes are not in scope there).
fn erase_lifetimes(ty: &Type, generics: &syn::Generics) -> Type {
    struct Eraser<'g>(&'g syn::Generics);
    impl syn::visit_mut::VisitMut for Eraser<'_> {
        fn visit_lifetime_mut(&mut self, lt: &mut syn::Lifetime) {
            if self.0.lifetimes().any(|def| def.lifetime.ident == lt.ident) {
                *lt = syn::Lifetime::new("'_", lt.span());
            }
        }
    }
    let mut ty = ty.clone();
    syn::visit_mut::VisitMut::visit_type_mut(&mut Eraser(generics), &mut ty);
    ty
}

/// The collections whose `FromHPy` converts each item from a temporary handle (released before
/// the call), so their items must own their data (`FromHPyOwned`).
const OWNING_COLLECTIONS: &[&str] = &["Vec", "VecDeque", "HashMap", "BTreeMap", "HashSet", "BTreeSet"];

/// Refuse a reference inside a collection (`Vec<&str>`, `HashMap<&str, i64>`, `(&str, i64)`,
/// also under `Option`): each item would borrow from a temporary, which rustc reports only as
/// "implementation of `FromHPy` is not general enough". A reference at the top (`&str`,
/// `Option<&str>`) borrows from the argument itself and is fine.
fn check_no_borrowed_items(ty: &Type) -> syn::Result<()> {
    fn find(ty: &Type, in_collection: bool) -> Option<&syn::TypeReference> {
        match ty {
            Type::Reference(r) => in_collection.then_some(r),
            Type::Paren(p) => find(&p.elem, in_collection),
            Type::Group(g) => find(&g.elem, in_collection),
            Type::Tuple(t) => t.elems.iter().find_map(|e| find(e, true)),
            Type::Array(a) => find(&a.elem, true),
            Type::Path(p) => {
                let last = p.path.segments.last()?;
                let inner = if last.ident == "Option" {
                    in_collection
                } else if OWNING_COLLECTIONS.iter().any(|c| last.ident == c) {
                    true
                } else {
                    return None;
                };
                let syn::PathArguments::AngleBracketed(args) = &last.arguments else { return None };
                args.args.iter().find_map(|a| match a {
                    syn::GenericArgument::Type(t) => find(t, inner),
                    _ => None,
                })
            }
            _ => None,
        }
    }
    let Some(r) = find(ty, false) else { return Ok(()) };
    let item = r.elem.to_token_stream().to_string().replace(' ', "");
    let (owned, whole) = match item.as_str() {
        "str" => ("String", Some(owned_items(ty))),
        "[u8]" => ("Vec<u8>", Some(owned_items(ty))),
        _ => ("an owned type", None),
    };
    let borrowed = type_text(&Type::Reference(r.clone()));
    let advice = match whole {
        Some(w) => format!("use `{w}`"),
        None => format!("use {owned} (e.g. `Handle<'_>` for `&Handle<'_>`)"),
    };
    Err(syn::Error::new_spanned(
        r,
        format!(
            "a `{borrowed}` inside a collection would borrow from a temporary item (each item is converted \
             from its own handle, released before the call): {advice}"
        ),
    ))
}

/// `ty` with `&str` replaced by `String` and `&[u8]` by `Vec<u8>`, as the user would write it.
fn owned_items(ty: &Type) -> String {
    struct Owner;
    impl syn::visit_mut::VisitMut for Owner {
        fn visit_type_mut(&mut self, ty: &mut Type) {
            if let Type::Reference(r) = ty {
                let elem = r.elem.to_token_stream().to_string().replace(' ', "");
                if elem == "str" {
                    *ty = syn::parse_quote!(String);
                    return;
                }
                if elem == "[u8]" {
                    *ty = syn::parse_quote!(Vec<u8>);
                    return;
                }
            }
            syn::visit_mut::visit_type_mut(self, ty);
        }
    }
    let mut ty = ty.clone();
    syn::visit_mut::VisitMut::visit_type_mut(&mut Owner, &mut ty);
    type_text(&ty)
}

/// A type as a user writes it (`Vec<&'a str>`, not the token stream's `Vec < & 'a str >`).
fn type_text(ty: &Type) -> String {
    let mut text = ty.to_token_stream().to_string();
    for (spaced, tight) in [(" :: ", "::"), (":: ", "::"), (" <", "<"), ("< ", "<"), (" >", ">"), (" ,", ","), ("& ", "&"), ("( ", "("), (" )", ")"), ("[ ", "["), (" ]", "]"), (" ;", ";")] {
        text = text.replace(spaced, tight);
    }
    text
}

/// A parameter of the Rust function.
pub enum Param {
    /// `ctx: hpy::Context<'_>`: the call's context, not a Python parameter.
    Context,
    /// A Python parameter, converted with `FromHPy`.
    Python { ident: Ident, ty: Box<Type> },
}

/// How a method gets `self`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Receiver {
    /// `&self`: a shared borrow of the Rust value.
    Ref,
    /// `&mut self`: a mutable borrow (RuntimeError if already borrowed).
    RefMut,
    /// `slf: &Handle<'_, Self>`: the object itself (for `Field`s and re-entrancy).
    Handle,
}

/// The parameters of a function or method: its receiver (methods only) and the rest.
pub fn parse_params(sig: &syn::Signature, what: &str, allow_receiver: bool) -> syn::Result<(Option<Receiver>, Vec<Param>)> {
    if let Some(a) = &sig.asyncness {
        return Err(syn::Error::new(
            a.span(),
            format!("{what} cannot be `async`: Python calls it synchronously; run async work yourself (e.g. block on it) inside a plain fn"),
        ));
    }
    if let Some(u) = &sig.unsafety {
        return Err(syn::Error::new(u.span(), format!("{what} cannot be `unsafe`: Python cannot uphold its contract")));
    }
    if let Some(abi) = &sig.abi {
        return Err(syn::Error::new(abi.span(), format!("{what} generates the C ABI itself: remove the `extern`")));
    }
    if let Some(p) = sig.generics.params.iter().find(|p| !matches!(p, syn::GenericParam::Lifetime(_))) {
        return Err(syn::Error::new(
            p.span(),
            format!("{what} cannot be generic: Python calls it with objects of any type; take a concrete type or `&hpy::Handle<'_>` and dispatch yourself"),
        ));
    }
    if let Some(v) = &sig.variadic {
        return Err(syn::Error::new(v.span(), format!("{what} cannot be variadic: use `signature = (*args)`")));
    }
    let mut receiver = None;
    let mut params = Vec::new();
    for (i, input) in sig.inputs.iter().enumerate() {
        match input {
            FnArg::Receiver(r) => {
                if !allow_receiver {
                    return Err(syn::Error::new(
                        r.span(),
                        format!("{what} is for free functions: methods belong in `#[hpy::methods]`"),
                    ));
                }
                if r.reference.is_none() {
                    return Err(syn::Error::new(
                        r.span(),
                        "a method takes `&self` or `&mut self` (Python owns the object: it cannot be moved out)",
                    ));
                }
                receiver = Some(if r.mutability.is_some() { Receiver::RefMut } else { Receiver::Ref });
            }
            FnArg::Typed(pt) => {
                if is_context(&pt.ty) {
                    params.push(Param::Context);
                    continue;
                }
                let ident = match &*pt.pat {
                    Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => pi.ident.clone(),
                    other => {
                        return Err(syn::Error::new(
                            other.span(),
                            format!("{what} parameters must be plain names (they become Python parameter names)"),
                        ))
                    }
                };
                if allow_receiver && i == 0 && ident == "slf" {
                    receiver = Some(Receiver::Handle);
                    continue;
                }
                check_no_borrowed_items(&pt.ty)?;
                params.push(Param::Python { ident, ty: Box::new(erase_lifetimes(&pt.ty, &sig.generics)) });
            }
        }
    }
    Ok((receiver, params))
}

/// The Python parameter names, in Rust order.
pub fn python_names(params: &[Param]) -> Vec<Ident> {
    params
        .iter()
        .filter_map(|p| match p {
            Param::Python { ident, .. } => Some(ident.clone()),
            Param::Context => None,
        })
        .collect()
}

/// The signature from `signature = (...)`, checked against the parameters, or the implicit one.
pub fn resolve_signature(explicit: Option<Signature>, params: &[Param], span: Span) -> syn::Result<Signature> {
    let names = python_names(params);
    match explicit {
        Some(s) => {
            let has_context = params.iter().any(|p| matches!(p, Param::Context));
            check_signature_names(&s, &names, has_context)?;
            let _ = span;
            check_variadic_types(&s, params)?;
            Ok(s)
        }
        None => Ok(Signature::implicit(&names)),
    }
}

/// `*args` is passed as `&Handle<'_, Tuple>` and `**kwargs` as `Option<&Handle<'_, Dict>>`:
/// any other declared type would be a "mismatched types" error that does not say what to write.
/// (Checked by shape: a reference, or an `Option` of one.)
fn check_variadic_types(sig: &Signature, params: &[Param]) -> syn::Result<()> {
    let ty_of = |name: &Ident| {
        params.iter().find_map(|p| match p {
            Param::Python { ident, ty } if ident == name => Some(ty),
            _ => None,
        })
    };
    if let Some(ty) = sig.varargs.as_ref().and_then(ty_of) {
        if !matches!(**ty, Type::Reference(_)) {
            let name = sig.varargs.as_ref().expect("checked");
            return Err(syn::Error::new_spanned(
                ty,
                format!(
                    "`*{name}` is the tuple of extra positional arguments: declare `{name}: &hpy::Handle<'_, hpy::Tuple>` \
                     and convert it in the body (e.g. `let v: {} = {name}.extract()?;`)",
                    type_text(ty)
                ),
            ));
        }
    }
    if let Some(ty) = sig.kwargs.as_ref().and_then(ty_of) {
        if !option_inner(ty).is_some_and(|inner| matches!(inner, Type::Reference(_))) {
            let name = sig.kwargs.as_ref().expect("checked");
            return Err(syn::Error::new_spanned(
                ty,
                format!(
                    "`**{name}` is the dict of extra keyword arguments, or `None` without any: declare \
                     `{name}: Option<&hpy::Handle<'_, hpy::Dict>>` and convert it in the body"
                ),
            ));
        }
    }
    Ok(())
}

/// Check the signature of an `#[hpy::init]` function: the module calls it with the context and
/// the module object. (Called by `#[hpy::module]`; the return type is checked by the compiler,
/// through `IntoInitResult`.)
pub fn check_init_signature(f: &ItemFn) -> syn::Result<()> {
    let usage = "#[hpy::init] is called with the context and the module: \
                 `fn init(ctx: hpy::Context<'_>, module: &hpy::Handle<'_, hpy::Module>) -> hpy::Result<()>`";
    let inputs = &f.sig.inputs;
    let first_is_context = matches!(inputs.first(), Some(FnArg::Typed(pt)) if is_context(&pt.ty));
    if inputs.len() != 2 || !first_is_context {
        if inputs.is_empty() {
            return Err(syn::Error::new(f.sig.paren_token.span.join(), usage));
        }
        return Err(syn::Error::new_spanned(inputs, usage));
    }
    if let Some(a) = &f.sig.asyncness {
        return Err(syn::Error::new(a.span(), format!("{usage}, not `async`")));
    }
    Ok(())
}

/// `name(sig)\n--\n\ndoc`: CPython takes `__text_signature__` from this first line.
pub fn doc_with_signature(py_name: &str, signature: &Signature, doc: &str) -> String {
    format!("{py_name}{}\n--\n\n{doc}", signature.text_signature())
}

/// The `self` of a method.
pub struct SelfArg {
    pub class: Ident,
    pub how: Receiver,
    /// Does the HPy runtime guarantee that `self` is an instance of `class` (methods, and the
    /// slots in `hpy::impl_::slots::runtime_checks_receiver`)? Otherwise the generated code
    /// checks it (getters and setters: PyPy's getset descriptors do not).
    pub checked_by_runtime: bool,
}

/// Everything needed to generate the def of a Python-callable Rust function or method.
pub struct Callable<'a> {
    pub py_name: String,
    pub doc: String,
    pub params: &'a [Param],
    pub signature: Signature,
    /// The path of the Rust function: `add`, `Point::norm`.
    pub callee: TokenStream,
    /// For methods: the class and how `self` is passed.
    pub receiver: Option<SelfArg>,
    pub ret_span: Span,
}

/// Where the generated code finds the Python arguments.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ArgSource {
    /// One argument, `__hpy_arg` (HPyFunc_O, setters).
    Single,
    /// Exactly the positional parameters, `__hpy_args: &[Borrowed; N]`: no parser at all.
    Exact,
    /// Parsed against the signature: `__hpy_args: &Args<N>`.
    Parsed,
}

/// Conversions of the arguments, and the call of the user's function.
struct CallParts {
    conversions: Vec<TokenStream>,
    call_args: Vec<TokenStream>,
    prelude: TokenStream,
}

impl Callable<'_> {
    fn parts(&self, source: ArgSource) -> CallParts {
        let slot_of = |name: &Ident| self.signature.slot_params().position(|p| p.name == *name);
        let mut conversions = Vec::new();
        let mut call_args = Vec::new();
        let (prelude, self_arg) = match &self.receiver {
            None => (quote!(), None),
            Some(SelfArg { class, how, checked_by_runtime }) => {
                let get = if *checked_by_runtime {
                    quote!(let __hpy_cls: &::hpy::Handle<'_, #class> = &*__hpy_slf;)
                } else {
                    quote!(let __hpy_cls = ::hpy::impl_::receiver::<#class>(&*__hpy_slf)?;)
                };
                match how {
                    Receiver::Ref => (quote!(#get let __hpy_ref = __hpy_cls.borrow()?;), Some(quote!(&*__hpy_ref))),
                    Receiver::RefMut => {
                        (quote!(#get let mut __hpy_ref = __hpy_cls.borrow_mut()?;), Some(quote!(&mut *__hpy_ref)))
                    }
                    Receiver::Handle => (get, Some(quote!(__hpy_cls))),
                }
            }
        };
        call_args.extend(self_arg);
        for p in self.params {
            match p {
                Param::Context => call_args.push(quote!(__hpy_ctx)),
                Param::Python { ident, ty } => {
                    let var = format_ident!("__arg_{}", ident);
                    let arg_name = ident.to_string();
                    let py_name = &self.py_name;
                    let conv = if source == ArgSource::Single {
                        quote_spanned!(ty.span()=> let #var: #ty = ::hpy::impl_::extract_arg(&*__hpy_arg, #py_name, #arg_name)?;)
                    } else if source == ArgSource::Exact {
                        let i = slot_of(ident).expect("checked against the signature");
                        quote_spanned!(ty.span()=> let #var: #ty = ::hpy::impl_::extract_arg(&*__hpy_args[#i], #py_name, #arg_name)?;)
                    } else if self.signature.varargs.as_ref() == Some(ident) {
                        quote_spanned!(ty.span()=> let #var: #ty = __hpy_args.varargs();)
                    } else if self.signature.kwargs.as_ref() == Some(ident) {
                        quote_spanned!(ty.span()=> let #var: #ty = __hpy_args.kwargs();)
                    } else {
                        let slot = slot_of(ident).expect("checked against the signature");
                        let param = self.signature.slot_params().nth(slot).expect("slot exists");
                        match &param.default {
                            None => quote_spanned!(ty.span()=> let #var: #ty = __hpy_args.extract(#slot, #arg_name)?;),
                            Some(d) => {
                                let d = default_value(d, ty);
                                quote_spanned!(ty.span()=> let #var: #ty = __hpy_args.extract_or(#slot, #arg_name, || #d)?;)
                            }
                        }
                    };
                    conversions.push(conv);
                    call_args.push(quote!(#var));
                }
            }
        }
        CallParts { conversions, call_args, prelude }
    }

    /// The call of the user's function with converted arguments, wrapped by `wrap`.
    fn call(&self, parts: &CallParts, wrap: impl FnOnce(TokenStream) -> TokenStream) -> TokenStream {
        let callee = &self.callee;
        let args = &parts.call_args;
        let call = quote_spanned!(self.ret_span=> #callee(#(#args),*));
        wrap(call)
    }

    fn names(&self) -> (TokenStream, TokenStream) {
        let mut full_doc = doc_with_signature(&self.py_name, &self.signature, &self.doc);
        if self.receiver.is_some() {
            // CPython's convention for methods: `$self` is dropped from bound methods' signatures.
            let text = self.signature.text_signature();
            let with_self = if text == "()" { "($self)".to_string() } else { format!("($self, {}", &text[1..]) };
            full_doc = format!("{}{with_self}\n--\n\n{}", self.py_name, self.doc);
        }
        (c_str(&self.py_name), c_str(&full_doc))
    }

    /// Does the def take keywords, and so need the [`keyword_cache_item`] named in `meth_def`?
    pub fn takes_keywords(&self) -> bool {
        self.signature.takes_keywords()
    }

    /// An `HPyDef` of kind `Meth`: NOARGS, O, VARARGS or KEYWORDS from the signature. A KEYWORDS
    /// def uses the static `keyword_cache`, which the caller declares with [`keyword_cache_item`]
    /// (and `#[hpy::module]` registers).
    pub fn meth_def(&self, keyword_cache: &Ident) -> TokenStream {
        let (name_c, doc_c) = self.names();
        let sig = &self.signature;
        let n_slots = sig.slot_params().count();
        let simple = !(sig.takes_keywords() || sig.varargs.is_some() || n_slots > 1 || sig.explicit);
        let exact = self.is_exact();
        let into_return = |call| quote_spanned!(self.ret_span=> ::hpy::impl_::IntoReturn::into_return(#call, __hpy_ctx));
        let slf = if self.receiver.is_some() { quote!(__hpy_slf) } else { quote!(_) };
        // What `self` is: a method's class (the method descriptor checked it), or anything.
        let kind = |k: TokenStream| match &self.receiver {
            Some(SelfArg { class, checked_by_runtime: true, .. }) => quote!(#k[#class]),
            _ => k,
        };
        if simple && n_slots == 0 {
            let parts = self.parts(ArgSource::Parsed);
            let prelude = &parts.prelude;
            let call = self.call(&parts, into_return);
            let noargs = kind(quote!(noargs));
            quote!(::hpy::__hpy_function_def!(#noargs, #name_c, #doc_c, |__hpy_ctx, #slf| { #prelude #call }))
        } else if simple {
            let parts = self.parts(ArgSource::Single);
            let (prelude, conv) = (&parts.prelude, &parts.conversions);
            let call = self.call(&parts, into_return);
            let o = kind(quote!(o));
            quote!(::hpy::__hpy_function_def!(#o, #name_c, #doc_c, |__hpy_ctx, #slf, __hpy_arg| {
                #(#conv)* #prelude #call
            }))
        } else if exact {
            let parts = self.parts(ArgSource::Exact);
            let (prelude, conv) = (&parts.prelude, &parts.conversions);
            let call = self.call(&parts, into_return);
            let desc = description(sig, &self.py_name, None);
            let exact = kind(quote!(exact));
            quote!({
                static __DESC: ::hpy::impl_::FunctionDescription = #desc;
                ::hpy::__hpy_function_def!(#exact, #name_c, #doc_c, &__DESC, #n_slots, |__hpy_ctx, #slf, __hpy_args| {
                    #(#conv)* #prelude #call
                })
            })
        } else {
            let parts = self.parts(ArgSource::Parsed);
            let (prelude, conv) = (&parts.prelude, &parts.conversions);
            let call = self.call(&parts, into_return);
            let cache = sig.takes_keywords().then_some(keyword_cache);
            let desc = description(sig, &self.py_name, cache);
            let kind = kind(if sig.takes_keywords() { quote!(keywords) } else { quote!(varargs) });
            quote!({
                static __DESC: ::hpy::impl_::FunctionDescription = #desc;
                ::hpy::__hpy_function_def!(#kind, #name_c, #doc_c, &__DESC, #n_slots, |__hpy_ctx, #slf, __hpy_args| {
                    #(#conv)* #prelude #call
                })
            })
        }
    }

    /// Are the parameters exactly the required positional-only ones (nothing variadic, no
    /// keywords)? Then the arguments can be used where they lie, with one count check.
    pub fn is_exact(&self) -> bool {
        let sig = &self.signature;
        !sig.takes_keywords() && sig.varargs.is_none() && sig.positional.iter().all(|p| p.default.is_none())
    }

    /// The body and description of a slot that parses arguments like a function
    /// (`__call__`, `#[new]`), or converts one argument `__hpy_arg` (`single_arg`, setters):
    /// `(static DESC, slot count, closure body)`. `keyword_cache` names the description's
    /// [`keyword_cache_item`], for slots whose keywords come as a names tuple (`__call__`).
    pub fn parsed_slot(
        &self,
        single_arg: bool,
        keyword_cache: Option<&Ident>,
        wrap: impl FnOnce(TokenStream) -> TokenStream,
    ) -> (TokenStream, usize, TokenStream) {
        self.slot_parts(if single_arg { ArgSource::Single } else { ArgSource::Parsed }, keyword_cache, wrap)
    }

    /// [`Callable::parsed_slot`] for an [`is_exact`](Callable::is_exact) signature: the closure
    /// body takes the argument array `__hpy_args: &[Borrowed; N]`.
    pub fn exact_slot(&self, wrap: impl FnOnce(TokenStream) -> TokenStream) -> (TokenStream, usize, TokenStream) {
        self.slot_parts(ArgSource::Exact, None, wrap)
    }

    fn slot_parts(
        &self,
        source: ArgSource,
        keyword_cache: Option<&Ident>,
        wrap: impl FnOnce(TokenStream) -> TokenStream,
    ) -> (TokenStream, usize, TokenStream) {
        let parts = self.parts(source);
        let (prelude, conv) = (&parts.prelude, &parts.conversions);
        let call = self.call(&parts, wrap);
        let desc = description(&self.signature, &self.py_name, keyword_cache);
        (desc, self.signature.slot_params().count(), quote!({ #(#conv)* #prelude #call }))
    }
}

/// The default of a parameter of type `ty`, as an expression of that type. A string literal
/// converts with `From` (`String`, `Cow<str>`, `PathBuf`, ...; a `&str` takes it as it is),
/// inside `Some` for an `Option<...>` parameter; any other default is used as written.
fn default_value(default: &syn::Expr, ty: &Type) -> TokenStream {
    let syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(text), .. }) = default else { return quote!(#default) };
    match option_inner(ty) {
        Some(inner) => {
            let value = default_value(default, inner);
            quote_spanned!(default.span()=> ::core::option::Option::Some(#value))
        }
        // rustc would say "`i64: From<&str>` is not satisfied" and list every `From` of `i64`.
        None if is_number_or_bool(ty) => {
            let ty = type_text(ty);
            let value = text.value();
            let example = if value.parse::<f64>().is_ok() || value == "true" || value == "false" { value } else { "...".into() };
            let msg = format!("a string default for parameter type `{ty}`: write the value itself, without quotes (`{example}`)");
            quote_spanned!(default.span()=> ::core::compile_error!(#msg))
        }
        // `&str` takes the literal as it is (a conversion would be clippy's `useless_conversion`).
        None if matches!(ty, Type::Reference(_)) => quote!(#default),
        None => quote_spanned!(default.span()=> ::core::convert::From::from(#default)),
    }
}

/// Is `ty` one of Rust's number types or `bool` (written as a plain name)?
fn is_number_or_bool(ty: &Type) -> bool {
    const NAMES: &[&str] = &[
        "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize", "f32", "f64", "bool",
    ];
    matches!(ty, Type::Path(p) if p.qself.is_none() && p.path.get_ident().is_some_and(|i| NAMES.iter().any(|n| i == n)))
}

/// `T` of `Option<T>`.
fn option_inner(ty: &Type) -> Option<&Type> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != "Option" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else { return None };
    match args.args.first()? {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    }
}

/// Expand `#[hpy::function(opts)] item`.
pub fn expand(opts: FunctionOptions, func: ItemFn) -> syn::Result<TokenStream> {
    if !opts.in_module {
        // The function stays (other Rust code may call it): only the error is added.
        let msg = if func.sig.receiver().is_some() {
            "a method needs no #[hpy::function]: every fn of an `#[hpy::methods]` impl is exported; remove the attribute"
        } else {
            "#[hpy::function] must be directly inside an `#[hpy::module] mod` (not outside it, not in \
             a nested `mod`, fn or impl): the module registers its functions when it is imported"
        };
        let err = syn::Error::new(Span::call_site(), msg);
        let err = err.into_compile_error();
        return Ok(quote!(#err #func));
    }
    check_no_method_options(&func)?;
    let (_, params) = parse_params(&func.sig, "#[hpy::function]", false)?;
    let signature = resolve_signature(opts.signature, &params, func.sig.ident.span())?;
    let fn_ident = func.sig.ident.clone();
    let callable = Callable {
        py_name: opts.name.as_ref().map_or_else(|| fn_ident.to_string(), LitStr::value),
        doc: doc_string(&func.attrs),
        params: &params,
        signature,
        callee: quote!(#fn_ident),
        receiver: None,
        ret_span: match &func.sig.output {
            ReturnType::Default => fn_ident.span(),
            ReturnType::Type(_, ty) => ty.span(),
        },
    };
    let cache = keyword_cache_ident(&fn_ident);
    let def_expr = callable.meth_def(&cache);
    let cache_item = callable.takes_keywords().then(|| keyword_cache_item(&cache));
    let def = def_ident(&fn_ident);
    Ok(quote! {
        #func

        #cache_item

        #[doc(hidden)]
        #[allow(non_upper_case_globals)]
        static #def: ::hpy::ffi::HPyDef = #def_expr;
    })
}

/// `#[hpy(name = ..., signature = ...)]` is how a method of `#[hpy::methods]` takes its options; on
/// a function it would be ignored (the function's own attribute takes them), so it is refused.
fn check_no_method_options(func: &ItemFn) -> syn::Result<()> {
    let Some(attr) = func.attrs.iter().find(|a| a.path().is_ident("hpy")) else { return Ok(()) };
    Err(syn::Error::new_spanned(
        attr,
        "`#[hpy(...)]` holds the options of a method in `#[hpy::methods]`; a function takes them in its \
         own attribute: write `#[hpy::function(signature = (...))]` (or `name = \"...\"`) instead",
    ))
}

/// Every Rust parameter (but the context) must appear in the signature, and nothing else.
fn check_signature_names(sig: &Signature, rust: &[Ident], has_context: bool) -> syn::Result<()> {
    let declared = sig.all_names();
    for d in &declared {
        if !rust.iter().any(|r| r == *d) {
            let hint = if has_context { "; a `Context` parameter is not one: leave it out of the signature" } else { "" };
            return Err(syn::Error::new(
                d.span(),
                format!("`{d}` is in the signature but is not a Python parameter of the function{hint}"),
            ));
        }
    }
    for (i, d) in declared.iter().enumerate() {
        if declared[..i].iter().any(|e| e == d) {
            return Err(syn::Error::new(d.span(), format!("`{d}` appears twice in the signature")));
        }
    }
    for r in rust {
        if !declared.contains(&r) {
            return Err(syn::Error::new(
                r.span(),
                format!("parameter `{r}` is missing from `signature = (...)`: list every parameter"),
            ));
        }
    }
    Ok(())
}

/// The name of the keyword cache of `#[hpy::function] fn f` (see [`keyword_cache_item`]).
pub fn keyword_cache_ident(f: &Ident) -> Ident {
    format_ident!("__HPY_KWCACHE_{}", f)
}

/// The static `KeywordCache` of a keyword function or method: a module-level item, because
/// `#[hpy::module]` lists it in `HPyModuleDef.globals` by this name.
pub fn keyword_cache_item(ident: &Ident) -> TokenStream {
    quote! {
        #[doc(hidden)]
        #[allow(non_upper_case_globals)]
        static #ident: ::hpy::impl_::KeywordCache = ::hpy::impl_::KeywordCache::new();
    }
}

/// The `FunctionDescription` literal; `keyword_cache` names its cache, if it has one.
fn description(sig: &Signature, py_name: &str, keyword_cache: Option<&Ident>) -> TokenStream {
    let positional: Vec<String> = sig.positional.iter().map(|p| p.name.to_string()).collect();
    let positional_only = sig.positional_only;
    let required = sig.positional.iter().take_while(|p| p.default.is_none()).count();
    let kw_names: Vec<String> = sig.keyword_only.iter().map(|p| p.name.to_string()).collect();
    let kw_required: Vec<bool> = sig.keyword_only.iter().map(|p| p.default.is_none()).collect();
    let varargs = sig.varargs.is_some();
    let kwargs = sig.kwargs.is_some();
    let cache = match keyword_cache {
        Some(c) => quote!(::core::option::Option::Some(&#c)),
        None => quote!(::core::option::Option::None),
    };
    quote! {
        ::hpy::impl_::FunctionDescription {
            name: #py_name,
            positional: &[#(#positional),*],
            positional_only: #positional_only,
            required_positional: #required,
            keyword_only: &[#((#kw_names, #kw_required)),*],
            varargs: #varargs,
            kwargs: #kwargs,
            keyword_cache: #cache,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    /// Expand as inside a module (`#[hpy::module]` marks its functions).
    fn expand_str(opts: TokenStream, item: TokenStream) -> Result<String, String> {
        let opts = if opts.is_empty() { quote!(__in_module) } else { quote!(__in_module, #opts) };
        let opts: FunctionOptions = syn::parse2(opts).map_err(|e| e.to_string())?;
        let func: ItemFn = syn::parse2(item).map_err(|e| e.to_string())?;
        expand(opts, func).map(|t| t.to_string()).map_err(|e| e.to_string())
    }

    #[test]
    fn picks_the_calling_convention() {
        let noargs = expand_str(quote!(), quote!(fn f() -> i64 { 1 })).unwrap();
        assert!(noargs.contains("noargs"), "{noargs}");
        let o = expand_str(quote!(), quote!(fn f(x: i64) -> i64 { x })).unwrap();
        assert!(o.contains("__hpy_function_def ! (o"), "{o}");
        let exact = expand_str(quote!(), quote!(fn f(a: i64, b: i64) -> i64 { a + b })).unwrap();
        assert!(exact.contains("(exact"), "{exact}");
        let exact = expand_str(quote!(signature = (a, b, /)), quote!(fn f(a: i64, b: i64) -> i64 { a + b })).unwrap();
        assert!(exact.contains("(exact"), "{exact}");
        let varargs = expand_str(quote!(signature = (a, b = 1, /)), quote!(fn f(a: i64, b: i64) -> i64 { a + b })).unwrap();
        assert!(varargs.contains("(varargs"), "{varargs}");
        let kw = expand_str(quote!(signature = (a, b = 1)), quote!(fn f(a: i64, b: i64) -> i64 { a + b })).unwrap();
        assert!(kw.contains("(keywords"), "{kw}");
    }

    #[test]
    fn method_options_on_a_function_are_refused() {
        let e = expand_str(quote!(), quote!(#[hpy(signature = (a, b = 1))] fn f(a: i64, b: i64) {})).unwrap_err();
        assert!(e.starts_with("`#[hpy(...)]` holds the options of a method"), "{e}");
        assert!(e.contains("`#[hpy::function(signature = (...))]`"), "{e}");
        let e = expand_str(quote!(signature = (a)), quote!(#[hpy(name = "g")] fn f(a: i64) {})).unwrap_err();
        assert!(e.starts_with("`#[hpy(...)]` holds the options of a method"), "{e}");
        // other attributes stay
        let ok = expand_str(quote!(), quote!(#[inline] #[allow(unused)] fn f() {})).unwrap();
        assert!(ok.contains("# [inline] # [allow (unused)] fn f"), "{ok}");
    }

    #[test]
    fn context_parameter_is_not_a_python_parameter() {
        let out = expand_str(quote!(), quote!(fn f(ctx: hpy::Context<'_>, x: i64) -> i64 { x })).unwrap();
        assert!(out.contains("f(x, /)"), "{out}");
    }

    #[test]
    fn docstring_and_text_signature() {
        let item: ItemFn = parse_quote! {
            /// Add two numbers.
            ///
            /// Really.
            fn add(a: i64, b: i64) -> i64 { a + b }
        };
        let opts = FunctionOptions { in_module: true, ..Default::default() };
        let out = expand(opts, item).unwrap().to_string();
        assert!(out.contains(r#"c"add(a, b, /)\n--\n\nAdd two numbers.\n\nReally.""#), "{out}");
    }

    #[test]
    fn outside_a_module_is_an_error_and_keeps_the_function() {
        let out = expand(FunctionOptions::default(), parse_quote!(fn f() -> i64 { 1 })).unwrap().to_string();
        assert!(out.contains("compile_error"), "{out}");
        assert!(out.contains("must be directly inside an `#[hpy::module] mod`"), "{out}");
        assert!(out.contains("fn f () -> i64"), "the function stays: {out}");
        assert!(!out.contains("__HPY_DEF_f"), "no def nobody registers: {out}");
    }

    #[test]
    fn the_module_mark_is_added_to_every_attribute_form() {
        let mark = |mut attr: Attribute| {
            mark_in_module(&mut attr);
            attr.to_token_stream().to_string()
        };
        assert_eq!(mark(parse_quote!(#[hpy::function])), "# [hpy :: function (__in_module)]");
        assert_eq!(mark(parse_quote!(#[function])), "# [function (__in_module)]");
        assert_eq!(
            mark(parse_quote!(#[hpy::function(name = "g")])),
            r#"# [hpy :: function (__in_module , name = "g")]"#
        );
        let opts: FunctionOptions = syn::parse2(quote!(__in_module, name = "g")).unwrap();
        assert!(opts.in_module);
        assert_eq!(opts.name.unwrap().value(), "g");
        assert!(!syn::parse2::<FunctionOptions>(quote!(name = "g")).unwrap().in_module);
    }

    #[test]
    fn mistakes_get_messages_that_say_what_to_write() {
        let e = expand_str(quote!(signature = (ctx, x)), quote!(fn f(ctx: hpy::Context<'_>, x: i64) {})).unwrap_err();
        assert!(e.contains("a `Context` parameter is not one: leave it out of the signature"), "{e}");
        let e = expand_str(quote!(signature = (*args)), quote!(fn f(args: Vec<i64>) {})).unwrap_err();
        assert!(e.contains("declare `args: &hpy::Handle<'_, hpy::Tuple>`"), "{e}");
        assert!(e.contains("let v: Vec<i64> = args.extract()?;"), "{e}");
        let e = expand_str(quote!(signature = (**kw)), quote!(fn f(kw: HashMap<String, i64>) {})).unwrap_err();
        assert!(e.contains("declare `kw: Option<&hpy::Handle<'_, hpy::Dict>>`"), "{e}");
        expand_str(quote!(signature = (*a, **k)), quote!(fn f(a: &Handle<'_, Tuple>, k: Option<&Handle<'_, Dict>>) {})).unwrap();
        let out = expand_str(quote!(signature = (n = "10")), quote!(fn f(n: i64) {})).unwrap();
        assert!(out.contains("compile_error"), "{out}");
        assert!(out.contains("a string default for parameter type `i64`: write the value itself, without quotes (`10`)"), "{out}");
        let on_method = expand(FunctionOptions::default(), parse_quote!(fn x(&self) -> f64 { 1.0 })).unwrap().to_string();
        assert!(on_method.contains("a method needs no #[hpy::function]"), "{on_method}");
    }

    #[test]
    fn the_module_marks_its_functions_and_checks_its_init() {
        let m: syn::ItemMod = parse_quote! {
            mod demo {
                #[hpy::function] fn a() {}
                #[hpy::function(name = "bee")] fn b() {}
            }
        };
        let out = crate::module::expand(Default::default(), m).unwrap().to_string();
        assert!(out.contains("# [hpy :: function (__in_module)] fn a"), "{out}");
        assert!(out.contains(r#"# [hpy :: function (__in_module , name = "bee")] fn b"#), "{out}");
        for bad in [
            quote!(fn init(m: &Handle<'_, Module>) -> Result<()> { Ok(()) }),
            quote!(fn init() {}),
            quote!(fn init(m: &Handle<'_, Module>, ctx: Context<'_>) {}),
            quote!(async fn init(ctx: Context<'_>, m: &Handle<'_, Module>) {}),
        ] {
            let m: syn::ItemMod = parse_quote!(mod demo { #[hpy::init] #bad });
            let e = crate::module::expand(Default::default(), m).unwrap_err().to_string();
            assert!(e.contains("#[hpy::init] is called with the context and the module"), "{e}");
        }
    }

    #[test]
    fn string_literal_defaults_convert_to_the_parameter_type() {
        let out = expand_str(quote!(signature = (s = "x")), quote!(fn f(s: String) {})).unwrap();
        assert!(out.contains(r#"|| :: core :: convert :: From :: from ("x")"#), "{out}");
        let out = expand_str(quote!(signature = (s = "x")), quote!(fn f(s: Option<String>) {})).unwrap();
        assert!(out.contains(r#"|| :: core :: option :: Option :: Some (:: core :: convert :: From :: from ("x"))"#), "{out}");
        let out = expand_str(quote!(signature = (s = "x", t = "y")), quote!(fn f(s: &str, t: Option<&str>) {})).unwrap();
        assert!(out.contains(r#"|| "x")"#), "{out}");
        assert!(out.contains(r#"|| :: core :: option :: Option :: Some ("y"))"#), "{out}");
        // Other defaults are used as written (they may rely on inference).
        let out = expand_str(quote!(signature = (n = 1, v = Vec::new())), quote!(fn f(n: i64, v: Vec<i64>) {})).unwrap();
        assert!(out.contains("|| 1)"), "{out}");
        assert!(out.contains("|| Vec :: new ())"), "{out}");
    }

    #[test]
    fn borrowed_items_in_collections_are_refused() {
        let err = |ty: TokenStream| expand_str(quote!(), quote!(fn f(x: #ty) {})).unwrap_err();
        let e = err(quote!(Vec<&str>));
        assert!(e.contains("a `&str` inside a collection would borrow from a temporary item"), "{e}");
        assert!(e.contains("use `Vec<String>`"), "{e}");
        assert!(err(quote!(Option<Vec<&'a str>>)).contains("use `Option<Vec<String>>`"));
        assert!(err(quote!(std::collections::HashMap<&str, i64>)).contains("use `std::collections::HashMap<String, i64>`"));
        assert!(err(quote!((&str, i64))).contains("use `(String, i64)`"));
        assert!(err(quote!(Vec<&[u8]>)).contains("use `Vec<Vec<u8>>`"));
        assert!(err(quote!(Vec<&hpy::Handle<'_>>)).contains("e.g. `Handle<'_>`"));
        // A reference at the top borrows from the argument itself.
        for ok in [quote!(&str), quote!(Option<&str>), quote!(&hpy::Handle<'_>), quote!(Vec<String>), quote!(Cow<'_, str>)] {
            expand_str(quote!(), quote!(fn f(x: #ok) {})).unwrap();
        }
    }

    #[test]
    fn rejects_what_python_cannot_call() {
        let e = expand_str(quote!(), quote!(fn f<T>(x: T) {})).unwrap_err();
        assert!(e.contains("cannot be generic"), "{e}");
        let e = expand_str(quote!(), quote!(async fn f() {})).unwrap_err();
        assert!(e.contains("cannot be `async`"), "{e}");
        let e = expand_str(quote!(), quote!(fn f((a, b): (i64, i64)) {})).unwrap_err();
        assert!(e.contains("plain names"), "{e}");
        let e = expand_str(quote!(signature = (a)), quote!(fn f(a: i64, b: i64) {})).unwrap_err();
        assert!(e.contains("missing from `signature"), "{e}");
        let e = expand_str(quote!(signature = (a, c)), quote!(fn f(a: i64) {})).unwrap_err();
        assert!(e.contains("not a Python parameter"), "{e}");
        let e = expand_str(quote!(nmae = "x"), quote!(fn f() {})).unwrap_err();
        assert!(e.contains("unknown option `nmae`"), "{e}");
    }
}
