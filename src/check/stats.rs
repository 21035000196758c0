//! Statistical helpers with stated levels (statrs for the distributions).

use statrs::distribution::{ContinuousCDF, Normal};

/// The two-sided standard-normal quantile `z_{1−(1−level)/2}`.
pub fn z_two_sided(level: f64) -> f64 {
    Normal::new(0.0, 1.0)
        .expect("standard normal")
        .inverse_cdf(1.0 - (1.0 - level) / 2.0)
}

/// Wilson score interval for a binomial proportion `k/n` at confidence `level`.
pub fn wilson_interval(k: u64, n: u64, level: f64) -> (f64, f64) {
    assert!(n > 0);
    let z = z_two_sided(level);
    let (k, n) = (k as f64, n as f64);
    let p = k / n;
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / (1.0 + z2 / n);
    (centre - half, centre + half)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn z_values() {
        assert!((z_two_sided(0.95) - 1.959_963_984_540_054).abs() < 1e-9);
        assert!((z_two_sided(0.999) - 3.290_526_731_491_926).abs() < 1e-8);
    }

    #[test]
    fn wilson_contains_p_and_shrinks() {
        let (lo, hi) = wilson_interval(500, 1000, 0.99);
        assert!(lo < 0.5 && 0.5 < hi && hi - lo < 0.09);
        let (lo2, hi2) = wilson_interval(50_000, 100_000, 0.99);
        assert!(hi2 - lo2 < (hi - lo) / 5.0);
        let (lo0, _) = wilson_interval(0, 10, 0.95);
        assert!(lo0.abs() < 1e-12);
    }
}
