//! Batch covariances, in every convention the implementations use.

use rug::Float;

use sslproof::hp::{LinalgError, Mat};

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
    #[error("a 1/(B−1) covariance needs at least 2 samples, got B = {b}")]
    TooFewSamples { b: usize },
    #[error("two views must have the same shape: {a:?} and {b:?}")]
    ViewShapes {
        a: (usize, usize),
        b: (usize, usize),
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
        return Err(BatchError::TooFewSamples { b });
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
