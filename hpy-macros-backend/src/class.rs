//! `#[hpy::class]` on a struct inside an `#[hpy::module]`: the struct becomes a Python type.
//!
//! Expanded by the module macro (which also creates the type at import), into:
//! * the struct, unchanged but for its `#[hpy(get, set)]` field attributes;
//! * `unsafe impl hpy::Class` (name, frozen, shape, the type's global, the `Field` visitor);
//! * `IntoHPy` (returning the struct from Rust creates an instance);
//! * `__HPY_TYPE_<T>` (the global the type is stored in), `__HPY_CLASS_DEFS_<T>` (traverse,
//!   field getters/setters and members; `add_class` adds destroy where `T` needs dropping),
//!   `__HPY_FLAGS_<T>`, `__HPY_DOC_<T>`;
//! * compile-time checks: no generics, no owned handles as fields, `Send` unless `unsendable`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Fields, Ident, ItemStruct, LitStr, Token, Type};

use crate::function::{c_str, doc_string};

/// Options of `#[hpy::class(...)]`.
#[derive(Default, Clone)]
pub struct ClassOptions {
    pub name: Option<LitStr>,
    pub subclass: bool,
    pub frozen: bool,
    pub unsendable: bool,
    pub extends: Option<Extends>,
    /// The flag options as written (`subclass`, `frozen`, `unsendable`), for error spans.
    pub flags: Vec<Ident>,
}

/// What `extends = X` names.
#[derive(Clone)]
pub enum Extends {
    /// A built-in shape (`int`, `float`, `str`, `tuple`, `list`, `type`): the base's `__new__`
    /// makes the object, `#[new]` runs as `__init__`.
    Shape(Ident),
    /// Another `#[hpy::class]` of the module, with its Python name.
    Class { ident: Ident, py_name: String },
    /// A built-in exception (`declared: false`) or an `#[hpy::exception]` of the module, with
    /// its Python name: the class is an exception class holding a Rust value (see
    /// `hpy::exception_class`).
    Exception { ident: Ident, py_name: String, declared: bool },
    /// As written, before the module macro resolves it to a class of the module.
    Unresolved(Ident),
}

/// What `extends = ...` accepts, for error messages.
pub const EXTENDS_ACCEPTS: &str = "`extends` takes a `#[hpy::class(subclass)]` struct of this module, \
     one of the built-in shapes HPy can extend: `int`, `float`, `str`, `tuple`, `list`, `type`, \
     or an exception (a built-in one or an `#[hpy::exception]` of this module)";

impl Extends {
    pub fn ident(&self) -> &Ident {
        match self {
            Extends::Shape(i) | Extends::Class { ident: i, .. } | Extends::Exception { ident: i, .. } | Extends::Unresolved(i) => i,
        }
    }
}

impl ClassOptions {
    /// Does the class extend a built-in shape (so `#[new]` is its `__init__`)?
    pub fn extends_shape(&self) -> bool {
        matches!(self.extends, Some(Extends::Shape(_)))
    }

    /// Is the class an exception class (`extends = SomeException`, once resolved)?
    pub fn extends_exception(&self) -> bool {
        matches!(self.extends, Some(Extends::Exception { .. }))
    }

    /// The class of the module this class extends, if any.
    pub fn base_class(&self) -> Option<&Ident> {
        match &self.extends {
            Some(Extends::Class { ident, .. }) | Some(Extends::Unresolved(ident)) => Some(ident),
            _ => None,
        }
    }
}

