//! The hpy-rs quickstart: one universal HPy module, written in safe Rust.
//!
//! Build it with `cargo build -p quickstart` and copy `libquickstart.so` to `quickstart.hpy0.so`
//! (or run `make demo`). The same file then loads on every CPython with the `hpy` runtime, in
//! universal, debug and trace mode.
#![forbid(unsafe_code)]

/// The hpy-rs quickstart module: functions with every kind of parameter, errors, a module
/// global, a call back into Python, and releasing the GIL.
#[hpy::module]
mod quickstart {
    use std::collections::BTreeMap;

    use hpy::exceptions::{OverflowError, ValueError, ZeroDivisionError};
    use hpy::{Context, Dict, ExceptionType, Global, Handle, Module, Result, Tuple, Unicode};

    /// Add two 64-bit integers.
    #[hpy::function]
    fn add(a: i64, b: i64) -> Result<i64> {
        a.checked_add(b).ok_or_else(|| OverflowError::new_err("add() result does not fit in 64 bits"))
    }

    /// Divide, raising ZeroDivisionError for a zero divisor.
    #[hpy::function]
    fn divide(a: f64, b: f64) -> Result<f64> {
        if b == 0.0 {
            return Err(ZeroDivisionError::new_err("division by zero"));
        }
        Ok(a / b)
    }

    /// Say hello to `name` (one positional argument).
    #[hpy::function]
    fn hello(name: &str) -> String {
        format!("Hello, {name}!")
    }

    /// A greeting with a default and a keyword-only parameter.
    #[hpy::function(signature = (name, greeting = "Hello", *, punctuation = "!"))]
    fn greet(name: &str, greeting: &str, punctuation: &str) -> String {
        format!("{greeting}, {name}{punctuation}")
    }

    /// Count positional and keyword arguments (`*args`, `**kwargs`).
    #[hpy::function(signature = (*args, **kwargs))]
    fn count_args(args: &Handle<'_, Tuple>, kwargs: Option<&Handle<'_, Dict>>) -> Result<(usize, usize)> {
        Ok((args.len()?, kwargs.map_or(Ok(0), |k| k.len())?))
    }

    /// Mean, minimum and maximum of a sequence of numbers. A NaN anywhere makes all three NaN
    /// (as in numpy): it is never skipped. Infinities count as numbers (the mean of `inf` and
    /// `-inf` is NaN).
    #[hpy::function]
    fn stats(values: Vec<f64>) -> Result<(f64, f64, f64)> {
        if values.is_empty() {
            return Err(ValueError::new_err("stats() of an empty sequence"));
        }
        if values.iter().any(|v| v.is_nan()) {
            return Ok((f64::NAN, f64::NAN, f64::NAN));
        }
        let count = values.len() as f64;
        let min = values.iter().copied().fold(f64::INFINITY, f64::min);
        let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let sum: f64 = values.iter().sum();
        if !(min.is_finite() && max.is_finite()) {
            return Ok((sum / count, min, max));
        }
        // The mean of finite values is finite even where their sum overflows: then add the
        // values' shares. And it lies between their min and max, which rounding alone can miss
        // (`0.1 + 0.1 + 0.1` is `0.30000000000000004`, a third of which is more than 0.1).
        let mean = if sum.is_finite() { sum / count } else { values.iter().map(|v| v / count).sum() };
        Ok((mean.clamp(min, max), min, max))
    }

    /// Python's whitespace, where `str.split()` splits: Unicode's White_Space (Rust's
    /// `char::is_whitespace`) and the separators `\x1c`-`\x1f`, which `str.isspace()` includes.
    fn is_python_whitespace(c: char) -> bool {
        c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
    }

