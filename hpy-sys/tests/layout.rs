//! Layout proof: every size, alignment, field offset and constant of hpy-sys equals what a C
//! compiler computes from the hpy 0.9.0 headers.
//!
//! `layout/probe.c` and `layout/rust_layout.rs` are generated from the same list of items; the
//! probe is compiled with gcc (`$CC`) against the headers of the installed `hpy` package, run,
//! and its output compared line by line with Rust's `size_of`/`align_of`/`offset_of!`/constants.
//!
//! The headers are found through `HPY_INCLUDE_DIR`, or else by asking `$HPY_PYTHON` (default
//! `python3`) where `hpy.devel` is. `make test` sets both.
//!
//! The universal ABI only: the native build's context is a different struct (the constant
//! handles alone, see `src/native/context.rs`), and its other types are the universal ones.
#![cfg(not(feature = "native"))]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

mod rust_layout {
    include!("layout/rust_layout.rs");
}

fn include_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("HPY_INCLUDE_DIR") {
        return dir.into();
    }
    let python = std::env::var("HPY_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = Command::new(&python)
        .args([
            "-c",
            "import hpy.devel, os; print(os.path.join(os.path.dirname(hpy.devel.__file__), 'include'))",
        ])
        .output();
    let problem = match out {
        Ok(out) if out.status.success() => return PathBuf::from(String::from_utf8(out.stdout).unwrap().trim()),
        Ok(out) => String::from_utf8_lossy(&out.stderr).into_owned(),
        Err(e) => format!("cannot run `{python}`: {e}"),
    };
    panic!(
        "the layout test needs the hpy 0.9.0 C headers: run `make test`, or set HPY_INCLUDE_DIR \
         (.../site-packages/hpy/devel/include) or HPY_PYTHON (an absolute path to a python with \
         `pip install hpy==0.9.0`).\n`{python}` failed: {problem}"
    )
}

fn c_layout(include: &Path) -> BTreeMap<String, String> {
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/layout");
    let exe = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hpy_layout_probe");
    let cc = std::env::var("CC").unwrap_or_else(|_| "gcc".into());
    let status = Command::new(&cc)
        // gnu11, not c11: inline_helpers.h uses alloca
        .args(["-std=gnu11", "-Wall", "-DHPY_ABI_UNIVERSAL"])
        // forbid_python_h/Python.h is an #error: proves the probe never sees CPython's headers
        .arg("-I")
        .arg(include.join("hpy/forbid_python_h"))
        .arg("-I")
        .arg(include)
        .arg(here.join("probe.c"))
        .arg("-o")
        .arg(&exe)
        .status()
        .unwrap_or_else(|e| panic!("cannot run the C compiler `{cc}`: {e}"));
    assert!(status.success(), "the C layout probe did not compile against {}", include.display());
    let out = Command::new(&exe).output().expect("run the C layout probe");
    assert!(out.status.success(), "the C layout probe failed");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let (key, value) = line.rsplit_once(' ').expect("probe line is `key value`");
            (key.to_string(), value.to_string())
        })
        .collect()
}

#[test]
fn layout_matches_the_c_headers() {
    let include = include_dir();
    let c = c_layout(&include);
    let rust: BTreeMap<String, String> =
        rust_layout::rust_layout().into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    assert_eq!(rust.len(), rust_layout::rust_layout().len(), "duplicate layout keys");

    let mut mismatches = Vec::new();
    for (key, c_value) in &c {
        match rust.get(key) {
            Some(r) if r == c_value => {}
            Some(r) => mismatches.push(format!("{key}: C {c_value}, Rust {r}")),
            None => mismatches.push(format!("{key}: in C only")),
        }
    }
    for key in rust.keys().filter(|k| !c.contains_key(*k)) {
        mismatches.push(format!("{key}: in Rust only"));
    }
    assert!(mismatches.is_empty(), "{} layout mismatches:\n{}", mismatches.len(), mismatches.join("\n"));

    let ctx_fields = c.keys().filter(|k| k.starts_with("offsetof HPyContext.")).count();
    let structs = c.keys().filter(|k| k.starts_with("alignof ") && *k != "alignof HPyContext").count();
    let constants = c.keys().filter(|k| k.starts_with("const ")).count();
    assert_eq!(ctx_fields, 266, "HPy 0.9.0's HPyContext has 266 fields");
    assert_eq!(c["sizeof HPyContext"], "2128", "sizeof(HPyContext) on LP64");
    assert_eq!(ctx_fields, hpy_sys::CTX_FIELDS.len());
    eprintln!(
        "layout: {ctx_fields} context fields, {structs} structs, {constants} constants match hpy {} \
         ({} checks, headers from {})",
        hpy_sys::HPY_VERSION,
        c.len(),
        include.display()
    );
}

