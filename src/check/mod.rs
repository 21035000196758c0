//! Generic checks: seeded property runs over shrinkable recipes, remainder-order estimates.

pub mod fd;
pub mod property;
pub mod recipe;
pub mod stats;

pub use property::{Counterexample, PropertyRun, for_all};
pub use recipe::{Recipe, Spectrum};

use rug::Float;

/// The observed order of a remainder `E(h)`: with `h_k = h_0 / 2^k`, the estimates
/// `log2 |E(h_k) / E(h_{k+1})|`, which tend to `p` when `E(h) = C h^p (1 + O(h))`.
pub fn observed_orders(errors: &[Float]) -> Vec<f64> {
    errors
        .windows(2)
        .map(|w| {
            let r = Float::with_val(w[0].prec(), &w[0] / &w[1]).abs();
            r.log2().to_f64()
        })
        .collect()
}
