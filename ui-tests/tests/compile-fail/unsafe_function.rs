//! Python cannot uphold the contract of an `unsafe fn`, so it cannot be an `#[hpy::function]`.
#[hpy::module]
mod m {
    #[hpy::function]
    unsafe fn deref(p: usize) -> u8 {
        unsafe { *(p as *const u8) }
    }
}

fn main() {}