/// The field table emitted next to the struct is in the same order as the struct itself.
#[test]
fn ctx_fields_table_is_in_struct_order() {
    let layout: BTreeMap<_, _> = rust_layout::rust_layout().into_iter().collect();
    let offsets: Vec<usize> = hpy_sys::CTX_FIELDS
        .iter()
        .map(|(name, _)| layout[format!("offsetof HPyContext.{name}").as_str()].parse().unwrap())
        .collect();
    assert!(offsets.windows(2).all(|w| w[0] < w[1]), "CTX_FIELDS out of order");
    assert_eq!(hpy_sys::CTX_FIELDS[0].0, "name");
    assert_eq!(hpy_sys::CTX_FIELDS[3].0, "h_None");
    assert_eq!(hpy_sys::CTX_FIELDS[265].0, "ctx_CallMethod");
}

/// hpy-rs's CPython trampoline for `bf_releasebuffer` reads CPython's `Py_buffer` as an
/// `HPy_buffer` (to release an export without entering HPy): the two must agree field for field.
/// Checked against the `Python.h` of `$HPY_PYTHON` (the layout has not changed since CPython 3.3
/// and is part of the stable ABI since 3.11).
#[test]
fn cpython_py_buffer_has_the_layout_of_hpy_buffer() {
    use hpy_sys::HPy_buffer;
    use std::mem::{offset_of, size_of};
    let python = std::env::var("HPY_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = Command::new(&python)
        .args(["-c", "import sysconfig; print(sysconfig.get_paths()['include'])"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{python}`: {e}"));
    assert!(out.status.success(), "`{python}` could not tell its include directory");
    let include = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    let fields = [
        "buf", "obj", "len", "itemsize", "readonly", "ndim", "format", "shape", "strides", "suboffsets", "internal",
    ];
    let mut probe = String::from("#include <Python.h>\n#include <stdio.h>\n#include <stddef.h>\nint main(void) {\n");
    probe.push_str("    printf(\"size %zu\\n\", sizeof(Py_buffer));\n");
    for f in fields {
        probe.push_str(&format!("    printf(\"{f} %zu\\n\", offsetof(Py_buffer, {f}));\n"));
    }
    probe.push_str("    return 0;\n}\n");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let (src, exe) = (dir.join("py_buffer_probe.c"), dir.join("py_buffer_probe"));
    std::fs::write(&src, probe).unwrap();
    let cc = std::env::var("CC").unwrap_or_else(|_| "gcc".into());
    let status = Command::new(&cc).arg("-I").arg(&include).arg(&src).arg("-o").arg(&exe).status().unwrap();
    assert!(status.success(), "the Py_buffer probe did not compile against {}", include.display());
    let out = Command::new(&exe).output().expect("run the Py_buffer probe");
    let c: BTreeMap<String, usize> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (k, v) = l.split_once(' ').unwrap();
            (k.to_string(), v.parse().unwrap())
        })
        .collect();
    let rust: BTreeMap<String, usize> = [
        ("size", size_of::<HPy_buffer>()),
        ("buf", offset_of!(HPy_buffer, buf)),
        ("obj", offset_of!(HPy_buffer, obj)),
        ("len", offset_of!(HPy_buffer, len)),
        ("itemsize", offset_of!(HPy_buffer, itemsize)),
        ("readonly", offset_of!(HPy_buffer, readonly)),
        ("ndim", offset_of!(HPy_buffer, ndim)),
        ("format", offset_of!(HPy_buffer, format)),
        ("shape", offset_of!(HPy_buffer, shape)),
        ("strides", offset_of!(HPy_buffer, strides)),
        ("suboffsets", offset_of!(HPy_buffer, suboffsets)),
        ("internal", offset_of!(HPy_buffer, internal)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(c, rust, "CPython's Py_buffer ({}) and HPy_buffer differ", include.display());
}
