//! Python classes backed by Rust structs: what `#[hpy::class]` and `#[hpy::methods]` build on.
//!
//! An instance stores a [`ClassCell<T>`] right after the object header (HPy's `HPy_New` hands
//! out zeroed memory of `basicsize` bytes). A class that extends another hpy-rs class
//! (`#[hpy::class(extends = Base)]`) stores the cells of its bases first, then its own: HPy
//! finds the struct of every pure type of an object at the same place, so the base's methods
//! find the base's cell where they expect it (see [`ClassBase`] and [`Init`]). The cell holds the Rust value and a borrow flag:
//! Python can reach one object from many places and re-enter a method, so `&self` and
//! `&mut self` are handed out like a `RefCell` does, and a conflicting borrow raises
//! `RuntimeError` instead of creating two `&mut`.
//!
//! References from an object to other Python objects live in [`Field`]s; the class macro
//! generates the traverse slot that reports them to the garbage collector, so cycles through
//! fields are collected.

use core::cell::{Cell, UnsafeCell};
use core::ffi::c_int;
use core::marker::PhantomData;
use core::mem::MaybeUninit;
use core::ops::{Deref, DerefMut};

use crate::exceptions::{RuntimeError, TypeError};
use crate::ffi;
use crate::global::Global;
use crate::handle::Handle;
use crate::kinds::{Any, Kind};
use crate::{Context, Error, Result};

/// A Rust type exposed as a Python class. Implemented by `#[hpy::class]`; not by hand.
///
/// # Safety
/// The implementation must describe `Self` truthfully: `TYPE` is the global the module stores
/// the created type in, `SHAPE` the built-in shape the type was created with, `SUBCLASSABLE`
/// whether it was created subclassable, `Base` the class whose type the type was created with as
/// its base (or `NoBase`), and `visit_fields` visits exactly the [`Field`]s inside `Self`.
pub unsafe trait Class: Sized + 'static {
    /// The Python name of the class (without the module).
    const NAME: &'static str;
    /// `frozen`: instances are never borrowed mutably.
    const FROZEN: bool;
    /// `unsendable`: the value is not `Send`; it may only be used on the thread that made it.
    const UNSENDABLE: bool;
    /// The built-in shape the class extends (`HPyType_BuiltinShape_Object` for plain classes).
    const SHAPE: ffi::HPyType_BuiltinShape;
    /// `subclass`: Python code and other classes may subclass the type (it has
    /// `HPy_TPFLAGS_BASETYPE`).
    const SUBCLASSABLE: bool;
    /// The hpy-rs class this one extends (`#[hpy::class(extends = Base)]`), or [`NoBase`].
    /// An instance's struct holds the cells of the bases first, then the class's own.
    type Base: ClassBase;

    /// The global holding the type object once the module has created it.
    fn type_global() -> &'static Global;

    /// Call `visit` on every `HPyField` of `value` (for the GC); stop at the first non-zero.
    ///
    /// # Safety
    /// `value` points to an initialised `Self` that may be mutably borrowed elsewhere: read the
    /// fields only through raw pointers.
    unsafe fn visit_fields(value: *const Self, visit: &mut dyn FnMut(*mut ffi::HPyField) -> c_int) -> c_int;
}

impl<T: Class> Kind for T {
    const NAME: &'static str = T::NAME;
    #[inline]
    fn check(obj: &Handle<'_, Any>) -> bool {
        // The module stores the class's type in its global; the native build checks against it
        // without taking a new reference.
        T::type_global().type_check(obj.ctx(), obj.as_raw())
    }
}

/// `ClassCell::flag` values. One word holds both "is there a value" and the borrow state, so
/// that borrowing (every method call) tests a single number.
const UNINITIALISED: isize = 0;
/// Initialised and not borrowed; `FREE + n` means `n` shared borrows (not counted for `frozen` classes).
const FREE: isize = 1;
const MUT_BORROWED: isize = -1;

/// What an instance of a Rust class stores: the value and its borrow state.
///
/// `HPy_New` zeroes the memory, so a fresh cell is uninitialised.
#[repr(C)]
pub struct ClassCell<T> {
    /// The cell's own address once initialised: lets `tp_destroy`/`tp_traverse` recognise a
    /// misplaced data pointer (see [`ClassCell::locate`]).
    me: Cell<usize>,
    /// `UNINITIALISED`, `FREE` (+ the number of shared borrows), or `MUT_BORROWED`.
    flag: Cell<isize>,
    /// For `unsendable` classes: the thread that created the value.
    thread: Cell<Option<std::thread::ThreadId>>,
    value: UnsafeCell<MaybeUninit<T>>,
}

impl<T: Class> ClassCell<T> {
    /// HPy allocates the object's struct with this size (`HPyType_Spec.basicsize`): the cells
    /// of `T`'s bases, then `T`'s. (`#[hpy::class]` checks that `T` needs no alignment above 8
    /// bytes: HPy guarantees no more.)
    pub const BASICSIZE: usize = cell_offset::<T>() + core::mem::size_of::<ClassCell<T>>();

    /// Where the value starts in the object's data.
    const VALUE_OFFSET: usize = core::mem::offset_of!(ClassCell<T>, value);

