//! The coding rate in the conventions of its implementations (reference-implementations.md §1.7–
//! 1.9, §4.1 items 5–9), at high precision, with its gradient.
//!
//! All three use the **uncentred** second moment of the batch `Z ∈ R^{m×d}` (rows are samples)
//! and pass `eps = ε²`: `R = ½ log det(I_d + (d/(m·eps)) ZᵀZ)`, computed in the feature or the batch
//! dimension, whichever is smaller (Sylvester, proved in C4).

use rug::Float;

use crate::covariance::BatchError;
use crate::vicreg::LossAndGrad;
use sslproof::hp::Mat;

/// Which implementation's loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Variant {
    /// Ma-Lab-Berkeley/MCR2 `compute_discrimn_loss_empirical`: the rate `R` itself (the loss uses
    /// `−gam2·R`).
    Mcr2Rate,
    /// SimDINO's expansion term: `−γ_h R` with `γ_h = (d + m)/(d·m)` (one GPU), the half log-det
    /// taken by Cholesky in the code.
    SimDinoExpansion,
    /// EMP-SSL (official): `−R` (maximise the rate).
    EmpSsl,
}

/// `R` and `∇_Z R` for `eps` (= ε²). `∇_Z R = c·Z (I_d + cZᵀZ)⁻¹ = c·(I_m + cZZᵀ)⁻¹ Z`,
/// `c = d/(m·eps)`; both computed in the smaller dimension.
pub fn rate_and_grad(z: &Mat, eps: &Float) -> Result<(Float, Mat), BatchError> {
    let (m, d, prec) = (z.rows(), z.cols(), z.prec());
    if m == 0 || d == 0 {
        return Err(BatchError::Empty { b: m, d });
    }
    z.require_finite()?;
    let c = Float::with_val(prec, d as u64) / Float::with_val(prec, eps * m as u64);
    if d <= m {
        let a = z.transpose().mul(z)?.identity_plus(&c)?;
        let r = a.logdet_spd()? / 2u32;
        let g = z.mul(&a.inverse()?)?.scale(&c);
        Ok((r, g))
    } else {
        let a = z.mul(&z.transpose())?.identity_plus(&c)?;
        let r = a.logdet_spd()? / 2u32;
        let g = a.inverse()?.mul(z)?.scale(&c);
        Ok((r, g))
    }
}

/// The loss of one view in the given convention, with its gradient.
pub fn loss(z: &Mat, eps: &Float, variant: Variant) -> Result<LossAndGrad, BatchError> {
    let (r, g) = rate_and_grad(z, eps)?;
    let prec = z.prec();
    let (m, d) = (z.rows() as u64, z.cols() as u64);
    let factor = match variant {
        Variant::Mcr2Rate => Float::with_val(prec, 1),
        Variant::SimDinoExpansion => -(Float::with_val(prec, d + m) / Float::with_val(prec, d * m)),
        Variant::EmpSsl => Float::with_val(prec, -1),
    };
    Ok(LossAndGrad {
        value: Float::with_val(prec, &r * &factor),
        grads: vec![g.scale(&factor)],
    })
}
