//! Python calls an `#[hpy::function]` synchronously, within the call's context: an `async fn`
//! would return a future that outlives the call (and its handles), so it is rejected.
#[hpy::module]
mod m {
    #[hpy::function]
    async fn later() -> i64 {
        1
    }
}

fn main() {}
