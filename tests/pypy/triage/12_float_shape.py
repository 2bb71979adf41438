# any mode. abort: "oops! calling the slot 'c_ctx_AsStruct_Float', which is not implemented",
# then a Rust panic "misaligned pointer dereference" (class.rs) that cannot unwind
from loader import load, MODE
geo = load("geometry", MODE)
m = geo.Meters(2.5)       # #[hpy::class(extends = float)]
print(m.feet())
