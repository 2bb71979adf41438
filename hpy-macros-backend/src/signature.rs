//! The Python signature of a function: from `#[hpy::function(signature = (a, b = 1, *, c))]`, or,
//! without that option, every parameter positional-only and required.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, Token};

/// One item of a `signature = (...)` list.
#[derive(Debug, Clone)]
pub enum SigItem {
    /// `name` or `name = default`
    Param { name: Ident, default: Option<Expr> },
    /// `/`: the parameters before it are positional-only.
    Slash(Span),
    /// `*`: the parameters after it are keyword-only.
    Star(Span),
    /// `*args`
    VarArgs(Ident),
    /// `**kwargs`
    KwArgs(Ident),
}

impl Parse for SigItem {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.peek(Token![/]) {
            let t: Token![/] = input.parse()?;
            return Ok(SigItem::Slash(t.span));
        }
        if input.peek(Token![*]) && input.peek2(Token![*]) {
            input.parse::<Token![*]>()?;
            input.parse::<Token![*]>()?;
            return Ok(SigItem::KwArgs(input.parse()?));
        }
        if input.peek(Token![*]) {
            let t: Token![*] = input.parse()?;
            if input.peek(Ident) {
                return Ok(SigItem::VarArgs(input.parse()?));
            }
            return Ok(SigItem::Star(t.span));
        }
        let name: Ident = input.parse().map_err(|e| {
            syn::Error::new(e.span(), "expected a parameter name, `/`, `*`, `*args` or `**kwargs`")
        })?;
        let default = if input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            Some(input.parse()?)
        } else {
            None
        };
        Ok(SigItem::Param { name, default })
    }
}

/// `(item, item, ...)`
pub struct SigList(pub Vec<SigItem>);

impl Parse for SigList {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let content;
        syn::parenthesized!(content in input);
        let items: Punctuated<SigItem, Token![,]> = content.parse_terminated(SigItem::parse, Token![,])?;
        Ok(SigList(items.into_iter().collect()))
    }
}

/// A Python parameter.
#[derive(Debug, Clone)]
pub struct PyParam {
    pub name: Ident,
    pub default: Option<Expr>,
}

/// The parsed, validated Python signature.
#[derive(Debug, Clone, Default)]
pub struct Signature {
    /// Parameters that can be passed by position, in order.
    pub positional: Vec<PyParam>,
    /// How many of them are positional-only.
    pub positional_only: usize,
    pub keyword_only: Vec<PyParam>,
    pub varargs: Option<Ident>,
    pub kwargs: Option<Ident>,
    /// Whether the signature was given explicitly (otherwise everything is positional-only).
    pub explicit: bool,
}

impl Signature {
    /// Everything positional-only and required, from the Rust parameter names.
    pub fn implicit(names: &[Ident]) -> Self {
        Signature {
            positional: names.iter().map(|n| PyParam { name: n.clone(), default: None }).collect(),
            positional_only: names.len(),
            ..Default::default()
        }
    }

    /// Validate a `signature = (...)` list.
    pub fn from_items(items: Vec<SigItem>) -> syn::Result<Self> {
        let mut sig = Signature { explicit: true, ..Default::default() };
        let mut after_star = false;
        let mut seen_default = false;
        for item in items {
            if sig.kwargs.is_some() {
                let span = match &item {
                    SigItem::Param { name, .. } | SigItem::VarArgs(name) | SigItem::KwArgs(name) => name.span(),
                    SigItem::Slash(s) | SigItem::Star(s) => *s,
                };
                return Err(syn::Error::new(span, "`**kwargs` must be the last item of the signature"));
            }
            match item {
                SigItem::Param { name, default } => {
                    if after_star {
                        sig.keyword_only.push(PyParam { name, default });
                    } else {
                        if default.is_some() {
                            seen_default = true;
                        } else if seen_default {
                            return Err(syn::Error::new(
                                name.span(),
                                "a parameter without a default cannot follow one with a default \
                                 (give it a default, or make it keyword-only after `*`)",
                            ));
                        }
                        sig.positional.push(PyParam { name, default });
                    }
                }
                SigItem::Slash(span) => {
                    if after_star || sig.positional_only != 0 || sig.positional.is_empty() {
                        return Err(syn::Error::new(
                            span,
                            "`/` must come once, after at least one parameter and before `*`",
                        ));
                    }
                    sig.positional_only = sig.positional.len();
                }
                SigItem::Star(span) => {
                    if after_star {
                        return Err(syn::Error::new(span, "`*` may appear only once"));
                    }
                    after_star = true;
                }
                SigItem::VarArgs(name) => {
                    if after_star {
                        return Err(syn::Error::new(name.span(), "`*args` may appear only once, instead of `*`"));
                    }
                    after_star = true;
                    sig.varargs = Some(name);
                }
                SigItem::KwArgs(name) => sig.kwargs = Some(name),
            }
        }
        Ok(sig)
    }

