//! High-precision linear algebra on MPFR ([`rug::Float`]) and seeded samplers.

mod decomp;
mod mat;
pub mod sample;
pub mod vec;

pub use decomp::{Cholesky, Lu, MAX_JACOBI_SWEEPS, SymEigen};
pub use mat::{DEFAULT_PREC, Mat};

use rug::Float;

/// Why a linear-algebra operation refused its input. Each variant names the problem and where.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LinalgError {
    #[error("{op}: the matrix is empty (0×0)")]
    Empty { op: &'static str },
    #[error("{op}: needs a square matrix, got {rows}×{cols}")]
    NotSquare {
        op: &'static str,
        rows: usize,
        cols: usize,
    },
    #[error("{op}: shapes do not fit: {}×{} and {}×{}", left.0, left.1, right.0, right.1)]
    ShapeMismatch {
        op: &'static str,
        left: (usize, usize),
        right: (usize, usize),
    },
    #[error("row {row} has {len} entries, expected {expected}")]
    Ragged {
        row: usize,
        len: usize,
        expected: usize,
    },
    #[error("entry ({row}, {col}) is NaN or infinite")]
    NonFinite { row: usize, col: usize },
    #[error(
        "the matrix is not symmetric: entries ({row}, {col}) and ({col}, {row}) differ by {diff:e}"
    )]
    NotSymmetric { row: usize, col: usize, diff: f64 },
    #[error(
        "the matrix is not positive definite: Cholesky pivot {pivot} is {value:e} (must be > 0)"
    )]
    NotPositiveDefinite { pivot: usize, value: f64 },
    #[error("the matrix is singular: zero pivot in column {col}")]
    Singular { col: usize },
    #[error("{what} did not converge in {iterations} iterations")]
    NoConvergence {
        what: &'static str,
        iterations: usize,
    },
}

/// `x` as a [`Float`] at precision `prec` from an exact ratio `num/den`.
pub fn ratio(num: i64, den: i64, prec: u32) -> Float {
    Float::with_val(prec, num) / Float::with_val(prec, den)
}

/// `⌊−log2 |x|⌋`, the number of leading correct bits that a residual `x` certifies
/// (`u32::MAX` for an exact zero). Printed instead of the residual itself, so snapshot text does
/// not depend on the last bits.
pub fn bits_below(x: &Float) -> u32 {
    if x.is_zero() {
        return u32::MAX;
    }
    let e = x.get_exp().expect("finite nonzero residual");
    // |x| < 2^e, so −log2|x| > −e.
    if e >= 0 { 0 } else { (-e) as u32 }
}

/// A batch of `2d` rows `±t_j e_j` whose covariance is exactly `diag(vars)` under the divisor
/// `B − 1` (`unbiased`) or `B`: `t_j = √(v_j·div/2)`. The batch mean is zero.
pub fn batch_with_diagonal_covariance(vars: &[Float], unbiased: bool) -> Mat {
    let prec = vars[0].prec();
    let d = vars.len();
    let b = 2 * d;
    let div = if unbiased { b - 1 } else { b } as u64;
    let t: Vec<Float> = vars
        .iter()
        .map(|v| (Float::with_val(prec, v * div) / 2u32).sqrt())
        .collect();
    Mat::from_fn(b, d, prec, |i, j| {
        if i / 2 == j {
            if i % 2 == 0 {
                t[j].clone()
            } else {
                -t[j].clone()
            }
        } else {
            Float::new(prec)
        }
    })
}
