//! VICReg's variance and covariance terms (Bardes, Ponce, LeCun, ICLR 2022), per branch.
//!
//! Official code (`facebookresearch/vicreg`, `main_vicreg.py`, `VICReg.forward`):
//! `std = sqrt(x.var(dim=0) + 1e-4)` (unbiased variance), `std_loss = mean(relu(1 − std))`,
//! `cov = xcᵀxc/(n−1)`, `cov_loss = Σ_{i≠j} cov_ij² / d`.

use rug::Float;

use super::covariance::{BatchError, Centring, Divisor, covariance};
use crate::hp::Mat;

/// The `eps` added to the variance inside the square root (official default `0.0001`).
pub fn default_eps(prec: u32) -> Float {
    Float::with_val(prec, 1) / 10_000u32
}

/// `v(Z) = (1/d) Σ_j max(0, γ − sqrt(Var(z^j) + eps))`, unbiased variance (one branch).
pub fn variance_term(z: &Mat, gamma: &Float, eps: &Float) -> Result<Float, BatchError> {
    let c = covariance(z, Centring::Centred, Divisor::BMinusOne)?;
    let d = z.cols();
    let prec = z.prec();
    let mut s = Float::new(prec);
    for j in 0..d {
        let std = Float::with_val(prec, c.at(j, j) + eps).sqrt();
        let h = Float::with_val(prec, gamma - &std);
        if h > 0 {
            s += h;
        }
    }
    Ok(s / (d as u64))
}

/// `c(Z) = (1/d) Σ_{i≠j} C_ij²` with `C = Z_cᵀ Z_c/(n−1)` (one branch).
pub fn covariance_term(z: &Mat) -> Result<Float, BatchError> {
    let c = covariance(z, Centring::Centred, Divisor::BMinusOne)?;
    Ok(off_diagonal_sq(&c) / (z.cols() as u64))
}

/// `Σ_{i≠j} a_ij²`.
pub fn off_diagonal_sq(a: &Mat) -> Float {
    let mut s = Float::new(a.prec());
    for i in 0..a.rows() {
        for j in 0..a.cols() {
            if i != j {
                s += a.at(i, j) * a.at(i, j);
            }
        }
    }
    s
}
