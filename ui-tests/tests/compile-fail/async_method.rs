//! Methods are called synchronously too: an `async fn` in `#[hpy::methods]` is rejected like
//! an async `#[hpy::function]`.
#[hpy::module]
mod m {
    #[hpy::class]
    struct Job {
        id: i64,
    }

    #[hpy::methods]
    impl Job {
        async fn run(&self) -> i64 {
            self.id
        }
    }
}

fn main() {}
