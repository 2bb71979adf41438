//! Python calls a function with objects of any type, so an `#[hpy::function]` cannot be generic
//! over types: there is no `T` to monomorphise it with.
#[hpy::module]
mod m {
    #[hpy::function]
    fn ignore<T>(x: T) {
        let _ = x;
    }
}

fn main() {}
