//! What every loss shares on the MPFR side: the batch errors, the covariance in every convention
//! the implementations use, and a loss value with its gradients.

use rug::Float;

use sslproof::hp::{LinalgError, Mat};

/// A loss value with its gradient with respect to each input (MPFR).
#[derive(Clone, Debug)]
pub struct LossAndGrad {
    pub value: Float,
    pub grads: Vec<Mat>,
}

/// The divisor of a batch covariance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Divisor {
    /// `1/B` (the notes; MCR², CorInfoMax, Barlow Twins' BatchNorm).
    B,
    /// `1/(B−1)` (VICReg's `torch.var` and `cov`).
    BMinusOne,
}

/// Whether the batch mean is subtracted first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Centring {
    Centred,
    /// The second moment `ZᵀZ/B` (MCR², SimDINO, EMP-SSL).
    Uncentred,
}

/// Why a batch was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BatchError {
    #[error("empty batch: B = {b}, d = {d}")]
    Empty { b: usize, d: usize },
    #[error("{why} needs at least 2 samples, got B = {b}")]
    TooFewSamples { b: usize, why: &'static str },
    #[error("two views must have the same shape: {a:?} and {b:?}")]
    ViewShapes {
        a: (usize, usize),
        b: (usize, usize),
    },
    #[error(
        "row {row} of {input} has zero norm: its l2-normalisation (the cosine) is undefined there"
    )]
    ZeroNorm { input: String, row: usize },
    #[error(
        "{matrix} ({n}×{n}) is not positive definite in the arithmetic used (its Cholesky \
         factorisation failed{why}): {hint}"
    )]
    NotPositiveDefinite {
        matrix: &'static str,
        n: usize,
        why: &'static str,
        hint: &'static str,
    },
    #[error(transparent)]
    Linalg(#[from] LinalgError),
}

/// Two views must have the same shape (`B × d`).
pub fn require_same_shape(a: &Mat, b: &Mat) -> Result<(), BatchError> {
    if a.rows() != b.rows() || a.cols() != b.cols() {
        return Err(BatchError::ViewShapes {
            a: (a.rows(), a.cols()),
            b: (b.rows(), b.cols()),
        });
    }
    Ok(())
}

/// `Σ = (Z − Z̄)ᵀ(Z − Z̄)/div` (or `ZᵀZ/div` uncentred) for `Z ∈ R^{B×d}`, rows are samples.
pub fn covariance(z: &Mat, centring: Centring, divisor: Divisor) -> Result<Mat, BatchError> {
    let (b, d) = (z.rows(), z.cols());
    if b == 0 || d == 0 {
        return Err(BatchError::Empty { b, d });
    }
    if divisor == Divisor::BMinusOne && b < 2 {
        return Err(BatchError::TooFewSamples {
            b,
            why: "a 1/(B−1) covariance",
        });
    }
    z.require_finite()?;
    let prec = z.prec();
    let zc = match centring {
        Centring::Uncentred => z.clone(),
        Centring::Centred => {
            let means: Vec<Float> = (0..d)
                .map(|j| {
                    let mut s = Float::new(prec);
                    for i in 0..b {
                        s += z.at(i, j);
                    }
                    s / (b as u64)
                })
                .collect();
            Mat::from_fn(b, d, prec, |i, j| {
                Float::with_val(prec, z.at(i, j) - &means[j])
            })
        }
    };
    let div = match divisor {
        Divisor::B => b,
        Divisor::BMinusOne => b - 1,
    };
    let mut c = zc.transpose().mul(&zc)?;
    let inv = Float::with_val(prec, 1) / (div as u64);
    c = c.scale(&inv);
    Ok(c)
}

/// The column means of `z`.
pub fn column_means(z: &Mat) -> Vec<Float> {
    let (b, prec) = (z.rows(), z.prec());
    (0..z.cols())
        .map(|j| (0..b).fold(Float::new(prec), |a, i| a + z.at(i, j)) / b as u64)
        .collect()
}

/// Two views of the same non-empty shape, all entries finite.
pub fn check_views(a: &Mat, b: &Mat) -> Result<(), BatchError> {
    require_same_shape(a, b)?;
    if a.rows() == 0 || a.cols() == 0 {
        return Err(BatchError::Empty {
            b: a.rows(),
            d: a.cols(),
        });
    }
    a.require_finite()?;
    b.require_finite()?;
    Ok(())
}

/// Row `i` of `m`.
pub fn row(m: &Mat, i: usize) -> Vec<Float> {
    (0..m.cols()).map(|j| m.at(i, j).clone()).collect()
}

/// `a · b`.
pub fn dot(a: &[Float], b: &[Float]) -> Float {
    let prec = a[0].prec();
    a.iter().zip(b).fold(Float::new(prec), |s, (x, y)| {
        s + Float::with_val(prec, x * y)
    })
}

/// `(I − uuᵀ) g / ‖z‖`: a gradient with respect to `u = z/‖z‖` carried back to `z` (D1).
pub fn through_normalisation(z: &[Float], g: &[Float]) -> Vec<Float> {
    let prec = z[0].prec();
    let n = dot(z, z).sqrt();
    let u: Vec<Float> = z.iter().map(|x| Float::with_val(prec, x / &n)).collect();
    let ug = dot(&u, g);
    u.iter()
        .zip(g)
        .map(|(ui, gi)| Float::with_val(prec, gi - Float::with_val(prec, ui * &ug)) / &n)
        .collect()
}
