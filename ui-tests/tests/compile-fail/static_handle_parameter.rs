//! An argument handle belongs to the call: an `#[hpy::function]` cannot take it as
//! `Handle<'static>` (which could then be stored past the call).
#[hpy::module]
mod m {
    use hpy::Handle;

    #[hpy::function]
    fn keep(obj: Handle<'static>) {
        let _ = obj;
    }
}

fn main() {}
