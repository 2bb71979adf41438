//! An `#[hpy::submodule]` cannot contain another: declare every submodule in the top module.
#[hpy::module]
mod m {
    #[hpy::submodule]
    mod outer {
        #[hpy::submodule]
        mod inner {}
    }
}

fn main() {}
