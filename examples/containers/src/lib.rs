//! Container protocols as Python classes: `IntList`, a sequence of 64-bit integers that Python
//! can index, slice-free assign, delete from and iterate; `StrMap`, a `str -> str` mapping; and
//! `Counter`, a callable object.
#![forbid(unsafe_code)]

use std::sync::atomic::{AtomicUsize, Ordering};

/// How many Rust values of this module's classes are alive (dropped values are subtracted), so
/// the tests can check that Python frees them.
static LIVE: AtomicUsize = AtomicUsize::new(0);

/// A field that counts its owner in [`LIVE`] from construction to drop.
#[derive(Debug)]
struct LiveToken;

impl LiveToken {
    fn new() -> Self {
        LIVE.fetch_add(1, Ordering::Relaxed);
        LiveToken
    }
}

impl Clone for LiveToken {
    fn clone(&self) -> Self {
        LiveToken::new()
    }
}

impl Drop for LiveToken {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Sequences, mappings and callables implemented in Rust.
#[hpy::module]
mod containers {
    use std::collections::BTreeMap;

    use hpy::exceptions::{IndexError, KeyError, OverflowError};
    use hpy::{Context, Handle, Result};

    use super::{LiveToken, LIVE};

    /// How many `IntList`, `StrMap` and `Counter` values are alive.
    #[hpy::function]
    fn live_objects() -> usize {
        LIVE.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// A list of 64-bit integers. Python code may subclass it.
    #[hpy::class(subclass)]
    struct IntList {
        items: Vec<i64>,
        _live: LiveToken,
    }

    impl IntList {
        /// The position of Python index `index` (negative counts from the end), if in range.
        fn position(&self, index: isize) -> Option<usize> {
            let len = self.items.len() as isize;
            let i = if index < 0 { index + len } else { index };
            (0..len).contains(&i).then_some(i as usize)
        }
    }

    #[hpy::methods]
    impl IntList {
        #[new]
        #[hpy(signature = (values = None))]
        fn new(values: Option<Vec<i64>>) -> Self {
            IntList { items: values.unwrap_or_default(), _live: LiveToken::new() }
        }

        /// Add `value` at the end.
        fn append(&mut self, value: i64) {
            self.items.push(value);
        }

        /// The items as a Python list.
        fn to_list(&self) -> Vec<i64> {
            self.items.clone()
        }

        /// Replace every item `x` by `func(x)`. `func` runs while the list is mutably
        /// borrowed: if it touches the list, it gets a RuntimeError.
        fn map_in_place(&mut self, func: &Handle<'_>) -> Result<()> {
            for item in self.items.iter_mut() {
                *item = func.call1(*item)?.extract()?;
            }
            Ok(())
        }

        fn __len__(&self) -> usize {
            self.items.len()
        }

        fn __getitem__(&self, index: isize) -> Result<i64> {
            match self.position(index) {
                Some(i) => Ok(self.items[i]),
                None => Err(IndexError::new_err("IntList index out of range")),
            }
        }

        fn __setitem__(&mut self, index: isize, value: i64) -> Result<()> {
            match self.position(index) {
                Some(i) => {
                    self.items[i] = value;
                    Ok(())
                }
                None => Err(IndexError::new_err("IntList assignment index out of range")),
            }
        }

        fn __delitem__(&mut self, index: isize) -> Result<()> {
            match self.position(index) {
                Some(i) => {
                    self.items.remove(i);
                    Ok(())
                }
                None => Err(IndexError::new_err("IntList deletion index out of range")),
            }
        }

        /// `x in list`: like `list`, anything that is not a 64-bit int is simply not there.
        fn __contains__(&self, item: &Handle<'_>) -> bool {
            match item.extract::<i64>() {
                Ok(v) => self.items.contains(&v),
                Err(e) => {
                    e.clear(item.ctx());
                    false
                }
            }
        }

        /// `list += values`: extend from any sequence of ints (a list, a tuple, an IntList).
        fn __iadd__(&mut self, values: Vec<i64>) {
            self.items.extend(values);
        }

        fn __eq__(&self, other: &Handle<'_, IntList>) -> Result<bool> {
            Ok(self.items == other.borrow()?.items)
        }

        fn __repr__(&self) -> String {
            format!("IntList({:?})", self.items)
        }
    }

    /// A mapping from `str` keys to `str` values, kept in key order.
    #[hpy::class]
    struct StrMap {
        items: BTreeMap<String, String>,
        _live: LiveToken,
    }

    #[hpy::methods]
    impl StrMap {
        #[new]
        #[hpy(signature = (items = None))]
        fn new(items: Option<BTreeMap<String, String>>) -> Self {
            StrMap { items: items.unwrap_or_default(), _live: LiveToken::new() }
        }

        /// The keys, sorted, as a list.
        fn keys(&self) -> Vec<String> {
            self.items.keys().cloned().collect()
        }

        /// The `(key, value)` pairs, sorted by key, as a list of tuples.
        fn items(&self) -> Vec<(String, String)> {
            self.items.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
        }

        /// The value for `key`, or `default` (any object) if `key` is missing.
        #[hpy(signature = (key, default = None))]
        fn get<'ctx>(&self, ctx: Context<'ctx>, key: &str, default: Option<Handle<'ctx>>) -> Result<Handle<'ctx>> {
            match (self.items.get(key), default) {
                (Some(value), _) => hpy::IntoHPy::into_hpy(value.as_str(), ctx),
                (None, Some(default)) => Ok(default),
                (None, None) => Ok(ctx.none().to_owned().into_any()),
            }
        }

        fn __len__(&self) -> usize {
            self.items.len()
        }

        fn __getitem__(&self, key: &str) -> Result<String> {
            self.items.get(key).cloned().ok_or_else(|| KeyError::new_err(key.to_owned()))
        }

        fn __setitem__(&mut self, key: String, value: String) {
            self.items.insert(key, value);
        }

        fn __delitem__(&mut self, key: &str) -> Result<()> {
            match self.items.remove(key) {
                Some(_) => Ok(()),
                None => Err(KeyError::new_err(key.to_owned())),
            }
        }

        /// `key in map`; the keys are `str`, so other types raise TypeError.
        fn __contains__(&self, key: &str) -> bool {
            self.items.contains_key(key)
        }

        /// `StrMap({'key': 'value', ...})`, quoting like Python.
        fn __repr__(&self, ctx: Context<'_>) -> Result<String> {
            let dict = hpy::IntoHPy::into_hpy(self.items.clone(), ctx)?;
            Ok(format!("StrMap({})", dict.repr()?.to_str()?))
        }
    }

    /// A callable that counts its calls and adds up their arguments.
    #[hpy::class]
    struct Counter {
        /// How many times the counter was called.
        #[hpy(get)]
        calls: u64,
        /// The sum of the arguments of all calls, plus the start value.
        #[hpy(get)]
        total: i64,
        _live: LiveToken,
    }

    #[hpy::methods]
    impl Counter {
        #[new]
        #[hpy(signature = (start = 0))]
        fn new(start: i64) -> Self {
            Counter { calls: 0, total: start, _live: LiveToken::new() }
        }

        /// Forget the calls and set the total back to 0.
        fn reset(&mut self) {
            self.calls = 0;
            self.total = 0;
        }

        /// `counter(by=1)`: count the call, add `by` to the total and return the new total.
        #[hpy(signature = (by = 1))]
        fn __call__(&mut self, by: i64) -> Result<i64> {
            let total = self
                .total
                .checked_add(by)
                .ok_or_else(|| OverflowError::new_err("Counter total overflows 64 bits"))?;
            self.total = total;
            self.calls += 1;
            Ok(total)
        }

        /// A counter is true once it has been called.
        fn __bool__(&self) -> bool {
            self.calls > 0
        }

        fn __repr__(&self) -> String {
            format!("Counter(calls={}, total={})", self.calls, self.total)
        }
    }
}
