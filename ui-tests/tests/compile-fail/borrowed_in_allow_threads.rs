//! A `Borrowed` handle (a function's argument) is no more usable without the interpreter than
//! an owned one: `allow_threads` refuses a closure that captures it.
use hpy::{Borrowed, Context};

fn is_none_without_gil(ctx: Context<'_>, arg: Borrowed<'_, '_>) -> bool {
    ctx.allow_threads(move || arg.is_none())
}

fn main() {}
