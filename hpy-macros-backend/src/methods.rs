//! `#[hpy::methods] impl T { ... }` inside an `#[hpy::module]`: the methods, constructor,
//! properties, static and class methods, class attributes and protocol slots of a class.
//!
//! Expanded by the module macro into the impl block (attributes stripped) plus
//! * `__HPY_METHODS_<T>_<k>`: the `HPyDef`s that go into the type spec;
//! * `__HPY_MODFUNCS_<T>_<k>`: static and class methods, which HPy 0.9 cannot put in a type
//!   (`HPyMeth` has no static/class flag): they are module functions under hidden names,
//!   moved onto the type as `staticmethod`/`classmethod` objects at import;
//! * `__hpy_class_setup_<T>_<k>(ctx, module, ty)`: that move, and the class attributes.

use std::collections::BTreeMap;

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Attribute, Ident, ImplItem, ImplItemFn, ItemImpl, LitStr, ReturnType, Type};

use crate::class::ClassOptions;
use crate::function::{c_str, doc_string, parse_params, resolve_signature, Callable, Param, Receiver, SelfArg};
use crate::signature::{parse_signature, Signature};
use crate::stubs::{annotated_signature, param_type, return_type};

pub fn methods_static(class: &Ident, k: usize) -> Ident {
    format_ident!("__HPY_METHODS_{}_{}", class, k)
}
pub fn modfuncs_static(class: &Ident, k: usize) -> Ident {
    format_ident!("__HPY_MODFUNCS_{}_{}", class, k)
}
pub fn setup_fn(class: &Ident, k: usize) -> Ident {
    format_ident!("__hpy_class_setup_{}_{}", class, k)
}

