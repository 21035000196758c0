//! Barlow Twins and CorInfoMax (reference-implementations.md §1.4, §1.10) at high precision, with
//! gradients.

use rug::Float;

use crate::covariance::{BatchError, require_same_shape};
use crate::vicreg::LossAndGrad;
use sslproof::hp::Mat;

fn column_means(z: &Mat) -> Vec<Float> {
    let (b, prec) = (z.rows(), z.prec());
    (0..z.cols())
        .map(|j| (0..b).fold(Float::new(prec), |a, i| a + z.at(i, j)) / b as u64)
        .collect()
}

/// BatchNorm in training mode without affine parameters: `(x − x̄)/√(Var_biased + eps)` per
/// column; returns the standardised batch and the per-column `s`.
fn batch_norm(z: &Mat, eps: &Float) -> (Mat, Vec<Float>) {
    let (b, d, prec) = (z.rows(), z.cols(), z.prec());
    let m = column_means(z);
    let s: Vec<Float> = (0..d)
        .map(|j| {
            let v = (0..b).fold(Float::new(prec), |a, i| {
                a + Float::with_val(prec, Float::with_val(prec, z.at(i, j) - &m[j]).square_ref())
            }) / b as u64;
            (v + eps).sqrt()
        })
        .collect();
    (
        Mat::from_fn(b, d, prec, |i, j| {
            Float::with_val(prec, z.at(i, j) - &m[j]) / &s[j]
        }),
        s,
    )
}

/// The gradient through [`batch_norm`]: `∂L/∂x = (1/s)(g − ḡ − x̃ · mean(g ∘ x̃))` per column
/// (exact with `eps` inside `s`).
fn batch_norm_backward(xt: &Mat, s: &[Float], g: &Mat) -> Mat {
    let (b, d, prec) = (xt.rows(), xt.cols(), xt.prec());
    let gm = column_means(g);
    let gx: Vec<Float> = (0..d)
        .map(|j| {
            (0..b).fold(Float::new(prec), |a, i| {
                a + Float::with_val(prec, g.at(i, j) * xt.at(i, j))
            }) / b as u64
        })
        .collect();
    Mat::from_fn(b, d, prec, |i, j| {
        let v = Float::with_val(prec, g.at(i, j) - &gm[j])
            - Float::with_val(prec, xt.at(i, j) * &gx[j]);
        v / &s[j]
    })
}

/// Barlow Twins (official): `C = BN(Z₁)ᵀ BN(Z₂)/B`, `L = Σ_i (1 − C_ii)² + λ Σ_{i≠j} C_ij²`
/// (official `λ = 0.0051`, BatchNorm `eps = 1e-5`, one GPU).
pub fn barlow_twins(
    z1: &Mat,
    z2: &Mat,
    lambda: &Float,
    bn_eps: &Float,
) -> Result<LossAndGrad, BatchError> {
    require_same_shape(z1, z2)?;
    let (b, d, prec) = (z1.rows(), z1.cols(), z1.prec());
    if b < 2 {
        return Err(BatchError::TooFewSamples { b });
    }
    z1.require_finite()?;
    z2.require_finite()?;
    let (x1, s1) = batch_norm(z1, bn_eps);
    let (x2, s2) = batch_norm(z2, bn_eps);
    let inv_b = Float::with_val(prec, 1) / b as u64;
    let c = x1.transpose().mul(&x2)?.scale(&inv_b);
    let mut value = Float::new(prec);
    // ∂L/∂C: −2(1 − C_ii) on the diagonal, 2λC_ij off it.
    let g = Mat::from_fn(d, d, prec, |i, j| {
        if i == j {
            Float::with_val(prec, c.at(i, i) - 1u32) * 2u32
        } else {
            Float::with_val(prec, lambda * c.at(i, j)) * 2u32
        }
    });
    for i in 0..d {
        for j in 0..d {
            let v = if i == j {
                Float::with_val(prec, Float::with_val(prec, 1 - c.at(i, i)).square_ref())
            } else {
                Float::with_val(prec, c.at(i, j).square_ref()) * lambda
            };
            value += v;
        }
    }
    let gx1 = x2.mul(&g.transpose())?.scale(&inv_b);
    let gx2 = x1.mul(&g)?.scale(&inv_b);
    Ok(LossAndGrad {
        value,
        grads: vec![
            batch_norm_backward(&x1, &s1, &gx1),
            batch_norm_backward(&x2, &s2, &gx2),
        ],
    })
}

