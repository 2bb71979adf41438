//! `hpy::Slice` is a kind, a type-level marker for `Handle<'_, Slice>`, not a value: it cannot
//! be a parameter on its own. Take `hpy::SliceBounds` (the unpacked slice), `hpy::SliceOrIndex`
//! (an index or a slice, for `__getitem__`), or `&Handle<'_, hpy::Slice>`.
#[hpy::module]
mod m {
    use hpy::Slice;

    #[hpy::function]
    fn length(s: Slice) -> usize {
        let _ = s;
        0
    }
}

fn main() {}
