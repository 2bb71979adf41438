//! The return value of an `#[hpy::function]` is converted to a Python object with
//! `hpy::IntoHPy`; `std::fs::File` has no such conversion, so it cannot be returned to Python.
#[hpy::module]
mod m {
    #[hpy::function]
    fn open(path: String) -> std::fs::File {
        std::fs::File::open(path).unwrap()
    }
}

fn main() {}
