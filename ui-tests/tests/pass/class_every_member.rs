//! Classes using every kind of member: class options, `#[hpy(get, set)]` fields, `Field`s, a
//! `#[new]` with a signature, `&self`/`&mut self`/`slf` methods with a context parameter,
//! properties, static and class methods, class attributes, renamed methods and every family of
//! protocol method, in a crate that forbids `unsafe`: the macros need no `unsafe` in user code.
#![forbid(unsafe_code)]

/// Every kind of class member.
#[hpy::module]
mod members {
    use hpy::exceptions::{IndexError, KeyError};
    use hpy::{CompareOp, Context, Field, Handle, List, Result, Type};

    /// A mutable class that Python may subclass, with object references in fields.
    #[hpy::class(name = "Everything", subclass)]
    struct Everything {
        /// Readable and writable from Python.
        #[hpy(get, set)]
        count: i64,
        /// Read-only from Python.
        #[hpy(get)]
        label: String,
        items: Vec<i64>,
        payload: Field,
        history: Field<List>,
    }

    #[hpy::methods]
    impl Everything {
        #[new]
        #[hpy(signature = (label, count = 0, *, items = None))]
        fn new(label: String, count: i64, items: Option<Vec<i64>>) -> Self {
            Everything { count, label, items: items.unwrap_or_default(), payload: Field::new(), history: Field::new() }
        }

        /// A `&self` method.
        fn total(&self) -> i64 {
            self.items.iter().sum::<i64>() + self.count
        }

        /// A `&mut self` method returning a `Result`.
        fn push(&mut self, x: i64) -> Result<usize> {
            self.items.push(x);
            Ok(self.items.len())
        }

        /// A method receiving the instance's handle and the context, using the fields.
        fn remember<'ctx>(slf: &Handle<'ctx, Self>, ctx: Context<'ctx>, value: &Handle<'ctx>) -> Result<()> {
            let me = slf.borrow()?;
            me.payload.store(slf, value)?;
            let history = match me.history.load(slf)? {
                Some(list) => list,
                None => {
                    let list = ctx.list()?;
                    me.history.store(slf, &list)?;
                    list
                }
            };
            history.append(value)
        }

