//! `#[hpy::init]` is called with the context and the module being created:
//! `fn(Context<'_>, &Handle<'_, Module>) -> Result<()>`. Other parameters are an error.
#[hpy::module]
mod m {
    use hpy::{Handle, Module, Result};

    #[hpy::init]
    fn init(m: &Handle<'_, Module>) -> Result<()> {
        m.setattr("VERSION", "1.0")
    }
}

fn main() {}
