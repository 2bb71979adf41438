//! An `hpy::Field` belongs inside a `#[hpy::class]` struct: HPy stores it relative to its
//! owner object. It cannot be a `static` (module state belongs in an `hpy::Global`): `Field`
//! is not `Sync`, so a shared static of it is rejected.
static CHILD: hpy::Field = hpy::Field::new();

fn main() {
    let _ = CHILD.is_empty();
}