    /// The cell of `obj`, which must be an instance of `T`.
    ///
    /// # Safety
    /// `obj` is an instance of `T`'s type (or a subclass), and the returned reference does not
    /// outlive the object.
    #[inline]
    unsafe fn of<'a>(obj: &'a Handle<'_, Any>) -> &'a ClassCell<T> {
        let c = obj.ctx().as_ptr();
        let raw = obj.as_raw();
        // SAFETY (both branches): per the contract, the object has the layout of `T`'s shape.
        if T::SHAPE == ffi::HPyType_BuiltinShape_Object && T::SUBCLASSABLE && obj.ctx().is_debug() {
            if let Some(data) = unsafe { python_subclass_data(obj) } {
                // SAFETY: the class struct of a Python subclass instance, found by
                // `python_subclass_data`; `T`'s cell lies at its offset in it.
                return unsafe { Self::at(data as *const u8) };
            }
        }
        if !matches!(T::SHAPE, ffi::HPyType_BuiltinShape_Object | ffi::HPyType_BuiltinShape_Type)
            && !crate::impl_::runtime_has_builtin_shapes()
        {
            // Only reachable with an instance not made by the class's constructor (which
            // refuses, see `shape_supported`), e.g. `float.__new__(Meters)`: a panic is a
            // RuntimeError at the boundary, where the runtime's stub would return garbage.
            shape_unsupported::<T>();
        }
        let data = unsafe {
            match T::SHAPE {
                ffi::HPyType_BuiltinShape_Long => ffi::_HPy_AsStruct_Long(c, raw),
                ffi::HPyType_BuiltinShape_Float => ffi::_HPy_AsStruct_Float(c, raw),
                ffi::HPyType_BuiltinShape_Unicode => ffi::_HPy_AsStruct_Unicode(c, raw),
                ffi::HPyType_BuiltinShape_Tuple => ffi::_HPy_AsStruct_Tuple(c, raw),
                ffi::HPyType_BuiltinShape_List => ffi::_HPy_AsStruct_List(c, raw),
                ffi::HPyType_BuiltinShape_Type => ffi::_HPy_AsStruct_Type(c, raw),
                _ => ffi::_HPy_AsStruct_Object(c, raw),
            }
        };
        if data.is_null() {
            // PyPy 7.3.19 lets `object.__new__(T)` make an instance without the struct (CPython
            // refuses: "object.__new__(T) is not safe"); C on HPy dereferences NULL there.
            no_struct::<T>();
        }
        // SAFETY: HPy returns the start of the `basicsize` bytes reserved for the struct, which
        // holds `T`'s cell at its offset.
        unsafe { Self::at(data as *const u8) }
    }

    /// The cell of `T` in the struct starting at `start`.
    ///
    /// # Safety
    /// `start` is the struct of an instance of `T` (or of a subclass), alive for `'a`.
    #[inline]
    unsafe fn at<'a>(start: *const u8) -> &'a ClassCell<T> {
        // SAFETY: per the contract, the struct holds `T`'s cell at `cell_offset::<T>()`.
        unsafe { &*(start.add(cell_offset::<T>()) as *const ClassCell<T>) }
    }

    /// The start of the struct this cell is part of.
    #[inline]
    fn struct_start(&self) -> *const u8 {
        (self as *const Self as *const u8).wrapping_sub(cell_offset::<T>())
    }

    /// Is the value usable from this thread? (Always, unless the class is `unsendable`.)
    #[inline]
    fn on_owner_thread(&self) -> bool {
        !T::UNSENDABLE || self.thread.get() == Some(std::thread::current().id())
    }

    /// Why the value cannot be borrowed (`mutably` or not) with the cell's flag at `flag`.
    #[cold]
    #[inline(never)]
    fn borrow_error(&self, flag: isize, mutably: bool) -> Error {
        if flag == UNINITIALISED {
            RuntimeError::new_err(format!(
                "this {} object was not initialised (a subclass __new__ must call the base class's)",
                T::NAME
            ))
        } else if !self.on_owner_thread() {
            RuntimeError::new_err(format!("{} is unsendable: it can only be used on the thread that created it", T::NAME))
        } else if mutably && T::FROZEN {
            TypeError::new_err(format!("{} is frozen: it cannot be borrowed mutably", T::NAME))
        } else if mutably {
            RuntimeError::new_err(format!("{} object is already borrowed", T::NAME))
        } else {
            RuntimeError::new_err(format!("{} object is already mutably borrowed", T::NAME))
        }
    }

    /// Write the value into a fresh (zeroed) cell.
    ///
    /// # Safety
    /// The cell belongs to an object just returned by `HPy_New` and is not initialised.
    unsafe fn init(&self, value: T) {
        // SAFETY: nobody else can see the new object yet.
        unsafe { (*self.value.get()).write(value) };
        if T::UNSENDABLE {
            self.thread.set(Some(std::thread::current().id()));
        }
        self.me.set(self as *const Self as usize);
        self.flag.set(FREE);
    }

    /// The initialised cell that HPy's `data` pointer designates, if any.
    ///
    /// hpy 0.9 computes the data pointer it passes to `tp_destroy` and `tp_traverse` from the
    /// *object's* type; for an instance of a Python subclass, which it takes for a legacy type,
    /// that is the start of the object instead of the struct after the `PyObject` header. The
    /// cell records its own address, so the right place is recognised: `data`, or `data` plus
    /// the header (where the struct of a Python-subclass instance is).
    ///
    /// # Safety
    /// `data` comes from HPy for an instance of `T` or of a Python subclass of it.
    unsafe fn locate<'a>(data: *mut core::ffi::c_void) -> Option<&'a ClassCell<T>> {
        let direct = (data as *const u8).wrapping_add(cell_offset::<T>()) as *const ClassCell<T>;
        // SAFETY: `data` points into the object; for a direct instance it is the cell, for a
        // subclass instance the `me` word overlaps the (readable) object header.
        if unsafe { (*direct).me.get() } == direct as usize {
            // SAFETY: an initialised cell at `data`.
            return Some(unsafe { &*direct });
        }
        if T::SHAPE == ffi::HPyType_BuiltinShape_Object {
            // SAFETY: only reached for a Python-subclass instance, whose allocation covers the
            // base struct after the header.
            let shifted = unsafe { (data as *const u8).add(PYOBJECT_HEADER + cell_offset::<T>()) } as *const ClassCell<T>;
            if unsafe { (*shifted).me.get() } == shifted as usize {
                // SAFETY: an initialised cell at the shifted address.
                return Some(unsafe { &*shifted });
            }
        }
        None
    }

