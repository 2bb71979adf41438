//! Classes belong to the top `#[hpy::module]`: HPy 0.9 creates a module's types with the
//! module itself, and a submodule is made afterwards.
#[hpy::module]
mod m {
    #[hpy::submodule]
    mod shapes {
        #[hpy::class]
        pub struct Point;
    }
}

fn main() {}
