//! 2D geometry as Python classes: an immutable `Vector` with arithmetic operators, equality
//! and hashing, and a mutable `Point` that Python code may subclass.
#![forbid(unsafe_code)]

/// Points and vectors in the plane.
#[hpy::module]
mod geometry {
    use hpy::exceptions::ZeroDivisionError;
    use hpy::{Handle, Result, Type};

    /// An immutable 2D vector.
    #[hpy::class(frozen)]
    #[derive(Clone, Copy, PartialEq, Debug)]
    struct Vector {
        /// The x component.
        #[hpy(get)]
        x: f64,
        /// The y component.
        #[hpy(get)]
        y: f64,
    }

    #[hpy::methods]
    impl Vector {
        #[new]
        #[hpy(signature = (x = 0.0, y = 0.0))]
        fn new(x: f64, y: f64) -> Self {
            Vector { x, y }
        }

        /// The Euclidean length.
        fn norm(&self) -> f64 {
            self.x.hypot(self.y)
        }

        /// This vector scaled to length 1.
        fn normalized(&self) -> Result<Vector> {
            self.__truediv__(self.norm())
        }

        /// The zero vector.
        #[staticmethod]
        fn zero() -> Vector {
            Vector { x: 0.0, y: 0.0 }
        }

        /// A vector from an `(x, y)` tuple.
        #[classmethod]
        fn from_tuple(cls: &Handle<'_, Type>, xy: (f64, f64)) -> Vector {
            let _ = cls;
            Vector { x: xy.0, y: xy.1 }
        }

        /// `Vector.UNIT_X`, a class attribute.
        #[classattr]
        #[hpy(name = "UNIT_X")]
        fn unit_x() -> Vector {
            Vector { x: 1.0, y: 0.0 }
        }

        fn __add__(&self, other: Vector) -> Vector {
            Vector { x: self.x + other.x, y: self.y + other.y }
        }

        fn __sub__(&self, other: Vector) -> Vector {
            Vector { x: self.x - other.x, y: self.y - other.y }
        }

        fn __mul__(&self, k: f64) -> Vector {
            Vector { x: self.x * k, y: self.y * k }
        }

        fn __rmul__(&self, k: f64) -> Vector {
            self.__mul__(k)
        }

        fn __truediv__(&self, k: f64) -> Result<Vector> {
            if k == 0.0 {
                return Err(ZeroDivisionError::new_err("cannot divide a Vector by zero"));
            }
            Ok(Vector { x: self.x / k, y: self.y / k })
        }

        /// `a @ b` is the dot product.
        fn __matmul__(&self, other: Vector) -> f64 {
            self.x * other.x + self.y * other.y
        }

        fn __neg__(&self) -> Vector {
            Vector { x: -self.x, y: -self.y }
        }

        fn __abs__(&self) -> f64 {
            self.norm()
        }

        fn __bool__(&self) -> bool {
            self.x != 0.0 || self.y != 0.0
        }

        fn __eq__(&self, other: Vector) -> bool {
            self == &other
        }

        fn __hash__(&self) -> isize {
            // equal vectors hash equal; -0.0 == 0.0, so normalise the sign of zero first
            let bits = |v: f64| if v == 0.0 { 0u64 } else { v.to_bits() };
            (bits(self.x).wrapping_mul(31) ^ bits(self.y)) as isize
        }

        fn __repr__(&self) -> String {
            format!("Vector({:?}, {:?})", self.x, self.y)
        }
    }

    /// A mutable point; Python code may subclass it.
    #[hpy::class(subclass)]
    struct Point {
        /// The x coordinate.
        #[hpy(get, set)]
        x: f64,
        /// The y coordinate.
        #[hpy(get, set)]
        y: f64,
    }

    #[hpy::methods]
    impl Point {
        #[new]
        fn new(x: f64, y: f64) -> Self {
            Point { x, y }
        }

        /// Move the point by `v`.
        fn move_by(&mut self, v: Vector) {
            self.x += v.x;
            self.y += v.y;
        }

        /// Set `x` to `func(x)`. `func` runs while the point is mutably borrowed, so if it
        /// touches the point, it gets a RuntimeError instead of a second `&mut`.
        fn update_x(&mut self, func: &Handle<'_>) -> Result<()> {
            self.x = func.call1(self.x)?.extract()?;
            Ok(())
        }

        /// The distance to `other`.
        fn distance(&self, other: &Handle<'_, Point>) -> Result<f64> {
            let other = other.borrow()?;
            Ok((self.x - other.x).hypot(self.y - other.y))
        }

        /// The vector from the origin to this point.
        #[getter]
        fn position(&self) -> Vector {
            Vector { x: self.x, y: self.y }
        }

        #[setter]
        fn set_position(&mut self, v: Vector) {
            self.x = v.x;
            self.y = v.y;
        }

        fn __iadd__(&mut self, v: Vector) {
            self.move_by(v)
        }

        fn __sub__(&self, other: &Handle<'_, Point>) -> Result<Vector> {
            let other = other.borrow()?;
            Ok(Vector { x: self.x - other.x, y: self.y - other.y })
        }

        fn __eq__(&self, other: &Handle<'_, Point>) -> Result<bool> {
            let other = other.borrow()?;
            Ok(self.x == other.x && self.y == other.y)
        }

        fn __repr__(&self) -> String {
            format!("Point({:?}, {:?})", self.x, self.y)
        }
    }

    /// A polyline: points stored as flat `[x0, y0, x1, y1, ...]` doubles, exported through the
    /// buffer protocol (`memoryview(line)` sees the doubles without copying).
    #[hpy::class]
    struct Polyline {
        coords: Vec<f64>,
    }

    #[hpy::methods]
    impl Polyline {
        #[new]
        fn new() -> Self {
            Polyline { coords: Vec::new() }
        }

        /// Append the point `(x, y)`.
        fn append(&mut self, x: f64, y: f64) {
            self.coords.extend([x, y]);
        }

        /// The total length.
        fn length(&self) -> f64 {
            self.coords
                .chunks_exact(2)
                .zip(self.coords.chunks_exact(2).skip(1))
                .map(|(a, b)| (b[0] - a[0]).hypot(b[1] - a[1]))
                .sum()
        }

        fn __len__(&self) -> usize {
            self.coords.len() / 2
        }

        fn __buffer__(&self) -> &[f64] {
            &self.coords
        }
    }

    /// A length in meters: a Python `float` (it extends the built-in type) with methods.
    #[hpy::class(extends = float)]
    struct Meters {}

    #[hpy::methods]
    impl Meters {
        /// `Meters(2.5)`: the argument goes to `float.__new__` too.
        #[new]
        fn new(value: f64) -> Result<Self> {
            if !value.is_finite() {
                return Err(hpy::exceptions::ValueError::new_err("a length must be finite"));
            }
            Ok(Meters {})
        }

        /// The length in feet.
        fn feet(slf: &Handle<'_, Self>) -> Result<f64> {
            Ok(slf.as_any().extract::<f64>()? / 0.3048)
        }

        fn __repr__(slf: &Handle<'_, Self>) -> Result<String> {
            Ok(format!("Meters({:?})", slf.as_any().extract::<f64>()?))
        }
    }
}
