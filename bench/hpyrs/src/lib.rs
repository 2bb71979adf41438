//! The hpy-rs variant of `make bench`: the same Python API as `bench/c/bench_capi.c`,
//! `bench/c/bench_chpy.c` and `bench/pyo3`, written the way a user would write it.

/// Benchmark module: call overhead, conversions, allocation, a class; and the workloads of
/// bench/workloads.py (an array class, a binary codec).
#[hpy::module]
mod bench_hpyrs {
    use hpy::exceptions::{IndexError, OverflowError, TypeError, ValueError};
    use hpy::{ClassRef, Context, Dict, Float, Handle, List, ListBuilder, Long, Result, SliceOrIndex, Tuple, Unicode};

    #[hpy::function]
    fn noargs() {}

    #[hpy::function]
    fn onearg(x: &Handle<'_>) {
        let _ = x;
    }

    #[hpy::function]
    fn varargs(a: &Handle<'_>, b: &Handle<'_>) {
        let _ = (a, b);
    }

    #[hpy::function(signature = (a, b))]
    fn keywords(a: &Handle<'_>, b: &Handle<'_>) {
        let _ = (a, b);
    }

    #[hpy::function]
    fn add_ints(a: i64, b: i64) -> Result<i64> {
        a.checked_add(b).ok_or_else(|| hpy::exceptions::OverflowError::new_err("add_ints() overflows"))
    }

    #[hpy::function]
    fn call_with_tuple<'ctx>(f: &Handle<'ctx>, args: &Handle<'ctx, Tuple>) -> Result<Handle<'ctx>> {
        f.call_tuple_dict(args, None)
    }

