//! Fast `f64` reference losses (nalgebra), for realistic sizes (B = 512, d = 8192). Each is
//! checked against the MPFR reference of the same loss in `tests/losses.rs` (the MPFR versions in
//! turn against 256-bit finite differences), so the two cannot drift apart silently.

use nalgebra::DMatrix;

use super::covariance::BatchError;
use super::{coding_rate, vicreg};
use crate::hp::LinalgError;

/// A loss value with its gradient with respect to each input, in `f64`.
#[derive(Clone, Debug)]
pub struct LossAndGradF64 {
    pub value: f64,
    pub grads: Vec<DMatrix<f64>>,
}

fn require_finite(z: &DMatrix<f64>) -> Result<(), BatchError> {
    for j in 0..z.ncols() {
        for i in 0..z.nrows() {
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

fn centred(z: &DMatrix<f64>) -> DMatrix<f64> {
    let mean = z.row_mean();
    let mut c = z.clone();
    for mut row in c.row_iter_mut() {
        row -= &mean;
    }
    c
}

/// VICReg in `f64`, same conventions and gradients as [`vicreg::loss`]; the covariance term in
/// the smaller of the feature and batch dimensions.
pub fn vicreg(
    z1: &DMatrix<f64>,
    z2: &DMatrix<f64>,
    variant: vicreg::Variant,
    sim: f64,
    std: f64,
    cov: f64,
    eps: f64,
) -> Result<LossAndGradF64, BatchError> {
    if z1.shape() != z2.shape() {
        return Err(BatchError::ViewShapes {
            a: z1.shape(),
            b: z2.shape(),
        });
    }
    let (b, d) = z1.shape();
    if b == 0 || d == 0 {
        return Err(BatchError::Empty { b, d });
    }
    if b < 2 {
        return Err(BatchError::TooFewSamples { b });
    }
    require_finite(z1)?;
    require_finite(z2)?;
    let inv_div = if variant == vicreg::Variant::Paper {
        b as f64
    } else {
        (b * d) as f64
    };
    let diff = z1 - z2;
    let inv = diff.norm_squared() / inv_div;
    let var_scale = if variant == vicreg::Variant::Official {
        std / 2.0
    } else {
        std
    };
    let bm1 = (b - 1) as f64;
    // One branch: value of v and c, and their gradients.
    // One branch: value of v and c, and their gradients. For d > B the covariance term goes
    // through the B × B Gram matrix K = Z_c Z_cᵀ: ‖C‖²_F = ‖K‖²_F/(B−1)² and Z_c C = K Z_c/(B−1),
    // so nothing of size d × d is formed (O(B²d) instead of O(Bd²)).
    let branch = |z: &DMatrix<f64>| {
        let zc = centred(z);
        let diag_c: Vec<f64> = (0..d).map(|j| zc.column(j).norm_squared() / bm1).collect();
        let mut v = 0.0;
        let mut gv = DMatrix::zeros(b, d);
        for (j, cjj) in diag_c.iter().enumerate() {
            let s = (cjj + eps).sqrt();
            if s < 1.0 {
                v += 1.0 - s;
                for i in 0..b {
                    gv[(i, j)] = -zc[(i, j)] / (d as f64 * bm1 * s);
                }
            }
        }
        let sum_diag_sq: f64 = diag_c.iter().map(|x| x * x).sum();
        let (fro_sq, zc_c) = if d > b {
            let k = &zc * zc.transpose();
            (k.norm_squared() / (bm1 * bm1), &k * &zc / bm1)
        } else {
            let c = zc.transpose() * &zc / bm1;
            (c.norm_squared(), &zc * &c)
        };
        let cval = (fro_sq - sum_diag_sq) / d as f64;
        // Z_c offdiag(C) = Z_c C − Z_c diag(C).
        let mut gc = zc_c;
        for (j, cjj) in diag_c.iter().enumerate() {
            for i in 0..b {
                gc[(i, j)] -= zc[(i, j)] * cjj;
            }
        }
        (v / d as f64, gv, cval, gc * (4.0 / (d as f64 * bm1)))
    };
    let (v1, gv1, c1, gc1) = branch(z1);
    let (v2, gv2, c2, gc2) = branch(z2);
    let value = sim * inv + var_scale * (v1 + v2) + cov * (c1 + c2);
    let gi = &diff * (2.0 * sim / inv_div);
    Ok(LossAndGradF64 {
        value,
        grads: vec![
            &gi + gv1 * var_scale + gc1 * cov,
            -&gi + gv2 * var_scale + gc2 * cov,
        ],
    })
}

/// The coding rate in `f64`, same conventions as [`coding_rate::loss`], computed in the smaller of
/// the feature and batch dimensions (`R = ½ log det(I + cZᵀZ) = ½ log det(I + cZZᵀ)`,
/// `∇R = cZ(I + cZᵀZ)⁻¹ = c(I + cZZᵀ)⁻¹Z`), by Cholesky.
pub fn coding_rate(
    z: &DMatrix<f64>,
    eps: f64,
    variant: coding_rate::Variant,
) -> Result<LossAndGradF64, BatchError> {
    let (m, d) = z.shape();
    if m == 0 || d == 0 {
        return Err(BatchError::Empty { b: m, d });
    }
    require_finite(z)?;
    let c = d as f64 / (m as f64 * eps);
    let not_pd = |n: usize| {
        BatchError::Linalg(LinalgError::NotPositiveDefinite {
            pivot: n,
            value: f64::NAN,
        })
    };
    let (r, g) = if d <= m {
        let a = DMatrix::identity(d, d) + z.transpose() * z * c;
        let ch = a.cholesky().ok_or_else(|| not_pd(d))?;
        let r = ch.l().diagonal().iter().map(|x| x.ln()).sum::<f64>();
        (r, z * ch.inverse() * c)
    } else {
        let a = DMatrix::identity(m, m) + z * z.transpose() * c;
        let ch = a.cholesky().ok_or_else(|| not_pd(m))?;
        let r = ch.l().diagonal().iter().map(|x| x.ln()).sum::<f64>();
        (r, ch.inverse() * z * c)
    };
    let factor = match variant {
        coding_rate::Variant::Mcr2Rate => 1.0,
        coding_rate::Variant::SimDinoExpansion => -((d + m) as f64) / ((d * m) as f64),
        coding_rate::Variant::EmpSsl => -1.0,
    };
    Ok(LossAndGradF64 {
        value: r * factor,
        grads: vec![g * factor],
    })
}
