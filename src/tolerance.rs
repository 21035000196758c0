//! The one tolerance policy. Every comparison of two computed numbers goes through [`Tol`]; each
//! constant has its reason beside it.
//!
//! A residual `r` between two routes to the same quantity is accepted when
//! `|r| ≤ 2^(−bits) · scale`, where `scale` is the sum of the magnitudes of the terms that were
//! combined (so cancellation between large terms is not mistaken for an error), and
//! `bits = prec − GUARD_BITS − growth`, with `growth` the bits lost to the algorithm:
//!
//! * `3·⌈log2(d+1)⌉` for dense factorisations and products of `d × d` matrices: the standard
//!   backward-error bounds of LU, Cholesky, Jacobi and matrix products grow at worst like a
//!   polynomial of degree 3 in `d` times the unit roundoff (Higham, *Accuracy and Stability of
//!   Numerical Algorithms*, ch. 3, 9, 10);
//! * `⌈log2 κ⌉` where a solve or an inverse amplifies the backward error by the condition number.

/// Bits of slack beyond the modelled growth: the check's own additions (a handful of terms, each
/// rounded once) and the gap between worst-case constants and our `3·log2(d+1)` model.
pub const GUARD_BITS: u32 = 16;

/// A relative tolerance `2^(−bits)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Tol {
    pub bits: u32,
}

impl Tol {
    /// For a quantity computed at `prec` bits by dense `d × d` linear algebra on a matrix of
    /// condition number about `2^cond_bits`.
    pub fn linalg(prec: u32, d: usize, cond_bits: u32) -> Tol {
        let growth = 3 * ceil_log2(d as u64 + 1) + cond_bits;
        Tol {
            bits: prec.saturating_sub(GUARD_BITS + growth).max(1),
        }
    }

    /// For scalar formulas of a few operations at `prec` bits (no dimension growth).
    pub fn scalar(prec: u32) -> Tol {
        Tol {
            bits: prec.saturating_sub(GUARD_BITS).max(1),
        }
    }

    /// `|residual| ≤ 2^(−bits) · scale`.
    pub fn accepts(&self, residual: &rug::Float, scale: &rug::Float) -> bool {
        let bound = rug::Float::with_val(residual.prec().max(64), &*scale.as_abs()) >> self.bits;
        residual.is_finite() && *residual.as_abs() <= bound
    }

    /// The tolerance as text: `2^-230`.
    pub fn describe(&self) -> String {
        format!("2^-{}", self.bits)
    }
}

/// `⌈log2 n⌉` (0 for n ≤ 1).
pub fn ceil_log2(n: u64) -> u32 {
    if n <= 1 {
        0
    } else {
        64 - (n - 1).leading_zeros()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rug::Float;

    #[test]
    fn ceil_log2_values() {
        assert_eq!(
            [
                ceil_log2(1),
                ceil_log2(2),
                ceil_log2(3),
                ceil_log2(8),
                ceil_log2(9)
            ],
            [0, 1, 2, 3, 4]
        );
    }

    #[test]
    fn accepts_success_and_failure() {
        let t = Tol::linalg(256, 8, 0); // 256 − 16 − 3·4 = 228 bits
        assert_eq!(t.bits, 228);
        let scale = Float::with_val(256, 10);
        let small = Float::with_val(256, 1) >> 226u32; // 2^-226 ≤ 10·2^-228 = 2^-224.7
        let large = Float::with_val(256, 1) >> 220u32;
        assert!(t.accepts(&small, &scale));
        assert!(!t.accepts(&large, &scale));
        assert!(!t.accepts(&Float::with_val(256, f64::NAN), &scale));
    }

    /// The text printed in every report's evidence line (snapshots depend on it).
    #[test]
    fn describe_prints_the_exponent() {
        assert_eq!(Tol { bits: 230 }.describe(), "2^-230");
        assert_eq!(Tol::scalar(64).describe(), "2^-48");
    }
}
