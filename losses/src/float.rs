//! What the float forms of the losses share: the float types, a loss value with its gradients,
//! the input checks and the centring.
//!
//! Each loss module has a float form generic over [`Real`] with its analytic gradient: `f64` is
//! the reference at realistic sizes (B = 512, d = 8192), where MPFR would take hours; `f32` is
//! what the rounding-error model of [`crate::rounding`] is validated against. Each float form
//! takes a *knobs* struct: the conventions in which implementations differ (a divisor, a
//! centring, a weight, ε against ε², …). A named variant is one setting of the knobs; a common
//! mistake is another, which is how the checker recognises it. Every float form is checked
//! against the MPFR form of the same loss in `tests/checker.rs` (and those against 256-bit finite
//! differences in `tests/losses.rs`), so the two cannot drift apart silently.

use nalgebra::{DMatrix, RealField};

use sslproof::hp::LinalgError;

use crate::batch::BatchError;

/// The float types the losses run in (`f64`, `f32`).
pub trait Real: RealField + Copy {}
impl<T: RealField + Copy> Real for T {}

/// `x` in `T` (rounded once).
#[inline]
pub fn k<T: Real>(x: f64) -> T {
    nalgebra::convert(x)
}

/// A loss value and its gradient with respect to each input.
#[derive(Clone, Debug)]
pub struct Out<T> {
    pub value: T,
    pub grads: Vec<DMatrix<T>>,
}

impl<T: Real> Out<T> {
    pub(crate) fn scaled(self, s: T) -> Self {
        if s == T::one() {
            return self;
        }
        Out {
            value: self.value * s,
            grads: self.grads.into_iter().map(|g| g * s).collect(),
        }
    }
}

/// Every entry finite, else a named error (first offending entry, row-major order).
pub fn require_finite<T: Real>(z: &DMatrix<T>) -> Result<(), BatchError> {
    for i in 0..z.nrows() {
        for j in 0..z.ncols() {
            if !z[(i, j)].is_finite() {
                return Err(BatchError::Linalg(LinalgError::NonFinite {
                    row: i,
                    col: j,
                }));
            }
        }
    }
    Ok(())
}

/// A batch `B × d` with `B ≥ min_b`, `d ≥ 1`, all finite.
pub fn require_batch<T: Real>(z: &DMatrix<T>, min_b: usize) -> Result<(usize, usize), BatchError> {
    require_batch_for(
        z,
        min_b,
        "this loss (a covariance, a batch normalisation or pairs of samples)",
    )
}

/// [`require_batch`], naming what needs the `min_b` samples.
pub fn require_batch_for<T: Real>(
    z: &DMatrix<T>,
    min_b: usize,
    why: &'static str,
) -> Result<(usize, usize), BatchError> {
    let (b, d) = z.shape();
    if b == 0 || d == 0 {
        return Err(BatchError::Empty { b, d });
    }
    if b < min_b {
        return Err(BatchError::TooFewSamples { b, why });
    }
    require_finite(z)?;
    Ok((b, d))
}

/// Two views of the same shape, each a valid batch.
pub fn require_views<T: Real>(
    a: &DMatrix<T>,
    b: &DMatrix<T>,
    min_b: usize,
) -> Result<(usize, usize), BatchError> {
    require_views_for(
        a,
        b,
        min_b,
        "this loss (a covariance or a batch normalisation)",
    )
}

/// [`require_views`], naming what needs the `min_b` samples.
pub fn require_views_for<T: Real>(
    a: &DMatrix<T>,
    b: &DMatrix<T>,
    min_b: usize,
    why: &'static str,
) -> Result<(usize, usize), BatchError> {
    if a.shape() != b.shape() {
        return Err(BatchError::ViewShapes {
            a: a.shape(),
            b: b.shape(),
        });
    }
    require_batch_for(a, min_b, why)?;
    require_batch_for(b, min_b, why)
}

/// `Z − 1 z̄ᵀ` (column means subtracted; by columns, the storage order).
pub fn centre<T: Real>(z: &DMatrix<T>) -> DMatrix<T> {
    let b: T = k(z.nrows() as f64);
    let mut c = z.clone();
    for mut col in c.column_iter_mut() {
        let m = col.sum() / b;
        col.add_scalar_mut(-m);
    }
    c
}

/// `Σ xs` by pairwise (cascade) summation, as numpy's and PyTorch's reductions sum: the
/// rounding error grows like `log n`, not `n`, and many small terms are not swamped by a large
/// partial sum the way a sequential loop swamps them.
pub fn pairwise_sum<T: Real>(xs: &[T]) -> T {
    if xs.len() <= 8 {
        return xs.iter().fold(T::zero(), |s, &x| s + x);
    }
    let (a, b) = xs.split_at(xs.len() / 2);
    pairwise_sum(a) + pairwise_sum(b)
}
