//! Procedural macros for the `hpy` crate. This crate only declares the attributes; the code
//! generation lives in `hpy-macros-backend`, where it is unit-tested.
//!
//! Use them through `hpy`: `#[hpy::module]`, `#[hpy::function]`, `#[hpy::init]`.

use proc_macro::TokenStream;

/// Make a Rust `mod` an HPy extension module.
///
/// ```
/// /// Module docstring.
/// #[hpy::module]            // or #[hpy::module(name = "other_name")]
/// mod quickstart {
///     #[hpy::function]
///     fn add(a: i64, b: i64) -> i64 { a + b }
///
///     static CACHE: hpy::Global = hpy::Global::new();   // registered automatically
///
///     #[hpy::init]               // optional: runs at import (HPy_mod_exec)
///     fn init(ctx: hpy::Context<'_>, m: &hpy::Handle<'_, hpy::Module>) -> hpy::Result<()> {
///         m.setattr("VERSION", "1.0")
///     }
/// }
/// # fn main() {}
/// ```
///
/// Exports `HPyInit_<name>` and the three other entry points of a universal module; build the
/// crate as a `cdylib` named `<name>.hpy0.so`.
#[proc_macro_attribute]
pub fn module(attr: TokenStream, item: TokenStream) -> TokenStream {
    hpy_macros_backend::module(attr.into(), item.into()).into()
}

/// Make a Rust function callable from Python. It must be directly inside the `#[hpy::module]
/// mod`, which registers it: anywhere else it is a compile error.
///
/// Parameters are converted with `hpy::FromHPy`, the result with `hpy::IntoHPy` (or returned
/// as `Result`). A parameter of type `hpy::Context<'_>` receives the call's context.
/// Without options, parameters are positional-only; `signature = (a, b = 1, *, c, **kw)`
/// declares keyword, keyword-only, defaulted, `*args` (`&Handle<'_, Tuple>`) and `**kwargs`
/// (`Option<&Handle<'_, Dict>>`) parameters. A string default converts into the parameter's
/// type (`name = "x"` on a `String`, `&str` or `Option<String>`). `name = "..."` sets the
/// Python name. The `///` docs become the docstring.
#[proc_macro_attribute]
pub fn function(attr: TokenStream, item: TokenStream) -> TokenStream {
    hpy_macros_backend::function(attr.into(), item.into()).into()
}

/// Mark the optional init function of an `#[hpy::module]` (consumed by `#[hpy::module]`;
/// an error anywhere else).
#[proc_macro_attribute]
pub fn init(_attr: TokenStream, item: TokenStream) -> TokenStream {
    let item = proc_macro2::TokenStream::from(item);
    let err = syn_error(&item, "#[hpy::init] marks the init function of an `#[hpy::module] mod`: put it inside one");
    err.into()
}

fn syn_error(item: &proc_macro2::TokenStream, msg: &str) -> proc_macro2::TokenStream {
    let span = item.clone().into_iter().next().map_or_else(proc_macro2::Span::call_site, |t| t.span());
    let msg = proc_macro2::Literal::string(msg);
    let mut out: proc_macro2::TokenStream = quote_compile_error(span, msg);
    out.extend(item.clone());
    out
}

fn quote_compile_error(span: proc_macro2::Span, msg: proc_macro2::Literal) -> proc_macro2::TokenStream {
    use proc_macro2::{Delimiter, Group, Ident, Punct, Spacing, TokenTree};
    let mut body = proc_macro2::TokenStream::new();
    body.extend([TokenTree::Literal(msg)]);
    let mut ts = proc_macro2::TokenStream::new();
    ts.extend([
        TokenTree::Ident(Ident::new("compile_error", span)),
        TokenTree::Punct(Punct::new('!', Spacing::Alone)),
        TokenTree::Group(Group::new(Delimiter::Parenthesis, body)),
        TokenTree::Punct(Punct::new(';', Spacing::Alone)),
    ]);
    ts.into_iter().map(|mut t| { t.set_span(span); t }).collect()
}