impl Parse for ClassOptions {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut opts = ClassOptions::default();
        while !input.is_empty() {
            let key: Ident = input.parse()?;
            match key.to_string().as_str() {
                "name" => {
                    input.parse::<Token![=]>()?;
                    opts.name = Some(input.parse()?);
                }
                "extends" => {
                    input.parse::<Token![=]>()?;
                    let base: Ident = input.parse()?;
                    // Another name is resolved by the module macro, which knows its classes.
                    opts.extends = Some(if shape_of(&base).is_some() { Extends::Shape(base) } else { Extends::Unresolved(base) });
                }
                "subclass" => {
                    opts.subclass = true;
                    opts.flags.push(key.clone());
                }
                "frozen" => {
                    opts.frozen = true;
                    opts.flags.push(key.clone());
                }
                "unsendable" => {
                    opts.unsendable = true;
                    opts.flags.push(key.clone());
                }
                _ => {
                    return Err(syn::Error::new(
                        key.span(),
                        format!(
                            "unknown option `{key}`: expected `name = \"...\"`, `subclass`, `frozen`, `unsendable` \
                             or `extends = Base` (a class of this module, int|float|str|tuple|list|type, \
                             or an exception)"
                        ),
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

/// The `HPyType_BuiltinShape` constant for `extends = <shape>`.
fn shape_of(shape: &Ident) -> Option<&'static str> {
    Some(match shape.to_string().as_str() {
        "int" => "HPyType_BuiltinShape_Long",
        "float" => "HPyType_BuiltinShape_Float",
        "str" => "HPyType_BuiltinShape_Unicode",
        "tuple" => "HPyType_BuiltinShape_Tuple",
        "list" => "HPyType_BuiltinShape_List",
        "type" => "HPyType_BuiltinShape_Type",
        _ => return None,
    })
}

/// The Python base type, for `add_class` (`extends = float` subclasses `float`).
pub fn base_expr(opts: &ClassOptions) -> TokenStream {
    match &opts.extends {
        // An exception class's value type is a plain object (its exception class is made apart).
        None | Some(Extends::Exception { .. }) => quote!(::core::option::Option::None),
        Some(Extends::Class { ident, .. } | Extends::Unresolved(ident)) => {
            quote!(::core::option::Option::Some(::hpy::class::base_type::<#ident>))
        }
        Some(Extends::Shape(s)) => {
            let s = s.to_string();
            let method = format_ident!(
                "{}",
                match s.as_str() {
                    "int" => "int_type",
                    "float" => "float_type",
                    "str" => "str_type",
                    "tuple" => "tuple_type",
                    "list" => "list_type",
                    _ => "type_type",
                }
            );
            quote!(::core::option::Option::Some(|ctx: ::hpy::Context<'_>| ::core::result::Result::Ok(ctx.#method().to_owned())))
        }
    }
}

/// The base exception of an exception class as an `hpy::ExceptionType` expression, for
/// `hpy::exception_class::create` (in the module's exec, where the module's items are in scope).
pub fn exception_base_type(opts: &ClassOptions) -> Option<TokenStream> {
    match &opts.extends {
        Some(Extends::Exception { ident, declared: true, .. }) => {
            Some(quote_spanned!(ident.span()=> <#ident as ::hpy::exceptions::PyException>::TYPE))
        }
        Some(Extends::Exception { ident, declared: false, .. }) => Some(quote!(::hpy::exceptions::#ident::TYPE)),
        _ => None,
    }
}

/// The protocol methods an exception class cannot forward from its exception objects to its
/// value object: refused with the reason.
pub fn check_exception_methods(opts: &ClassOptions, names: &[(String, Span)]) -> syn::Result<()> {
    if !opts.extends_exception() {
        return Ok(());
    }
    match names.iter().find(|(n, _)| n == "__buffer__") {
        Some((_, span)) => Err(syn::Error::new(
            *span,
            "an exception class cannot export a buffer: its instances are Python exceptions, which hold the \
             Rust value in a hidden object (before Python 3.12 a buffer cannot be forwarded); return \
             `bytes` from a method instead",
        )),
        None => Ok(()),
    }
}

/// A class of the module: its struct's name, options and Python name.
pub type DeclaredClass = (Ident, ClassOptions, String);

/// Every `#[hpy::class]` struct among `items` (those whose options parse), in definition order:
/// `extends = Base` may name a class defined further down.
pub fn declared_classes(items: &[syn::Item]) -> Vec<DeclaredClass> {
    let is_class_attr = |a: &syn::Attribute| {
        let segs: Vec<String> = a.path().segments.iter().map(|s| s.ident.to_string()).collect();
        matches!(segs.iter().map(String::as_str).collect::<Vec<_>>().as_slice(), ["class"] | ["hpy", "class"])
    };
    items
        .iter()
        .filter_map(|item| {
            let syn::Item::Struct(st) = item else { return None };
            let attr = st.attrs.iter().find(|a| is_class_attr(a))?;
            let opts: ClassOptions = match &attr.meta {
                syn::Meta::Path(_) => ClassOptions::default(),
                _ => attr.parse_args().ok()?,
            };
            let name = py_name(st, &opts);
            Some((st.ident.clone(), opts, name))
        })
        .collect()
}

/// Resolve `extends = Name` of class `this` against the classes and the `#[hpy::exception]`s
/// (`exceptions`: Rust name, Python name) of the module and the built-in exceptions, and check
/// the rules for extending a class: the base is marked `subclass`, is laid out as a plain
/// object, is not `this` or one of its subclasses, and is `frozen` exactly when `this` is; an
/// exception class is neither `subclass` nor `unsendable`.
pub fn resolve_extends(
    opts: &mut ClassOptions,
    this: &Ident,
    classes: &[DeclaredClass],
    exceptions: &[(Ident, String)],
) -> syn::Result<()> {
    let Some(Extends::Unresolved(base)) = &opts.extends else { return Ok(()) };
    let base = base.clone();
    let err = |msg: String| Err(syn::Error::new(base.span(), msg));
    let Some((_, base_opts, base_py)) = classes.iter().find(|(i, _, _)| *i == base) else {
        if let Some(exception) = exception_base(&base, exceptions) {
            check_exception_options(opts, this)?;
            opts.extends = Some(exception);
            return Ok(());
        }
        if is_exception_name(&base.to_string()) {
            return err(format!(
                "`{base}` is neither a built-in exception nor an `#[hpy::exception]` of this module: an exception \
                 class extends one of those (`extends = ValueError`), or another class of this module"
            ));
        }
        return err(format!("`{base}` is not a class of this module: {EXTENDS_ACCEPTS}"));
    };
    if let Some(Extends::Unresolved(b)) = &base_opts.extends {
        if !classes.iter().any(|(i, _, _)| i == b) && exception_base(b, exceptions).is_some() {
            return err(format!(
                "`{base}` is an exception class (it extends `{b}`): no class can extend it, because its instances \
                 are Python exceptions whose Rust value lives in a hidden object. Subclass it in Python, or give \
                 `{this}` the same base: `extends = {b}`"
            ));
        }
    }
    if base == *this {
        return err(format!("`{this}` cannot extend itself"));
    }
    // Walk up from the base: reaching `this` again is a cycle.
    let mut up = Some(&base);
    let mut steps = 0;
    while let Some(b) = up {
        if b == this || steps > classes.len() {
            return err(format!("`{this}` cannot extend `{base}`: `{base}` already extends `{this}` (directly or through other classes)"));
        }
        up = classes.iter().find(|(i, _, _)| i == b).and_then(|(_, o, _)| o.base_class());
        steps += 1;
    }
    if !base_opts.subclass {
        return err(format!(
            "`{base}` cannot be extended: it is not marked `subclass`; write `#[hpy::class(subclass)]` on `{base}`"
        ));
    }
    if base_opts.extends_shape() {
        return err(format!(
            "`{base}` extends a built-in shape: a class can extend only a class laid out as a plain object"
        ));
    }
    if base_opts.frozen != opts.frozen {
        let (frozen, mutable) = if base_opts.frozen { (&base, this) } else { (this, &base) };
        return err(format!(
            "`{frozen}` is `frozen` and `{mutable}` is not: a class and its base are frozen alike, as Python's \
             frozen dataclasses are (an object is frozen as a whole); mark both `frozen`, or neither"
        ));
    }
    opts.extends = Some(Extends::Class { ident: base.clone(), py_name: base_py.clone() });
    Ok(())
}

/// `extends = name` as an exception class's base: an `#[hpy::exception]` of the module, else a
/// built-in exception (else not an exception).
fn exception_base(name: &Ident, exceptions: &[(Ident, String)]) -> Option<Extends> {
    if let Some((ident, py_name)) = exceptions.iter().find(|(i, _)| i == name) {
        return Some(Extends::Exception { ident: ident.clone(), py_name: py_name.clone(), declared: true });
    }
    crate::exception::BUILTINS
        .contains(&name.to_string().as_str())
        .then(|| Extends::Exception { ident: name.clone(), py_name: name.to_string(), declared: false })
}

/// The options that make no sense on an exception class.
fn check_exception_options(opts: &ClassOptions, this: &Ident) -> syn::Result<()> {
    for flag in &opts.flags {
        let why = match flag.to_string().as_str() {
            "subclass" => format!(
                "an exception class is always subclassable in Python (`class Sub({this}): ...`), and no \
                 #[hpy::class] can extend it: remove `subclass`"
            ),
            "unsendable" => format!(
                "an exception class cannot be `unsendable`: raising `{this}` from Rust moves its value into an \
                 `hpy::Error`, which is `Send` (it may cross threads and `allow_threads`); make `{this}` Send"
            ),
            _ => continue,
        };
        return Err(syn::Error::new(flag.span(), why));
    }
    Ok(())
}

/// Does `name` look like a built-in exception type (`Exception`, `ValueError`, `UserWarning`, ...)?
fn is_exception_name(name: &str) -> bool {
    name.ends_with("Error")
        || name.ends_with("Exception")
        || name.ends_with("Warning")
        || matches!(name, "KeyboardInterrupt" | "SystemExit" | "GeneratorExit" | "StopIteration" | "StopAsyncIteration")
}

/// `classes` with every base before the classes that extend it (the module creates the types
/// in this order: a type's base must exist first). Otherwise in definition order.
pub fn bases_first(classes: &[DeclaredClass]) -> Vec<&DeclaredClass> {
    fn place<'a>(c: &'a DeclaredClass, classes: &'a [DeclaredClass], ordered: &mut Vec<&'a DeclaredClass>, depth: usize) {
        if ordered.iter().any(|(o, _, _)| *o == c.0) {
            return;
        }
        // (A cycle, reported by `resolve_extends`, stops after as many steps as there are classes.)
        if let Some(base) = c.1.base_class().and_then(|b| classes.iter().find(|(i, _, _)| i == b)) {
            if depth < classes.len() {
                place(base, classes, ordered, depth + 1);
            }
        }
        if !ordered.iter().any(|(o, _, _)| *o == c.0) {
            ordered.push(c);
        }
    }
    let mut ordered = Vec::new();
    for c in classes {
        place(c, classes, &mut ordered, 0);
    }
    ordered
}

pub fn type_global(ident: &Ident) -> Ident {
    format_ident!("__HPY_TYPE_{}", ident)
}
pub fn class_defs(ident: &Ident) -> Ident {
    format_ident!("__HPY_CLASS_DEFS_{}", ident)
}
pub fn flags_const(ident: &Ident) -> Ident {
    format_ident!("__HPY_FLAGS_{}", ident)
}
pub fn doc_const(ident: &Ident) -> Ident {
    format_ident!("__HPY_DOC_{}", ident)
}
/// The global holding the exception class of an exception class (`extends = SomeException`).
pub fn exception_class_global(ident: &Ident) -> Ident {
    format_ident!("__HPY_EXCCLASS_{}", ident)
}
/// The global holding the Python helpers of an exception class.
pub fn exception_helpers_global(ident: &Ident) -> Ident {
    format_ident!("__HPY_EXCHELPERS_{}", ident)
}

/// The Python name of the class.
pub fn py_name(item: &ItemStruct, opts: &ClassOptions) -> String {
    opts.name.as_ref().map_or_else(|| item.ident.to_string(), LitStr::value)
}

fn last_segment(ty: &Type) -> Option<String> {
    match ty {
        Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        Type::Reference(r) => last_segment(&r.elem),
        _ => None,
    }
}

/// Is `ty` written as a Rust primitive that `hpy::impl_::MemberField` covers (numbers, bool)?
/// (The trait bound in the expansion checks that it really is that type.)
fn is_member_primitive(ty: &Type) -> bool {
    const PRIMITIVES: &[&str] =
        &["i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64", "isize", "usize", "f32", "f64", "bool"];
    match ty {
        Type::Path(p) if p.qself.is_none() => {
            p.path.get_ident().is_some_and(|i| PRIMITIVES.contains(&i.to_string().as_str()))
        }
        _ => false,
    }
}

/// Which of `#[hpy(get)]`, `#[hpy(set)]` a field has.
fn field_access(field: &mut syn::Field) -> syn::Result<(bool, bool)> {
    let (mut get, mut set) = (false, false);
    let mut err = None;
    field.attrs.retain(|attr| {
        if !attr.path().is_ident("hpy") {
            return true;
        }
        let res = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("get") {
                get = true;
            } else if meta.path.is_ident("set") {
                set = true;
            } else {
                return Err(meta.error("expected `get` or `set`"));
            }
            Ok(())
        });
        if let Err(e) = res {
            err = Some(e);
        }
        false
    });
    match err {
        Some(e) => Err(e),
        None => Ok((get, set)),
    }
}

/// Does the struct `#[derive(Clone)]`? Then instances can be extracted by value.
fn derives_clone(item: &ItemStruct) -> bool {
    item.attrs.iter().any(|a| {
        a.path().is_ident("derive")
            && a.parse_args_with(syn::punctuated::Punctuated::<syn::Path, Token![,]>::parse_terminated)
                .is_ok_and(|paths| paths.iter().any(|p| p.segments.last().is_some_and(|s| s.ident == "Clone")))
    })
}

/// Does `ty` mention `Field` anywhere below its top level (`Option<Field>`, `Vec<Field>`, ...)?
fn nested_field(ty: &Type) -> bool {
    struct Finder(bool);
    impl<'ast> syn::visit::Visit<'ast> for Finder {
        fn visit_path_segment(&mut self, seg: &'ast syn::PathSegment) {
            if seg.ident == "Field" {
                self.0 = true;
            }
            syn::visit::visit_path_segment(self, seg);
        }
    }
    let mut f = Finder(false);
    match ty {
        // `Field` / `Field<K>` itself: look only inside its generic argument
        Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "Field") => {
            if let Some(last) = p.path.segments.last() {
                syn::visit::visit_path_arguments(&mut f, &last.arguments);
            }
        }
        other => syn::visit::visit_type(&mut f, other),
    }
    f.0
}

/// The start of the class's `.pyi` stub: the `class` line, the docstring, and a property per
/// `#[hpy(get)]`/`#[hpy(set)]` field. Call before `expand` (which strips the field attributes).
pub fn stub_header(item: &ItemStruct, opts: &ClassOptions) -> String {
    let name = py_name(item, opts);
    let base = match &opts.extends {
        None => String::new(),
        Some(Extends::Class { py_name, .. } | Extends::Exception { py_name, .. }) => format!("({py_name})"),
        Some(b) => format!("({})", b.ident()),
    };
    let mut out = format!("class {name}{base}:\n");
    out.push_str(&crate::stubs::doc_block(&doc_string(&item.attrs), "    "));
    for field in &item.fields {
        let (mut get, mut set) = (false, false);
        for attr in field.attrs.iter().filter(|a| a.path().is_ident("hpy")) {
            let _ = attr.parse_nested_meta(|meta| {
                get |= meta.path.is_ident("get");
                set |= meta.path.is_ident("set");
                Ok(())
            });
        }
        let Some(ident) = &field.ident else { continue };
        let ty = crate::stubs::py_type(&field.ty, Some(&name));
        if get {
            out.push_str(&format!("    @property\n    def {ident}(self) -> {ty}:\n"));
            out.push_str(&crate::stubs::doc_block(&doc_string(&field.attrs), "        "));
        }
        if set {
            out.push_str(&format!("    @{ident}.setter\n    def {ident}(self, value: {ty}) -> None: ...\n"));
        }
    }
    out
}

/// The Python names a class's fields define (`#[hpy(get)]`/`#[hpy(set)]`), for duplicate checks.
pub fn property_names(item: &ItemStruct) -> Vec<(String, Span)> {
    item.fields
        .iter()
        .filter(|f| f.attrs.iter().any(|a| a.path().is_ident("hpy")))
        .filter_map(|f| f.ident.as_ref().map(|i| (i.to_string(), i.span())))
        .collect()
}

/// Expand a `#[hpy::class(opts)]` struct.
pub fn expand(opts: &ClassOptions, mut item: ItemStruct) -> syn::Result<TokenStream> {
    if let Some(p) = item.generics.params.first() {
        let what = if matches!(p, syn::GenericParam::Lifetime(_)) { "lifetime" } else { "generic" };
        return Err(syn::Error::new(
            p.span(),
            format!(
                "#[hpy::class] cannot have {what} parameters: a Python type is one concrete Rust type \
                 that lives as long as Python keeps the object"
            ),
        ));
    }
    let ident = item.ident.clone();
    let name = py_name(&item, opts);
    let frozen = opts.frozen;
    let shape = match &opts.extends {
        Some(Extends::Shape(s)) => shape_of(s),
        _ => None,
    };
    let shape = format_ident!("{}", shape.unwrap_or("HPyType_BuiltinShape_Object"));
    let base_class = opts.base_class();

    let mut field_members = Vec::new();
    let mut getsets = Vec::new();
    let mut has_fields = false;
    let named = matches!(item.fields, Fields::Named(_));
    for (index, field) in item.fields.iter_mut().enumerate() {
        let (get, set) = field_access(field)?;
        let seg = last_segment(&field.ty);
        if matches!(seg.as_deref(), Some("Handle") | Some("Borrowed") | Some("Context")) {
            return Err(syn::Error::new(
                field.ty.span(),
                "a class cannot store a handle or a context: they die with the call. \
                 Store Python objects in an `hpy::Field` (and load them with the owner's handle)",
            ));
        }
        let member: syn::Member = match &field.ident {
            Some(i) => syn::Member::Named(i.clone()),
            None => syn::Member::Unnamed(syn::Index::from(index)),
        };
        if nested_field(&field.ty) {
            return Err(syn::Error::new(
                field.ty.span(),
                "a `Field` must be a direct field of the class (not inside an Option, Vec, array or \
                 other struct): only direct fields are reported to the garbage collector",
            ));
        }
        if seg.as_deref() == Some("Field") {
            has_fields = true;
            field_members.push(quote!(#member));
        }
        if (get || set) && !named {
            return Err(syn::Error::new(field.span(), "`#[hpy(get, set)]` needs a named field"));
        }
        if set && frozen {
            return Err(syn::Error::new(field.span(), "`#[hpy(set)]` in a `frozen` class: frozen objects never change"));
        }
        // A read-only number or bool of an immutable object is a member: the interpreter reads
        // it from the object's memory, without calling into the module. That needs a value that
        // never changes (`frozen`), may be read from any thread (not `unsendable`), and is always
        // initialised (not `extends`, where `__init__` sets it after allocation).
        //
        // Not for a class that is not `frozen`, even for a `Copy` primitive: a member read is
        // the interpreter loading the field's memory, and it bypasses the cell's borrow flag
        // (which makes a getter raise "already mutably borrowed"). Python code can run while a
        // `&mut T` is live: a `&mut self` method that calls back into Python (a callback, a
        // `repr`, a `__del__` run by closing a handle or by a collection during an allocation)
        // lets that code read `obj.field`. A `&mut T` is unique (`noalias`): a read of its
        // memory through any other pointer while it lives is undefined behaviour in Rust's
        // model, and in practice the compiler may keep a new value in a register across the
        // call, so Python reads a stale one. `Cell` or atomic field types do not help: the
        // `&mut T` covers them too. And `Context::allow_threads` releases the GIL while a
        // `&mut T` may be live (its closure can hold `&mut self.field`), so another thread's
        // member read races with this thread's write. Only `frozen` rules out every `&mut T`.
        let as_member = get && !set && frozen && !opts.unsendable && opts.extends.is_none() && is_member_primitive(&field.ty);
        if as_member {
            let fname = field.ident.as_ref().expect("named");
            let fty = &field.ty;
            let name_c = c_str(&fname.to_string());
            let doc_c = c_str(&doc_string(&field.attrs));
            getsets.push(quote_spanned! {fty.span()=>
                ::hpy::impl_::readonly_member_def::<#ident, #fty>(#name_c, #doc_c, ::core::mem::offset_of!(#ident, #fname))
            });
        } else if get || set {
            let fname = field.ident.as_ref().expect("named").to_string();
            let fty = &field.ty;
            let name_c = c_str(&fname);
            let doc_c = c_str(&doc_string(&field.attrs));
            let getter = quote_spanned! {fty.span()=>
                |__hpy_ctx, __hpy_slf| {
                    let __hpy_cls = ::hpy::impl_::receiver::<#ident>(&*__hpy_slf)?;
                    let __hpy_ref = __hpy_cls.borrow()?;
                    let __hpy_value: #fty = ::core::clone::Clone::clone(&__hpy_ref.#member);
                    ::core::mem::drop(__hpy_ref);
                    ::hpy::impl_::IntoReturn::into_return(__hpy_value, __hpy_ctx)
                }
            };
            let def = if set {
                let setter = quote_spanned! {fty.span()=>
                    |_, __hpy_slf, __hpy_value| {
                        let ::core::option::Option::Some(__hpy_value) = __hpy_value else {
                            return ::core::result::Result::Err(::hpy::exceptions::AttributeError::new_err(
                                ::core::concat!("cannot delete attribute '", #fname, "'")));
                        };
                        let __hpy_new: #fty = ::hpy::impl_::extract_arg(&*__hpy_value, #fname, "value")?;
                        let __hpy_cls = ::hpy::impl_::receiver::<#ident>(&*__hpy_slf)?;
                        __hpy_cls.borrow_mut()?.#member = __hpy_new;
                        ::core::result::Result::Ok(0)
                    }
                };
                quote!(::hpy::__hpy_getset_def!(#name_c, #doc_c, get = #getter, set = #setter))
            } else {
                quote!(::hpy::__hpy_getset_def!(#name_c, #doc_c, get = #getter))
            };
            getsets.push(def);
        }
    }

    let doc = doc_string(&item.attrs);
    let doc_expr = if doc.is_empty() {
        quote!(::core::option::Option::None)
    } else {
        let d = c_str(&doc);
        quote!(::core::option::Option::Some(#d))
    };
    let mut flags = vec![quote!(::hpy::ffi::HPy_TPFLAGS_DEFAULT)];
    if opts.subclass {
        flags.push(quote!(::hpy::ffi::HPy_TPFLAGS_BASETYPE));
    }
    // A class that extends another visits the base's fields too: the collector calls only the
    // traverse slot of the object's type (and PyPy traces an object's fields with it alone).
    let traverses = has_fields || base_class.is_some();
    if traverses {
        flags.push(quote!(::hpy::ffi::HPy_TPFLAGS_HAVE_GC));
    }
    let mut defs = Vec::new();
    if traverses {
        defs.push(quote!(::hpy::impl_::traverse_def::<#ident>()));
    }
    defs.extend(getsets);
    let n_defs = defs.len();
    let tg = type_global(&ident);
    let cd = class_defs(&ident);
    let fc = flags_const(&ident);
    let dc = doc_const(&ident);
    let align_check = quote_spanned! {ident.span()=>
        const _: () = ::core::assert!(
            ::core::mem::align_of::<#ident>() <= 8,
            "#[hpy::class] types must not need an alignment above 8 bytes (HPy aligns object data to 8)"
        );
    };
    let send_check = if opts.unsendable {
        quote!()
    } else {
        let span = ident.span();
        quote_spanned! {span=>
            const _: () = {
                fn __hpy_class_must_be_send_or_marked_unsendable<T: ::core::marker::Send>() {}
                let _ = __hpy_class_must_be_send_or_marked_unsendable::<#ident>;
            };
        }
    };
    let unsendable = opts.unsendable;
    let subclass = opts.subclass;
    let base_ty = match base_class {
        Some(b) => quote!(#b),
        None => quote!(::hpy::class::NoBase),
    };
    // The base's cells come first in the struct: it must be a class HPy lays out as `object`.
    let base_check = match base_class {
        Some(b) => quote_spanned! {b.span()=>
            const _: () = ::core::assert!(
                <#b as ::hpy::Class>::SUBCLASSABLE
                    && <#b as ::hpy::Class>::SHAPE == ::hpy::ffi::HPyType_BuiltinShape_Object,
                "`extends` needs a `#[hpy::class(subclass)]` base that does not itself extend a built-in shape"
            );
        },
        None => quote!(),
    };
    // Returning the value alone makes an instance only when there is no base value to build.
    let into_hpy = match base_class {
        Some(_) => quote!(),
        // An exception class's value returned to Python is an exception object holding it.
        None if opts.extends_exception() => quote! {
            impl<'ctx> ::hpy::IntoHPy<'ctx> for #ident {
                fn into_hpy(self, ctx: ::hpy::Context<'ctx>) -> ::hpy::Result<::hpy::Handle<'ctx>> {
                    ::hpy::exception_class::new_exception(ctx, self, ())
                }
            }
        },
        None => quote! {
            impl<'ctx> ::hpy::IntoHPy<'ctx> for #ident {
                fn into_hpy(self, ctx: ::hpy::Context<'ctx>) -> ::hpy::Result<::hpy::Handle<'ctx>> {
                    ::core::result::Result::Ok(ctx.instance(self)?.into_any())
                }
            }
        },
    };
    let from_hpy = if derives_clone(&item) && opts.extends_exception() {
        // Python code passes the exception object, not its (hidden) value object.
        quote! {
            impl<'a, 'ctx> ::hpy::FromHPy<'a, 'ctx> for #ident {
                fn from_hpy(obj: &'a ::hpy::Handle<'ctx>) -> ::hpy::Result<Self> {
                    ::core::result::Result::Ok(::core::clone::Clone::clone(&*obj.exception_value::<#ident>()?.borrow()?))
                }
            }
        }
    } else if derives_clone(&item) {
        quote! {
            impl<'a, 'ctx> ::hpy::FromHPy<'a, 'ctx> for #ident {
                fn from_hpy(obj: &'a ::hpy::Handle<'ctx>) -> ::hpy::Result<Self> {
                    ::hpy::impl_::extract_clone::<#ident>(obj)
                }
            }
            impl ::hpy::impl_::slots::CloneOperand for #ident {}
        }
    } else {
        quote!()
    };
    let def_items = defs.iter().map(|d| quote!({ static D: ::hpy::ffi::HPyDef = #d; ::hpy::ffi::HPyDefPtr(&D) }));
    let _ = Span::call_site();
    let exception_items = if opts.extends_exception() { exception_items(&item, &name) } else { quote!() };

    Ok(quote! {
        #item

        #send_check
        #align_check
        #base_check

        #[doc(hidden)]
        #[allow(non_upper_case_globals)]
        static #tg: ::hpy::Global = ::hpy::Global::new();
        #[doc(hidden)]
        #[allow(non_upper_case_globals)]
        static #cd: [::hpy::ffi::HPyDefPtr; #n_defs] = [#(#def_items),*];
        #[doc(hidden)]
        #[allow(non_upper_case_globals)]
        const #fc: ::core::ffi::c_ulong = #(#flags)|*;
        #[doc(hidden)]
        #[allow(non_upper_case_globals)]
        const #dc: ::core::option::Option<&'static ::core::ffi::CStr> = #doc_expr;

        ::hpy::__hpy_impl_class! {
            type = #ident, name = #name, frozen = #frozen, unsendable = #unsendable, subclass = #subclass,
            shape = #shape, base = #base_ty, global = #tg, fields = [#(#field_members),*]
        }

        #from_hpy

        #into_hpy

        #exception_items
    })
}

/// What an exception class (`extends = SomeException`) has besides a class's items: the
/// globals of its exception class and helpers, `T::TYPE`, `impl ExceptionClass`, and
/// `From<T> for hpy::Error` (raising the value lazily).
fn exception_items(item: &ItemStruct, py_name: &str) -> TokenStream {
    let ident = &item.ident;
    let vis = &item.vis;
    let class_global = exception_class_global(ident);
    let helpers_global = exception_helpers_global(ident);
    let type_doc = format!("The Python exception class `{py_name}`, as an [`ExceptionType`](::hpy::ExceptionType).");
    quote! {
        #[doc(hidden)]
        #[allow(non_upper_case_globals)]
        static #class_global: ::hpy::Global = ::hpy::Global::new();
        #[doc(hidden)]
        #[allow(non_upper_case_globals)]
        static #helpers_global: ::hpy::Global = ::hpy::Global::new();

        impl #ident {
            #[doc = #type_doc]
            #[allow(dead_code)]
            #vis const TYPE: ::hpy::ExceptionType = ::hpy::ExceptionType::declared(
                {
                    fn global() -> &'static ::hpy::Global {
                        &#class_global
                    }
                    global
                },
                #py_name,
            );
        }

        impl ::hpy::ExceptionClass for #ident {
            const TYPE: ::hpy::ExceptionType = #ident::TYPE;
            fn exception_global() -> &'static ::hpy::Global {
                &#class_global
            }
            fn helpers_global() -> &'static ::hpy::Global {
                &#helpers_global
            }
        }

        impl ::core::convert::From<#ident> for ::hpy::Error {
            fn from(value: #ident) -> ::hpy::Error {
                ::hpy::Error::with_value(value, ())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn expand_with(opts: ClassOptions, item: ItemStruct) -> String {
        expand(&opts, item).unwrap().to_string()
    }

    #[test]
    fn read_only_numbers_of_immutable_classes_are_members() {
        let item: ItemStruct = parse_quote! {
            struct S {
                #[hpy(get)] n: i64,
                #[hpy(get)] b: bool,
                #[hpy(get)] name: String,
            }
        };
        let frozen = ClassOptions { frozen: true, ..Default::default() };
        let out = expand_with(frozen.clone(), item.clone());
        assert!(out.contains("readonly_member_def :: < S , i64 >"), "{out}");
        assert!(out.contains("readonly_member_def :: < S , bool >"), "{out}");
        assert!(out.contains("offset_of ! (S , n)"), "{out}");
        assert_eq!(out.matches("__hpy_getset_def").count(), 1, "a String is converted by a getter: {out}");

        // Mutable, unsendable or `extends` classes keep getters for every field.
        for opts in [
            ClassOptions::default(),
            ClassOptions { unsendable: true, ..frozen.clone() },
            ClassOptions { extends: Some(Extends::Shape(parse_quote!(int))), ..frozen.clone() },
        ] {
            let out = expand_with(opts, item.clone());
            assert!(!out.contains("readonly_member_def"), "{out}");
            assert_eq!(out.matches("__hpy_getset_def").count(), 3, "{out}");
        }
    }

    fn declared(src: syn::ItemMod) -> Vec<DeclaredClass> {
        declared_classes(&src.content.expect("inline").1)
    }

    fn resolve(classes: &[DeclaredClass], this: &str) -> syn::Result<ClassOptions> {
        let (ident, opts, _) = classes.iter().find(|(i, _, _)| i == this).expect("declared");
        let mut opts = opts.clone();
        resolve_extends(&mut opts, ident, classes, &[]).map(|()| opts)
    }

    #[test]
    fn extends_resolves_to_a_class_of_the_module_defined_anywhere() {
        let classes = declared(parse_quote! {
            mod m {
                #[hpy::class(extends = Base)] struct Derived;
                #[hpy::class(subclass, name = "PyBase")] struct Base;
                #[class(extends = Derived)] struct Leaf;
                #[hpy::class(extends = float)] struct Meters(f64);
            }
        });
        let derived = resolve(&classes, "Derived").unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(&derived.extends, Some(Extends::Class { ident, py_name }) if ident == "Base" && py_name == "PyBase"));
        assert!(!derived.extends_shape());
        assert!(resolve(&classes, "Meters").unwrap_or_else(|e| panic!("{e}")).extends_shape());
        // `Derived` is not `subclass`
        let leaf = resolve(&classes, "Leaf").err().expect("an error").to_string();
        assert!(leaf.contains("`Derived` cannot be extended: it is not marked `subclass`"), "{leaf}");
        // The types are created bases first.
        let order: Vec<String> = bases_first(&classes).iter().map(|(i, _, _)| i.to_string()).collect();
        assert_eq!(order, ["Base", "Derived", "Leaf", "Meters"]);
        // The stub names the base by its Python name.
        let item: ItemStruct = parse_quote!(struct Derived;);
        assert!(stub_header(&item, &derived).starts_with("class Derived(PyBase):\n"));
        // and the expansion declares the base, traverses (the base's fields) and has no IntoHPy.
        let out = expand_with(derived, item);
        assert!(out.contains("base = Base"), "{out}");
        assert!(out.contains("traverse_def :: < Derived >"), "{out}");
        assert!(!out.contains("IntoHPy"), "{out}");
    }

    #[test]
    fn extends_errors() {
        let classes = declared(parse_quote! {
            mod m {
                #[hpy::class(extends = dict)] struct A;
                #[hpy::class(subclass, extends = C)] struct B;
                #[hpy::class(subclass, extends = B)] struct C;
                #[hpy::class(subclass, frozen)] struct F;
                #[hpy::class(extends = F)] struct G;
                #[hpy::class(subclass, extends = int)] struct I;
                #[hpy::class(extends = I)] struct J;
                #[hpy::class(subclass, extends = S)] struct S;
                #[hpy::class(extends = ValueError)] struct E;
            }
        });
        let err = |c: &str| resolve(&classes, c).err().expect("an error").to_string();
        assert!(err("A").contains("`dict` is not a class of this module: `extends` takes"), "{}", err("A"));
        assert!(err("B").contains("`C` already extends `B`"), "{}", err("B"));
        assert!(err("G").contains("`F` is `frozen` and `G` is not"), "{}", err("G"));
        assert!(err("J").contains("`I` extends a built-in shape"), "{}", err("J"));
        assert!(err("S").contains("`S` cannot extend itself"), "{}", err("S"));
        assert!(resolve(&classes, "E").is_ok_and(|o| o.extends_exception()), "an exception class");
        // A cycle still yields every class once, in some order.
        assert_eq!(bases_first(&classes).len(), classes.len());
    }

    #[test]
    fn exception_classes() {
        let classes = declared(parse_quote! {
            mod m {
                #[hpy::class(extends = ValueError)] struct Builtin;
                #[hpy::class(extends = Declared, frozen, name = "Py")] struct OnDeclared;
                #[hpy::class(extends = Exception, subclass)] struct Sub;
                #[hpy::class(extends = KeyError, unsendable)] struct Unsendable;
                #[hpy::class(extends = Builtin)] struct OnClass;
                #[hpy::class(extends = MissingError)] struct Missing;
                #[hpy::class(subclass)] struct TypeError;
                #[hpy::class(extends = TypeError)] struct Shadowed;
            }
        });
        let exceptions = [(format_ident!("Declared"), "DeclaredError".to_string())];
        let resolve = |c: &str| {
            let (ident, opts, _) = classes.iter().find(|(i, _, _)| i == c).expect("declared");
            let mut opts = opts.clone();
            resolve_extends(&mut opts, ident, &classes, &exceptions).map(|()| opts)
        };
        let err = |c: &str| resolve(c).err().expect("an error").to_string();
        let builtin = resolve("Builtin").unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(&builtin.extends, Some(Extends::Exception { py_name, declared: false, .. }) if py_name == "ValueError"));
        assert_eq!(exception_base_type(&builtin).unwrap().to_string(), ":: hpy :: exceptions :: ValueError :: TYPE");
        let declared = resolve("OnDeclared").unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(&declared.extends, Some(Extends::Exception { py_name, declared: true, .. }) if py_name == "DeclaredError"));
        assert!(exception_base_type(&declared).unwrap().to_string().contains("< Declared as :: hpy :: exceptions :: PyException > :: TYPE"));
        assert!(err("Sub").contains("remove `subclass`"), "{}", err("Sub"));
        assert!(err("Unsendable").contains("cannot be `unsendable`"), "{}", err("Unsendable"));
        assert!(err("OnClass").contains("`Builtin` is an exception class (it extends `ValueError`)"), "{}", err("OnClass"));
        assert!(err("Missing").contains("neither a built-in exception nor an `#[hpy::exception]`"), "{}", err("Missing"));
        // A class of the module named like an exception is that class.
        assert!(matches!(resolve("Shadowed").unwrap().extends, Some(Extends::Class { .. })));

        // The stub names the Python base; the expansion has the exception items, an IntoHPy that
        // makes the exception object, no Python base type for the value type.
        let item: ItemStruct = parse_quote!(#[derive(Clone)] pub struct OnDeclared { #[hpy(get)] code: i64 });
        assert!(stub_header(&item, &declared).starts_with("class Py(DeclaredError):\n"));
        assert_eq!(base_expr(&declared).to_string(), ":: core :: option :: Option :: None");
        let out = expand_with(declared.clone(), item);
        assert!(out.contains("static __HPY_EXCCLASS_OnDeclared : :: hpy :: Global"), "{out}");
        assert!(out.contains("static __HPY_EXCHELPERS_OnDeclared : :: hpy :: Global"), "{out}");
        assert!(out.contains("impl :: hpy :: ExceptionClass for OnDeclared"), "{out}");
        assert!(out.contains("pub const TYPE : :: hpy :: ExceptionType"), "{out}");
        assert!(out.contains("From < OnDeclared > for :: hpy :: Error"), "{out}");
        assert!(out.contains(":: hpy :: exception_class :: new_exception (ctx , self , ())"), "{out}");
        assert!(out.contains("exception_value :: < OnDeclared >"), "Clone extracts from the exception: {out}");
        assert!(out.contains("subclass = false"), "{out}");
        // A buffer cannot be forwarded.
        let names = [("__buffer__".to_string(), Span::call_site())];
        assert!(check_exception_methods(&declared, &names).unwrap_err().to_string().contains("cannot export a buffer"));
        assert!(check_exception_methods(&ClassOptions::default(), &names).is_ok());
    }
}
