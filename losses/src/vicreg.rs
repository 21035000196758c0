//! VICReg's variance and covariance terms (Bardes, Ponce, LeCun, ICLR 2022), per branch.
//!
//! Official code (`facebookresearch/vicreg`, `main_vicreg.py`, `VICReg.forward`):
//! `std = sqrt(x.var(dim=0) + 1e-4)` (unbiased variance), `std_loss = mean(relu(1 − std))`,
//! `cov = xcᵀxc/(n−1)`, `cov_loss = Σ_{i≠j} cov_ij² / d`.

use rug::Float;

use crate::covariance::{BatchError, Centring, Divisor, covariance, require_same_shape};
use sslproof::hp::Mat;

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

/// Which implementation's conventions (reference-implementations.md §1.1–1.3, §4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Variant {
    /// facebookresearch/vicreg: `F.mse_loss` (mean over B·d), variance term averaged over the
    /// two branches (`/2`), covariance summed. The default.
    Official,
    /// The paper: invariance `(1/B) Σ_i ‖z_i − z'_i‖²` (sum over dimensions; recalled, not read),
    /// variance summed over branches.
    Paper,
    /// solo-learn: `F.mse_loss`, variance summed over branches (2× the official at equal weights).
    SoloLearn,
}

/// Loss weights and constants; defaults from every implementation: λ = μ = 25, ν = 1, γ = 1,
/// ε = 10⁻⁴.
#[derive(Clone, Debug)]
pub struct Params {
    pub sim: Float,
    pub std: Float,
    pub cov: Float,
    pub gamma: Float,
    pub eps: Float,
}

impl Params {
    pub fn defaults(prec: u32) -> Self {
        Params {
            sim: Float::with_val(prec, 25),
            std: Float::with_val(prec, 25),
            cov: Float::with_val(prec, 1),
            gamma: Float::with_val(prec, 1),
            eps: default_eps(prec),
        }
    }
}

/// A loss value with its gradient with respect to each input.
#[derive(Clone, Debug)]
pub struct LossAndGrad {
    pub value: Float,
    pub grads: Vec<Mat>,
}

fn centred_and_cov(z: &Mat) -> Result<(Mat, Mat), BatchError> {
    let c = covariance(z, Centring::Centred, Divisor::BMinusOne)?;
    let (b, d, prec) = (z.rows(), z.cols(), z.prec());
    let means: Vec<Float> = (0..d)
        .map(|j| (0..b).fold(Float::new(prec), |a, i| a + z.at(i, j)) / b as u64)
        .collect();
    Ok((
        Mat::from_fn(b, d, prec, |i, j| {
            Float::with_val(prec, z.at(i, j) - &means[j])
        }),
        c,
    ))
}

/// `∂v/∂Z` for one branch: `−[s_j < γ](Z_ij − Z̄_j)/(d (B−1) s_j)` (checked against finite
/// differences in D5 and in `tests/losses.rs`).
pub fn variance_term_grad(z: &Mat, gamma: &Float, eps: &Float) -> Result<Mat, BatchError> {
    let (zc, c) = centred_and_cov(z)?;
    let (b, d, prec) = (z.rows(), z.cols(), z.prec());
    Ok(Mat::from_fn(b, d, prec, |i, j| {
        let s = Float::with_val(prec, c.at(j, j) + eps).sqrt();
        if s < *gamma {
            -Float::with_val(
                prec,
                zc.at(i, j) / Float::with_val(prec, &s * (d * (b - 1)) as u64),
            )
        } else {
            Float::new(prec)
        }
    }))
}

/// `∇_Z c = 4/(d(B−1)) Z_c offdiag(C)` for one branch.
pub fn covariance_term_grad(z: &Mat) -> Result<Mat, BatchError> {
    let (zc, c) = centred_and_cov(z)?;
    let (b, d, prec) = (z.rows(), z.cols(), z.prec());
    let off = Mat::from_fn(d, d, prec, |i, j| {
        if i == j {
            Float::new(prec)
        } else {
            c.at(i, j).clone()
        }
    });
    Ok(zc
        .mul(&off)?
        .scale(&(Float::with_val(prec, 4) / ((d * (b - 1)) as u64))))
}

/// The VICReg loss of two views `Z₁, Z₂ ∈ R^{B×d}` (rows are samples) and its gradients.
pub fn loss(z1: &Mat, z2: &Mat, variant: Variant, p: &Params) -> Result<LossAndGrad, BatchError> {
    require_same_shape(z1, z2)?;
    let (b, d, prec) = (z1.rows(), z1.cols(), z1.prec());
    let diff = z1.sub(z2)?;
    // Invariance: F.mse_loss divides by B·d; the paper's form by B.
    let inv_div = if variant == Variant::Paper { b } else { b * d } as u64;
    let inv = diff.frobenius_sq() / inv_div;
    let inv_grad = diff.scale(&(Float::with_val(prec, 2) / inv_div));
    let (v1, v2) = (
        variance_term(z1, &p.gamma, &p.eps)?,
        variance_term(z2, &p.gamma, &p.eps)?,
    );
    let (c1, c2) = (covariance_term(z1)?, covariance_term(z2)?);
    let var_scale = if variant == Variant::Official {
        Float::with_val(prec, &p.std / 2u32)
    } else {
        p.std.clone()
    };
    let value = Float::with_val(prec, &p.sim * &inv)
        + Float::with_val(prec, &var_scale * Float::with_val(prec, &v1 + &v2))
        + Float::with_val(prec, &p.cov * Float::with_val(prec, &c1 + &c2));
    let branch = |z: &Mat, sign: i32| -> Result<Mat, BatchError> {
        let g_inv = inv_grad.scale(&Float::with_val(prec, &p.sim * sign));
        let g_var = variance_term_grad(z, &p.gamma, &p.eps)?.scale(&var_scale);
        let g_cov = covariance_term_grad(z)?.scale(&p.cov);
        Ok(g_inv.add(&g_var)?.add(&g_cov)?)
    };
    Ok(LossAndGrad {
        value,
        grads: vec![branch(z1, 1)?, branch(z2, -1)?],
    })
}