    /// How often each word occurs in `text`, as `collections.Counter(w.lower() for w in
    /// text.split())` counts them (a `BTreeMap`: the dict comes out in sorted order).
    #[hpy::function]
    fn word_counts(ctx: Context<'_>, text: &Handle<'_, Unicode>) -> Result<BTreeMap<String, usize>> {
        // Lowercased by the interpreter's `str.lower`: Rust's `to_lowercase` follows Rust's
        // Unicode version, which lowercases letters that an older Python leaves alone.
        let lowered = ctx.str_type().getattr("lower")?.call1(text)?;
        let mut counts = BTreeMap::new();
        for word in lowered.extract::<&str>()?.split(is_python_whitespace).filter(|w| !w.is_empty()) {
            *counts.entry(word.to_owned()).or_insert(0) += 1;
        }
        Ok(counts)
    }

    /// The bytes in reverse order.
    #[hpy::function]
    fn reverse_bytes(data: &[u8]) -> Vec<u8> {
        data.iter().rev().copied().collect()
    }

    /// Double `x`, or return None for None.
    #[hpy::function]
    fn maybe_double(x: Option<i64>) -> Result<Option<i64>> {
        x.map(|v| v.checked_mul(2).ok_or_else(|| OverflowError::new_err("too large to double"))).transpose()
    }

    /// Call `func(value)` back in Python and return its result.
    #[hpy::function]
    fn apply<'ctx>(func: &Handle<'ctx>, value: &Handle<'ctx>) -> Result<Handle<'ctx>> {
        func.call1(value)
    }

    /// Call `func(*args, **kwargs)` back in Python.
    #[hpy::function(signature = (func, *args, **kwargs))]
    fn call_with<'ctx>(
        ctx: Context<'ctx>,
        func: &Handle<'ctx>,
        args: &Handle<'ctx, Tuple>,
        kwargs: Option<&Handle<'ctx, Dict>>,
    ) -> Result<Handle<'ctx>> {
        let empty;
        let kwargs = match kwargs {
            Some(k) => k,
            None => {
                empty = ctx.dict()?;
                &empty
            }
        };
        func.call_tuple_dict(args, Some(kwargs))
    }

    /// Sum of the squares below `n`, computed with the GIL released.
    #[hpy::function]
    fn sum_of_squares(ctx: Context<'_>, n: u64) -> Result<u64> {
        ctx.allow_threads(move || (0..n).try_fold(0u64, |acc, i| acc.checked_add(i.checked_mul(i)?)))
            .ok_or_else(|| OverflowError::new_err("sum_of_squares() overflows 64 bits"))
    }

    /// How many times this function was called (module state kept in a `Global`).
    static CALLS: Global = Global::new();

    /// Increment and return the call counter.
    #[hpy::function]
    fn counter(ctx: Context<'_>) -> Result<i64> {
        let n: i64 = match CALLS.load(ctx) {
            Some(h) => h.extract()?,
            None => 0,
        } + 1;
        CALLS.store(ctx, &ctx.object(n)?);
        Ok(n)
    }

    /// The module's own exception type, created at import.
    static QUICKSTART_ERROR: Global = Global::new();

    /// Raise `quickstart.QuickstartError(message)`.
    #[hpy::function]
    fn fail(message: String) -> Result<()> {
        Err(ExceptionType::from_global(&QUICKSTART_ERROR).new_err(message))
    }

    /// Panic in Rust: Python sees a RuntimeError, the process survives.
    #[hpy::function]
    fn panics() -> i64 {
        panic!("this is a Rust panic")
    }

    /// The name of the HPy context this call runs with (universal, debug or trace).
    #[hpy::function]
    fn context_name(ctx: Context<'_>) -> String {
        ctx.name().to_string()
    }

    #[hpy::init]
    fn init(ctx: Context<'_>, module: &Handle<'_, Module>) -> Result<()> {
        module.setattr("__version__", "0.1.0")?;
        let error = ctx.new_exception_type("quickstart.QuickstartError", None, Some("Raised by quickstart.fail()."))?;
        QUICKSTART_ERROR.store(ctx, &error);
        module.setattr("QuickstartError", &error)
    }
}