    /// The `HPy_tp_destroy` implementation: drop the value (no context: HPy calls this from
    /// its deallocator, after clearing the fields).
    ///
    /// # Safety
    /// `data` is the data pointer HPy passes for an object being destroyed.
    ///
    /// It drops the values of `T`'s bases too: PyPy calls only the `tp_destroy` of the object's
    /// own type, CPython's runtime (and the native build) that of every HPy type of its
    /// hierarchy. A dropped cell is marked uninitialised, so each value is dropped once either way.
    pub unsafe fn destroy(data: *mut core::ffi::c_void) {
        // SAFETY: per the contract.
        let Some(start) = (unsafe { Self::locate_struct(data) }) else { return };
        // SAFETY: the struct of a dying instance of `T`.
        unsafe { <T as ClassBase>::destroy_levels(start) }
    }

    /// The start of the struct that HPy's `data` pointer designates, found through the first
    /// initialised cell from `T` down to its root class (`Base.__new__(Derived)`, which PyPy
    /// allows, leaves the `Derived` cell uninitialised but still the base's to drop).
    ///
    /// # Safety
    /// As [`locate`](Self::locate).
    unsafe fn locate_struct(data: *mut core::ffi::c_void) -> Option<*const u8> {
        // SAFETY: per the contract.
        match unsafe { Self::locate(data) } {
            Some(cell) => Some(cell.struct_start()),
            // SAFETY: per the contract, `data` is also that of an instance of each base.
            None => unsafe { <T::Base as ClassBase>::locate_struct(data) },
        }
    }

    /// Drop this cell's value, if it holds one.
    ///
    /// # Safety
    /// The object is dying: no borrow can be live.
    unsafe fn destroy_level(&self) {
        if T::UNSENDABLE && self.thread.get() != Some(std::thread::current().id()) {
            // Dropping a non-Send value on another thread is unsound: leak it instead.
            return;
        }
        if self.flag.replace(UNINITIALISED) != UNINITIALISED {
            // A panic in Drop must not unwind into the interpreter's deallocator.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                // SAFETY: initialised, and the object is dying: no borrow can be live.
                unsafe { (*self.value.get()).assume_init_drop() }
            }));
        }
    }

    /// Call `visit` on every `Field` of this cell's value (none while it is uninitialised or
    /// mutably borrowed).
    ///
    /// # Safety
    /// The cell belongs to a live object.
    unsafe fn visit_level(&self, visit: &mut dyn FnMut(*mut ffi::HPyField) -> c_int) -> c_int {
        // While the value is mutably borrowed, reading its fields would alias the `&mut`: skip.
        // Not visiting only keeps the referents alive longer; it never frees a live object.
        if self.flag.get() < FREE {
            return 0;
        }
        // SAFETY: initialised; the fields are read through raw pointers only.
        unsafe { T::visit_fields(self.value.get() as *const T, visit) }
    }

    /// The `HPy_tp_traverse` implementation: report every non-NULL `Field` to the GC.
    ///
    /// # Safety
    /// `data` is the cell of a live object; `visit`/`arg` come from HPy.
    pub unsafe fn traverse(data: *mut core::ffi::c_void, visit: ffi::HPyFunc_visitproc, arg: *mut core::ffi::c_void) -> c_int {
        // SAFETY: per the contract.
        let Some(start) = (unsafe { Self::locate_struct(data) }) else { return 0 };
        let Some(visit) = visit else { return 0 };
        let mut visit_set = |field: *mut ffi::HPyField| {
            // SAFETY: `field` points into the live object (from `visit_fields`).
            if unsafe { (*field)._i } == 0 {
                0
            } else {
                // SAFETY: HPy's visitor with its own argument, on a field of the object.
                unsafe { visit(field, arg) }
            }
        };
        // The fields of the bases too: the GC calls only the traverse slot of the object's type.
        // SAFETY: the struct of a live instance of `T`.
        unsafe { <T as ClassBase>::traverse_levels(start, &mut visit_set) }
    }
}

/// Where CPython's HPy runtime puts the struct of a shape-Object type: after the `PyObject`
/// header (two words), aligned like HPy's `_HPy_MaxAlign_t` (16 bytes on 64-bit platforms).
const PYOBJECT_HEADER: usize = (2 * core::mem::size_of::<usize>()).div_ceil(16) * 16;

/// The class struct of an instance of a *Python* subclass, in debug mode.
///
/// hpy 0.9 does not mark a Python subclass of an HPy type as an HPy type, so its debug mode
/// rejects `_HPy_AsStruct_Object` on such instances ("expected shape Object, got Legacy"),
/// although the struct is where it is for the base class: right after the `PyObject` header,
/// aligned like HPy's `_HPy_MaxAlign_t` (16 bytes on 64-bit CPython). Universal mode needs
/// none of this (it does not check the shape).
///
/// # Safety
/// `obj` is an instance of a class of shape Object (or of a subclass of it).
#[inline(never)]
unsafe fn python_subclass_data(obj: &Handle<'_, Any>) -> Option<*mut core::ffi::c_void> {
    let c = obj.ctx().as_ptr();
    // SAFETY: live context and an open handle; the type handle is closed before returning.
    unsafe {
        let ty = ffi::HPy_Type(c, obj.as_raw());
        let shape = ffi::_HPyType_GetBuiltinShape(c, ty);
        ffi::HPy_Close(c, ty);
        if shape != ffi::HPyType_BuiltinShape_Legacy {
            return None;
        }
        let start = ffi::_HPy_AsStruct_Legacy(c, obj.as_raw()) as *mut u8;
        Some(start.add(PYOBJECT_HEADER).cast())
    }
}

