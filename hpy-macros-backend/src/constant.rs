//! `#[hpy::constant] pub const NAME: T = value;` inside an `#[hpy::module]` (or an
//! `#[hpy::submodule]`): a module attribute set at import, from any `IntoHPy` value.
//!
//! The `const` stays as written (Rust code uses it as usual); the module's exec converts it and
//! sets it as the attribute `NAME` (or `name = "..."`), and the `.pyi` declares `NAME: <type>`.

use proc_macro2::TokenStream;
use quote::quote_spanned;
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Ident, Item, LitStr, Token, Type};

/// Options of `#[hpy::constant(...)]`.
#[derive(Default)]
pub struct ConstantOptions {
    /// `name = "..."`: the attribute's name (default: the constant's).
    pub name: Option<LitStr>,
}

impl Parse for ConstantOptions {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut opts = ConstantOptions::default();
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

/// One module constant.
pub struct ConstantDecl {
    pub ident: Ident,
    pub py_name: String,
    pub ty: Type,
}

/// If `item` is an `#[hpy::constant]` const: consume the attribute and return the declaration.
pub fn take(item: &mut Item) -> syn::Result<Option<ConstantDecl>> {
    let (attrs, what) = match item {
        Item::Const(c) => {
            let Some(pos) = c.attrs.iter().position(|a| crate::module::is_hpy_attr(a, "constant")) else { return Ok(None) };
            let attr = c.attrs.remove(pos);
            let opts: ConstantOptions = match &attr.meta {
                syn::Meta::Path(_) => ConstantOptions::default(),
                _ => attr.parse_args()?,
            };
            if !c.generics.params.is_empty() {
                return Err(syn::Error::new(c.generics.span(), "an #[hpy::constant] cannot be generic"));
            }
            let py_name = opts.name.as_ref().map_or_else(|| c.ident.to_string(), LitStr::value);
            if py_name.is_empty() || py_name.contains('\0') {
                return Err(syn::Error::new(opts.name.as_ref().map_or(c.ident.span(), |n| n.span()), "the constant's name must not be empty"));
            }
            return Ok(Some(ConstantDecl { ident: c.ident.clone(), py_name, ty: (*c.ty).clone() }));
        }
        Item::Static(s) => (&s.attrs, s.ident.span()),
        Item::Fn(f) => (&f.attrs, f.sig.ident.span()),
        Item::Struct(s) => (&s.attrs, s.ident.span()),
        _ => return Ok(None),
    };
    if attrs.iter().any(|a| crate::module::is_hpy_attr(a, "constant")) {
        return Err(syn::Error::new(
            what,
            "#[hpy::constant] goes on a `const` (`pub const NAME: T = value;`); a `static` may hold a `hpy::Global` instead",
        ));
    }
    Ok(None)
}

/// The statements (inside the module's exec, with `module` in scope) that set the constants.
pub fn setup(decls: &[ConstantDecl], module: &Ident) -> TokenStream {
    decls
        .iter()
        .map(|d| {
            let ident = &d.ident;
            let name = &d.py_name;
            // Spanned at the type: a type that does not convert is reported there.
            quote_spanned!(d.ty.span()=> ::hpy::Handle::setattr(#module, #name, #ident)?;)
        })
        .collect()
}

/// The `.pyi` lines of the constants.
pub fn stubs(decls: &[ConstantDecl]) -> String {
    decls.iter().map(|d| format!("{}: {}\n", d.py_name, crate::stubs::py_type(&d.ty, None))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::{format_ident, quote};
    use syn::parse_quote;

    #[test]
    fn takes_constants() {
        let mut items: Vec<Item> = vec![
            parse_quote!(#[hpy::constant] pub const VERSION: &str = "1.0";),
            parse_quote!(#[constant(name = "max")] const MAX: i64 = 10;),
            parse_quote!(const PLAIN: i64 = 1;),
        ];
        let decls: Vec<ConstantDecl> = items.iter_mut().filter_map(|i| take(i).unwrap()).collect();
        assert_eq!(decls.len(), 2);
        assert_eq!(stubs(&decls), "VERSION: str\nmax: int\n");
        let m = format_ident!("m");
        let out = setup(&decls, &m).to_string();
        assert!(out.contains("setattr (m , \"VERSION\" , VERSION)"), "{out}");
        assert!(out.contains("setattr (m , \"max\" , MAX)"), "{out}");
        let all = quote!(#(#items)*).to_string();
        assert!(!all.contains("constant"), "the attribute is consumed: {all}");
    }

    #[test]
    fn refuses_other_items() {
        let mut item: Item = parse_quote!(#[hpy::constant] static X: i64 = 1;);
        assert!(take(&mut item).err().unwrap().to_string().contains("goes on a `const`"));
        let mut item: Item = parse_quote!(#[hpy::constant(value = 1)] const X: i64 = 1;);
        assert!(take(&mut item).err().unwrap().to_string().contains("unknown option"));
    }
}
