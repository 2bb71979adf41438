//! HPy places an instance's data right after the object header, aligned to 8 bytes only: a
//! class needing a larger alignment (here `#[repr(align(64))]`) would be read through a
//! misaligned reference, so it is rejected when the type is registered.
//! (A post-monomorphisation error: it shows in `cargo build`, not in `cargo check`.)
#[hpy::module]
mod m {
    #[hpy::class]
    #[repr(align(64))]
    struct CacheLine {
        #[hpy(get)]
        tag: u64,
    }
}

fn main() {}
