//! Protocol methods have fixed signatures, dictated by the slot Python calls: `__len__` takes
//! no argument besides `self`. An extra parameter is an error naming the expected signature,
//! not a slot that fails at every call.
#[hpy::module]
mod m {
    #[hpy::class]
    struct Bag {
        items: Vec<i64>,
    }

    #[hpy::methods]
    impl Bag {
        fn __len__(&self, x: i64) -> usize {
            self.items.len() + x as usize
        }
    }
}

fn main() {}
