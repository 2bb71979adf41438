//! Exception classes that carry a Rust value: `#[hpy::class(extends = ValueError)]` (any
//! built-in exception, or an `#[hpy::exception]` of the module).
//!
//! HPy 0.9 has no built-in shape for exceptions: a pure HPy type cannot be a subclass of
//! `BaseException` with a Rust value inside the exception object. So such a class is two types:
//!
//! * the *value type*: a pure HPy type holding the Rust value, made from the struct like any
//!   `#[hpy::class]`. `Handle<'_, T>` is an instance of it (borrowed with `borrow()` as any
//!   class's), and the class's methods and properties are defined on it. Python code never needs
//!   to see it.
//! * the *exception class*: a Python subclass of the base exception, made at import, set as the
//!   module attribute `T`. Each instance keeps its value object in a hidden slot
//!   (`__hpy_value__`); the class's properties and methods forward to the value object, and
//!   `#[new]` makes the value object from the constructor's arguments (which are also the
//!   exception's `args`, so pickling round-trips).
//!
//! Soundness rests on the value type alone: whatever Python code does to an exception object
//! (make one with `BaseException.__new__`, delete or replace its slot), what comes out of the
//! slot is type-checked against the value type before Rust touches it, and the value object
//! drops its value once, like any class instance. A missing or foreign value is a TypeError.
//!
//! ```
//! # #[hpy::module] mod m {
//! # use hpy::exceptions::ValueError;
//! #[hpy::class(extends = ValueError)]
//! pub struct ParseError {
//!     #[hpy(get)]
//!     line: usize,
//!     message: String,
//! }
//!
//! #[hpy::methods]
//! impl ParseError {
//!     #[new]
//!     fn new(line: usize, message: String) -> Self {
//!         ParseError { line, message }
//!     }
//!     fn __str__(&self) -> String {
//!         format!("line {}: {}", self.line, self.message)
//!     }
//! }
//!
//! #[hpy::function]
//! fn parse(text: &str) -> hpy::Result<i64> {
//!     // raised lazily: the exception object is made when the error reaches Python
//!     text.parse().map_err(|_| ParseError { line: 1, message: "not a number".into() }.into())
//! }
//!
//! #[hpy::function]
//! fn line_of(ctx: hpy::Context<'_>, f: hpy::Handle<'_>) -> hpy::Result<Option<usize>> {
//!     match f.call0() {
//!         Err(e) if e.matches(ctx, ParseError::TYPE) => Ok(Some(e.value_as::<ParseError>(ctx)?.borrow()?.line)),
//!         Err(e) => Err(e),
//!         Ok(_) => Ok(None),
//!     }
//! }
//! # }
//! # fn main() {}
//! ```

use crate::class::{Class, NoBase};
use crate::err::ExceptionType;
use crate::exceptions::{RuntimeError, TypeError};
use crate::global::Global;
use crate::handle::Handle;
use crate::kinds::{Module, Tuple, Type};
use crate::{Context, Error, Result};

/// A `#[hpy::class(extends = SomeException)]`: a Rust type whose Python class is an exception
/// class. Implemented by `#[hpy::class]`; not by hand.
///
/// `Handle<'_, T>` of such a class is its *value object* (see the [module docs](self)), not the
/// exception: from an exception object, get it with [`Handle::exception_value`] or
/// [`Error::value_as`].
pub trait ExceptionClass: Class<Base = NoBase> + Send {
    /// The Python exception class, for [`Error::matches`] and [`Context::exception`].
    const TYPE: ExceptionType;

    /// The global holding the exception class once the module has created it.
    #[doc(hidden)]
    fn exception_global() -> &'static Global;

    /// The global holding `(make, value_of)`, the class's Python helpers (see `DEFINE`).
    #[doc(hidden)]
    fn helpers_global() -> &'static Global;
}

impl<'ctx, K> Handle<'ctx, K> {
    /// The value object of this exception, an instance of the exception class `T` (or of a
    /// Python subclass of it): TypeError if it is another object, or an instance that holds no
    /// value (made by `BaseException.__new__`, or its value removed from Python).
    ///
    /// ```
    /// # #[hpy::module] mod m {
    /// # use hpy::exceptions::ValueError;
    /// # #[hpy::class(extends = ValueError)] pub struct ParseError { line: usize }
    /// # #[hpy::function]
    /// # fn line_of(exc: hpy::Handle<'_>) -> hpy::Result<usize> {
    /// let line = exc.exception_value::<ParseError>()?.borrow()?.line;
    /// # Ok(line)
    /// # }
    /// # }
    /// # fn main() {}
    /// ```
    pub fn exception_value<T: ExceptionClass>(&self) -> Result<Handle<'ctx, T>> {
        let ctx = self.ctx();
        let obj = self.as_any();
        let cls = created(ctx, T::exception_global(), T::NAME)?.downcast_into::<Type>()?;
        if !obj.is_instance(&cls) {
            return Err(Error::wrong_type(T::NAME, obj));
        }
        let value = helper(ctx, T::helpers_global(), T::NAME, VALUE_OF)?.call1(obj)?;
        // The slot may hold anything Python code put there: only a value object of `T` is one.
        value.downcast_into::<T>().map_err(|_| {
            TypeError::new_err(format!(
                "this {0} exception holds no Rust value: it was not made by {0}(...) or raised from Rust, \
                 or its value was removed",
                T::NAME
            ))
        })
    }
}