/// A shared borrow of the Rust value inside an instance (like `cell::Ref`).
pub struct ClassRef<'a, T: Class> {
    cell: &'a ClassCell<T>,
}

/// A mutable borrow of the Rust value inside an instance (like `cell::RefMut`).
pub struct ClassRefMut<'a, T: Class> {
    cell: &'a ClassCell<T>,
}

impl<T: Class> Deref for ClassRef<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: initialised (checked when borrowing) and shared-borrowed.
        unsafe { (*self.cell.value.get()).assume_init_ref() }
    }
}

impl<T: Class> Drop for ClassRef<'_, T> {
    #[inline]
    fn drop(&mut self) {
        if !T::FROZEN {
            self.cell.flag.set(self.cell.flag.get() - 1);
        }
    }
}

impl<T: Class> Deref for ClassRefMut<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: initialised and exclusively borrowed by us.
        unsafe { (*self.cell.value.get()).assume_init_ref() }
    }
}

impl<T: Class> DerefMut for ClassRefMut<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: initialised and exclusively borrowed by us.
        unsafe { (*self.cell.value.get()).assume_init_mut() }
    }
}

impl<T: Class> Drop for ClassRefMut<'_, T> {
    fn drop(&mut self) {
        self.cell.flag.set(FREE);
    }
}

impl<'ctx, T: Class> Handle<'ctx, T> {
    #[inline]
    fn cell(&self) -> &ClassCell<T> {
        // SAFETY: a `Handle<T>` is an instance of `T` (checked by `downcast`, or created so).
        unsafe { ClassCell::<T>::of(self.as_any()) }
    }

    /// Borrow the Rust value. RuntimeError if it is mutably borrowed (e.g. by a method that
    /// called back into Python, which called this).
    #[inline]
    pub fn borrow(&self) -> Result<ClassRef<'_, T>> {
        let cell = self.cell();
        if reads_need_no_check::<T>() {
            return Ok(ClassRef { cell });
        }
        let flag = cell.flag.get();
        if flag >= FREE && cell.on_owner_thread() {
            // A frozen value is never borrowed mutably: its shared borrows need no counting.
            if !T::FROZEN {
                cell.flag.set(flag + 1);
            }
            Ok(ClassRef { cell })
        } else {
            Err(cell.borrow_error(flag, false))
        }
    }

    /// Borrow the Rust value mutably. RuntimeError if it is borrowed at all; TypeError if the
    /// class is `frozen`.
    #[inline]
    pub fn borrow_mut(&self) -> Result<ClassRefMut<'_, T>> {
        let cell = self.cell();
        let flag = cell.flag.get();
        if !T::FROZEN && flag == FREE && cell.on_owner_thread() {
            cell.flag.set(MUT_BORROWED);
            Ok(ClassRefMut { cell })
        } else {
            Err(cell.borrow_error(flag, true))
        }
    }
}

/// Can the value inside every instance of `T` be read with no check at all? Yes for a `frozen`,
/// sendable plain class: its value is initialised before any code sees the instance (its only
/// constructors, `#[new]` and `Context::instance`, store it at once; without `#[new]` Python
/// cannot create instances), never borrowed mutably, and usable from any thread. Then `borrow`
/// checks nothing, and read-only fields can be members the interpreter reads itself.
///
/// Not for a class that extends another: `Base.__new__(Derived)` (which PyPy allows) would make
/// an instance whose `Derived` cell is left uninitialised.
pub(crate) const fn reads_need_no_check<T: Class>() -> bool {
    T::FROZEN
        && !T::UNSENDABLE
        && T::SHAPE == ffi::HPyType_BuiltinShape_Object
        && <T::Base as ClassBase>::STRUCT_SIZE == 0
}

/// The offset in an instance's data of the field at `field_offset` in `T`.
pub(crate) const fn data_offset<T: Class>(field_offset: usize) -> usize {
    cell_offset::<T>() + ClassCell::<T>::VALUE_OFFSET + field_offset
}

/// Where `T`'s cell starts in an instance's struct: after the cells of its bases.
pub(crate) const fn cell_offset<T: Class>() -> usize {
    let after_bases = <T::Base as ClassBase>::STRUCT_SIZE;
    let align = core::mem::align_of::<ClassCell<T>>();
    after_bases.div_ceil(align) * align
}

/// Does an instance of `T` hold a value that needs dropping (`T`'s, or a base's)? Then its type
/// has `tp_destroy`.
pub const fn needs_destroy<T: Class>() -> bool {
    core::mem::needs_drop::<T>() || <T::Base as ClassBase>::NEEDS_DESTROY
}

// ---- inheritance between hpy-rs classes ----

/// The [`Class::Base`] of a class that extends no other hpy-rs class.
pub enum NoBase {}

/// What a class can extend: [`NoBase`], or another [`Class`]. Implemented here for both, and
/// by nothing else; it walks the levels of an instance's struct, base classes first.
///
/// # Safety
/// Only the two implementations in this module exist.
pub unsafe trait ClassBase: 'static {
    /// The bytes of an instance's struct used by the cells of this class and its bases.
    #[doc(hidden)]
    const STRUCT_SIZE: usize;
    /// Does any of the values need dropping?
    #[doc(hidden)]
    const NEEDS_DESTROY: bool;
    /// What a new instance's values of these levels are built from.
    #[doc(hidden)]
    type Init<'ctx>;

    /// Write `init` into the levels of the zeroed struct at `start` of `obj`.
    ///
    /// # Safety
    /// `obj` is a new instance of this class (or a subclass) whose struct starts at `start`.
    #[doc(hidden)]
    unsafe fn write_levels<'ctx>(obj: &Handle<'ctx, Any>, start: *mut u8, init: Self::Init<'ctx>) -> Result<()>;

    /// Visit the fields of these levels.
    ///
    /// # Safety
    /// `start` is the struct of a live instance of this class (or a subclass).
    #[doc(hidden)]
    unsafe fn traverse_levels(start: *const u8, visit: &mut dyn FnMut(*mut ffi::HPyField) -> c_int) -> c_int;

    /// Drop the values of these levels.
    ///
    /// # Safety
    /// `start` is the struct of a dying instance of this class (or a subclass).
    #[doc(hidden)]
    unsafe fn destroy_levels(start: *const u8);

    /// The struct designated by HPy's `data` pointer, through an initialised cell of these levels.
    ///
    /// # Safety
    /// `data` comes from HPy for an instance of this class (or of a subclass).
    #[doc(hidden)]
    unsafe fn locate_struct(data: *mut core::ffi::c_void) -> Option<*const u8>;
}

