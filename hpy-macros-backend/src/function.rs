//! `#[hpy::function]`: a Rust function becomes an HPy module function.
//!
//! The function itself is kept as written. Next to it the macro emits a `static` `HPyDef`
//! named [`def_ident`] (found by `#[hpy::module]`), built by `hpy::__hpy_function_def!`, which
//! holds the `unsafe` trampolines, so the user's crate needs no `unsafe`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
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
}

impl Parse for FunctionOptions {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut opts = FunctionOptions::default();
        while !input.is_empty() {
            let key: Ident = input.parse()?;
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
            check_signature_names(&s, &names, span)?;
            Ok(s)
        }
        None => Ok(Signature::implicit(&names)),
    }
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

/// Expand `#[hpy::function(opts)] item`.
pub fn expand(opts: FunctionOptions, mut func: ItemFn) -> syn::Result<TokenStream> {
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
    func.attrs.retain(|a| !a.path().is_ident("hpy"));
    Ok(quote! {
        #func

        #cache_item

        #[doc(hidden)]
        #[allow(non_upper_case_globals)]
        static #def: ::hpy::ffi::HPyDef = #def_expr;
    })
}

/// Every Rust parameter (but the context) must appear in the signature, and nothing else.
fn check_signature_names(sig: &Signature, rust: &[Ident], span: Span) -> syn::Result<()> {
    let declared = sig.all_names();
    for d in &declared {
        if !rust.iter().any(|r| r == *d) {
            return Err(syn::Error::new(d.span(), format!("`{d}` is in the signature but is not a parameter of the function")));
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
    let _ = span;
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

    fn expand_str(opts: TokenStream, item: TokenStream) -> Result<String, String> {
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
        let out = expand(FunctionOptions::default(), item).unwrap().to_string();
        assert!(out.contains(r#"c"add(a, b, /)\n--\n\nAdd two numbers.\n\nReally.""#), "{out}");
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
        assert!(e.contains("not a parameter"), "{e}");
        let e = expand_str(quote!(nmae = "x"), quote!(fn f() {})).unwrap_err();
        assert!(e.contains("unknown option `nmae`"), "{e}");
    }
}
