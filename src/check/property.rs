//! A seeded property runner over quickcheck-generated values, with greedy shrinking.
//!
//! quickcheck's own `QuickCheck::quicktest` only accepts `fn` items; the checks here are closures
//! over a formula variant, a precision and a tolerance, so this runner drives quickcheck's seeded
//! [`Gen`] and [`Arbitrary::shrink`] directly. Same seed, same cases, same counterexample.

use std::fmt::Display;

use quickcheck::{Arbitrary, Gen};

/// The result of running a property.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PropertyRun<T> {
    pub seed: u64,
    /// Cases run before the first failure (all of them when it passed).
    pub cases: usize,
    pub failure: Option<Counterexample<T>>,
}

/// The smallest failing value found, the failure message and how many shrink steps it took.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Counterexample<T> {
    pub value: T,
    pub message: String,
    pub shrink_steps: usize,
}

impl<T: Display> PropertyRun<T> {
    pub fn passed(&self) -> bool {
        self.failure.is_none()
    }
    /// One line: what failed and how to rebuild it.
    pub fn describe_failure(&self) -> Option<String> {
        self.failure
            .as_ref()
            .map(|c| format!("{} ({}; seed {:#x})", c.message, c.value, self.seed))
    }
}

/// The most shrink steps tried before reporting the current counterexample.
pub const MAX_SHRINK_STEPS: usize = 200;

/// Runs `prop` on `cases` values drawn from a [`Gen`] of `size` seeded by `seed`, stopping at the
/// first failure and shrinking it greedily.
pub fn for_all<T, F>(seed: u64, size: usize, cases: usize, mut prop: F) -> PropertyRun<T>
where
    T: Arbitrary + Clone,
    F: FnMut(&T) -> Result<(), String>,
{
    let mut g = Gen::from_size_and_seed(size, seed);
    for i in 0..cases {
        let value = T::arbitrary(&mut g);
        if let Err(message) = prop(&value) {
            let (value, message, shrink_steps) = shrink(value, message, &mut prop);
            return PropertyRun {
                seed,
                cases: i + 1,
                failure: Some(Counterexample {
                    value,
                    message,
                    shrink_steps,
                }),
            };
        }
    }
    PropertyRun {
        seed,
        cases,
        failure: None,
    }
}

/// Greedy shrinking: take the first smaller value that still fails, until none does.
pub fn shrink<T, F>(mut value: T, mut message: String, prop: &mut F) -> (T, String, usize)
where
    T: Arbitrary + Clone,
    F: FnMut(&T) -> Result<(), String>,
{
    let mut steps = 0;
    'outer: while steps < MAX_SHRINK_STEPS {
        for candidate in value.shrink() {
            if let Err(m) = prop(&candidate) {
                value = candidate;
                message = m;
                steps += 1;
                continue 'outer;
            }
        }
        break;
    }
    (value, message, steps)
}