// SAFETY: the empty level.
unsafe impl ClassBase for NoBase {
    const STRUCT_SIZE: usize = 0;
    const NEEDS_DESTROY: bool = false;
    type Init<'ctx> = ();
    unsafe fn write_levels<'ctx>(_: &Handle<'ctx, Any>, _: *mut u8, (): ()) -> Result<()> {
        Ok(())
    }
    unsafe fn traverse_levels(_: *const u8, _: &mut dyn FnMut(*mut ffi::HPyField) -> c_int) -> c_int {
        0
    }
    unsafe fn destroy_levels(_: *const u8) {}
    unsafe fn locate_struct(_: *mut core::ffi::c_void) -> Option<*const u8> {
        None
    }
}

// SAFETY: `B`'s cell at its offset, then `B`'s bases.
unsafe impl<B: Class> ClassBase for B {
    const STRUCT_SIZE: usize = ClassCell::<B>::BASICSIZE;
    const NEEDS_DESTROY: bool = needs_destroy::<B>();
    type Init<'ctx> = Init<'ctx, B>;

    unsafe fn write_levels<'ctx>(obj: &Handle<'ctx, Any>, start: *mut u8, init: Init<'ctx, B>) -> Result<()> {
        let Init { value, base, fields } = init;
        // SAFETY: per the contract (the bases first: a level's fields are stored through a
        // handle whose class, and hence whose bases, are initialised).
        unsafe { <B::Base as ClassBase>::write_levels(obj, start, base)? };
        // SAFETY: per the contract, the struct holds `B`'s cell.
        let cell = unsafe { ClassCell::<B>::at(start) };
        if cell.flag.get() != UNINITIALISED {
            return Err(RuntimeError::new_err(format!("{} object initialised twice", B::NAME)));
        }
        // SAFETY: the new object's zeroed cell, seen by nobody else yet.
        unsafe { cell.init(value) };
        // SAFETY: `obj` is an instance of `B` (or of a subclass of it).
        let owner = unsafe { obj.cast_unchecked::<B>() };
        // (most instances have no field to fill: no iterator made and dropped for them)
        if fields.is_empty() {
            return Ok(());
        }
        fields.into_iter().try_for_each(|store| store(owner))
    }

    unsafe fn traverse_levels(start: *const u8, visit: &mut dyn FnMut(*mut ffi::HPyField) -> c_int) -> c_int {
        // SAFETY: per the contract.
        unsafe {
            match ClassCell::<B>::at(start).visit_level(visit) {
                0 => <B::Base as ClassBase>::traverse_levels(start, visit),
                stop => stop,
            }
        }
    }

    unsafe fn destroy_levels(start: *const u8) {
        // SAFETY: per the contract.
        unsafe {
            ClassCell::<B>::at(start).destroy_level();
            <B::Base as ClassBase>::destroy_levels(start);
        }
    }

    unsafe fn locate_struct(data: *mut core::ffi::c_void) -> Option<*const u8> {
        // SAFETY: per the contract.
        unsafe { ClassCell::<B>::locate_struct(data) }
    }
}

/// A field store that waits for the new object: see [`Init::field`].
type FieldStore<'ctx, T> = Box<dyn FnOnce(&Handle<'ctx, T>) -> Result<()> + 'ctx>;

/// How to build a new instance of `T`: its value, the values of the classes it extends, and
/// [`Field`]s to fill once the object exists. What `#[new]` returns when `Self` is not enough
/// (it may also return `(Self, Base)` for a class that extends `Base`), and what
/// [`Context::instance_init`] takes.
///
/// ```
/// # #[hpy::module] mod m {
/// # use hpy::{Field, Handle, Init};
/// # #[hpy::class(subclass)] struct Named { name: String }
/// # #[hpy::class(extends = Named)] struct EventBus { fallback: Field }
/// # #[hpy::methods] impl EventBus {
/// #[new]
/// fn new<'ctx>(name: String, fallback: &Handle<'ctx>) -> Init<'ctx, Self> {
///     // the base's value, then this class's; `fallback` goes into the field once the object exists
///     Init::new(Named { name })
///         .add_subclass(EventBus { fallback: Field::new() })
///         .field(|bus| &bus.fallback, fallback)
/// }
/// # }
/// # }
/// # fn main() {}
/// ```
pub struct Init<'ctx, T: Class> {
    value: T,
    base: <T::Base as ClassBase>::Init<'ctx>,
    fields: Vec<FieldStore<'ctx, T>>,
}

impl<'ctx, T: Class<Base = NoBase>> Init<'ctx, T> {
    /// The value of a class that extends no other hpy-rs class.
    pub fn new(value: T) -> Self {
        Init { value, base: (), fields: Vec::new() }
    }
}

