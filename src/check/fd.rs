//! High-precision finite differences: central differences with one Richardson step.
//!
//! With step `h`, `D(h) = (f(x+h) − f(x−h))/2h = f′ + f‴h²/6 + O(h⁴)`, and
//! `R = (4D(h/2) − D(h))/3 = f′ + O(h⁴)`. Rounding contributes about `2^−prec·|f|/h`. At 256 bits
//! with `h = 2^−40` (the default, [`DEFAULT_STEP_LOG2`]) the truncation error is about `2^−160`
//! and the rounding error about `2^−216` (relative to the scale of `f` and its derivatives), so
//! agreement is expected to about 150 bits: [`fd_tolerance`].

use rug::Float;

use crate::hp::Mat;
use crate::tolerance::Tol;

/// `log2` of the default step.
pub const DEFAULT_STEP_LOG2: i32 = -40;

/// The tolerance for a Richardson-extrapolated difference: 120 bits. The truncation error is
/// `O(h⁴)·|f⁽⁵⁾| ≈ 2^−160·|f⁽⁵⁾|`; for the functions checked here (det and log det of matrices
/// with condition ≤ 10³ and α ≤ 16) the fifth derivative relative to the gradient stays below
/// `2^30`, and rounding (`2^−prec/h ≈ 2^−216` at 256 bits) is far smaller. A wrong gradient misses
/// by a relative `O(1)`, so 120 bits separates right from wrong with a wide margin either way.
pub fn fd_tolerance(prec: u32) -> Tol {
    Tol {
        bits: 120.min(
            Tol::scalar(prec)
                .bits
                .saturating_sub((-DEFAULT_STEP_LOG2) as u32),
        ),
    }
}

/// `f′(x)` by Richardson-extrapolated central differences with step `2^step_log2`.
pub fn derivative(f: &dyn Fn(&Float) -> Float, x: &Float, step_log2: i32) -> Float {
    let prec = x.prec();
    let d = |h: &Float| {
        let up = f(&Float::with_val(prec, x + h));
        let dn = f(&Float::with_val(prec, x - h));
        Float::with_val(prec, &up - &dn) / Float::with_val(prec, h * 2u32)
    };
    let h = Float::with_val(prec, 1) << step_log2;
    let h2 = Float::with_val(prec, &h / 2u32);
    let (dh, dh2) = (d(&h), d(&h2));
    (dh2 * 4u32 - dh) / 3u32
}

/// The gradient of `f` on symmetric matrices in the Frobenius inner product: `G` symmetric with
/// `⟨G, E⟩ = Df(Σ)[E]` for symmetric `E`. Entry `(i, i)` is the derivative along `E_ii`; entry
/// `(i, j)`, `i ≠ j`, is half the derivative along `E_ij + E_ji`.
pub fn sym_gradient(f: &dyn Fn(&Mat) -> Float, at: &Mat, step_log2: i32) -> Mat {
    let n = at.rows();
    let prec = at.prec();
    let mut g = Mat::zeros(n, n, prec);
    for i in 0..n {
        for j in i..n {
            let along = |t: &Float| {
                let mut m = at.clone();
                *m.at_mut(i, j) += t;
                if i != j {
                    *m.at_mut(j, i) += t;
                }
                f(&m)
            };
            let zero = Float::new(prec);
            let mut dv = derivative(&along, &zero, step_log2);
            if i != j {
                dv /= 2u32;
            }
            *g.at_mut(i, j) = dv.clone();
            *g.at_mut(j, i) = dv;
        }
    }
    g
}

/// The worst entry of `|a − b|` relative to `scale`, with its index.
pub fn worst_entry(a: &Mat, b: &Mat) -> (usize, usize, Float) {
    let mut worst = (0, 0, Float::new(a.prec()));
    for i in 0..a.rows() {
        for j in 0..a.cols() {
            let d = Float::with_val(a.prec(), a.at(i, j) - b.at(i, j)).abs();
            if d > worst.2 {
                worst = (i, j, d);
            }
        }
    }
    worst
}

/// The Jacobian `J_ij = ∂f_i/∂x_j` of `f: R^n → R^m` by Richardson-extrapolated central
/// differences, column by column.
pub fn jacobian(f: &dyn Fn(&[Float]) -> Vec<Float>, x: &[Float], step_log2: i32) -> Mat {
    let n = x.len();
    let prec = x.first().map_or(64, Float::prec);
    let mut cols: Vec<Vec<Float>> = Vec::with_capacity(n);
    for j in 0..n {
        let m = f(x).len();
        let col: Vec<Float> = (0..m)
            .map(|i| {
                let along = |t: &Float| {
                    let mut y = x.to_vec();
                    y[j] += t;
                    f(&y)[i].clone()
                };
                derivative(&along, &Float::new(prec), step_log2)
            })
            .collect();
        cols.push(col);
    }
    let m = cols.first().map_or(0, Vec::len);
    Mat::from_fn(m, n, prec, |i, j| cols[j][i].clone())
}

/// The gradient of a scalar function `f: R^n → R` by Richardson-extrapolated central differences.
pub fn gradient(f: &dyn Fn(&[Float]) -> Float, x: &[Float], step_log2: i32) -> Vec<Float> {
    let prec = x.first().map_or(64, Float::prec);
    (0..x.len())
        .map(|j| {
            let along = |t: &Float| {
                let mut y = x.to_vec();
                y[j] += t;
                f(&y)
            };
            derivative(&along, &Float::new(prec), step_log2)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Success and failure: the derivative of x³ at 2 is 12; a wrong claim (x² → 4) is caught.
    #[test]
    fn derivative_success_and_failure() {
        let x = Float::with_val(256, 2);
        let d = derivative(
            &|t: &Float| Float::with_val(256, t * t) * t,
            &x,
            DEFAULT_STEP_LOG2,
        );
        let tol = fd_tolerance(256);
        assert!(tol.accepts(&Float::with_val(256, &d - 12u32), &Float::with_val(256, 12)));
        assert!(!tol.accepts(&Float::with_val(256, &d - 4u32), &Float::with_val(256, 12)));
    }
}
