//! A `Context` is the token of one call on one thread: sending it to another thread (which
//! does not hold the interpreter, and outlives the call) must not compile. `Context` is not
//! `Send`.
use hpy::Context;

fn name_elsewhere(ctx: Context<'_>) -> usize {
    std::thread::spawn(move || ctx.name().len()).join().unwrap()
}

fn main() {}