    /// Names of all Python parameters, in slot order (positional, then keyword-only).
    pub fn slot_params(&self) -> impl Iterator<Item = &PyParam> {
        self.positional.iter().chain(self.keyword_only.iter())
    }

    /// Every name the signature declares, including `*args` and `**kwargs`.
    pub fn all_names(&self) -> Vec<&Ident> {
        let mut names: Vec<&Ident> = self.slot_params().map(|p| &p.name).collect();
        names.extend(self.varargs.iter());
        names.extend(self.kwargs.iter());
        names
    }

    /// Can any parameter be passed by keyword?
    pub fn takes_keywords(&self) -> bool {
        self.positional.len() > self.positional_only || !self.keyword_only.is_empty() || self.kwargs.is_some()
    }

    /// `(a, b=1, /, *args, c, **kwargs)` for `__text_signature__`.
    pub fn text_signature(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        for (i, p) in self.positional.iter().enumerate() {
            parts.push(param_text(p));
            if i + 1 == self.positional_only {
                parts.push("/".into());
            }
        }
        if let Some(v) = &self.varargs {
            parts.push(format!("*{v}"));
        } else if !self.keyword_only.is_empty() {
            parts.push("*".into());
        }
        parts.extend(self.keyword_only.iter().map(param_text));
        if let Some(k) = &self.kwargs {
            parts.push(format!("**{k}"));
        }
        format!("({})", parts.join(", "))
    }
}

fn param_text(p: &PyParam) -> String {
    match &p.default {
        None => p.name.to_string(),
        Some(d) => format!("{}={}", p.name, default_text(d)),
    }
}

/// A Rust default expression as Python source, when it is a simple literal; `...` otherwise.
pub fn default_text(expr: &Expr) -> String {
    match expr {
        Expr::Lit(lit) => match &lit.lit {
            syn::Lit::Int(i) => i.base10_digits().to_string(),
            syn::Lit::Float(f) => f.base10_digits().to_string(),
            syn::Lit::Bool(b) => if b.value { "True" } else { "False" }.to_string(),
            syn::Lit::Str(s) => format!("{:?}", s.value()).replace('"', "'"),
            _ => "...".into(),
        },
        Expr::Path(p) if p.path.is_ident("None") => "None".into(),
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => {
            let inner = default_text(&u.expr);
            if inner == "..." {
                inner
            } else {
                format!("-{inner}")
            }
        }
        _ => {
            let _ = expr.to_token_stream();
            "...".into()
        }
    }
}

/// Parse `signature = (...)` tokens (the list part).
pub fn parse_signature(tokens: TokenStream) -> syn::Result<Signature> {
    let list: SigList = syn::parse2(tokens)?;
    Signature::from_items(list.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn full_signature() {
        let sig = parse_signature(quote!((a, b = 2, /, c = "x", *args, d, e = None, **kw))).unwrap();
        assert_eq!(sig.positional.len(), 3);
        assert_eq!(sig.positional_only, 2);
        assert_eq!(sig.keyword_only.len(), 2);
        assert_eq!(sig.varargs.as_ref().unwrap().to_string(), "args");
        assert_eq!(sig.kwargs.as_ref().unwrap().to_string(), "kw");
        assert!(sig.takes_keywords());
        assert_eq!(sig.text_signature(), "(a, b=2, /, c='x', *args, d, e=None, **kw)");
    }

    #[test]
    fn implicit_is_positional_only() {
        let names: Vec<Ident> = vec![syn::parse_quote!(x), syn::parse_quote!(y)];
        let sig = Signature::implicit(&names);
        assert!(!sig.takes_keywords());
        assert_eq!(sig.text_signature(), "(x, y, /)");
        assert_eq!(Signature::implicit(&[]).text_signature(), "()");
    }

    #[test]
    fn keyword_only_after_star() {
        let sig = parse_signature(quote!((a, *, b = -1))).unwrap();
        assert_eq!(sig.text_signature(), "(a, *, b=-1)");
    }

    #[test]
    fn errors_are_explained() {
        let err = |t| parse_signature(t).unwrap_err().to_string();
        assert!(err(quote!((a = 1, b))).contains("cannot follow one with a default"));
        assert!(err(quote!((**kw, a))).contains("must be the last"));
        assert!(err(quote!((/, a))).contains("`/` must come once"));
        assert!(err(quote!((a, *, *))).contains("only once"));
        assert!(err(quote!((1))).contains("expected a parameter name"));
    }
}