/// What [`Error::with_value`] keeps until the error is raised: the value, and the exception's
/// `args`. The value sits in a `Mutex` only so that the error is `Sync` for a `T` that is only
/// `Send`: it is never shared, only moved out once.
pub(crate) struct Carried<T> {
    value: std::sync::Mutex<T>,
    args: Box<dyn crate::ExceptionArgs>,
}

/// A value waiting in a lazy [`Error`] to become an exception object.
pub(crate) trait CarriedValue: Send + Sync {
    /// The exception class.
    fn ty(&self) -> ExceptionType;
    /// The `args` it will be made with, for the error's `Display`.
    fn args(&self) -> &dyn crate::ExceptionArgs;
    /// The exception object (not raised).
    fn into_exception<'ctx>(self: Box<Self>, ctx: Context<'ctx>) -> Result<Handle<'ctx>>;
}

impl<T: ExceptionClass> Carried<T> {
    pub(crate) fn new(value: T, args: impl crate::ExceptionArgs) -> Self {
        Carried { value: std::sync::Mutex::new(value), args: Box::new(args) }
    }
}

impl<T: ExceptionClass> CarriedValue for Carried<T> {
    fn ty(&self) -> ExceptionType {
        T::TYPE
    }

    fn args(&self) -> &dyn crate::ExceptionArgs {
        &*self.args
    }

    fn into_exception<'ctx>(self: Box<Self>, ctx: Context<'ctx>) -> Result<Handle<'ctx>> {
        let Carried { value, args } = *self;
        // (Never locked, so never poisoned.)
        let value = value.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
        let args = args.into_args(ctx)?;
        make_exception(ctx, value, &args)
    }
}