/// Make a struct a Python class (inside an `#[hpy::module]`, which creates the type at import).
///
/// Options: `name = "..."`, `subclass` (Python code and other classes may subclass it), `frozen`
/// (never mutated: no `&mut self`), `unsendable` (the struct is not `Send`), `extends = Base`.
/// Fields marked `#[hpy(get)]`/`#[hpy(set)]` become attributes; `hpy::Field` members hold
/// references to Python objects and are reported to the garbage collector. Python code creates
/// instances through the `#[new]` constructor; a class without one can only be instantiated by
/// Rust code (`ctx.instance(value)`, or returning the value), and calling it raises `TypeError`.
/// `#[new]` returns `Self`, or `hpy::Init<'ctx, Self>` to fill `Field`s once the object exists
/// (`Init::new(value).field(|v| &v.callback, &callback)`).
///
/// `extends = Base` with `Base` a `#[hpy::class(subclass)]` struct of the same module (defined
/// anywhere in it; the module creates bases first): the class is a Python subclass of `Base`,
/// whose methods, properties and protocol methods it inherits. Each instance holds `Base`'s
/// value and its own, each with its own borrow flag; `slf.as_base()` turns a
/// `&Handle<'_, Self>` into a `&Handle<'_, Base>` (`slf.as_base().borrow()?`). `#[new]` builds
/// both: it returns `(Self, Base)` or `hpy::Init::new(base).add_subclass(value)` (chains of
/// any depth; `.field(...)` after a level fills that level's fields). Both values are dropped
/// once, and the fields of both are reported to the garbage collector. A class and its base are
/// `frozen` alike. `extends = int|float|str|tuple|list|type` extends a built-in type instead
/// (the base's constructor makes the object; `#[new]` runs as `__init__`).
///
/// `extends = ValueError` (any built-in exception, or an `#[hpy::exception]` of the module)
/// makes an *exception class holding a Rust value*: `class ParseError(ValueError)` in Python,
/// raised and caught like any exception, with the struct's properties and methods.
///
/// ```
/// # #[hpy::module] mod m {
/// # use hpy::exceptions::ValueError;
/// #[hpy::class(extends = ValueError)]
/// pub struct ParseError { #[hpy(get)] line: usize, message: String }
///
/// #[hpy::methods]
/// impl ParseError {
///     #[new]
///     fn new(line: usize, message: String) -> Self { ParseError { line, message } }
///     fn __str__(&self) -> String { format!("line {}: {}", self.line, self.message) }
/// }
///
/// #[hpy::function]
/// fn parse(text: &str) -> hpy::Result<i64> {
///     text.parse().map_err(|_| ParseError { line: 1, message: "not a number".into() }.into())
/// }
/// # }
/// # fn main() {}
/// ```
///
/// From Python, `ParseError(3, "bad")` runs `#[new]` (the arguments are also the exception's
/// `args`, so it pickles), `e.line`, `str(e)` (`__str__`, else the `args`), `isinstance(e,
/// ValueError)`, `raise`/`except`, `__cause__`, tracebacks and Python subclasses work as for any
/// exception. From Rust, `Err(value.into())` raises it lazily (`hpy::Error` stays `Send`: the
/// value is moved in, the exception object made when it reaches Python; `Error::with_value(value,
/// args)` sets `args`), `ParseError::TYPE` matches it (`err.matches(ctx, ParseError::TYPE)`), and
/// `err.value_as::<ParseError>(ctx)?` or `exc.exception_value::<ParseError>()?` give its value
/// object, a `Handle<'_, ParseError>` to `borrow()`. Returning the struct makes an exception
/// object (not raised). HPy 0.9 has no built-in shape for exceptions, so the value lives in a
/// hidden object of a pure HPy type that each exception object keeps, and `Handle<'_, ParseError>`
/// is that value object, not the exception (see `hpy::exception_class`); an exception made
/// without a value (`ValueError.__new__(ParseError)`, or its value removed) raises `TypeError`
/// when used. Without `#[new]`, Python code cannot create or pickle one. An exception class is
/// never `subclass` (Python subclasses it freely; no `#[hpy::class]` can extend it) nor
/// `unsendable`, and has no `__buffer__`.
///
/// In a `frozen` class (not `unsendable`, not `extends`), a `#[hpy(get)]` field of a number type
/// (`i8` ... `u64`, `isize`, `usize`, `f32`, `f64`) or `bool` is an HPy *member*: the interpreter
/// reads it from the object's memory without calling into the module, as fast as a C extension's
/// `PyMemberDef`. Assigning to it raises CPython's `AttributeError: readonly attribute`. In a
/// class that is not `frozen` such a field is read through a getter: a member read bypasses the
/// borrow check, so Python code running while a `&mut self` method holds the value (a callback
/// it calls, another thread during `allow_threads`) would read memory under a live `&mut`,
/// which is undefined behaviour; the getter raises "already mutably borrowed" instead.
#[proc_macro_attribute]
pub fn class(_attr: TokenStream, item: TokenStream) -> TokenStream {
    hpy_macros_backend::outside_module("#[hpy::class]", item.into()).into()
}