impl<'ctx, T: Class> Init<'ctx, T> {
    /// Build an instance of `D`, a class that extends `T`, from this and `D`'s own value.
    pub fn add_subclass<D: Class<Base = T>>(self, value: D) -> Init<'ctx, D> {
        Init { value, base: self, fields: Vec::new() }
    }

    /// Once the object exists, store `value` in the field of `T`'s value that `field` selects
    /// (e.g. `|v| &v.callback`): a `Field` is stored through its owner, which `#[new]` does not
    /// have yet. Fields are stored in the order given, after every value is in place.
    pub fn field<K: 'ctx>(mut self, field: impl for<'a> FnOnce(&'a T) -> &'a Field<K> + 'ctx, value: &Handle<'ctx, K>) -> Self {
        let value = value.clone();
        self.fields.push(Box::new(move |owner: &Handle<'ctx, T>| {
            let this = owner.borrow()?;
            // (`store` refuses a field that is not inside `owner`'s value.)
            field(&this).store(owner, &value)
        }));
        self
    }
}

impl<'ctx, T: Class<Base = NoBase>> From<T> for Init<'ctx, T> {
    fn from(value: T) -> Self {
        Init::new(value)
    }
}

impl<'ctx, D: Class<Base = B>, B: Class<Base = NoBase>> From<(D, B)> for Init<'ctx, D> {
    /// `(Derived, Base)`: the values of a class and of the class it extends.
    fn from((value, base): (D, B)) -> Self {
        Init::new(base).add_subclass(value)
    }
}

impl<'ctx, T: Class> crate::IntoHPy<'ctx> for Init<'ctx, T> {
    fn into_hpy(self, ctx: Context<'ctx>) -> Result<Handle<'ctx>> {
        Ok(ctx.instance_init(self)?.into_any())
    }
}

impl<'ctx, T: Class> Handle<'ctx, T> {
    /// The same object as an instance of the class `T` extends (`extends = Base`): to borrow
    /// the base's value (`slf.as_base().borrow()?`) or call what takes a `Handle<Base>`.
    #[inline]
    pub fn as_base(&self) -> &Handle<'ctx, T::Base>
    where
        T::Base: Class,
    {
        // SAFETY: every instance of `T` is an instance of its base: `T`'s type was created with
        // the base's type as its base, and its struct begins with the base's cells.
        unsafe { self.cast_unchecked() }
    }

    /// [`as_base`](Self::as_base), by value.
    #[inline]
    pub fn into_base(self) -> Handle<'ctx, T::Base>
    where
        T::Base: Class,
    {
        // SAFETY: as in `as_base`.
        unsafe { self.cast_into_unchecked() }
    }
}

/// Can this runtime find `T`'s struct in its instances? (No for a class that extends a
/// built-in type other than `object` on PyPy: see `impl_::runtime_has_builtin_shapes`.)
fn shape_supported<T: Class>() -> Result<()> {
    if matches!(T::SHAPE, ffi::HPyType_BuiltinShape_Object | ffi::HPyType_BuiltinShape_Type)
        || crate::impl_::runtime_has_builtin_shapes()
    {
        return Ok(());
    }
    Err(crate::exceptions::TypeError::new_err(shape_unsupported_message::<T>()))
}

#[cold]
fn shape_unsupported_message<T: Class>() -> String {
    let base = match T::SHAPE {
        ffi::HPyType_BuiltinShape_Long => "int",
        ffi::HPyType_BuiltinShape_Float => "float",
        ffi::HPyType_BuiltinShape_Unicode => "str",
        ffi::HPyType_BuiltinShape_Tuple => "tuple",
        ffi::HPyType_BuiltinShape_List => "list",
        _ => "a built-in type",
    };
    format!(
        "cannot create {} instances on this Python: the class extends {base}, and this HPy runtime \
         cannot find a Rust value inside a {base} object (PyPy does not implement HPy's {base} shape)",
        T::NAME
    )
}

#[cold]
#[inline(never)]
fn no_struct<T: Class>() -> ! {
    panic!(
        "this {} object has no Rust value: it was made by object.__new__, not by {}() \
         (PyPy lets object.__new__ make instances of extension types)",
        T::NAME,
        T::NAME
    )
}

#[cold]
#[inline(never)]
fn shape_unsupported<T: Class>() -> ! {
    panic!("{}", shape_unsupported_message::<T>())
}

/// The type object of `T`, once the module has created it.
pub(crate) fn type_of<'ctx, T: Class>(ctx: Context<'ctx>) -> Result<Handle<'ctx>> {
    T::type_global().load(ctx).ok_or_else(type_not_created::<T>)
}

#[cold]
fn type_not_created<T: Class>() -> Error {
    RuntimeError::new_err(format!("the {} type is not created yet (is its module imported?)", T::NAME))
}

/// The type object of `T`, for creating the type of a class that extends `T` (the module
/// creates each base before the classes that extend it).
#[doc(hidden)]
pub fn base_type<'ctx, T: Class>(ctx: Context<'ctx>) -> Result<Handle<'ctx, crate::Type>> {
    type_of::<T>(ctx)?.downcast_into()
}

/// A new instance of `ty` (`T`'s type or a subclass of it) built from `init` (a value of a
/// class that extends no other, or an [`Init`]).
pub fn new_instance<'ctx, T: Class>(ctx: Context<'ctx>, ty: &Handle<'ctx>, init: impl Into<Init<'ctx, T>>) -> Result<Handle<'ctx, T>> {
    new_instance_of_type(ctx, ty.as_raw(), init.into())
}

/// [`new_instance`] on the raw type handle (open for the call), inlined into its callers:
/// `Context::instance` compiles shorter than through the public function taking `&Handle`.
#[inline]
fn new_instance_of_type<'ctx, T: Class>(ctx: Context<'ctx>, ty: ffi::HPy, init: Init<'ctx, T>) -> Result<Handle<'ctx, T>> {
    let (obj, start) = allocate::<T>(ctx, ty)?;
    // SAFETY: the fresh, zeroed struct of the new instance of `T` (or a subclass), seen by
    // nobody else yet.
    unsafe { <T as ClassBase>::write_levels(obj.as_any(), start, init)? };
    Ok(obj)
}