/// A new exception object of class `T` holding `value`, with `args` as its `args` (not raised):
/// what returning a `T` to Python makes.
#[doc(hidden)]
pub fn new_exception<T: ExceptionClass>(ctx: Context<'_>, value: T, args: impl crate::ExceptionArgs) -> Result<Handle<'_>> {
    let args = Box::new(args).into_args(ctx)?;
    make_exception(ctx, value, &args)
}

fn make_exception<'ctx, T: ExceptionClass>(ctx: Context<'ctx>, value: T, args: &Handle<'ctx, Tuple>) -> Result<Handle<'ctx>> {
    let make = helper(ctx, T::helpers_global(), T::NAME, MAKE)?;
    let data = ctx.instance(value)?;
    make.call((data, args))
}

/// Index of `make(value_object, args)` in the helpers tuple.
const MAKE: usize = 0;
/// Index of `value_of(exception)` (the slot's content, or None).
const VALUE_OF: usize = 1;

fn created<'ctx>(ctx: Context<'ctx>, global: &'static Global, name: &str) -> Result<Handle<'ctx>> {
    global
        .load(ctx)
        .ok_or_else(|| RuntimeError::new_err(format!("the {name} exception class is not created yet (is its module imported?)")))
}

fn helper<'ctx>(ctx: Context<'ctx>, global: &'static Global, name: &str, index: usize) -> Result<Handle<'ctx>> {
    created(ctx, global, name)?.get_index(index)
}

/// Python code making the exception class of a value type (see the module docs); compiled once
/// per class at import. HPy 0.9 has no API for any of it (slots, properties, a subclass of an
/// exception) but running Python code.
const DEFINE: &core::ffi::CStr = c"
def define(name, module, doc, base, value_type, names, has_new):
    cls = slot = None

    def value_of(exc):
        try:
            return slot.__get__(exc, cls)
        except AttributeError:
            return None

    def value(self):
        data = value_of(self)
        if type(data) is not value_type:
            raise TypeError('this %s exception holds no Rust value: it was not made by %s(...) or raised '
                            'from Rust, or its value was removed' % (name, name))
        return data

    def method(attr_name, descr):
        def forward(self, *args, **kwargs):
            data = value(self)
            result = descr.__get__(data, value_type)(*args, **kwargs)
            # the value object stays hidden: a method returning it returns the exception
            return self if result is data else result
        forward.__name__ = attr_name
        forward.__qualname__ = name + '.' + attr_name
        forward.__doc__ = getattr(descr, '__doc__', None)
        return forward

    def prop(descr):
        def fget(self):
            data = value(self)
            result = descr.__get__(data, value_type)
            return self if result is data else result
        def fset(self, new):
            descr.__set__(value(self), new)
        def fdel(self):
            descr.__delete__(value(self))
        return property(fget, fset, fdel, getattr(descr, '__doc__', None))

    ns = {'__module__': module, '__qualname__': name, '__doc__': doc}
    own = value_type.__dict__
    for n in names:
        # (in the type's own dict; the runtime may keep a slot's method elsewhere)
        attr = own[n] if n in own else getattr(value_type, n)
        kind = type(attr)
        if isinstance(attr, (staticmethod, classmethod)) or not hasattr(kind, '__get__'):
            ns[n] = attr  # static and class methods (their cls is the exception class), class attributes
        elif hasattr(kind, '__set__'):
            ns[n] = prop(attr)
        else:
            ns[n] = method(n, attr)

    if has_new:
        def __new__(cls_, *args, **kwargs):
            data = value_type(*args, **kwargs)
            self = base.__new__(cls_, *args)
            slot.__set__(self, data)
            return self

        def __init__(self, *args, **kwargs):
            base.__init__(self, *args)

        ns['__new__'] = __new__
        ns['__init__'] = __init__
    else:
        def __new__(cls_, *args, **kwargs):
            raise TypeError(\"cannot create '%s' instances: the class defines no constructor\" % name)

        def __reduce__(self):
            raise TypeError(\"cannot pickle '%s' object: the class has no constructor to rebuild it with\" % name)

        ns['__new__'] = __new__
        ns['__reduce__'] = __reduce__

    # A weak reference slot as a Python subclass of an exception has, unless the base has one.
    try:
        cls = type(base)(name, (base,), dict(ns, __slots__=('__hpy_value__', '__weakref__')))
    except TypeError:
        cls = type(base)(name, (base,), dict(ns, __slots__=('__hpy_value__',)))
    slot = cls.__dict__['__hpy_value__']

    def make(data, args):
        self = base.__new__(cls, *args)
        base.__init__(self, *args)
        slot.__set__(self, data)
        return self

    return cls, (make, value_of)
";

/// Create the exception class of `T` (called by `#[hpy::module]`'s exec, after `T`'s value
/// type, `value_type`, is complete): named `module_name.T`, subclass of `base`, forwarding the
/// Python names `names` (properties, methods, class attributes) to the value object; store it
/// and set it as the module attribute (in place of the value type).
#[doc(hidden)]
#[allow(clippy::too_many_arguments)]
pub fn create<'ctx, T: ExceptionClass>(
    ctx: Context<'ctx>,
    module: &Handle<'ctx, Module>,
    value_type: &Handle<'ctx>,
    module_name: &str,
    doc: Option<&'static core::ffi::CStr>,
    base: ExceptionType,
    names: &[&str],
    has_new: bool,
) -> Result<()> {
    base.check_created(ctx, T::NAME)?;
    let namespace = crate::err::exec_python(ctx, DEFINE)?;
    let doc = doc.map(|d| d.to_string_lossy());
    let names = names.iter().map(|n| ctx.object(*n)).collect::<Result<Vec<_>>>()?;
    let made = namespace.get_item("define")?.call((
        T::NAME,
        module_name,
        doc,
        ctx.exception(base),
        value_type,
        names,
        has_new,
    ))?;
    let cls = made.get_index(0)?;
    T::exception_global().store(ctx, &cls);
    T::helpers_global().store(ctx, &made.get_index(1)?);
    module.setattr(T::NAME, &cls)
}

impl Error {
    /// An exception of class `T` (an `#[hpy::class(extends = SomeException)]`) holding `value`,
    /// with `args` as its `args`: made and raised when the error reaches Python, so the error
    /// stays `Send + Sync + 'static`. `value.into()` (`Error::from`) is the same with no
    /// `args`; give the `#[new]` constructor's arguments as `args` to let the exception be
    /// pickled (unpickling calls the class with them).
    pub fn with_value<T: ExceptionClass>(value: T, args: impl crate::ExceptionArgs) -> Self {
        Error::carrying(Box::new(Carried::new(value, args)))
    }

    /// The value object of this error's exception, an instance of the exception class `T`
    /// (or of a Python subclass): `Err(self)` as it was (raised again) if the exception is
    /// not a `T`, TypeError if it is one that holds no value (see
    /// [`Handle::exception_value`]). A pending error is taken out of the interpreter first.
    ///
    /// ```
    /// # #[hpy::module] mod m {
    /// # use hpy::exceptions::ValueError;
    /// # #[hpy::class(extends = ValueError)] pub struct ParseError { line: usize }
    /// # #[hpy::function]
    /// # fn line_of(ctx: hpy::Context<'_>, f: hpy::Handle<'_>) -> hpy::Result<Option<usize>> {
    /// match f.call0() {
    ///     Err(e) if e.matches(ctx, ParseError::TYPE) => {
    ///         let line = e.value_as::<ParseError>(ctx)?.borrow()?.line;
    ///         Ok(Some(line))
    ///     }
    ///     Err(e) => Err(e),
    ///     Ok(_) => Ok(None),
    /// }
    /// # }
    /// # }
    /// # fn main() {}
    /// ```
    pub fn value_as<T: ExceptionClass>(self, ctx: Context<'_>) -> Result<Handle<'_, T>> {
        let exc = self.into_value(ctx)?;
        let cls = created(ctx, T::exception_global(), T::NAME)?.downcast_into::<Type>()?;
        if !exc.is_instance(&cls) {
            return Err(Error::from_value(&exc));
        }
        exc.exception_value::<T>()
    }
}
