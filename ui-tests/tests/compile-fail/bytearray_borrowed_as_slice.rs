//! A `bytearray`'s contents cannot be borrowed as `&[u8]`: Python code running while the borrow
//! lives (a callback, a destructor) could resize the bytearray and leave it dangling. Only
//! `bytes` (immutable) lends its buffer; copy a bytearray out with `to_vec()` or `to_bytes()`.
#[hpy::module]
mod m {
    use hpy::{ByteArray, Handle};

    #[hpy::function]
    fn first(data: &Handle<'_, ByteArray>) -> Option<u8> {
        data.as_bytes().first().copied()
    }
}

fn main() {}