/// [`new_instance`] of a class that extends no other, from its value alone: what `#[new]`
/// returning `Self` and [`Context::instance`] do. No [`Init`] is built (no base levels, no
/// fields to fill): the value goes straight into the fresh struct.
pub fn new_instance_of_value<'ctx, T: Class<Base = NoBase>>(ctx: Context<'ctx>, ty: &Handle<'ctx>, value: T) -> Result<Handle<'ctx, T>> {
    new_instance_of_type_and_value(ctx, ty.as_raw(), value)
}

/// [`new_instance_of_value`] on the raw type handle (open for the call), inlined as above.
#[inline]
fn new_instance_of_type_and_value<'ctx, T: Class<Base = NoBase>>(ctx: Context<'ctx>, ty: ffi::HPy, value: T) -> Result<Handle<'ctx, T>> {
    let (obj, start) = allocate::<T>(ctx, ty)?;
    // SAFETY: `T` extends no other class, so the fresh struct starts with `T`'s cell.
    let cell = unsafe { ClassCell::<T>::at(start) };
    // SAFETY: the new object's zeroed cell, seen by nobody else yet (and so not initialised:
    // no flag to check, unlike `write_levels`, which `init_instance` also calls).
    unsafe { cell.init(value) };
    Ok(obj)
}

/// A new, zeroed instance of `ty` (`T`'s type or a subclass of it), and the start of the
/// struct that holds `T`'s levels.
#[inline]
fn allocate<'ctx, T: Class>(ctx: Context<'ctx>, ty: ffi::HPy) -> Result<(Handle<'ctx, T>, *mut u8)> {
    shape_supported::<T>()?;
    let mut data: *mut core::ffi::c_void = core::ptr::null_mut();
    // SAFETY: live context, an open handle of a type; HPy_New returns a zeroed struct of
    // `basicsize`.
    let raw = unsafe { ffi::_HPy_New(ctx.as_ptr(), ty, &mut data) };
    // SAFETY: a new handle or NULL.
    let obj: Handle<'ctx, T> = unsafe { Handle::from_new(ctx, raw)? };
    // `data` is the struct for a plain class that Python cannot subclass. Otherwise `ty` may be
    // a Python subclass, for which hpy 0.9's HPy_New returns the start of the object (it treats
    // the subclass as a legacy type), while the class's struct follows the object header:
    // `_HPy_AsStruct_*` of the class's shape finds it in all cases.
    let start = if T::SHAPE == ffi::HPyType_BuiltinShape_Object && !T::SUBCLASSABLE && !data.is_null() {
        data as *mut u8
    } else {
        obj.cell().struct_start() as *mut u8
    };
    Ok((obj, start))
}

/// Put `init` into `obj`, a fresh instance of `T`'s type (or a subclass) made by a built-in
/// base type's `__new__`, whose zeroed memory holds the cell.
pub(crate) fn init_instance<'ctx, T: Class>(obj: Handle<'ctx>, init: Init<'ctx, T>) -> Result<Handle<'ctx, T>> {
    shape_supported::<T>()?;
    let obj = obj.downcast_into::<T>()?;
    let start = obj.cell().struct_start() as *mut u8;
    // SAFETY: the struct of an instance of `T` made by its base's `__new__` (zeroed); each
    // level refuses to be initialised twice (a second `__init__` call).
    unsafe { <T as ClassBase>::write_levels(obj.as_any(), start, init)? };
    Ok(obj)
}

impl<'ctx> Context<'ctx> {
    /// A new Python instance of class `T` holding `value` (what returning a `T` does). For a
    /// class that extends another, use [`instance_init`](Self::instance_init).
    pub fn instance<T: Class<Base = NoBase>>(self, value: T) -> Result<Handle<'ctx, T>> {
        // A new handle to the type, not one lent by its global: allocating can run a garbage
        // collection (CPython <= 3.11 collects inside the allocation) whose finalizers run
        // Python code, which must not be able to free the type meanwhile.
        let ty = type_of::<T>(self)?;
        new_instance_of_type_and_value(self, ty.as_raw(), value)
    }

    /// A new Python instance of class `T` built from `init`: the values of `T` and of the
    /// classes it extends, and fields to fill.
    pub fn instance_init<T: Class>(self, init: Init<'ctx, T>) -> Result<Handle<'ctx, T>> {
        let ty = type_of::<T>(self)?;
        new_instance(self, &ty, init)
    }
}

/// A reference from an instance of a class to another Python object (HPy's `HPyField`).
///
/// A `Field` lives inside a `#[hpy::class]` struct; `#[hpy::class]` reports it to the garbage
/// collector, so reference cycles through fields are collected. It is read and written through
/// the owning object's handle and a [`Context`]: `self.child.store(&slf, &value)`,
/// `self.child.load(&slf)`. Dropping it does nothing (HPy clears fields itself when the owner dies).
///
/// **Deep chains:** HPy 0.9 frees an object's fields without CPython's "trashcan" (which frees
/// nested containers a level at a time), so freeing a chain of instances that hold each other
/// directly in fields recurses once per link in C and overflows the stack at a depth of about
/// 30,000. If users can build such chains (linked lists, trees by parent or value), hold the
/// next object through a Python container instead, e.g. a one-item `list` in the field: CPython
/// frees containers without recursion. `examples/tree` does this.
#[repr(transparent)]
pub struct Field<K = Any> {
    raw: UnsafeCell<ffi::HPyField>,
    _kind: PhantomData<fn() -> K>,
}

