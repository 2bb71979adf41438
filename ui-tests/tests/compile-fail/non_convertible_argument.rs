//! Every parameter of an `#[hpy::function]` is converted from a Python object with
//! `hpy::FromHPy`; `std::fs::File` has no such conversion, so the function cannot be exposed.
#[hpy::module]
mod m {
    #[hpy::function]
    fn read_all(file: std::fs::File) -> u64 {
        file.metadata().map_or(0, |m| m.len())
    }
}

fn main() {}