        /// The remembered object, if any.
        fn recall<'ctx>(slf: &Handle<'ctx, Self>) -> Result<Option<Handle<'ctx>>> {
            slf.borrow()?.payload.load(slf)
        }

        /// Renamed, with keyword arguments.
        #[hpy(name = "scaled_total", signature = (factor = 1, *, offset = 0))]
        fn scaled(&self, factor: i64, offset: i64) -> i64 {
            self.total() * factor + offset
        }

        /// A computed property.
        #[getter]
        fn size(&self) -> usize {
            self.items.len()
        }

        #[setter]
        fn set_size(&mut self, n: usize) {
            self.items.resize(n, 0);
        }

        /// A property with an explicit name.
        #[getter(first)]
        fn first_item(&self) -> Option<i64> {
            self.items.first().copied()
        }

        #[staticmethod]
        fn double(x: i64) -> i64 {
            2 * x
        }

        #[classmethod]
        fn labelled(cls: &Handle<'_, Type>, label: String) -> Everything {
            let _ = cls;
            Everything::new(label, 0, None)
        }

        #[classattr]
        #[hpy(name = "LIMIT")]
        fn limit() -> i64 {
            100
        }

        fn __repr__(&self) -> String {
            format!("Everything({:?})", self.label)
        }

        fn __str__(&self) -> String {
            self.label.clone()
        }

        fn __int__(&self) -> i64 {
            self.count
        }

        fn __float__(&self) -> f64 {
            self.count as f64
        }

        fn __index__(&self) -> i64 {
            self.count
        }

        fn __neg__(&self) -> i64 {
            -self.count
        }

        fn __pos__(&self) -> i64 {
            self.count
        }

        fn __abs__(&self) -> i64 {
            self.count.abs()
        }

        fn __invert__(&self) -> i64 {
            !self.count
        }

        fn __hash__(&self) -> isize {
            self.count as isize
        }

        fn __len__(&self) -> usize {
            self.items.len()
        }

        fn __bool__(&self) -> bool {
            !self.items.is_empty()
        }

        fn __getitem__(&self, i: usize) -> Result<i64> {
            self.items.get(i).copied().ok_or_else(|| IndexError::new_err("index out of range"))
        }

        fn __setitem__(&mut self, i: usize, v: i64) -> Result<()> {
            match self.items.get_mut(i) {
                Some(slot) => {
                    *slot = v;
                    Ok(())
                }
                None => Err(IndexError::new_err("index out of range")),
            }
        }

        fn __delitem__(&mut self, i: usize) -> Result<()> {
            if i >= self.items.len() {
                return Err(KeyError::new_err("no such item"));
            }
            self.items.remove(i);
            Ok(())
        }

        fn __contains__(&self, x: i64) -> bool {
            self.items.contains(&x)
        }

        fn __call__(&self, a: i64, b: Option<i64>) -> i64 {
            a + b.unwrap_or(self.count)
        }

        fn __del__(&self) {}

        fn __add__(&self, other: i64) -> i64 {
            self.count + other
        }

        fn __radd__(&self, other: i64) -> i64 {
            other + self.count
        }

        fn __sub__(&self, other: i64) -> i64 {
            self.count - other
        }

        fn __rsub__(&self, other: i64) -> i64 {
            other - self.count
        }

        fn __mul__(&self, other: i64) -> i64 {
            self.count * other
        }

        fn __matmul__(&self, other: Vec<i64>) -> i64 {
            self.items.iter().zip(other).map(|(a, b)| a * b).sum()
        }

        fn __truediv__(&self, other: f64) -> f64 {
            self.count as f64 / other
        }

        fn __floordiv__(&self, other: i64) -> i64 {
            self.count.div_euclid(other)
        }

        fn __mod__(&self, other: i64) -> i64 {
            self.count.rem_euclid(other)
        }

        fn __divmod__(&self, other: i64) -> (i64, i64) {
            (self.count.div_euclid(other), self.count.rem_euclid(other))
        }

        fn __lshift__(&self, n: u32) -> i64 {
            self.count << n
        }

        fn __rshift__(&self, n: u32) -> i64 {
            self.count >> n
        }

        fn __and__(&self, other: i64) -> i64 {
            self.count & other
        }

        fn __or__(&self, other: i64) -> i64 {
            self.count | other
        }

        fn __xor__(&self, other: i64) -> i64 {
            self.count ^ other
        }

        fn __rpow__(&self, base: i64) -> i64 {
            base.pow(self.count as u32)
        }

        fn __iadd__(&mut self, other: i64) {
            self.count += other;
        }

        fn __isub__(&mut self, other: i64) -> Result<()> {
            self.count -= other;
            Ok(())
        }

        fn __ior__(&mut self, other: i64) {
            self.count |= other;
        }

        fn __eq__(&self, other: i64) -> bool {
            self.count == other
        }

        fn __lt__(&self, other: i64) -> bool {
            self.count < other
        }

        fn __ge__(&self, other: i64) -> bool {
            self.count >= other
        }
    }

    #[hpy::methods]
    impl Everything {
        /// A second `#[hpy::methods]` block for the same class.
        fn clear(&mut self) {
            self.items.clear();
        }
    }

    /// An immutable class with one rich comparison and a `Clone` value (taken by value).
    #[hpy::class(frozen)]
    #[derive(Clone)]
    struct Version {
        #[hpy(get)]
        major: u32,
        #[hpy(get)]
        minor: u32,
    }

    #[hpy::methods]
    impl Version {
        #[new]
        fn new(major: u32, minor: u32) -> Self {
            Version { major, minor }
        }

        fn bumped(&self) -> Version {
            Version { major: self.major, minor: self.minor + 1 }
        }

        fn __richcmp__(&self, other: Version, op: CompareOp) -> bool {
            let (a, b) = ((self.major, self.minor), (other.major, other.minor));
            match op {
                CompareOp::Lt => a < b,
                CompareOp::Le => a <= b,
                CompareOp::Eq => a == b,
                CompareOp::Ne => a != b,
                CompareOp::Gt => a > b,
                CompareOp::Ge => a >= b,
            }
        }

        fn __pow__(&self, n: u32) -> u32 {
            self.major.pow(n)
        }
    }

    /// A class extending a built-in type.
    #[hpy::class(extends = float)]
    struct Measured {
        #[hpy(get)]
        unit: String,
    }

    /// A class with no methods block at all.
    #[hpy::class]
    struct Empty {}
}

fn main() {}