// SAFETY: a field is an opaque word owned by its object; it is only read or written through a
// `Context` (inside an HPy call), which serialises access.
unsafe impl<K> Send for Field<K> {}

// No `Default`: `mem::take` of a set field would drop the reference HPy holds for it.

impl<K> Field<K> {
    /// An empty field (`load` gives `None`).
    #[allow(clippy::new_without_default)] // deliberately no Default: see above
    pub const fn new() -> Self {
        Field { raw: UnsafeCell::new(ffi::HPyField_NULL), _kind: PhantomData }
    }

    /// Is the field empty?
    pub fn is_empty(&self) -> bool {
        // SAFETY: a plain read of our own word.
        unsafe { (*self.raw.get())._i == 0 }
    }

    /// Check that the field is inside `owner`'s Rust value: HPy requires the owner of a field.
    fn check_owner<C: Class>(&self, owner: &Handle<'_, C>) -> Result<()> {
        let cell = owner.cell();
        let start = cell as *const ClassCell<C> as usize;
        let end = start + core::mem::size_of::<ClassCell<C>>();
        let me = self as *const Self as usize;
        if me >= start && me + core::mem::size_of::<Self>() <= end {
            Ok(())
        } else {
            Err(RuntimeError::new_err("this Field does not belong to the given owner object"))
        }
    }

    /// A new handle to the referenced object, or `None` if the field is empty.
    pub fn load<'ctx, C: Class>(&self, owner: &Handle<'ctx, C>) -> Result<Option<Handle<'ctx, K>>> {
        self.check_owner(owner)?;
        // SAFETY: a plain read of our own word.
        let raw = unsafe { *self.raw.get() };
        if raw._i == 0 {
            return Ok(None);
        }
        let ctx = owner.ctx();
        // SAFETY: live context; the field belongs to `owner` (checked); Load returns a new handle.
        Ok(Some(unsafe { Handle::from_raw(ctx, ffi::HPyField_Load(ctx.as_ptr(), owner.as_raw(), raw)) }))
    }

    /// Make the field refer to `value` (the owner keeps its own reference).
    pub fn store<'ctx, C: Class>(&self, owner: &Handle<'ctx, C>, value: &Handle<'ctx, K>) -> Result<()> {
        self.check_owner(owner)?;
        let ctx = owner.ctx();
        // SAFETY: live context; the field belongs to `owner`; HPy writes the word in place.
        unsafe { ffi::HPyField_Store(ctx.as_ptr(), owner.as_raw(), self.raw.get(), value.as_raw()) };
        Ok(())
    }

    /// Empty the field (dropping the owner's reference).
    pub fn clear<C: Class>(&self, owner: &Handle<'_, C>) -> Result<()> {
        self.check_owner(owner)?;
        let ctx = owner.ctx();
        // SAFETY: as in `store`; storing NULL releases the reference.
        unsafe { ffi::HPyField_Store(ctx.as_ptr(), owner.as_raw(), self.raw.get(), ffi::HPy_NULL) };
        Ok(())
    }

    /// The raw `HPyField` pointer, for the generated traverse function.
    #[doc(hidden)]
    pub fn raw_ptr(this: *const Self) -> *mut ffi::HPyField {
        // `Field` is repr(transparent) over UnsafeCell<HPyField>.
        this as *mut ffi::HPyField
    }
}

impl<K> core::fmt::Debug for Field<K> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(if self.is_empty() { "Field(<empty>)" } else { "Field(<set>)" })
    }
}

/// `self` of a getter, setter or slot whose receiver the runtimes do not all check: the
/// instance, checked to be a `T` (binary operators may be called with the instance on the
/// right; PyPy's getset descriptors pass any object). Methods and the slots in
/// `impl_::slots::runtime_checks_receiver` get `self` as a `T` directly.
#[doc(hidden)]
pub fn receiver<'a, 'ctx, T: Class>(slf: &'a Handle<'ctx>) -> Result<&'a Handle<'ctx, T>> {
    slf.downcast::<T>()
}

/// Error for a `T` where something else was passed.
#[doc(hidden)]
pub fn not_an_instance<T: Class>(obj: &Handle<'_>) -> Error {
    Error::wrong_type(T::NAME, obj)
}


/// The address of `obj`'s cell: an identity of the instance while it lives.
///
/// # Safety
/// `obj` is an instance of `T`'s type (or a subclass).
pub(crate) unsafe fn cell_address<T: Class>(obj: &Handle<'_, Any>) -> usize {
    // SAFETY: per the contract; only the address is kept.
    unsafe { ClassCell::<T>::of(obj) as *const ClassCell<T> as usize }
}

impl<T: Class> ClassRef<'_, T> {
    /// The address of the borrowed instance's cell (see [`cell_address`]).
    pub(crate) fn cell_address(&self) -> usize {
        self.cell as *const ClassCell<T> as usize
    }

    /// The same borrow, no longer tied to a handle's lifetime: for a buffer export, whose
    /// borrow ends when the consumer releases the buffer, not when the call returns.
    ///
    /// # Safety
    /// The instance outlives the returned borrow (the export's view holds a reference to it).
    pub(crate) unsafe fn detach(self) -> ClassRef<'static, T> {
        let cell: *const ClassCell<T> = self.cell;
        // The borrow is handed over, not ended.
        core::mem::forget(self);
        // SAFETY: the caller keeps the instance, hence its cell, alive as long as the result.
        ClassRef { cell: unsafe { &*cell } }
    }
}

/// Extract a class instance by value (a clone of its Rust value): generated by `#[hpy::class]`
/// for classes that derive `Clone`.
#[doc(hidden)]
pub fn extract_clone<T: Class + Clone>(obj: &Handle<'_>) -> Result<T> {
    Ok(obj.downcast::<T>()?.borrow()?.clone())
}
