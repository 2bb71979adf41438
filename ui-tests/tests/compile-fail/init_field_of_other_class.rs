//! `Init::field` selects a field of the value being built: a field of another class is a type
//! error (a field is stored through its own object).
#[hpy::module]
mod m {
    use hpy::{Field, Handle, Init};

    #[hpy::class]
    struct Listener {
        callback: Field,
    }

    #[hpy::class]
    struct EventBus {
        fallback: Field,
    }

    #[hpy::methods]
    impl EventBus {
        #[new]
        fn new<'ctx>(fallback: &Handle<'ctx>) -> Init<'ctx, Self> {
            Init::new(EventBus { fallback: Field::new() }).field(|listener: &Listener| &listener.callback, fallback)
        }
    }
}

fn main() {}