    #[hpy::function]
    fn call_with_tuple_and_dict<'ctx>(
        f: &Handle<'ctx>,
        args: &Handle<'ctx, Tuple>,
        kwargs: &Handle<'ctx, Dict>,
    ) -> Result<Handle<'ctx>> {
        f.call_tuple_dict(args, Some(kwargs))
    }

    #[hpy::function]
    fn allocate_int() -> i64 {
        2048
    }

    #[hpy::function]
    fn allocate_tuple() -> (i64, i64) {
        (2048, 2049)
    }

    static SPEC: hpy::ffi::HPyType_Spec = hpy::ffi::HPyType_Spec {
        name: c"bench_hpyrs.DynamicType".as_ptr(),
        basicsize: 0,
        itemsize: 0,
        flags: hpy::ffi::HPy_TPFLAGS_DEFAULT,
        builtin_shape: hpy::ffi::HPyType_BuiltinShape_Object,
        legacy_slots: core::ptr::null_mut(),
        defines: core::ptr::null_mut(), // no defines, as in the C variant's spec
        doc: core::ptr::null(),
    };

    /// A new type from a static spec on every call (hpy-rs has no public API for types made at
    /// run time: this goes through the raw layer, as C code would).
    #[hpy::function]
    fn make_type(ctx: Context<'_>) -> Result<Handle<'_>> {
        // SAFETY: live context; a complete static spec; no params.
        let raw = unsafe {
            hpy::ffi::HPyType_FromSpec(ctx.as_ptr(), &SPEC as *const _ as *mut _, core::ptr::null_mut())
        };
        // SAFETY: a new handle, or NULL with an exception set.
        unsafe { Handle::from_new(ctx, raw) }
    }

    /// The benchmark class: immutable, like the C ones (`frozen`: `value` is a member, as in C).
    #[hpy::class(frozen)]
    struct Foo {
        #[hpy(get)]
        value: i64,
    }

    #[hpy::methods]
    impl Foo {
        #[new]
        fn new() -> Foo {
            Foo { value: 42 }
        }

        fn noargs(&self) {}

        fn onearg(&self, x: &Handle<'_>) {
            let _ = x;
        }

        fn varargs(&self, a: &Handle<'_>, b: &Handle<'_>) {
            let _ = (a, b);
        }

        fn field(&self) -> i64 {
            self.value
        }

        fn __len__(&self) -> usize {
            42
        }

        fn __getitem__(&self, i: isize) -> isize {
            i
        }
    }

    // =====================================================================================
    // The workloads (bench/workloads.py): an immutable array of doubles and a binary codec.
    // =====================================================================================

    /// An immutable 1-D array of doubles.
    #[hpy::class(frozen)]
    struct Array {
        values: Vec<f64>,
    }

    /// The other operand of an arithmetic operator, once recognised.
    enum Operand<'a> {
        Array(ClassRef<'a, Array>),
        Scalar(f64),
    }

    /// `other` as an operand, or `None` for any other type (then the operator returns
    /// NotImplemented). Checks only, so a foreign operand builds no error; an array first, as
    /// the C variants check.
    fn operand<'a>(other: &'a Handle<'_>) -> Result<Option<Operand<'a>>> {
        if let Some(array) = other.as_kind::<Array>() {
            return Ok(Some(Operand::Array(array.borrow()?)));
        }
        if other.is_kind::<Float>() || other.is_kind::<Long>() {
            // HPyFloat_AsDouble: an int too large for a double raises OverflowError.
            return Ok(Some(Operand::Scalar(other.extract()?)));
        }
        Ok(None)
    }

    impl Array {
        /// `op(x, y)` for each element `x` of `self` and `y` of `other` (an array of the same
        /// length, or a number for every element), as a new array; NotImplemented for any other
        /// operand. Reflected operators pass an `op` with its arguments swapped.
        fn apply<'ctx>(&self, ctx: Context<'ctx>, other: &Handle<'ctx>, op: impl Fn(f64, f64) -> f64) -> Result<Handle<'ctx>> {
            let values = match operand(other)? {
                Some(Operand::Scalar(y)) => self.values.iter().map(|&x| op(x, y)).collect(),
                Some(Operand::Array(b)) => {
                    if b.values.len() != self.values.len() {
                        return Err(ValueError::new_err("Array lengths differ"));
                    }
                    self.values.iter().zip(&b.values).map(|(&x, &y)| op(x, y)).collect()
                }
                None => return Ok(ctx.not_implemented().to_owned()),
            };
            Ok(ctx.instance(Array { values })?.into_any())
        }
    }

    #[hpy::methods]
    impl Array {
        /// `Array(seq)`: `seq` a list or a tuple of floats or ints.
        #[new]
        fn new(seq: &Handle<'_>) -> Result<Array> {
            // `Vec<f64>` alone would take any iterable (a set, a generator): only a list or a
            // tuple is an array's source here. Their items are read by index, each converted
            // with HPyFloat_AsDouble.
            if !(seq.is_kind::<List>() || seq.is_kind::<Tuple>()) {
                return Err(TypeError::new_err("Array() argument must be a list or a tuple"));
            }
            Ok(Array { values: seq.extract()? })
        }

        fn __len__(&self) -> usize {
            self.values.len()
        }

        /// `a[i]`, `i` as written: negative counts from the end (an int beyond the `isize`
        /// range is an IndexError, as for a list).
        fn __getitem__(&self, i: isize) -> Result<f64> {
            SliceOrIndex::resolve_index(i, self.values.len())
                .map(|i| self.values[i])
                .ok_or_else(|| IndexError::new_err("Array index out of range"))
        }

        fn __add__<'ctx>(&self, ctx: Context<'ctx>, other: &Handle<'ctx>) -> Result<Handle<'ctx>> {
            self.apply(ctx, other, |x, y| x + y)
        }

        fn __sub__<'ctx>(&self, ctx: Context<'ctx>, other: &Handle<'ctx>) -> Result<Handle<'ctx>> {
            self.apply(ctx, other, |x, y| x - y)
        }

        fn __mul__<'ctx>(&self, ctx: Context<'ctx>, other: &Handle<'ctx>) -> Result<Handle<'ctx>> {
            self.apply(ctx, other, |x, y| x * y)
        }

        fn __radd__<'ctx>(&self, ctx: Context<'ctx>, other: &Handle<'ctx>) -> Result<Handle<'ctx>> {
            self.apply(ctx, other, |x, y| y + x)
        }

        fn __rsub__<'ctx>(&self, ctx: Context<'ctx>, other: &Handle<'ctx>) -> Result<Handle<'ctx>> {
            self.apply(ctx, other, |x, y| y - x)
        }

        fn __rmul__<'ctx>(&self, ctx: Context<'ctx>, other: &Handle<'ctx>) -> Result<Handle<'ctx>> {
            self.apply(ctx, other, |x, y| y * x)
        }

        /// The elements added left to right from 0.0 (`Iterator::sum` starts from -0.0).
        fn sum(&self) -> f64 {
            self.values.iter().fold(0.0, |acc, &x| acc + x)
        }
    }

    /// A list, tuple or dict inside this many others is refused (ValueError).
    const MAX_DEPTH: usize = 100;

    #[cold]
    fn truncated() -> hpy::Error {
        ValueError::new_err("truncated input")
    }

    /// The input of `decode` and how far it is read.
    struct Reader<'b> {
        buf: &'b [u8],
        pos: usize,
    }

    impl<'b> Reader<'b> {
        /// The next `n` bytes (ValueError if fewer are left).
        fn take(&mut self, n: usize) -> Result<&'b [u8]> {
            let bytes = self.buf[self.pos..].get(..n).ok_or_else(truncated)?;
            self.pos += n;
            Ok(bytes)
        }

        /// The next `N` bytes, by value (a tag, a number).
        fn take_array<const N: usize>(&mut self) -> Result<[u8; N]> {
            let bytes = self.buf[self.pos..].first_chunk::<N>().ok_or_else(truncated)?;
            self.pos += N;
            Ok(*bytes)
        }

        /// A u32 count of items, each taking at least a byte: a count larger than the bytes left
        /// is truncated input, refused before anything is allocated for it.
        fn count(&mut self) -> Result<usize> {
            let n = u32::from_le_bytes(self.take_array()?) as usize;
            if n > self.buf.len() - self.pos {
                return Err(truncated());
            }
            Ok(n)
        }

        /// A str: its length and UTF-8 bytes, decoded (and checked) by the interpreter.
        fn text<'ctx>(&mut self, ctx: Context<'ctx>) -> Result<Handle<'ctx, Unicode>> {
            let n = u32::from_le_bytes(self.take_array()?) as usize;
            ctx.str_from_utf8(self.take(n)?)
        }

        /// One value; `depth` lists and dicts are around it.
        fn value<'ctx>(&mut self, ctx: Context<'ctx>, depth: usize) -> Result<Handle<'ctx>> {
            let [tag] = self.take_array()?;
            match tag {
                b'N' => Ok(ctx.none().to_owned().into_any()),
                b'T' => Ok(ctx.true_().to_owned().into_any()),
                b'F' => Ok(ctx.false_().to_owned().into_any()),
                b'i' => ctx.object(i64::from_le_bytes(self.take_array()?)),
                b'd' => ctx.object(f64::from_le_bytes(self.take_array()?)),
                b's' => Ok(self.text(ctx)?.into_any()),
                b'l' | b'm' if depth >= MAX_DEPTH => Err(ValueError::new_err("nested too deeply")),
                b'l' => {
                    let n = self.count()?;
                    // The count is bounded by the bytes left: a builder of that size is safe.
                    let mut list = ListBuilder::new(ctx, n)?;
                    for i in 0..n {
                        list.set(i, &self.value(ctx, depth + 1)?);
                    }
                    Ok(list.build()?.into_any())
                }
                b'm' => {
                    let n = self.count()?;
                    let dict = ctx.dict()?;
                    for _ in 0..n {
                        // A key is a str value: anything else (whatever it holds) is refused.
                        if self.take_array()? != [b's'] {
                            return Err(ValueError::new_err("dict key not a str"));
                        }
                        let key = self.text(ctx)?;
                        dict.set_item(&key, &self.value(ctx, depth + 1)?)?;
                    }
                    Ok(dict.into_any())
                }
                _ => Err(ValueError::new_err("unknown tag")),
            }
        }
    }

    /// The value held in `buf` (a bytes object, read in place).
    #[hpy::function]
    fn decode<'ctx>(ctx: Context<'ctx>, buf: &[u8]) -> Result<Handle<'ctx>> {
        let mut reader = Reader { buf, pos: 0 };
        let value = reader.value(ctx, 0)?;
        if reader.pos != buf.len() {
            return Err(ValueError::new_err("bytes left over after the value"));
        }
        Ok(value)
    }

    /// A u32 count of items.
    fn write_count(out: &mut Vec<u8>, n: usize) -> Result<()> {
        let n = u32::try_from(n).map_err(|_| OverflowError::new_err("too many items to encode"))?;
        out.extend_from_slice(&n.to_le_bytes());
        Ok(())
    }

    fn write_str(out: &mut Vec<u8>, s: &str) -> Result<()> {
        out.push(b's');
        write_count(out, s.len())?;
        out.extend_from_slice(s.as_bytes());
        Ok(())
    }

    /// ValueError for a list, tuple or dict inside `MAX_DEPTH` others.
    fn check_depth(depth: usize) -> Result<()> {
        if depth >= MAX_DEPTH {
            return Err(ValueError::new_err("nested too deeply"));
        }
        Ok(())
    }

    /// Append the encoding of `obj`; `depth` lists, tuples and dicts are around it. The checks
    /// in the specification's order (None, True, False, then int, float, str, list, tuple, dict,
    /// subclasses included).
    fn encode_into(obj: &Handle<'_>, out: &mut Vec<u8>, depth: usize) -> Result<()> {
        let ctx = obj.ctx();
        if obj.is_none() {
            out.push(b'N');
        } else if obj.is(&ctx.true_()) {
            out.push(b'T');
        } else if obj.is(&ctx.false_()) {
            out.push(b'F');
        } else if obj.is_kind::<Long>() {
            // OverflowError outside the 64-bit range.
            let v: i64 = obj.extract()?;
            out.push(b'i');
            out.extend_from_slice(&v.to_le_bytes());
        } else if obj.is_kind::<Float>() {
            let v: f64 = obj.extract()?;
            out.push(b'd');
            out.extend_from_slice(&v.to_le_bytes());
        } else if obj.is_kind::<Unicode>() {
            // The str's own UTF-8, borrowed.
            write_str(out, obj.extract()?)?;
        } else if obj.is_kind::<List>() || obj.is_kind::<Tuple>() {
            check_depth(depth)?;
            let n = obj.len()?;
            out.push(b'l');
            write_count(out, n)?;
            for i in 0..n {
                encode_into(&obj.get_index(i)?, out, depth + 1)?;
            }
        } else if obj.is_kind::<Dict>() {
            check_depth(depth)?;
            let dict = obj.downcast::<Dict>()?;
            // The pairs in the dict's order (HPy 0.9 has no dict iteration: hpy-rs reads the keys
            // as a list, then each value by key; a subclass as `dict(obj)` holds it).
            let items = dict.iter_items()?;
            out.push(b'm');
            write_count(out, items.len())?;
            for pair in items {
                let (key, value) = pair?;
                // One check: the error is built only for a key that is not a str.
                let key = key.as_kind::<Unicode>().ok_or_else(|| TypeError::new_err("dict key not a str"))?;
                write_str(out, key.to_str()?)?;
                encode_into(&value, out, depth + 1)?;
            }
        } else {
            return Err(TypeError::new_err(format!("cannot encode {}", obj.get_type().name())));
        }
        Ok(())
    }

    /// The bytes of `obj`.
    #[hpy::function]
    fn encode(obj: &Handle<'_>) -> Result<Vec<u8>> {
        // As the C variants' writer: 512 bytes before the first growth (theirs on the stack).
        let mut out = Vec::with_capacity(512);
        encode_into(obj, &mut out, 0)?;
        Ok(out)
    }
}
