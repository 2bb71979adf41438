//! Python type stubs (`.pyi`) from the same parsed signatures the module is generated from.
//!
//! `#[hpy::module]` embeds the text in the binary (section `.hpy_stubs`); the wheel builder
//! (`tools/pep517/hpy_build`) writes it out as `<module>/__init__.pyi` next to `py.typed`.

use syn::{GenericArgument, PathArguments, Type};

use crate::function::Param;
use crate::signature::{default_text, Signature};

/// What a path parameter takes: what `os.fsencode` takes.
const PATH_PARAMETER: &str = "str | bytes | os.PathLike[str]";

/// The Python annotation for a Rust return type (or a value: a constant, a field).
pub fn py_type(ty: &Type, self_name: Option<&str>) -> String {
    annotation(ty, self_name, false)
}

/// The Python annotation for a Rust parameter type: as [`py_type`], but what a conversion takes
/// where it takes more than it gives back (a path: `str`, `bytes` or an `os.PathLike`).
pub fn param_type(ty: &Type, self_name: Option<&str>) -> String {
    annotation(ty, self_name, true)
}

fn annotation(ty: &Type, self_name: Option<&str>, param: bool) -> String {
    let py_type = |ty: &Type, self_name: Option<&str>| annotation(ty, self_name, param);
    match ty {
        Type::Reference(r) => match &*r.elem {
            Type::Slice(s) => match &*s.elem {
                Type::Path(p) if p.path.is_ident("u8") => "bytes".into(),
                other => format!("list[{}]", py_type(other, self_name)),
            },
            Type::Path(p) if p.path.is_ident("str") => "str".into(),
            other => py_type(other, self_name),
        },
        Type::Tuple(t) if t.elems.is_empty() => "None".into(),
        Type::Tuple(t) => {
            let items: Vec<String> = t.elems.iter().map(|e| py_type(e, self_name)).collect();
            format!("tuple[{}]", items.join(", "))
        }
        Type::Paren(p) => py_type(&p.elem, self_name),
        Type::Path(p) => {
            let Some(last) = p.path.segments.last() else { return "Any".into() };
            let args: Vec<&Type> = match &last.arguments {
                PathArguments::AngleBracketed(a) => a
                    .args
                    .iter()
                    .filter_map(|g| match g {
                        GenericArgument::Type(t) => Some(t),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            };
            let arg = |i: usize| args.get(i).map_or_else(|| "Any".to_string(), |t| py_type(t, self_name));
            match last.ident.to_string().as_str() {
                "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => {
                    "int".into()
                }
                "f32" | "f64" => "float".into(),
                "bool" => "bool".into(),
                "String" | "str" | "char" | "Cow" => "str".into(),
                "Vec" => match args.first() {
                    Some(Type::Path(p)) if p.path.is_ident("u8") => "bytes".into(),
                    _ => format!("list[{}]", arg(0)),
                },
                "Option" => format!("{} | None", arg(0)),
                "HashMap" | "BTreeMap" => format!("dict[{}, {}]", arg(0), arg(1)),
                // Extracted from a set or a frozenset; converted to a set.
                "HashSet" | "BTreeSet" => format!("set[{}]", arg(0)),
                // Extracted with `os.fsencode` (str, bytes, os.PathLike); converted to a str.
                "PathBuf" | "Path" | "OsString" | "OsStr" if param => PATH_PARAMETER.into(),
                "PathBuf" | "Path" | "OsString" | "OsStr" => "str".into(),
                "Complex" => "complex".into(),
                "SliceBounds" => "slice".into(),
                "SliceOrIndex" => "int | slice".into(),
                "Result" => arg(0),
                "Handle" | "Borrowed" => match args.first() {
                    None => "Any".into(),
                    Some(k) => kind_type(k, self_name),
                },
                "Self" => self_name.unwrap_or("Any").into(),
                other if other.chars().next().is_some_and(char::is_uppercase) => class_name(other),
                _ => "Any".into(),
            }
        }
        _ => "Any".into(),
    }
}

thread_local! {
    /// The module's classes renamed with `name = "..."`: (Rust ident, Python name), set by
    /// `#[hpy::module]` for the time of its expansion (see [`with_class_names`]), so that an
    /// annotation names the Python class, not the Rust struct.
    static CLASS_NAMES: std::cell::RefCell<Vec<(String, String)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Run `f` with `names` ((Rust ident, Python name) of the module's renamed classes) as the
/// names annotations use for those structs.
pub fn with_class_names<R>(names: Vec<(String, String)>, f: impl FnOnce() -> R) -> R {
    let old = CLASS_NAMES.with(|c| c.replace(names));
    let out = f();
    CLASS_NAMES.with(|c| *c.borrow_mut() = old);
    out
}

/// A struct's name in annotations: its Python name if the module renamed the class.
fn class_name(rust: &str) -> String {
    CLASS_NAMES.with(|c| c.borrow().iter().find(|(r, _)| r == rust).map_or_else(|| rust.to_string(), |(_, py)| py.clone()))
}

/// The Python type of a handle kind (`Long` -> `int`, a class -> its name).
fn kind_type(kind: &Type, self_name: Option<&str>) -> String {
    let Type::Path(p) = kind else { return "Any".into() };
    let Some(last) = p.path.segments.last() else { return "Any".into() };
    match last.ident.to_string().as_str() {
        "Any" => "Any".into(),
        "NoneType" => "None".into(),
        "Bool" => "bool".into(),
        "Long" => "int".into(),
        "Float" => "float".into(),
        "Unicode" => "str".into(),
        "Bytes" => "bytes".into(),
        "Tuple" => "tuple[Any, ...]".into(),
        "List" => "list[Any]".into(),
        "Dict" => "dict[Any, Any]".into(),
        "Type" => "type".into(),
        "Module" => "types.ModuleType".into(),
        "Capsule" => "Any".into(),
        "Set" => "set[Any]".into(),
        "FrozenSet" => "frozenset[Any]".into(),
        "Slice" => "slice".into(),
        "ByteArray" => "bytearray".into(),
        "Self" => self_name.unwrap_or("Any").into(),
        other => class_name(other),
    }
}

/// `(a: int, b: str = 'x', /, *args: Any, **kwargs: Any)` with annotations from the Rust types.
pub fn annotated_signature(sig: &Signature, params: &[Param], first: Option<&str>, self_name: Option<&str>) -> String {
    let ty_of = |name: &syn::Ident| {
        params.iter().find_map(|p| match p {
            Param::Python { ident, ty } if ident == name => Some(param_type(ty, self_name)),
            _ => None,
        })
    };
    let param = |p: &crate::signature::PyParam| {
        let ann = ty_of(&p.name).unwrap_or_else(|| "Any".into());
        match &p.default {
            None => format!("{}: {ann}", p.name),
            Some(d) => format!("{}: {ann} = {}", p.name, default_text(d)),
        }
    };
    let mut parts: Vec<String> = first.map(str::to_string).into_iter().collect();
    for (i, p) in sig.positional.iter().enumerate() {
        parts.push(param(p));
        if i + 1 == sig.positional_only {
            parts.push("/".into());
        }
    }
    if let Some(v) = &sig.varargs {
        parts.push(format!("*{v}: Any"));
    } else if !sig.keyword_only.is_empty() {
        parts.push("*".into());
    }
    parts.extend(sig.keyword_only.iter().map(param));
    if let Some(k) = &sig.kwargs {
        parts.push(format!("**{k}: Any"));
    }
    format!("({})", parts.join(", "))
}

/// The return annotation of a function.
pub fn return_type(output: &syn::ReturnType, self_name: Option<&str>) -> String {
    match output {
        syn::ReturnType::Default => "None".into(),
        syn::ReturnType::Type(_, ty) => py_type(ty, self_name),
    }
}

/// The annotation of what `__next__` yields: `T` of its `Option<T>` or `Result<Option<T>>`
/// (`None` ends the iteration; it is not an item).
pub fn next_item_type(output: &syn::ReturnType, self_name: Option<&str>) -> String {
    fn option_arg(ty: &Type) -> Option<&Type> {
        let Type::Path(p) = ty else { return None };
        let last = p.path.segments.last()?;
        let syn::PathArguments::AngleBracketed(a) = &last.arguments else { return None };
        let Some(syn::GenericArgument::Type(inner)) = a.args.first() else { return None };
        match last.ident.to_string().as_str() {
            "Option" => Some(inner),
            "Result" => option_arg(inner),
            _ => None,
        }
    }
    match output {
        syn::ReturnType::Type(_, ty) => option_arg(ty).map_or_else(|| "Any".into(), |t| py_type(t, self_name)),
        syn::ReturnType::Default => "Any".into(),
    }
}

/// Python keywords: a function or parameter with such a name cannot be written in a stub (it is
/// reachable only with `getattr`), so its `def` is emitted as a comment.
pub fn is_python_keyword(name: &str) -> bool {
    matches!(
        name,
        "False" | "None" | "True" | "and" | "as" | "assert" | "async" | "await" | "break" | "class" | "continue"
            | "def" | "del" | "elif" | "else" | "except" | "finally" | "for" | "from" | "global" | "if" | "import"
            | "in" | "is" | "lambda" | "nonlocal" | "not" | "or" | "pass" | "raise" | "return" | "try" | "while"
            | "with" | "yield"
    )
}

/// `def name(sig) -> ret:` plus its docstring, at `indent`; commented out if a name is a keyword.
pub fn def_lines(indent: &str, name: &str, sig: &str, ret: &str, doc: &str) -> String {
    let uses_keyword = is_python_keyword(name)
        || sig.trim_matches(|c| c == '(' || c == ')').split(", ").any(|p| is_python_keyword(p.split(':').next().unwrap_or("").trim_start_matches('*')));
    if uses_keyword {
        return format!("{indent}# def {name}{sig} -> {ret}: ...  (a Python keyword: not expressible in a stub)\n");
    }
    format!("{indent}def {name}{sig} -> {ret}:\n{}", doc_block(doc, &format!("{indent}    ")))
}

/// A docstring as the body of a stub definition, indented.
pub fn doc_block(doc: &str, indent: &str) -> String {
    if doc.is_empty() {
        format!("{indent}...\n")
    } else {
        let escaped = doc.replace('\\', "\\\\").replace("\"\"\"", "\\\"\\\"\\\"");
        let body = escaped.lines().collect::<Vec<_>>().join(&format!("\n{indent}"));
        format!("{indent}\"\"\"{body}\"\"\"\n")
    }
}

/// The header of a module's stub file.
pub fn module_header(name: &str, doc: &str) -> String {
    let mut out = String::new();
    if !doc.is_empty() {
        out.push_str(&doc_block(doc, ""));
    }
    out.push_str(&format!(
        "# Type stubs of the module `{name}`, generated by hpy-rs from its Rust source (the same for the universal and the native build).\n\
         from typing import Any\nimport os\nimport types\n\n"
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    #[test]
    fn rust_types_map_to_python_annotations() {
        let t = |ty: Type| py_type(&ty, Some("Point"));
        assert_eq!(t(parse_quote!(i64)), "int");
        assert_eq!(t(parse_quote!(&str)), "str");
        assert_eq!(t(parse_quote!(&[u8])), "bytes");
        assert_eq!(t(parse_quote!(Vec<u8>)), "bytes");
        assert_eq!(t(parse_quote!(Vec<f64>)), "list[float]");
        assert_eq!(t(parse_quote!(Option<String>)), "str | None");
        assert_eq!(t(parse_quote!(HashMap<String, usize>)), "dict[str, int]");
        assert_eq!(t(parse_quote!((f64, f64, bool))), "tuple[float, float, bool]");
        assert_eq!(t(parse_quote!(hpy::Result<Option<i64>>)), "int | None");
        assert_eq!(t(parse_quote!(&Handle<'_>)), "Any");
        assert_eq!(t(parse_quote!(&Handle<'_, Tuple>)), "tuple[Any, ...]");
        assert_eq!(t(parse_quote!(Handle<'ctx, Self>)), "Point");
        assert_eq!(t(parse_quote!(Vector)), "Vector");
        assert_eq!(t(parse_quote!(())), "None");
    }

    #[test]
    fn renamed_classes_are_annotated_by_their_python_name() {
        let t = |ty: Type| py_type(&ty, None);
        let names = vec![("RustFault".to_string(), "Fault".to_string())];
        with_class_names(names, || {
            assert_eq!(t(parse_quote!(RustFault)), "Fault");
            assert_eq!(t(parse_quote!(Vec<RustFault>)), "list[Fault]");
            assert_eq!(t(parse_quote!(&Handle<'_, RustFault>)), "Fault");
            assert_eq!(t(parse_quote!(Other)), "Other");
        });
        assert_eq!(t(parse_quote!(RustFault)), "RustFault", "only during the module's expansion");
    }

    #[test]
    fn standard_types_map_to_python_annotations() {
        let t = |ty: Type| py_type(&ty, None);
        assert_eq!(t(parse_quote!(HashSet<i64>)), "set[int]");
        assert_eq!(t(parse_quote!(std::collections::HashSet<String, RandomState>)), "set[str]");
        assert_eq!(t(parse_quote!(BTreeSet<Vec<u8>>)), "set[bytes]");
        assert_eq!(t(parse_quote!(PathBuf)), "str");
        assert_eq!(t(parse_quote!(&Path)), "str");
        assert_eq!(t(parse_quote!(std::ffi::OsString)), "str");
        assert_eq!(t(parse_quote!(Option<PathBuf>)), "str | None");
        assert_eq!(t(parse_quote!(hpy::Result<Vec<PathBuf>>)), "list[str]");
        assert_eq!(t(parse_quote!(hpy::Complex)), "complex");
        assert_eq!(t(parse_quote!(Vec<Complex>)), "list[complex]");
        assert_eq!(t(parse_quote!(SliceBounds)), "slice");
        assert_eq!(t(parse_quote!(SliceOrIndex)), "int | slice");
        assert_eq!(t(parse_quote!(&Handle<'_, Set>)), "set[Any]");
        assert_eq!(t(parse_quote!(&Handle<'_, FrozenSet>)), "frozenset[Any]");
        assert_eq!(t(parse_quote!(Handle<'ctx, hpy::Slice>)), "slice");
        assert_eq!(t(parse_quote!(Handle<'ctx, ByteArray>)), "bytearray");
    }

    #[test]
    fn path_parameters_take_what_os_fsencode_takes() {
        let p = |ty: Type| param_type(&ty, None);
        let any_path = "str | bytes | os.PathLike[str]";
        assert_eq!(p(parse_quote!(PathBuf)), any_path);
        assert_eq!(p(parse_quote!(&std::path::Path)), any_path);
        assert_eq!(p(parse_quote!(OsString)), any_path);
        assert_eq!(p(parse_quote!(&OsStr)), any_path);
        assert_eq!(p(parse_quote!(Option<PathBuf>)), format!("{any_path} | None"));
        assert_eq!(p(parse_quote!(Vec<PathBuf>)), format!("list[{any_path}]"));
        // the rest as in a result
        assert_eq!(p(parse_quote!(&str)), "str");
        assert_eq!(p(parse_quote!(HashMap<String, Vec<u8>>)), "dict[str, bytes]");

        let params = vec![
            Param::Python { ident: parse_quote!(base), ty: Box::new(parse_quote!(PathBuf)) },
            Param::Python { ident: parse_quote!(depth), ty: Box::new(parse_quote!(usize)) },
        ];
        let sig = Signature::implicit(&[parse_quote!(base), parse_quote!(depth)]);
        assert_eq!(annotated_signature(&sig, &params, None, None), format!("(base: {any_path}, depth: int, /)"));
        assert_eq!(return_type(&parse_quote!(-> hpy::Result<PathBuf>), None), "str");
        assert!(module_header("m", "").contains("\nimport os\n"), "os.PathLike needs `os`");
    }

    #[test]
    fn next_yields_the_option_item() {
        let t = |r: syn::ReturnType| next_item_type(&r, Some("Counter"));
        assert_eq!(t(parse_quote!(-> Option<i64>)), "int");
        assert_eq!(t(parse_quote!(-> hpy::Result<Option<String>>)), "str");
        assert_eq!(t(parse_quote!(-> Option<Handle<'ctx, Self>>)), "Counter");
        assert_eq!(t(parse_quote!(-> Option<Option<f64>>)), "float | None");
        assert_eq!(t(parse_quote!(-> NextItem)), "Any");
    }
}