/// The methods, constructor (`#[new]`), properties (`#[getter]`, `#[setter]`),
/// `#[staticmethod]`s, `#[classmethod]`s, `#[classattr]`s and protocol methods (`__repr__`,
/// `__add__`, `__len__`, ...) of a `#[hpy::class]` (inside the same `#[hpy::module]`).
///
/// Iteration: `fn __iter__(slf: &Handle<'_, Self>) -> Handle<'_, Self>` (`slf.clone()`: the
/// object is its own iterator) or `fn __iter__(&self) -> MyIter` (a new iterator object), and
/// `fn __next__(&mut self) -> Option<T>` (or `Result<Option<T>>`): `None` ends the iteration
/// (Python sees StopIteration). Attribute hooks: `fn __getattr__(&self, name: &str) -> R` (called
/// only when the normal lookup fails, as in Python), `fn __setattr__(&mut self, name: &str,
/// value: V)`, `fn __delattr__(&mut self, name: &str)`. Descriptors: `fn __get__(&self,
/// instance: Option<&Handle<'_>>, owner: Option<&Handle<'_>>) -> R`, `fn __set__(&self,
/// instance: &Handle<'_>, value: V)`, `fn __delete__(&self, instance: &Handle<'_>)`. HPy 0.9 has
/// no slots for these; hpy-rs makes them work on every runtime (`hpy::impl_::protocols`), with
/// CPython's real `tp_iter`/`tp_iternext` slots in the native build. `__getattribute__` is not
/// supported (use `__getattr__`).
#[proc_macro_attribute]
pub fn methods(_attr: TokenStream, item: TokenStream) -> TokenStream {
    hpy_macros_backend::outside_module("#[hpy::methods]", item.into()).into()
}

/// Declare a Python exception class in an `#[hpy::module]` (or `#[hpy::submodule]`), on a unit
/// struct: `#[hpy::exception(extends = ValueError)] pub struct ParseError;`.
///
/// The module creates the class at import as `module.ParseError` (so `__module__` is the module
/// and pickling finds it) and sets it as a module attribute; the `.pyi` declares it. `extends`
/// takes a built-in exception (default `Exception`) or another `#[hpy::exception]` (created
/// first); `name = "..."` sets the Python name; `///` docs become the docstring. The struct gets
/// `TYPE` (an `hpy::ExceptionType`), `new_err(msg)` and `new_err_args(args)`, as the built-in
/// exceptions in `hpy::exceptions` have.
#[proc_macro_attribute]
pub fn exception(_attr: TokenStream, item: TokenStream) -> TokenStream {
    hpy_macros_backend::outside_module_because("#[hpy::exception]", "the module creates the exception class when it is imported", item.into()).into()
}

/// A module attribute set at import from a `const` of any `hpy::IntoHPy` type, inside an
/// `#[hpy::module]` (or `#[hpy::submodule]`): `#[hpy::constant] pub const VERSION: &str = "1.0";`
/// (`name = "..."` sets the attribute's name). The `.pyi` declares it.
#[proc_macro_attribute]
pub fn constant(_attr: TokenStream, item: TokenStream) -> TokenStream {
    hpy_macros_backend::outside_module_because("#[hpy::constant]", "the module sets it as an attribute when it is imported", item.into()).into()
}

/// A submodule `parent.child` of an `#[hpy::module] mod parent`: `#[hpy::submodule] mod child {
/// ... }` with `#[hpy::function]`s, `#[hpy::constant]`s and `#[hpy::exception]`s. It is an
/// attribute of the parent and importable (`import parent.child`, `from parent.child import
/// f`). Classes and nested submodules belong in the top module. `name = "..."` sets its name.
#[proc_macro_attribute]
pub fn submodule(_attr: TokenStream, item: TokenStream) -> TokenStream {
    hpy_macros_backend::outside_module_because("#[hpy::submodule]", "it is a submodule of that module", item.into()).into()
}