/// What a method is, from its attributes and name.
enum Role {
    New,
    Getter(String),
    Setter(String),
    Static,
    ClassMethod,
    ClassAttr,
    Dunder(&'static Dunder),
    Method,
}

/// The Python-facing options of one method: `#[hpy(name = "...", signature = (...))]`.
#[derive(Default)]
struct MethodOptions {
    name: Option<LitStr>,
    signature: Option<Signature>,
}

/// The protocol methods HPy 0.9 has slots for.
pub struct Dunder {
    pub name: &'static str,
    /// Parameters after `self` (and an optional `ctx`).
    pub arity: usize,
    pub expected: &'static str,
    kind: DunderKind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum DunderKind {
    /// `fn(&self) -> object` on a unary slot.
    Unary(&'static str),
    Hash,
    Len,
    Bool,
    GetItem,
    SetItem,
    DelItem,
    Contains,
    Call,
    Del,
    /// A binary operator: slot, and whether this is the reflected (`__radd__`) form.
    Binary(&'static str, bool),
    /// `__pow__`/`__rpow__` on the ternary `nb_power` slot.
    Power(bool),
    /// An in-place operator (`&mut self`, the object itself is the result).
    InPlace(&'static str),
    /// `__eq__` & co: one `CompareOp` of `tp_richcompare`.
    Compare(&'static str),
    RichCmp,
    /// `fn __buffer__(&self) -> &[T]`: a read-only buffer (`bf_getbuffer`/`bf_releasebuffer`).
    Buffer,
    /// `__iter__`: `tp_iter` in the native build, else a method made a slot at class creation
    /// (`hpy::impl_::protocols`).
    Iter,
    /// `__next__` returning `Option<T>`: `tp_iternext` natively, else a method as `__iter__`.
    Next,
    /// A dunder HPy 0.9 has no slot for, emitted as a plain method that class creation makes a
    /// slot (`hpy::impl_::protocols::SLOTLESS_DUNDERS`).
    Slotless,
}

macro_rules! dunders {
    ($($name:literal, $arity:expr, $expected:literal, $kind:expr;)*) => {
        const DUNDERS: &[Dunder] = &[$(Dunder { name: $name, arity: $arity, expected: $expected, kind: $kind },)*];
    };
}

use DunderKind::*;
dunders! {
    "__repr__", 0, "fn __repr__(&self) -> String", Unary("HPy_tp_repr");
    "__str__", 0, "fn __str__(&self) -> String", Unary("HPy_tp_str");
    "__int__", 0, "fn __int__(&self) -> i64 (or any int)", Unary("HPy_nb_int");
    "__float__", 0, "fn __float__(&self) -> f64", Unary("HPy_nb_float");
    "__index__", 0, "fn __index__(&self) -> i64 (or any int)", Unary("HPy_nb_index");
    "__neg__", 0, "fn __neg__(&self) -> Self (or any object)", Unary("HPy_nb_negative");
    "__pos__", 0, "fn __pos__(&self) -> Self (or any object)", Unary("HPy_nb_positive");
    "__abs__", 0, "fn __abs__(&self) -> Self (or any object)", Unary("HPy_nb_absolute");
    "__invert__", 0, "fn __invert__(&self) -> Self (or any object)", Unary("HPy_nb_invert");
    "__hash__", 0, "fn __hash__(&self) -> isize", Hash;
    "__len__", 0, "fn __len__(&self) -> usize", Len;
    "__bool__", 0, "fn __bool__(&self) -> bool", Bool;
    "__getitem__", 1, "fn __getitem__(&self, key: K) -> V", GetItem;
    "__setitem__", 2, "fn __setitem__(&mut self, key: K, value: V)", SetItem;
    "__delitem__", 1, "fn __delitem__(&mut self, key: K)", DelItem;
    "__contains__", 1, "fn __contains__(&self, item: T) -> bool", Contains;
    "__call__", usize::MAX, "fn __call__(&self, ...any parameters...) -> R", Call;
    "__del__", 0, "fn __del__(&self)", Del;
    "__add__", 1, "fn __add__(&self, other: T) -> R", Binary("HPy_nb_add", false);
    "__radd__", 1, "fn __radd__(&self, other: T) -> R", Binary("HPy_nb_add", true);
    "__sub__", 1, "fn __sub__(&self, other: T) -> R", Binary("HPy_nb_subtract", false);
    "__rsub__", 1, "fn __rsub__(&self, other: T) -> R", Binary("HPy_nb_subtract", true);
    "__mul__", 1, "fn __mul__(&self, other: T) -> R", Binary("HPy_nb_multiply", false);
    "__rmul__", 1, "fn __rmul__(&self, other: T) -> R", Binary("HPy_nb_multiply", true);
    "__matmul__", 1, "fn __matmul__(&self, other: T) -> R", Binary("HPy_nb_matrix_multiply", false);
    "__rmatmul__", 1, "fn __rmatmul__(&self, other: T) -> R", Binary("HPy_nb_matrix_multiply", true);
    "__truediv__", 1, "fn __truediv__(&self, other: T) -> R", Binary("HPy_nb_true_divide", false);
    "__rtruediv__", 1, "fn __rtruediv__(&self, other: T) -> R", Binary("HPy_nb_true_divide", true);
    "__floordiv__", 1, "fn __floordiv__(&self, other: T) -> R", Binary("HPy_nb_floor_divide", false);
    "__rfloordiv__", 1, "fn __rfloordiv__(&self, other: T) -> R", Binary("HPy_nb_floor_divide", true);
    "__mod__", 1, "fn __mod__(&self, other: T) -> R", Binary("HPy_nb_remainder", false);
    "__rmod__", 1, "fn __rmod__(&self, other: T) -> R", Binary("HPy_nb_remainder", true);
    "__divmod__", 1, "fn __divmod__(&self, other: T) -> R", Binary("HPy_nb_divmod", false);
    "__rdivmod__", 1, "fn __rdivmod__(&self, other: T) -> R", Binary("HPy_nb_divmod", true);
    "__lshift__", 1, "fn __lshift__(&self, other: T) -> R", Binary("HPy_nb_lshift", false);
    "__rlshift__", 1, "fn __rlshift__(&self, other: T) -> R", Binary("HPy_nb_lshift", true);
    "__rshift__", 1, "fn __rshift__(&self, other: T) -> R", Binary("HPy_nb_rshift", false);
    "__rrshift__", 1, "fn __rrshift__(&self, other: T) -> R", Binary("HPy_nb_rshift", true);
    "__and__", 1, "fn __and__(&self, other: T) -> R", Binary("HPy_nb_and", false);
    "__rand__", 1, "fn __rand__(&self, other: T) -> R", Binary("HPy_nb_and", true);
    "__or__", 1, "fn __or__(&self, other: T) -> R", Binary("HPy_nb_or", false);
    "__ror__", 1, "fn __ror__(&self, other: T) -> R", Binary("HPy_nb_or", true);
    "__xor__", 1, "fn __xor__(&self, other: T) -> R", Binary("HPy_nb_xor", false);
    "__rxor__", 1, "fn __rxor__(&self, other: T) -> R", Binary("HPy_nb_xor", true);
    "__pow__", 1, "fn __pow__(&self, other: T) -> R", Power(false);
    "__rpow__", 1, "fn __rpow__(&self, other: T) -> R", Power(true);
    "__iadd__", 1, "fn __iadd__(&mut self, other: T)", InPlace("HPy_nb_inplace_add");
    "__isub__", 1, "fn __isub__(&mut self, other: T)", InPlace("HPy_nb_inplace_subtract");
    "__imul__", 1, "fn __imul__(&mut self, other: T)", InPlace("HPy_nb_inplace_multiply");
    "__imatmul__", 1, "fn __imatmul__(&mut self, other: T)", InPlace("HPy_nb_inplace_matrix_multiply");
    "__itruediv__", 1, "fn __itruediv__(&mut self, other: T)", InPlace("HPy_nb_inplace_true_divide");
    "__ifloordiv__", 1, "fn __ifloordiv__(&mut self, other: T)", InPlace("HPy_nb_inplace_floor_divide");
    "__imod__", 1, "fn __imod__(&mut self, other: T)", InPlace("HPy_nb_inplace_remainder");
    "__ilshift__", 1, "fn __ilshift__(&mut self, other: T)", InPlace("HPy_nb_inplace_lshift");
    "__irshift__", 1, "fn __irshift__(&mut self, other: T)", InPlace("HPy_nb_inplace_rshift");
    "__iand__", 1, "fn __iand__(&mut self, other: T)", InPlace("HPy_nb_inplace_and");
    "__ior__", 1, "fn __ior__(&mut self, other: T)", InPlace("HPy_nb_inplace_or");
    "__ixor__", 1, "fn __ixor__(&mut self, other: T)", InPlace("HPy_nb_inplace_xor");
    "__eq__", 1, "fn __eq__(&self, other: T) -> bool", Compare("Eq");
    "__ne__", 1, "fn __ne__(&self, other: T) -> bool", Compare("Ne");
    "__lt__", 1, "fn __lt__(&self, other: T) -> bool", Compare("Lt");
    "__le__", 1, "fn __le__(&self, other: T) -> bool", Compare("Le");
    "__gt__", 1, "fn __gt__(&self, other: T) -> bool", Compare("Gt");
    "__ge__", 1, "fn __ge__(&self, other: T) -> bool", Compare("Ge");
    "__richcmp__", 2, "fn __richcmp__(&self, other: T, op: hpy::CompareOp) -> R", RichCmp;
    "__buffer__", 0, "fn __buffer__(&self) -> &[T] (T: u8, i8, u16, i16, u32, i32, u64, i64, f32 or f64)", Buffer;
    "__iter__", 0, "fn __iter__(slf: &Handle<'_, Self>) -> R (any object: commonly `slf.clone()`, or a new iterator)", Iter;
    "__next__", 0, "fn __next__(&mut self) -> Option<T> (or `Result<Option<T>>`; `None` ends the iteration)", Next;
    "__getattr__", 1, "fn __getattr__(&self, name: &str) -> R (called only when the normal lookup fails)", Slotless;
    "__setattr__", 2, "fn __setattr__(&mut self, name: &str, value: V)", Slotless;
    "__delattr__", 1, "fn __delattr__(&mut self, name: &str)", Slotless;
    "__get__", 2, "fn __get__(&self, instance: Option<&Handle<'_>>, owner: Option<&Handle<'_>>) -> R", Slotless;
    "__set__", 2, "fn __set__(&self, instance: &Handle<'_>, value: V)", Slotless;
    "__delete__", 1, "fn __delete__(&self, instance: &Handle<'_>)", Slotless;
}

/// Dunders hpy-rs does not support, and what to do instead.
const UNSUPPORTED: &[(&str, &str)] = &[
    ("__getattribute__", "it replaces the normal lookup of every attribute, methods included, and HPy 0.9 has no generic lookup (`PyObject_GenericGetAttr`) to fall back on: implement `__getattr__`, which Python calls only when the normal lookup fails"),
    ("__init__", "use `#[new]` to construct the Rust value (HPy's tp_init would see a value that does not exist yet)"),
    ("__new__", "mark the constructor `#[new]` (any name) instead"),
    ("__getbuffer__", "export a buffer with `fn __buffer__(&self) -> &[T]` instead (hpy-rs fills the view and keeps the object borrowed until it is released)"),
    ("__releasebuffer__", "export a buffer with `fn __buffer__(&self) -> &[T]`: hpy-rs releases it"),
];

fn take_attr(attrs: &mut Vec<Attribute>, name: &str) -> Option<Attribute> {
    let pos = attrs.iter().position(|a| a.path().is_ident(name))?;
    Some(attrs.remove(pos))
}

fn method_options(attrs: &mut Vec<Attribute>) -> syn::Result<MethodOptions> {
    let mut opts = MethodOptions::default();
    while let Some(attr) = take_attr(attrs, "hpy") {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("name") {
                opts.name = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("signature") {
                let group: proc_macro2::Group = meta.value()?.parse()?;
                opts.signature = Some(parse_signature(quote!(#group))?);
            } else {
                return Err(meta.error("expected `name = \"...\"` or `signature = (...)`"));
            }
            Ok(())
        })?;
    }
    Ok(opts)
}

/// `#[getter]` or `#[getter(name)]`: the property name (default: the fn name without `get_`).
fn property_name(attr: &Attribute, f: &Ident, prefix: &str) -> syn::Result<String> {
    if let syn::Meta::List(list) = &attr.meta {
        let name: Ident = list.parse_args()?;
        return Ok(name.to_string());
    }
    let s = f.to_string();
    Ok(s.strip_prefix(prefix).unwrap_or(&s).to_string())
}

fn role(m: &mut ImplItemFn) -> syn::Result<Role> {
    let name = m.sig.ident.to_string();
    let mut roles = Vec::new();
    if take_attr(&mut m.attrs, "new").is_some() {
        roles.push(Role::New);
    }
    if let Some(a) = take_attr(&mut m.attrs, "getter") {
        roles.push(Role::Getter(property_name(&a, &m.sig.ident, "get_")?));
    }
    if let Some(a) = take_attr(&mut m.attrs, "setter") {
        roles.push(Role::Setter(property_name(&a, &m.sig.ident, "set_")?));
    }
    if take_attr(&mut m.attrs, "staticmethod").is_some() {
        roles.push(Role::Static);
    }
    if take_attr(&mut m.attrs, "classmethod").is_some() {
        roles.push(Role::ClassMethod);
    }
    if take_attr(&mut m.attrs, "classattr").is_some() {
        roles.push(Role::ClassAttr);
    }
    if roles.len() > 1 {
        return Err(syn::Error::new(m.sig.ident.span(), "a method can have only one of #[new], #[getter], #[setter], #[staticmethod], #[classmethod], #[classattr]"));
    }
    if let Some(r) = roles.pop() {
        return Ok(r);
    }
    if name.starts_with("__") && name.ends_with("__") {
        if let Some((_, why)) = UNSUPPORTED.iter().find(|(n, _)| *n == name) {
            return Err(syn::Error::new(m.sig.ident.span(), format!("`{name}` is not supported: {why}")));
        }
        if let Some(d) = DUNDERS.iter().find(|d| d.name == name) {
            return Ok(Role::Dunder(d));
        }
    }
    Ok(Role::Method)
}

fn ret_span(m: &ImplItemFn) -> Span {
    match &m.sig.output {
        ReturnType::Default => m.sig.ident.span(),
        ReturnType::Type(_, ty) => ty.span(),
    }
}

/// A `frozen` class is never borrowed mutably (`hpy::Class::FROZEN`): `&mut self` in one of its
/// methods, getters included, is an error at the receiver instead of a TypeError at every call.
fn check_frozen_receiver(class_opts: &ClassOptions, m: &ImplItemFn) -> syn::Result<()> {
    match m.sig.receiver() {
        Some(r) if class_opts.frozen && r.reference.is_some() && r.mutability.is_some() => Err(syn::Error::new_spanned(
            r,
            "`&mut self` in a `frozen` class: frozen objects are never borrowed mutably; take `&self` \
             (a value that changes needs interior mutability, e.g. a `Cell` or an atomic)",
        )),
        _ => Ok(()),
    }
}

/// The Python parameters (context excluded).
fn py_params(params: &[Param]) -> Vec<(&Ident, &Type)> {
    params
        .iter()
        .filter_map(|p| match p {
            Param::Python { ident, ty } => Some((ident, &**ty)),
            Param::Context => None,
        })
        .collect()
}

/// `&[T]` -> `T`, for `__buffer__`.
fn buffer_element(m: &ImplItemFn) -> Option<Type> {
    let ReturnType::Type(_, ty) = &m.sig.output else { return None };
    let Type::Reference(r) = &**ty else { return None };
    let Type::Slice(slice) = &*r.elem else { return None };
    Some((*slice.elem).clone())
}

fn is_integer_type(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.path.get_ident().is_some_and(|i| {
        matches!(i.to_string().as_str(), "isize" | "usize" | "i64" | "u64" | "i32" | "u32")
    }))
}

/// `SliceOrIndex` (as `hpy::SliceOrIndex` too): a key that takes integers, among others.
fn is_slice_or_index(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.qself.is_none() && p.path.segments.last().is_some_and(|s| s.ident == "SliceOrIndex"))
}

/// `Result<X>`/`X` -> `X`, textually, for checking the return type of a few dunders.
fn returned_type_name(m: &ImplItemFn) -> Option<String> {
    let ReturnType::Type(_, ty) = &m.sig.output else { return Some("()".into()) };
    let Type::Path(p) = &**ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident == "Result" {
        if let syn::PathArguments::AngleBracketed(a) = &last.arguments {
            if let Some(syn::GenericArgument::Type(Type::Path(inner))) = a.args.first() {
                return inner.path.get_ident().map(|i| i.to_string());
            }
            if let Some(syn::GenericArgument::Type(Type::Tuple(t))) = a.args.first() {
                if t.elems.is_empty() {
                    return Some("()".into());
                }
            }
        }
        return None;
    }
    p.path.get_ident().map(|i| i.to_string())
}

/// The expansion of one `#[hpy::methods]` block.
pub struct MethodsExpansion {
    pub tokens: TokenStream,
    /// Python names defined in this block (for duplicate detection across blocks).
    pub names: Vec<(String, Span)>,
    /// The statics holding module functions (static/class methods) to register in the module.
    pub modfuncs: Vec<Ident>,
    /// The keyword caches of the block's keyword methods, to register as module globals.
    pub keyword_caches: Vec<Ident>,
    /// Does the block define the `#[new]` constructor?
    pub has_new: bool,
    /// The members' lines of the class's `.pyi` stub, indented.
    pub stub: String,
}

struct Property {
    getter: Option<TokenStream>,
    setter: Option<TokenStream>,
    doc: String,
    span: Span,
}

/// Expand `#[hpy::methods] impl T { ... }`, block number `k` of class `T`. `clashing`: the
/// Python names that several module functions would have; static and class methods with such a
/// name get a hidden one.
pub fn expand(class_opts: &ClassOptions, clashing: &[String], class_py_name: &str, k: usize, mut block: ItemImpl) -> syn::Result<MethodsExpansion> {
    let class = match &*block.self_ty {
        Type::Path(p) if p.path.get_ident().is_some() => p.path.get_ident().unwrap().clone(),
        other => return Err(syn::Error::new(other.span(), "#[hpy::methods] goes on `impl MyClass { ... }` for a #[hpy::class] struct of this module")),
    };
    if let Some(t) = &block.trait_ {
        return Err(syn::Error::new(t.1.span(), "#[hpy::methods] goes on an inherent impl, not a trait impl"));
    }
    if !block.generics.params.is_empty() {
        return Err(syn::Error::new(block.generics.span(), "#[hpy::methods] blocks cannot be generic"));
    }

    let mut defs: Vec<TokenStream> = Vec::new();
    let mut modfuncs: Vec<TokenStream> = Vec::new();
    let mut keyword_caches: Vec<Ident> = Vec::new();
    // The name for the keyword cache of the next method def, and the list of those used.
    let mut meth_def = |callable: &Callable<'_>| {
        let cache = format_ident!("__HPY_KWCACHE_{}_{}_{}", class, k, keyword_caches.len());
        let def = callable.meth_def(&cache);
        if callable.takes_keywords() {
            keyword_caches.push(cache);
        }
        def
    };
    let mut setup: Vec<TokenStream> = Vec::new();
    let mut names: Vec<(String, Span)> = Vec::new();
    let mut properties: BTreeMap<String, Property> = BTreeMap::new();
    let mut dunders: DunderMap = BTreeMap::new();
    let mut new_seen = false;
    let mut buffer_elements: BTreeMap<String, Type> = BTreeMap::new();
    let mut call_signature: Option<Signature> = None;
    let mut stub = String::new();
    let cls = class_py_name;
    let def_stub = |stub: &mut String, decorator: Option<&str>, name: &str, sig: String, ret: String, doc: &str| {
        let lines = crate::stubs::def_lines("    ", name, &sig, &ret, doc);
        if let Some(d) = decorator {
            let comment = if lines.trim_start().starts_with('#') { "# " } else { "" };
            stub.push_str(&format!("    {comment}@{d}\n"));
        }
        stub.push_str(&lines);
    };

    for item in block.items.iter_mut() {
        let ImplItem::Fn(m) = item else { continue };
        let role = role(m)?;
        let opts = method_options(&mut m.attrs)?;
        let ignored = match role {
            Role::Getter(_) | Role::Setter(_) => Some("a #[getter]/#[setter] takes its name as `#[getter(name)]`; it has no signature"),
            Role::Dunder(d) if d.kind != Call => Some("a protocol method has a fixed Python name and signature"),
            Role::Dunder(_) if opts.name.is_some() => Some("`__call__` has a fixed Python name"),
            Role::New if opts.name.is_some() => Some("#[new] is the class's constructor: it has no name of its own"),
            Role::ClassAttr if opts.signature.is_some() => Some("a #[classattr] takes no arguments"),
            _ => None,
        };
        if let (Some(why), true) = (ignored, opts.name.is_some() || opts.signature.is_some()) {
            return Err(syn::Error::new(m.sig.ident.span(), format!("`#[hpy(name/signature)]` does not apply here: {why}")));
        }
        let fn_ident = m.sig.ident.clone();
        let py_name = opts.name.as_ref().map_or_else(|| fn_ident.to_string(), LitStr::value);
        let doc = doc_string(&m.attrs);
        match role {
            Role::New => {
                if new_seen {
                    return Err(syn::Error::new(fn_ident.span(), "a class can have only one #[new] constructor"));
                }
                new_seen = true;
                let (recv, params) = parse_params(&m.sig, "#[new]", true)?;
                if recv.is_some() {
                    return Err(syn::Error::new(fn_ident.span(), "#[new] builds the value: it takes no `self`"));
                }
                let signature = resolve_signature(opts.signature, &params, fn_ident.span())?;
                let (dunder, first) = if class_opts.extends_shape() { ("__init__", "self") } else { ("__new__", "cls") };
                let ret = if class_opts.extends_shape() { "None".to_string() } else { cls.to_string() };
                def_stub(&mut stub, None, dunder, annotated_signature(&signature, &params, Some(first), Some(cls)), ret, &doc);
                let callable = Callable {
                    py_name: class_py_name.to_string(),
                    doc: String::new(),
                    params: &params,
                    signature,
                    callee: quote!(#class::#fn_ident),
                    receiver: None,
                    ret_span: ret_span(m),
                };
                if class_opts.extends_shape() {
                    // The built-in base's tp_new makes the object; `#[new]` runs as tp_init.
                    let (desc, n, body) = callable.parsed_slot(false, None, |call| {
                        quote!(::hpy::impl_::slots::IntoNew::<#class>::into_init(#call, &*__hpy_slf))
                    });
                    defs.push(quote!({
                        static __DESC: ::hpy::impl_::FunctionDescription = #desc;
                        ::hpy::__hpy_slot_def!(init, ::hpy::ffi::HPy_tp_init, &__DESC, #n, |__hpy_ctx, __hpy_slf, __hpy_args| #body)
                    }));
                } else {
                    let into_new = |call| quote!(::hpy::impl_::slots::IntoNew::<#class>::into_new(#call, __hpy_ctx, &*__hpy_type));
                    // Exact signatures (the default, and `fn new() -> Self`) skip the parser.
                    let (call_new, (desc, n, body)) = match callable.is_exact() {
                        true => (quote!(call_new_exact), callable.exact_slot(into_new)),
                        false => (quote!(call_new), callable.parsed_slot(false, None, into_new)),
                    };
                    defs.push(quote!({
                        static __DESC: ::hpy::impl_::FunctionDescription = #desc;
                        ::hpy::__hpy_slot_def!(new #call_new, ::hpy::ffi::HPy_tp_new, &__DESC, #n, |__hpy_ctx, __hpy_type, __hpy_args| #body)
                    }));
                }
            }
            Role::Getter(prop) => {
                let (recv, params) = parse_params(&m.sig, "#[getter]", true)?;
                if !py_params(&params).is_empty() || recv.is_none() {
                    return Err(syn::Error::new(m.sig.span(), "a #[getter] is `fn name(&self) -> T` (optionally with `ctx: Context<'_>`)"));
                }
                check_frozen_receiver(class_opts, m)?;
                let callable = Callable { py_name: prop.clone(), doc: doc.clone(), params: &params, signature: Signature::implicit(&[]), callee: quote!(#class::#fn_ident), receiver: Some(SelfArg { class: class.clone(), how: recv.unwrap(), checked_by_runtime: false }), ret_span: ret_span(m) };
                let (_, _, body) = callable.parsed_slot(false, None, |call| quote!(::hpy::impl_::IntoReturn::into_return(#call, __hpy_ctx)));
                                def_stub(&mut stub, Some("property"), &prop, "(self)".into(), return_type(&m.sig.output, Some(cls)), &doc);
                let entry = properties.entry(prop.clone()).or_insert(Property { getter: None, setter: None, doc: String::new(), span: fn_ident.span() });
                if entry.getter.is_some() {
                    return Err(syn::Error::new(fn_ident.span(), format!("two #[getter]s for `{prop}`")));
                }
                entry.getter = Some(quote!(|__hpy_ctx, __hpy_slf| #body));
                if !doc.is_empty() {
                    entry.doc = doc;
                }
            }
            Role::Setter(prop) => {
                let (recv, params) = parse_params(&m.sig, "#[setter]", true)?;
                let py = py_params(&params);
                if py.len() != 1 || recv.is_none() {
                    return Err(syn::Error::new(m.sig.span(), "a #[setter] is `fn set_name(&mut self, value: T)` (optionally with `ctx: Context<'_>`)"));
                }
                check_frozen_receiver(class_opts, m)?;
                let callable = Callable { py_name: prop.clone(), doc: String::new(), params: &params, signature: Signature::implicit(&[py[0].0.clone()]), callee: quote!(#class::#fn_ident), receiver: Some(SelfArg { class: class.clone(), how: recv.unwrap(), checked_by_runtime: false }), ret_span: ret_span(m) };
                let (_, _, body) = callable.parsed_slot(true, None, |call| quote!(::hpy::impl_::slots::unit_return(::hpy::impl_::slots::IntoResult::into_result(#call))));
                let body = setter_body(body, &prop);
                def_stub(&mut stub, Some(&format!("{prop}.setter")), &prop, format!("(self, value: {})", param_type(py[0].1, Some(cls))), "None".into(), "");
                let entry = properties.entry(prop.clone()).or_insert(Property { getter: None, setter: None, doc: String::new(), span: fn_ident.span() });
                if entry.setter.is_some() {
                    return Err(syn::Error::new(fn_ident.span(), format!("two #[setter]s for `{prop}`")));
                }
                entry.setter = Some(quote!(|__hpy_ctx, __hpy_slf, __hpy_value| #body));
            }
            Role::Static | Role::ClassMethod => {
                let is_class = matches!(role, Role::ClassMethod);
                let what = if is_class { "#[classmethod]" } else { "#[staticmethod]" };
                let (recv, params) = parse_params(&m.sig, what, true)?;
                if recv.is_some() {
                    return Err(syn::Error::new(m.sig.span(), format!("a {what} takes no `self`")));
                }
                if is_class && py_params(&params).is_empty() {
                    return Err(syn::Error::new(m.sig.span(), "a #[classmethod] takes the class first: `fn f(cls: &Handle<'_, Type>, ...)`"));
                }
                let signature = resolve_signature(opts.signature, &params, fn_ident.span())?;
                // The module function's name, which becomes the method's `__name__`: the Python
                // name, unless another module function has it too.
                let hidden = if clashing.contains(&py_name) { format!("__hpy_{class}_{py_name}") } else { py_name.clone() };
                let decorator = if is_class { "classmethod" } else { "staticmethod" };
                def_stub(&mut stub, Some(decorator), &py_name, annotated_signature(&signature, &params, None, Some(cls)), return_type(&m.sig.output, Some(cls)), &doc);
                let callable = Callable { py_name: hidden.clone(), doc: doc.clone(), params: &params, signature, callee: quote!(#class::#fn_ident), receiver: None, ret_span: ret_span(m) };
                modfuncs.push(meth_def(&callable));
                setup.push(quote!(::hpy::impl_::slots::attach_module_function(__hpy_module, __hpy_ty, #hidden, #py_name, #is_class)?;));
                names.push((py_name, fn_ident.span()));
            }
            Role::ClassAttr => {
                let (recv, params) = parse_params(&m.sig, "#[classattr]", true)?;
                if recv.is_some() || !params.is_empty() {
                    return Err(syn::Error::new(m.sig.span(), "a #[classattr] is `fn NAME() -> T`: its value is set on the class at import"));
                }
                setup.push(quote!(__hpy_ty.setattr(#py_name, #class::#fn_ident())?;));
                stub.push_str(&format!("    {py_name}: {}\n", return_type(&m.sig.output, Some(cls))));
                names.push((py_name, fn_ident.span()));
            }
            Role::Dunder(d) => {
                let (recv, params) = parse_params(&m.sig, d.name, true)?;
                let arity = py_params(&params).len();
                let bad_ret = match d.kind {
                    Len => returned_type_name(m).is_some_and(|t| t != "usize"),
                    Hash => returned_type_name(m).is_some_and(|t| t != "isize"),
                    Bool | Contains => returned_type_name(m).is_some_and(|t| t != "bool"),
                    SetItem | DelItem | InPlace(_) | Del => returned_type_name(m).is_some_and(|t| t != "()"),
                    Slotless if matches!(d.name, "__setattr__" | "__delattr__" | "__set__" | "__delete__") => {
                        returned_type_name(m).is_some_and(|t| t != "()")
                    }
                    // `Option<T>` or `Result<Option<T>>`: a plain type (`i64`, `()`) cannot say "exhausted".
                    Next => returned_type_name(m).is_some(),
                    _ => false,
                };
                let wrong_recv = recv.is_none()
                    || (matches!(d.kind, InPlace(_)) && recv == Some(Receiver::Ref))
                    || (d.kind == Buffer && (recv != Some(Receiver::Ref) || buffer_element(m).is_none()));
                if (d.arity != usize::MAX && arity != d.arity) || wrong_recv || bad_ret {
                    return Err(syn::Error::new(m.sig.span(), format!("wrong signature for `{}`: expected `{}`", d.name, d.expected)));
                }
                check_frozen_receiver(class_opts, m)?;
                if dunders.contains_key(d.name) {
                    return Err(syn::Error::new(fn_ident.span(), format!("`{}` is defined twice", d.name)));
                }
                if d.kind == Buffer {
                    buffer_elements.insert(fn_ident.to_string(), buffer_element(m).expect("checked"));
                }
                if d.kind == Call {
                    call_signature = Some(resolve_signature(opts.signature.clone(), &params, fn_ident.span())?);
                }
                if d.kind != Buffer {
                    let sig = Signature::implicit(&crate::function::python_names(&params));
                    let sig = if d.kind == Call { call_signature.clone().unwrap_or(sig) } else { sig };
                    let ret = match d.kind {
                        InPlace(_) => cls.to_string(),
                        Next => crate::stubs::next_item_type(&m.sig.output, Some(cls)),
                        _ => return_type(&m.sig.output, Some(cls)),
                    };
                    def_stub(&mut stub, None, d.name, annotated_signature(&sig, &params, Some("self"), Some(cls)), ret, "");
                }
                dunders.insert(d.name, (d, fn_ident.clone(), recv, params, m.sig.span()));
                names.push((d.name.to_string(), fn_ident.span()));
            }
            Role::Method => {
                let (recv, params) = parse_params(&m.sig, "a method", true)?;
                let Some(recv) = recv else {
                    return Err(syn::Error::new(m.sig.span(), "a method takes `&self`, `&mut self` or `slf: &Handle<'_, Self>`; mark functions without `self` #[staticmethod]"));
                };
                check_frozen_receiver(class_opts, m)?;
                let signature = resolve_signature(opts.signature, &params, fn_ident.span())?;
                def_stub(&mut stub, None, &py_name, annotated_signature(&signature, &params, Some("self"), Some(cls)), return_type(&m.sig.output, Some(cls)), &doc);
                let callable = Callable { py_name: py_name.clone(), doc, params: &params, signature, callee: quote!(#class::#fn_ident), receiver: Some(SelfArg { class: class.clone(), how: recv, checked_by_runtime: true }), ret_span: ret_span(m) };
                defs.push(meth_def(&callable));
                names.push((py_name, fn_ident.span()));
            }
        }
    }

    for (prop, p) in &properties {
        let name_c = c_str(prop);
        let doc_c = c_str(&p.doc);
        let def = match (&p.getter, &p.setter) {
            (Some(g), Some(s)) => quote!(::hpy::__hpy_getset_def!(#name_c, #doc_c, get = #g, set = #s)),
            (Some(g), None) => quote!(::hpy::__hpy_getset_def!(#name_c, #doc_c, get = #g)),
            (None, _) => return Err(syn::Error::new(p.span, format!("`{prop}` has a #[setter] but no #[getter]"))),
        };
        defs.push(def);
        names.push((prop.clone(), p.span));
    }
    for def in dunder_defs(&class, class_py_name, &dunders, call_signature, &mut keyword_caches)? {
        defs.push(def);
    }
    let mut buffer_impl = quote!();
    if let Some((_, f, _, _, span)) = dunders.get("__buffer__") {
        let elem = buffer_elements.get(&f.to_string()).cloned().expect("checked");
        buffer_impl = quote_spanned! {*span=>
            impl ::hpy::impl_::slots::ClassBuffer for #class {
                type Element = #elem;
                fn buffer(&self) -> &[#elem] {
                    #class::#f(self)
                }
            }
        };
        defs.push(quote!(::hpy::impl_::slots::getbuffer_def::<#class>()));
        defs.push(quote!(::hpy::impl_::slots::releasebuffer_def::<#class>()));
    }

    let n = defs.len();
    let def_items: Vec<TokenStream> = defs
        .into_iter()
        .map(|d| quote!({ static D: ::hpy::ffi::HPyDef = #d; ::hpy::ffi::HPyDefPtr(&D) }))
        .collect();
    let ms = methods_static(&class, k);
    let sf = setup_fn(&class, k);
    let modfunc_idents: Vec<Ident> = (0..modfuncs.len()).map(|i| format_ident!("{}_{}", modfuncs_static(&class, k), i)).collect();
    let cache_items = keyword_caches.iter().map(crate::function::keyword_cache_item);
    Ok(MethodsExpansion {
        tokens: quote! {
            #block

            #(#cache_items)*

            #buffer_impl

            #[doc(hidden)]
            #[allow(non_upper_case_globals)]
            static #ms: [::hpy::ffi::HPyDefPtr; #n] = [#(#def_items),*];
            #(
                #[doc(hidden)]
                #[allow(non_upper_case_globals)]
                static #modfunc_idents: ::hpy::ffi::HPyDef = #modfuncs;
            )*
            #[doc(hidden)]
            #[allow(non_snake_case, unused_variables)]
            fn #sf<'ctx>(
                __hpy_ctx: ::hpy::Context<'ctx>,
                __hpy_module: &::hpy::Handle<'ctx, ::hpy::Module>,
                __hpy_ty: &::hpy::Handle<'ctx>,
            ) -> ::hpy::Result<()> {
                #(#setup)*
                ::core::result::Result::Ok(())
            }
        },
        names,
        modfuncs: modfunc_idents,
        keyword_caches,
        has_new: new_seen,
        stub,
    })
}

/// A setter body: `None` (deletion) is a TypeError, otherwise the value is the one argument.
fn setter_body(body: TokenStream, prop: &str) -> TokenStream {
    quote!({
        let ::core::option::Option::Some(__hpy_arg) = __hpy_value else {
            return ::core::result::Result::Err(::hpy::exceptions::AttributeError::new_err(
                ::core::concat!("cannot delete attribute '", #prop, "'")));
        };
        #body
    })
}

type DunderMap = BTreeMap<&'static str, (&'static Dunder, Ident, Option<Receiver>, Vec<Param>, Span)>;

/// Borrow `self` as the method wants it, from `__hpy_cls: &Handle<T>`.
fn borrow_self(recv: Receiver) -> (TokenStream, TokenStream) {
    match recv {
        Receiver::Ref => (quote!(let __hpy_ref = __hpy_cls.borrow()?;), quote!(&*__hpy_ref)),
        Receiver::RefMut => (quote!(let mut __hpy_ref = __hpy_cls.borrow_mut()?;), quote!(&mut *__hpy_ref)),
        Receiver::Handle => (quote!(), quote!(__hpy_cls)),
    }
}

/// `let __hpy_v0: ty = <the other operand __hpy_b>;`, returning NotImplemented from the slot
/// (so Python tries the other operand, or `a = a + b` for in-place operators) when it does not
/// convert.
fn other_operand(ty: &Type) -> TokenStream {
    let operand = operand(ty, quote!(__hpy_b));
    quote_spanned!(ty.span()=>
        let __hpy_v0: #ty = match #operand {
            ::core::option::Option::Some(v) => v,
            ::core::option::Option::None => {
                return ::core::result::Result::Ok(::hpy::impl_::slots::not_implemented(__hpy_ctx));
            }
        };
    )
}

/// `Option<ty>`: the operand `src` (a `Handle`) converted, without building an error for a
/// foreign operand where a type check decides (`hpy::impl_::slots::Operand`).
fn operand(ty: &Type, src: TokenStream) -> TokenStream {
    quote_spanned!(ty.span()=> {
        #[allow(unused_imports)]
        use ::hpy::impl_::slots::{AnyOperand as _, CheckedOperand as _};
        (&::hpy::impl_::slots::operand_as::<#ty>()).operand(&*#src)
    })
}

/// Arguments of a dunder call: `ctx` where the method takes it, and the converted Python values.
fn dunder_args(params: &[Param], values: &[TokenStream]) -> Vec<TokenStream> {
    let mut out = Vec::new();
    let mut v = values.iter();
    for p in params {
        match p {
            Param::Context => out.push(quote!(__hpy_ctx)),
            Param::Python { .. } => out.push(v.next().expect("arity checked").clone()),
        }
    }
    out
}

/// Convert `src` (a `&Handle`) to the type of Python parameter `i`, or run `otherwise(err)`.
fn convert(params: &[Param], i: usize, src: TokenStream, func: &str, var: &Ident) -> TokenStream {
    let (ident, ty) = py_params(params)[i];
    let arg = ident.to_string();
    quote_spanned!(ty.span()=> let #var: #ty = ::hpy::impl_::extract_arg(#src, #func, #arg)?;)
}

/// `convert` for the key of `__getitem__`/`__setitem__`/`__delitem__`: an integer key out of
/// its type's range is an IndexError (`impl_::extract_index`), as in CPython's sequences.
fn convert_key(params: &[Param], src: TokenStream, func: &str, var: &Ident) -> TokenStream {
    let (ident, ty) = py_params(params)[0];
    if !is_integer_type(ty) {
        return convert(params, 0, src, func, var);
    }
    let arg = ident.to_string();
    quote_spanned!(ty.span()=> let #var: #ty = ::hpy::impl_::extract_index(#src, #func, #arg)?;)
}

/// The defs of the protocol methods; the keyword cache of `__call__`, if it takes keywords, is
/// added to `keyword_caches`.
fn dunder_defs(
    class: &Ident,
    class_py_name: &str,
    dunders: &DunderMap,
    call_signature: Option<Signature>,
    keyword_caches: &mut Vec<Ident>,
) -> syn::Result<Vec<TokenStream>> {
    let mut defs = Vec::new();
    let get = |name: &str| dunders.get(name);
    let receiver = quote!(let __hpy_cls = ::hpy::impl_::receiver::<#class>(&*__hpy_a)?;);
    let trusted = trusted_receiver(class);

    for (name, (d, f, recv, params, span)) in dunders {
        let recv = recv.expect("checked");
        let (borrow, self_arg) = borrow_self(recv);
        let func = format!("{class_py_name}.{name}");
        match d.kind {
            Unary(slot) => {
                let (kind, receiver) =
                    if slot == "HPy_tp_repr" { (quote!(unary[#class]), &trusted) } else { (quote!(unary), &receiver) };
                let slot = format_ident!("{}", slot);
                let args = dunder_args(params, &[]);
                defs.push(quote_spanned!(*span=> ::hpy::__hpy_slot_def!(#kind, ::hpy::ffi::#slot, |__hpy_ctx, __hpy_a| {
                    #receiver #borrow
                    ::hpy::impl_::slots::SlotReturn::slot_return(#class::#f(#self_arg, #(#args),*), __hpy_ctx)
                })));
            }
            Hash => {
                let args = dunder_args(params, &[]);
                defs.push(quote_spanned!(*span=> ::hpy::__hpy_slot_def!(hash, ::hpy::ffi::HPy_tp_hash, |__hpy_ctx, __hpy_a| {
                    #receiver #borrow
                    ::hpy::impl_::slots::hash_return(::hpy::impl_::slots::IntoResult::into_result(#class::#f(#self_arg, #(#args),*)))
                })));
            }
            Len => {
                let args = dunder_args(params, &[]);
                for slot in ["HPy_mp_length", "HPy_sq_length"] {
                    let slot = format_ident!("{}", slot);
                    defs.push(quote_spanned!(*span=> ::hpy::__hpy_slot_def!(len[#class], ::hpy::ffi::#slot, |__hpy_ctx, __hpy_a| {
                        #trusted #borrow
                        ::hpy::impl_::slots::len_return(::hpy::impl_::slots::IntoResult::into_result(#class::#f(#self_arg, #(#args),*)))
                    })));
                }
            }
            Bool => {
                let args = dunder_args(params, &[]);
                defs.push(quote_spanned!(*span=> ::hpy::__hpy_slot_def!(inquiry, ::hpy::ffi::HPy_nb_bool, |__hpy_ctx, __hpy_a| {
                    #receiver #borrow
                    ::hpy::impl_::slots::bool_return(::hpy::impl_::slots::IntoResult::into_result(#class::#f(#self_arg, #(#args),*)))
                })));
            }
            Contains => {
                let conv = convert(params, 0, quote!(&*__hpy_b), &func, &format_ident!("__hpy_v0"));
                let args = dunder_args(params, &[quote!(__hpy_v0)]);
                defs.push(quote_spanned!(*span=> ::hpy::__hpy_slot_def!(objobj, ::hpy::ffi::HPy_sq_contains, |__hpy_ctx, __hpy_a, __hpy_b| {
                    #conv #receiver #borrow
                    ::hpy::impl_::slots::bool_return(::hpy::impl_::slots::IntoResult::into_result(#class::#f(#self_arg, #(#args),*)))
                })));
            }
            GetItem => {
                let conv = convert_key(params, quote!(&*__hpy_b), &func, &format_ident!("__hpy_v0"));
                let args = dunder_args(params, &[quote!(__hpy_v0)]);
                defs.push(quote_spanned!(*span=> ::hpy::__hpy_slot_def!(binary[#class], ::hpy::ffi::HPy_mp_subscript, |__hpy_ctx, __hpy_a, __hpy_b| {
                    #conv #trusted #borrow
                    ::hpy::impl_::slots::SlotReturn::slot_return(#class::#f(#self_arg, #(#args),*), __hpy_ctx)
                })));
                // An integer key also makes the object a sequence, which Python can iterate
                // (`sq_item`); a `SliceOrIndex` gets the index as `SliceOrIndex::Index(i)`.
                // `obj[i]` goes through `mp_subscript`, which is also `__getitem__` on every
                // runtime. `sq_item` is reached by index (iteration, C's `PySequence_GetItem`), and
                // the runtimes add `len(obj)` to a negative index first when the type has
                // `__len__`: one still negative was out of range, and is given back as written
                // (`impl_::slots::sq_item_negative_index`), so the function sees the index `obj[i]`
                // would give it and refuses it alike, instead of counting from the end a second time.
                // An integer key is converted from the C index directly (iteration boxes no
                // Python int); an index out of the key type's range goes the Python way, for the
                // error `obj[i]` would raise.
                let (key_name, key) = py_params(params)[0];
                if is_integer_type(key) || is_slice_or_index(key) {
                    let conv = if matches!(key, Type::Path(p) if p.path.is_ident("isize")) {
                        quote!(let __hpy_v0 = __hpy_i;)
                    } else if is_integer_type(key) {
                        let arg = key_name.to_string();
                        quote_spanned!(key.span()=> let __hpy_v0: #key =
                            match <#key as ::core::convert::TryFrom<::core::primitive::isize>>::try_from(__hpy_i) {
                                ::core::result::Result::Ok(__hpy_v) => __hpy_v,
                                ::core::result::Result::Err(_) => ::hpy::impl_::extract_index(
                                    &::hpy::IntoHPy::into_hpy(__hpy_i, __hpy_ctx)?, #func, #arg)?,
                            };)
                    } else {
                        let conv = convert(params, 0, quote!(&__hpy_key), &func, &format_ident!("__hpy_v0"));
                        quote!(let __hpy_key = ::hpy::IntoHPy::into_hpy(__hpy_i, __hpy_ctx)?; #conv)
                    };
                    defs.push(quote_spanned!(*span=> ::hpy::__hpy_slot_def!(ssizearg[#class], ::hpy::ffi::HPy_sq_item, |__hpy_ctx, __hpy_a, __hpy_i| {
                        let __hpy_i = if __hpy_i < 0 {
                            ::hpy::impl_::slots::sq_item_negative_index(__hpy_a, __hpy_i)?
                        } else {
                            __hpy_i
                        };
                        #conv #trusted #borrow
                        ::hpy::impl_::slots::SlotReturn::slot_return(#class::#f(#self_arg, #(#args),*), __hpy_ctx)
                    })));
                }
            }
            SetItem | DelItem => {
                if d.kind == DelItem && get("__setitem__").is_some() {
                    continue; // emitted together with __setitem__
                }
                let set = get("__setitem__");
                let del = get("__delitem__");
                let set_branch = match set {
                    Some((_, sf, srecv, sparams, _)) => {
                        let (sborrow, sself) = borrow_self(srecv.expect("checked"));
                        let k = convert_key(sparams, quote!(&*__hpy_b), &format!("{class_py_name}.__setitem__"), &format_ident!("__hpy_v0"));
                        let v = convert(sparams, 1, quote!(&*__hpy_v), &format!("{class_py_name}.__setitem__"), &format_ident!("__hpy_v1"));
                        let args = dunder_args(sparams, &[quote!(__hpy_v0), quote!(__hpy_v1)]);
                        quote!({ #k #v #receiver #sborrow
                            ::hpy::impl_::slots::unit_return(::hpy::impl_::slots::IntoResult::into_result(#class::#sf(#sself, #(#args),*))) })
                    }
                    None => quote!(::core::result::Result::Err(::hpy::exceptions::TypeError::new_err(
                        ::core::concat!("'", #class_py_name, "' object does not support item assignment")))),
                };
                let del_branch = match del {
                    Some((_, df, drecv, dparams, _)) => {
                        let (dborrow, dself) = borrow_self(drecv.expect("checked"));
                        let k = convert_key(dparams, quote!(&*__hpy_b), &format!("{class_py_name}.__delitem__"), &format_ident!("__hpy_v0"));
                        let args = dunder_args(dparams, &[quote!(__hpy_v0)]);
                        quote!({ #k #receiver #dborrow
                            ::hpy::impl_::slots::unit_return(::hpy::impl_::slots::IntoResult::into_result(#class::#df(#dself, #(#args),*))) })
                    }
                    None => quote!(::core::result::Result::Err(::hpy::exceptions::TypeError::new_err(
                        ::core::concat!("'", #class_py_name, "' object does not support item deletion")))),
                };
                defs.push(quote_spanned!(*span=> ::hpy::__hpy_slot_def!(objobjarg, ::hpy::ffi::HPy_mp_ass_subscript, |__hpy_ctx, __hpy_a, __hpy_b, __hpy_value| {
                    match __hpy_value {
                        ::core::option::Option::Some(__hpy_v) => #set_branch,
                        ::core::option::Option::None => #del_branch,
                    }
                })));
            }
            Call => {
                let callable = Callable {
                    py_name: func.clone(),
                    doc: String::new(),
                    params,
                    signature: call_signature.clone().unwrap_or_else(|| Signature::implicit(&crate::function::python_names(params))),
                    callee: quote!(#class::#f),
                    receiver: Some(SelfArg { class: class.clone(), how: recv, checked_by_runtime: true }),
                    ret_span: *span,
                };
                // `__call__` gets its keywords as a names tuple, like a method: it gets a cache.
                let cache = callable.takes_keywords().then(|| format_ident!("__HPY_KWCACHE_{}___call__", class));
                let (desc, n, body) = callable.parsed_slot(false, cache.as_ref(), |call| quote!(::hpy::impl_::IntoReturn::into_return(#call, __hpy_ctx)));
                keyword_caches.extend(cache);
                defs.push(quote!({
                    static __DESC: ::hpy::impl_::FunctionDescription = #desc;
                    ::hpy::__hpy_slot_def!(call[#class], ::hpy::ffi::HPy_tp_call, &__DESC, #n, |__hpy_ctx, __hpy_slf, __hpy_args| #body)
                }));
            }
            Del => {
                let args = dunder_args(params, &[]);
                defs.push(quote_spanned!(*span=> ::hpy::__hpy_slot_def!(finalize, ::hpy::ffi::HPy_tp_finalize, |__hpy_ctx, __hpy_a| {
                    #receiver #borrow
                    ::hpy::impl_::slots::unit_return(::hpy::impl_::slots::IntoResult::into_result(#class::#f(#self_arg, #(#args),*)))?;
                    ::core::result::Result::Ok(())
                })));
            }
            InPlace(slot) => {
                let slot_ident = format_ident!("{}", slot);
                let (_, ty) = py_params(params)[0];
                // An operand of another type: NotImplemented, so Python tries `a = a + b`.
                let conv = other_operand(ty);
                let args = dunder_args(params, &[quote!(__hpy_v0)]);
                defs.push(quote_spanned!(*span=> ::hpy::__hpy_slot_def!(binary, ::hpy::ffi::#slot_ident, |__hpy_ctx, __hpy_a, __hpy_b| {
                    #conv #receiver
                    {
                        #borrow
                        ::hpy::impl_::slots::IntoResult::<()>::into_result(#class::#f(#self_arg, #(#args),*))?;
                    }
                    ::core::result::Result::Ok(__hpy_a.to_owned().into_raw())
                })));
            }
            // Forward (`a + b` with `a` ours) and reflected (`b + a` with `b` ours) share a slot:
            // emitted once, from the forward method, or from the reflected one if it is alone.
            Binary(slot, reflected) if !reflected || get(forward_of(name)).is_none() => {
                let fwd = if reflected { None } else { Some((f, recv, params)) };
                let refl = if reflected {
                    Some((f, recv, params))
                } else {
                    reflected_of(name).and_then(get).map(|(_, rf, rr, rp, _)| (rf, rr.expect("checked"), rp))
                };
                // The reflected form as a method as well, for runtimes that do not reflect a
                // binary slot (`hpy::impl_::slots::reflected_operator`); `add_class` drops it
                // elsewhere.
                if let Some(r) = refl {
                    let r_name = if reflected { name } else { reflected_of(name).expect("a binary dunder has a reflected form") };
                    let body = binary_body(class, None, Some(r));
                    let r_name_c = c_str(r_name);
                    defs.push(quote_spanned!(*span=> ::hpy::__hpy_function_def!(o, #r_name_c, c"", |__hpy_ctx, __hpy_slf, __hpy_other| {
                        ::hpy::impl_::slots::reflected_operator(__hpy_ctx, __hpy_slf, __hpy_other, |__hpy_ctx, __hpy_a, __hpy_b| #body)
                    })));
                }
                defs.push(binary_def(class, slot, fwd, refl, *span));
            }
            Binary(..) => {}
            Power(reflected) if !reflected || get("__pow__").is_none() => {
                let fwd = if reflected { None } else { Some((f, recv, params)) };
                let refl = if reflected { Some((f, recv, params)) } else { get("__rpow__").map(|(_, rf, rr, rp, _)| (rf, rr.expect("checked"), rp)) };
                let body = binary_body(class, fwd, refl);
                defs.push(quote_spanned!(*span=> ::hpy::__hpy_slot_def!(ternary, ::hpy::ffi::HPy_nb_power, |__hpy_ctx, __hpy_a, __hpy_b, __hpy_modulo| {
                    if !__hpy_modulo.is_none() {
                        return ::core::result::Result::Ok(::hpy::impl_::slots::not_implemented(__hpy_ctx));
                    }
                    #body
                })));
            }
            Power(_) => {}
            Compare(_) | RichCmp if name == &first_compare(dunders) => {
                defs.push(richcmp_def(class, dunders, *span));
            }
            Compare(_) | RichCmp | Buffer => {}
            Iter => {
                let method = slotless_method(class, name, f, recv, params, *span);
                let args = dunder_args(params, &[]);
                let slot = quote_spanned!(*span=> ::hpy::__hpy_slot_def!(unary, ::hpy::impl_::protocols::TP_ITER, |__hpy_ctx, __hpy_a| {
                    #receiver #borrow
                    ::hpy::impl_::slots::SlotReturn::slot_return(#class::#f(#self_arg, #(#args),*), __hpy_ctx)
                }));
                defs.push(quote!(::hpy::impl_::protocols::by_abi(#slot, #method)));
            }
            Next => {
                let args = dunder_args(params, &[]);
                let call = quote_spanned!(*span=> #class::#f(#self_arg, #(#args),*));
                let method = quote_spanned!(*span=> ::hpy::__hpy_function_def!(noargs[#class], c"__next__", c"__next__($self, /)\n--\n\nImplement next(self).", |__hpy_ctx, __hpy_slf| {
                    let __hpy_cls: &::hpy::Handle<'_, #class> = &*__hpy_slf;
                    #borrow
                    ::hpy::impl_::protocols::next_method(#call, __hpy_ctx)
                }));
                let slot = quote_spanned!(*span=> ::hpy::__hpy_slot_def!(unary, ::hpy::impl_::protocols::TP_ITERNEXT, |__hpy_ctx, __hpy_a| {
                    #receiver #borrow
                    ::hpy::impl_::protocols::next_slot(#call, __hpy_ctx)
                }));
                defs.push(quote!(::hpy::impl_::protocols::by_abi(#slot, #method)));
            }
            Slotless => defs.push(slotless_method(class, name, f, recv, params, *span)),
        }
    }
    if get("__richcmp__").is_some() && dunders.keys().any(|k| matches!(*k, "__eq__" | "__ne__" | "__lt__" | "__le__" | "__gt__" | "__ge__")) {
        let span = get("__richcmp__").unwrap().4;
        return Err(syn::Error::new(span, "define either `__richcmp__` or the individual comparisons (`__eq__`, `__lt__`, ...), not both"));
    }
    Ok(defs)
}

/// A protocol method as a plain method under its dunder name (class creation makes it a slot:
/// `hpy::impl_::protocols::install`). Its signature is positional-only, so it needs no keyword
/// cache.
fn slotless_method(class: &Ident, name: &str, f: &Ident, recv: Receiver, params: &[Param], span: Span) -> TokenStream {
    let callable = Callable {
        py_name: name.to_string(),
        doc: String::new(),
        params,
        signature: Signature::implicit(&crate::function::python_names(params)),
        callee: quote!(#class::#f),
        receiver: Some(SelfArg { class: class.clone(), how: recv, checked_by_runtime: true }),
        ret_span: span,
    };
    callable.meth_def(&format_ident!("__HPY_NO_KWCACHE"))
}

fn forward_of(reflected: &str) -> &str {
    match reflected.strip_prefix("__r") {
        Some(rest) => {
            // "__radd__" -> "__add__"
            DUNDERS.iter().find(|d| d.name.len() == rest.len() + 2 && d.name.ends_with(rest)).map_or("", |d| d.name)
        }
        None => "",
    }
}

fn reflected_of(forward: &str) -> Option<&'static str> {
    let rest = forward.strip_prefix("__")?;
    DUNDERS.iter().find(|d| d.name.strip_prefix("__r") == Some(rest)).map(|d| d.name)
}

fn first_compare(dunders: &DunderMap) -> &'static str {
    dunders
        .keys()
        .find(|k| matches!(**k, "__eq__" | "__ne__" | "__lt__" | "__le__" | "__gt__" | "__ge__" | "__richcmp__"))
        .copied()
        .unwrap_or("")
}

type Side<'a> = Option<(&'a Ident, Receiver, &'a Vec<Param>)>;

/// The body of a binary-operator slot: try `a op b` with `a` an instance, then the reflected
/// method with `b` an instance; an operand of the wrong type gives `NotImplemented` (so Python
/// tries the other operand) instead of an error.
fn binary_body(class: &Ident, fwd: Side<'_>, refl: Side<'_>) -> TokenStream {
    let side = |(f, recv, params): (&Ident, Receiver, &Vec<Param>), me: TokenStream, other: TokenStream| {
        let (borrow, self_arg) = borrow_self(recv);
        let (_, ty) = py_params(params)[0];
        let args = dunder_args(params, &[quote!(__hpy_v0)]);
        // Checks only: a foreign operand on either side builds no error.
        let operand = operand(ty, other);
        quote!(
            if let ::core::option::Option::Some(__hpy_cls) = ::hpy::impl_::slots::instance_of::<#class>(&*#me) {
                if let ::core::option::Option::Some(__hpy_v0) = #operand {
                    let __hpy_v0: #ty = __hpy_v0;
                    #borrow
                    return ::hpy::impl_::slots::SlotReturn::slot_return(#class::#f(#self_arg, #(#args),*), __hpy_ctx);
                }
            }
        )
    };
    let fwd = fwd.map(|s| side(s, quote!(__hpy_a), quote!(__hpy_b)));
    let refl = refl.map(|s| side(s, quote!(__hpy_b), quote!(__hpy_a)));
    quote!({
        #fwd
        #refl
        ::core::result::Result::Ok(::hpy::impl_::slots::not_implemented(__hpy_ctx))
    })
}

fn binary_def(class: &Ident, slot: &str, fwd: Side<'_>, refl: Side<'_>, span: Span) -> TokenStream {
    let slot = format_ident!("{}", slot);
    let body = binary_body(class, fwd, refl);
    quote_spanned!(span=> ::hpy::__hpy_slot_def!(binary, ::hpy::ffi::#slot, |__hpy_ctx, __hpy_a, __hpy_b| #body))
}

/// `self` of a slot the runtimes check (`hpy::impl_::slots::runtime_checks_receiver`, enforced at
/// compile time by `__hpy_slot_def!(kind[Class], ...)`): it arrives as a `Class`, taken as it is.
fn trusted_receiver(class: &Ident) -> TokenStream {
    quote!(let __hpy_cls: &::hpy::Handle<'_, #class> = &*__hpy_a;)
}

fn richcmp_def(class: &Ident, dunders: &DunderMap, span: Span) -> TokenStream {
    // `self` is always the instance: Python calls the slot of the object's own type (swapping
    // the operands for the reflected comparison), and its wrappers check the receiver.
    let receiver = trusted_receiver(class);
    // Convert the other operand (NotImplemented if it does not convert), borrow self, and call
    // the method `name` with it and `extra` arguments: the statements and the call expression.
    let call = |name: &str, extra: &[TokenStream]| {
        let (_, f, recv, params, _) = &dunders[name];
        let (borrow, self_arg) = borrow_self(recv.expect("checked"));
        let (_, ty) = py_params(params)[0];
        let conv = other_operand(ty);
        let mut values = vec![quote!(__hpy_v0)];
        values.extend_from_slice(extra);
        let args = dunder_args(params, &values);
        (quote!(#conv #borrow), quote!(::hpy::impl_::slots::SlotReturn::slot_return(#class::#f(#self_arg, #(#args),*), __hpy_ctx)))
    };
    if dunders.contains_key("__richcmp__") {
        let (prelude, result) = call("__richcmp__", &[quote!(__hpy_op)]);
        return quote_spanned!(span=> ::hpy::__hpy_slot_def!(richcmp[#class], ::hpy::ffi::HPy_tp_richcompare, |__hpy_ctx, __hpy_a, __hpy_b, __hpy_op| {
            #receiver
            #prelude
            #result
        }));
    }
    let mut arms = Vec::new();
    for (name, op) in [("__eq__", "Eq"), ("__ne__", "Ne"), ("__lt__", "Lt"), ("__le__", "Le"), ("__gt__", "Gt"), ("__ge__", "Ge")] {
        if !dunders.contains_key(name) {
            continue;
        }
        let (prelude, result) = call(name, &[]);
        let op = format_ident!("{}", op);
        arms.push(quote!(::hpy::CompareOp::#op => {
            #prelude
            #result
        }));
    }
    // Without `__ne__`, `!=` is the negation of `__eq__` (Python's default for classes).
    if !dunders.contains_key("__ne__") && dunders.contains_key("__eq__") {
        let (prelude, result) = call("__eq__", &[]);
        arms.push(quote!(::hpy::CompareOp::Ne => {
            #prelude
            let __hpy_eq = #result?;
            ::hpy::impl_::slots::negate(__hpy_ctx, __hpy_eq)
        }));
    }
    quote_spanned!(span=> ::hpy::__hpy_slot_def!(richcmp[#class], ::hpy::ffi::HPy_tp_richcompare, |__hpy_ctx, __hpy_a, __hpy_b, __hpy_op| {
        #receiver
        #[allow(unreachable_patterns)]
        match __hpy_op {
            #(#arms)*
            _ => ::core::result::Result::Ok(::hpy::impl_::slots::not_implemented(__hpy_ctx)),
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn expand_block(block: ItemImpl) -> syn::Result<MethodsExpansion> {
        expand(&ClassOptions::default(), &[], "Counter", 0, block)
    }

    #[test]
    fn iter_and_next_are_slots_or_methods_by_abi() {
        let out = expand_block(parse_quote! {
            impl Counter {
                fn __iter__<'ctx>(slf: &Handle<'ctx, Self>) -> Handle<'ctx, Self> { slf.clone() }
                fn __next__(&mut self) -> Option<i64> { None }
            }
        })
        .unwrap();
        let tokens = out.tokens.to_string();
        assert_eq!(tokens.matches("protocols :: by_abi").count(), 2, "{tokens}");
        assert!(tokens.contains("protocols :: TP_ITER ,"), "{tokens}");
        assert!(tokens.contains("protocols :: TP_ITERNEXT"), "{tokens}");
        assert!(tokens.contains("protocols :: next_method"), "{tokens}");
        assert!(tokens.contains("protocols :: next_slot"), "{tokens}");
        assert!(out.stub.contains("def __iter__(self) -> Counter:"), "{}", out.stub);
        assert!(out.stub.contains("def __next__(self) -> int:"), "{}", out.stub);
    }

    #[test]
    fn integer_and_slice_or_index_keys_make_a_sequence() {
        for key in [quote!(isize), quote!(usize), quote!(SliceOrIndex), quote!(hpy::SliceOrIndex)] {
            let out = expand_block(parse_quote! {
                impl Counter {
                    fn __getitem__(&self, key: #key) -> i64 { 0 }
                }
            })
            .unwrap();
            let tokens = out.tokens.to_string();
            assert!(tokens.contains("HPy_mp_subscript"), "{key}: {tokens}");
            assert!(tokens.contains("HPy_sq_item"), "{key}: {tokens}");
            // a negative index that the runtime already counted from the end goes back as written
            assert!(tokens.contains("sq_item_negative_index (__hpy_a , __hpy_i)"), "{key}: {tokens}");
        }
        for key in [quote!(&str), quote!(String), quote!(&Handle<'_>), quote!(SliceBounds)] {
            let out = expand_block(parse_quote! {
                impl Counter {
                    fn __getitem__(&self, key: #key) -> i64 { 0 }
                }
            })
            .unwrap();
            let tokens = out.tokens.to_string();
            assert!(tokens.contains("HPy_mp_subscript"), "{key}: {tokens}");
            assert!(!tokens.contains("HPy_sq_item"), "a mapping only: {key}: {tokens}");
        }
    }

    #[test]
    fn operator_operands_are_checked_without_building_errors() {
        let out = expand_block(parse_quote! {
            impl Counter {
                fn __add__(&self, other: Counter) -> Counter { other }
                fn __rmul__(&self, k: f64) -> Counter { Counter }
                fn __iadd__(&mut self, k: i64) {}
                fn __eq__(&self, other: &Handle<'_, Counter>) -> bool { true }
            }
        })
        .unwrap();
        let tokens = out.tokens.to_string();
        // no `downcast` (which builds a TypeError) and no argument wording for an operand that
        // only becomes NotImplemented
        assert!(!tokens.contains("downcast"), "{tokens}");
        assert!(!tokens.contains("extract_arg"), "{tokens}");
        assert!(tokens.contains("slots :: instance_of :: < Counter >"), "{tokens}");
        for ty in ["Counter", "f64", "i64", "& Handle < '_ , Counter >"] {
            assert!(tokens.contains(&format!("slots :: operand_as :: < {ty} >")), "{ty}: {tokens}");
        }
    }

    #[test]
    fn frozen_classes_refuse_mut_self_everywhere() {
        let frozen = ClassOptions { frozen: true, ..ClassOptions::default() };
        let err = |block: ItemImpl| expand(&frozen, &[], "Counter", 0, block).err().expect("refused").to_string();
        for block in [
            parse_quote!(impl Counter { fn bump(&mut self) {} }),
            parse_quote!(impl Counter { #[getter] fn reads(&mut self) -> u64 { 0 } }),
            parse_quote!(impl Counter { #[getter] fn n(&self) -> u64 { 0 } #[setter] fn set_n(&mut self, v: u64) {} }),
            parse_quote!(impl Counter { fn __setitem__(&mut self, i: usize, v: i64) {} }),
            parse_quote!(impl Counter { fn __next__(&mut self) -> Option<i64> { None } }),
        ] {
            assert!(err(block).starts_with("`&mut self` in a `frozen` class"));
        }
        // `&self` and the handle are fine
        assert!(expand(&frozen, &[], "Counter", 0, parse_quote!(impl Counter {
            #[getter] fn n(&self) -> u64 { 0 }
            fn get<'ctx>(slf: &Handle<'ctx, Self>) -> u64 { 0 }
        }))
        .is_ok());
    }

    #[test]
    fn slotless_dunders_are_plain_methods() {
        let out = expand_block(parse_quote! {
            impl Counter {
                fn __getattr__(&self, name: &str) -> i64 { 0 }
                fn __setattr__(&mut self, name: &str, value: i64) {}
                fn __get__(&self, instance: Option<&Handle<'_>>, owner: Option<&Handle<'_>>) -> i64 { 0 }
            }
        })
        .unwrap();
        let tokens = out.tokens.to_string();
        for name in ["__getattr__", "__setattr__", "__get__"] {
            assert!(tokens.contains(&format!("c\"{name}\"")), "{name}: {tokens}");
        }
        assert!(!tokens.contains("by_abi"), "{tokens}");
        assert!(out.stub.contains("def __getattr__(self, name: str, /) -> int:"), "{}", out.stub);
    }

    #[test]
    fn wrong_protocol_signatures_are_refused() {
        let err = |block: ItemImpl| expand_block(block).err().expect("refused").to_string();
        assert!(err(parse_quote!(impl Counter { fn __next__(&mut self) -> i64 { 0 } })).starts_with("wrong signature for `__next__`"));
        assert!(err(parse_quote!(impl Counter { fn __next__(&mut self, n: i64) -> Option<i64> { None } })).starts_with("wrong signature for `__next__`"));
        assert!(err(parse_quote!(impl Counter { fn __iter__(&self, n: i64) -> i64 { 0 } })).starts_with("wrong signature for `__iter__`"));
        assert!(err(parse_quote!(impl Counter { fn __getattr__(&self) -> i64 { 0 } })).starts_with("wrong signature for `__getattr__`"));
        assert!(err(parse_quote!(impl Counter { fn __delattr__(&mut self, name: &str) -> bool { true } })).starts_with("wrong signature for `__delattr__`"));
        assert!(err(parse_quote!(impl Counter { fn __getattribute__(&self, name: &str) -> i64 { 0 } })).starts_with("`__getattribute__` is not supported"));
    }
}
