//! The module object from `HPyModuleDef`: what `PyInit_<name>` returns in the native build.
//!
//! HPy's CPython ABI turns the module definition into a `PyModuleDef` with multi-phase
//! initialisation: the `Meth` defines become its method table, `HPy_mod_exec` defines its
//! `Py_mod_exec` slots and `HPy_mod_create` its `Py_mod_create` slot, each with the CPython
//! trampoline the `hpy` crate generated. `HPyGlobal`s need nothing: in this ABI a global is a
//! `PyObject*` that starts NULL.
use core::ffi::{c_void, CStr};
use core::ptr::null_mut;
use core::sync::atomic::{AtomicPtr, Ordering};

use super::{context::init_context, py, types::method_defs};
use crate::*;

const NON_DEFAULT: &CStr = c"HPyModuleDef defines a HPy_mod_create slot and something else: a custom HPy_mod_create \
slot cannot use any other part of the definition (methods, exec slots, doc, globals)";

/// The `PyModuleDef` made for `def`, kept in `cache` so that a second `PyInit_<name>` (a second
/// interpreter, or a reload) reuses it: CPython requires one def per module, for its lifetime.
///
/// # Safety
/// Called from `PyInit_<name>` with the GIL held; `def` is the module's static definition.
pub unsafe fn HPyModule_Init(
    def: &'static HPyModuleDef,
    name: &'static CStr,
    cache: &'static AtomicPtr<py::PyModuleDef>,
) -> *mut py::PyObject {
    // SAFETY: the GIL is held (PyInit).
    unsafe {
        init_context();
        let mut pydef = cache.load(Ordering::Acquire);
        if pydef.is_null() {
            match module_def(def, name) {
                Some(d) => {
                    pydef = d;
                    cache.store(d, Ordering::Release);
                }
                None => return null_mut(),
            }
        }
        py::PyModuleDef_Init(pydef)
    }
}

unsafe fn module_def(def: &'static HPyModuleDef, name: &'static CStr) -> Option<*mut py::PyModuleDef> {
    // SAFETY (whole function): the GIL is held; `def` is a valid static definition.
    unsafe {
        if def.size != 0 {
            py::PyErr_SetString(
                py::PyExc_SystemError,
                c"Module state is not supported in HPy: set HPyModuleDef.size = 0".as_ptr(),
            );
            return None;
        }
        if !def.legacy_methods.is_null() {
            py::PyErr_SetString(py::PyExc_SystemError, c"legacy methods are not supported by the native build".as_ptr());
            return None;
        }
        let methods = method_defs(def.defines)?;
        let mut slots: Vec<py::PyModuleDef_Slot> = Vec::new();
        let (mut create, mut other) = (false, false);
        let mut i = 0;
        while !def.defines.is_null() && !(*def.defines.add(i)).is_null() {
            let d = &**def.defines.add(i);
            i += 1;
            if d.kind != HPyDef_Kind_Slot {
                other = true;
                continue;
            }
            let s = d.u.slot;
            let slot = match s.slot {
                HPy_mod_create if create => {
                    py::PyErr_SetString(py::PyExc_SystemError, c"Multiple definitions of the HPy_mod_create slot".as_ptr());
                    return None;
                }
                HPy_mod_create => {
                    create = true;
                    py::Py_mod_create
                }
                HPy_mod_exec => {
                    other = true;
                    py::Py_mod_exec
                }
                _ => {
                    py::PyErr_SetString(py::PyExc_SystemError, c"Unsupported slot in HPyModuleDef.defines".as_ptr());
                    return None;
                }
            };
            slots.push(py::PyModuleDef_Slot { slot, value: s.cpy_trampoline.map_or(null_mut(), |f| f as *mut c_void) });
        }
        if create && (other || !def.doc.is_null() || !def.globals.is_null()) {
            py::PyErr_SetString(py::PyExc_SystemError, NON_DEFAULT.as_ptr());
            return None;
        }
        slots.push(py::PyModuleDef_Slot { slot: 0, value: null_mut() });
        // CPython keeps pointers into all of it for the module's lifetime: leaked once.
        let pydef = Box::new(py::PyModuleDef {
            m_base: py::PyModuleDef_HEAD_INIT,
            m_name: name.as_ptr(),
            m_doc: def.doc,
            m_size: 0,
            m_methods: methods,
            m_slots: Box::leak(slots.into_boxed_slice()).as_mut_ptr(),
            m_traverse: None,
            m_clear: None,
            m_free: None,
        });
        Some(Box::leak(pydef))
    }
}
