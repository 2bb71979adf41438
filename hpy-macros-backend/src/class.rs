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
    pub extends: Option<Ident>,
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
                    let shape: Ident = input.parse()?;
                    if shape_of(&shape).is_none() {
                        return Err(syn::Error::new(
                            shape.span(),
                            "HPy can extend only the built-in shapes: `int`, `float`, `str`, `tuple`, `list`, `type`",
                        ));
                    }
                    opts.extends = Some(shape);
                }
                "subclass" => opts.subclass = true,
                "frozen" => opts.frozen = true,
                "unsendable" => opts.unsendable = true,
                _ => {
                    return Err(syn::Error::new(
                        key.span(),
                        format!(
                            "unknown option `{key}`: expected `name = \"...\"`, `subclass`, `frozen`, `unsendable` \
                             or `extends = int|float|str|tuple|list|type`"
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

/// The Python base type of a shape, for `add_class` (`extends = float` subclasses `float`).
pub fn base_expr(opts: &ClassOptions) -> TokenStream {
    match opts.extends.as_ref().map(|s| s.to_string()) {
        None => quote!(::core::option::Option::None),
        Some(s) => {
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
            quote!(::core::option::Option::Some(|ctx: ::hpy::Context<'_>| ctx.#method().to_owned()))
        }
    }
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
    let base = opts.extends.as_ref().map(|b| format!("({b})")).unwrap_or_default();
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
    let shape = format_ident!("{}", opts.extends.as_ref().and_then(shape_of).unwrap_or("HPyType_BuiltinShape_Object"));

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
    if has_fields {
        flags.push(quote!(::hpy::ffi::HPy_TPFLAGS_HAVE_GC));
    }
    let mut defs = Vec::new();
    if has_fields {
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
    let from_hpy = if derives_clone(&item) {
        quote! {
            impl<'a, 'ctx> ::hpy::FromHPy<'a, 'ctx> for #ident {
                fn from_hpy(obj: &'a ::hpy::Handle<'ctx>) -> ::hpy::Result<Self> {
                    ::hpy::impl_::extract_clone::<#ident>(obj)
                }
            }
        }
    } else {
        quote!()
    };
    let def_items = defs.iter().map(|d| quote!({ static D: ::hpy::ffi::HPyDef = #d; ::hpy::ffi::HPyDefPtr(&D) }));
    let _ = Span::call_site();

    Ok(quote! {
        #item

        #send_check
        #align_check

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
            shape = #shape, global = #tg, fields = [#(#field_members),*]
        }

        #from_hpy

        impl<'ctx> ::hpy::IntoHPy<'ctx> for #ident {
            fn into_hpy(self, ctx: ::hpy::Context<'ctx>) -> ::hpy::Result<::hpy::Handle<'ctx>> {
                ::core::result::Result::Ok(ctx.instance(self)?.into_any())
            }
        }
    })
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
            ClassOptions { extends: Some(parse_quote!(int)), ..frozen.clone() },
        ] {
            let out = expand_with(opts, item.clone());
            assert!(!out.contains("readonly_member_def"), "{out}");
            assert_eq!(out.matches("__hpy_getset_def").count(), 3, "{out}");
        }
    }
}
