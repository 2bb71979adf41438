//! A module using every kind of parameter, a context parameter, a `Global`, defaults,
//! keyword-only parameters, `*args`/`**kwargs`, `Result` returns and an init function, in a crate
//! that forbids `unsafe`: the macro output needs no `unsafe` in user code.
#![forbid(unsafe_code)]

#[hpy::module]
mod kinds {
    use std::collections::{BTreeMap, HashMap};

    use hpy::exceptions::ValueError;
    use hpy::{Context, Dict, Global, Handle, List, Module, Result, Tuple, Unicode};

    static LAST: Global = Global::new();

    #[hpy::function]
    fn nothing() {}

    #[hpy::function]
    fn one(x: i64) -> i64 {
        x
    }

    #[hpy::function]
    fn numbers(a: i8, b: u16, c: i32, d: u64, e: isize, f: usize, g: i128, h: f32, i: f64, j: bool) -> f64 {
        a as f64 + b as f64 + c as f64 + d as f64 + e as f64 + f as f64 + g as f64 + h as f64 + i + j as u8 as f64
    }

    #[hpy::function]
    fn text(s: &str, owned: String, c: char, data: &[u8], bytes: Vec<u8>) -> (usize, usize, char, usize, usize) {
        (s.len(), owned.len(), c, data.len(), bytes.len())
    }

    #[hpy::function]
    fn containers(
        v: Vec<String>,
        t: (i64, String),
        m: HashMap<String, i64>,
        b: BTreeMap<i64, Vec<f64>>,
        o: Option<i64>,
    ) -> (usize, i64, usize, usize, Option<i64>) {
        (v.len(), t.0, m.len(), b.len(), o)
    }

    #[hpy::function]
    fn handles<'ctx>(
        any: &Handle<'ctx>,
        s: &Handle<'ctx, Unicode>,
        owned: Handle<'ctx, List>,
        d: Option<&Handle<'ctx, Dict>>,
    ) -> Result<Handle<'ctx>> {
        owned.append(any)?;
        owned.append(s)?;
        if let Some(d) = d {
            owned.append(d)?;
        }
        Ok(owned.into_any())
    }

    #[hpy::function(name = "remember", signature = (value, /, *, replace = true))]
    fn remember_value(ctx: Context<'_>, value: &Handle<'_>, replace: bool) -> Result<Option<i64>> {
        let previous = match LAST.load(ctx) {
            Some(h) => Some(h.extract::<i64>()?),
            None => None,
        };
        if replace || previous.is_none() {
            LAST.store(ctx, value);
        }
        Ok(previous)
    }

    #[hpy::function(signature = (a, b = 2, /, c = 3, *args, d, e = "e", **kwargs))]
    fn everything(
        a: i64,
        b: i64,
        c: i64,
        args: &Handle<'_, Tuple>,
        d: i64,
        e: &str,
        kwargs: Option<&Handle<'_, Dict>>,
    ) -> Result<i64> {
        let extra = args.len()? + kwargs.map_or(Ok(0), |k| k.len())?;
        Ok(a + b + c + d + e.len() as i64 + extra as i64)
    }

    #[hpy::function]
    fn checked(x: i64) -> Result<i64> {
        if x < 0 {
            return Err(ValueError::new_err("negative"));
        }
        Ok(x)
    }

    #[hpy::function]
    fn std_error(text: &str) -> std::result::Result<i64, std::num::ParseIntError> {
        text.parse()
    }

    #[hpy::init]
    fn init(ctx: Context<'_>, module: &Handle<'_, Module>) -> Result<()> {
        LAST.store(ctx, &ctx.object(0)?);
        module.setattr("VERSION", "1.0")
    }
}

fn main() {}