/// CorInfoMax's running statistics for one branch (the EMA state, detached).
#[derive(Clone, Debug)]
pub struct RunningState {
    pub mean: Vec<Float>,
    pub cov: Mat,
    /// Weight of the **old** mean (`--la_mu`, default 0.01: 99% the current batch).
    pub la_mu: Float,
    /// Weight of the **old** covariance (`--la_R`, default 0.01).
    pub la_r: Float,
}

/// CorInfoMax (`serdarozsoy/corinfomax-ssl`, `cifars-tiny/loss.py`):
/// `L = α·mse(z₁, z₂) − (1/d)[log det(R̂₁ + εI) + log det(R̂₂ + εI)]` with `mse = F.mse_loss` and
/// `R̂ = la_R·R_prev + (1 − la_R)·ẑᵀẑ/N`, `ẑ = z − (la_mu·μ_prev + (1 − la_mu)·z̄)`. With
/// `state = None` it is the one-batch form (`la_R = la_mu = 0`). The gradient flows through the
/// current batch only (the state is detached), the EMA mean included.
pub fn corinfomax(
    z1: &Mat,
    z2: &Mat,
    alpha: &Float,
    eps: &Float,
    state: Option<(&RunningState, &RunningState)>,
) -> Result<LossAndGrad, BatchError> {
    require_same_shape(z1, z2)?;
    let (b, d, prec) = (z1.rows(), z1.cols(), z1.prec());
    if b < 2 {
        return Err(BatchError::TooFewSamples { b });
    }
    let diff = z1.sub(z2)?;
    let bd = (b * d) as u64;
    let mse = diff.frobenius_sq() / bd;
    let mse_grad = diff.scale(&(Float::with_val(prec, alpha * 2u32) / bd));
    let branch = |z: &Mat, st: Option<&RunningState>| -> Result<(Float, Mat), BatchError> {
        z.require_finite()?;
        let zero = Float::new(prec);
        let (la_mu, la_r) = st.map_or((zero.clone(), zero.clone()), |s| {
            (s.la_mu.clone(), s.la_r.clone())
        });
        let zbar = column_means(z);
        let mu: Vec<Float> = (0..d)
            .map(|j| match st {
                Some(s) => {
                    Float::with_val(prec, &la_mu * &s.mean[j])
                        + Float::with_val(prec, Float::with_val(prec, 1 - &la_mu) * &zbar[j])
                }
                None => zbar[j].clone(),
            })
            .collect();
        let zh = Mat::from_fn(b, d, prec, |i, j| {
            Float::with_val(prec, z.at(i, j) - &mu[j])
        });
        let upd = zh
            .transpose()
            .mul(&zh)?
            .scale(&(Float::with_val(prec, 1) / b as u64));
        let r = match st {
            Some(s) => s
                .cov
                .scale(&la_r)
                .add(&upd.scale(&Float::with_val(prec, 1 - &la_r)))?,
            None => upd,
        };
        let a = r.add(&Mat::scalar(d, eps))?;
        let value = a.logdet_spd()?;
        // ∂(−(1/d) log det A)/∂R_upd = −(1 − la_R)/d · A⁻¹; ∂/∂ẑ = (2/N) ẑ · that.
        let ginv = a
            .inverse()?
            .scale(&(-Float::with_val(prec, 1 - &la_r) / d as u64));
        let g_zh = zh.mul(&ginv)?.scale(&(Float::with_val(prec, 2) / b as u64));
        // ẑ = z − μ with μ = … + (1 − la_mu) z̄: subtract (1 − la_mu) × the column means of g_zh.
        let gm = column_means(&g_zh);
        let k = Float::with_val(prec, 1 - &la_mu);
        let g = Mat::from_fn(b, d, prec, |i, j| {
            Float::with_val(prec, g_zh.at(i, j) - Float::with_val(prec, &k * &gm[j]))
        });
        Ok((value, g))
    };
    let (l1, g1) = branch(z1, state.map(|s| s.0))?;
    let (l2, g2) = branch(z2, state.map(|s| s.1))?;
    let value = Float::with_val(prec, alpha * &mse) - Float::with_val(prec, &l1 + &l2) / d as u64;
    Ok(LossAndGrad {
        value,
        grads: vec![
            mse_grad.add(&g1)?,
            mse_grad.scale(&Float::with_val(prec, -1)).add(&g2)?,
        ],
    })
}
