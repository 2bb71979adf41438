//! The Python module `{{module}}`, written in safe Rust with hpy-rs.
#![forbid(unsafe_code)]

/// {{module}}: a function and a class, written in Rust.
#[hpy::module]
mod {{module}} {
    use hpy::exceptions::{OverflowError, ValueError};
    use hpy::Result;

    /// Greet `name`: `hello("world")` is `"Hello, world!"`.
    #[hpy::function(signature = (name, *, punctuation = "!"))]
    fn hello(name: &str, punctuation: &str) -> Result<String> {
        if name.is_empty() {
            return Err(ValueError::new_err("hello() needs a name"));
        }
        Ok(format!("Hello, {name}{punctuation}"))
    }

    /// A counter: `Counter(start=0)`, `counter.increment(step=1)`, `counter.count`.
    #[hpy::class]
    struct Counter {
        /// The current count.
        #[hpy(get)]
        count: i64,
    }

    #[hpy::methods]
    impl Counter {
        #[new]
        #[hpy(signature = (start = 0))]
        fn new(start: i64) -> Self {
            Counter { count: start }
        }

        /// Add `step` to the count and return the new count.
        #[hpy(signature = (step = 1))]
        fn increment(&mut self, step: i64) -> Result<i64> {
            self.count = self.count.checked_add(step).ok_or_else(|| OverflowError::new_err("Counter overflowed"))?;
            Ok(self.count)
        }

        fn __repr__(&self) -> String {
            format!("Counter({})", self.count)
        }
    }
}
