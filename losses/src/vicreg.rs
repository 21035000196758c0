//! # VICReg (Bardes, Ponce, LeCun, ICLR 2022)
//!
//! Official code (`facebookresearch/vicreg`, `main_vicreg.py`, `VICReg.forward`):
//! `std = sqrt(x.var(dim=0) + 1e-4)` (unbiased variance), `std_loss = mean(relu(1 − std))`,
//! `cov = xcᵀxc/(n−1)`, `cov_loss = Σ_{i≠j} cov_ij² / d`; the invariance term is `F.mse_loss`.
//! The paper and solo-learn differ in how the branches' variance terms and the invariance are
//! weighted (reference-implementations.md §1.1–1.3, §4.1).
//!
//! This module holds the loss whole: the per-branch terms and the loss at MPFR precision with
//! their gradients, the float form with its convention knobs, the variants and common mistakes,
//! and the rounding-model magnitudes.

use nalgebra::DMatrix;
use rug::Float;
use sslproof::hp::Mat;

use crate::batch::{BatchError, Centring, Divisor, LossAndGrad, covariance, require_same_shape};
use crate::float::{Out, Real, centre, k};
use crate::kernels::{gram_nt, gram_tn, mul};
use crate::loss::{Loss, Mistake, Param, Range, Variant, float_evaluations, param};
use crate::registry::LossSpec;
use crate::rounding::{
    Hinge, LAMBDA, Magnitudes, Mode, Precision, abs, contract, difference_magnitudes,
    gram_col_norms, prop, twin,
};

// ---------------------------------------------------------------------------------------------
// MPFR
// ---------------------------------------------------------------------------------------------

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
pub enum Convention {
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
pub fn loss(
    z1: &Mat,
    z2: &Mat,
    variant: Convention,
    p: &Params,
) -> Result<LossAndGrad, BatchError> {
    require_same_shape(z1, z2)?;
    let (b, d, prec) = (z1.rows(), z1.cols(), z1.prec());
    let diff = z1.sub(z2)?;
    // Invariance: F.mse_loss divides by B·d; the paper's form by B.
    let inv_div = if variant == Convention::Paper {
        b
    } else {
        b * d
    } as u64;
    let inv = diff.frobenius_sq() / inv_div;
    let inv_grad = diff.scale(&(Float::with_val(prec, 2) / inv_div));
    let (v1, v2) = (
        variance_term(z1, &p.gamma, &p.eps)?,
        variance_term(z2, &p.gamma, &p.eps)?,
    );
    let (c1, c2) = (covariance_term(z1)?, covariance_term(z2)?);
    let var_scale = if variant == Convention::Official {
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

// ---------------------------------------------------------------------------------------------
// Float
// ---------------------------------------------------------------------------------------------

/// VICReg's conventions (reference-implementations.md §1.1–1.3).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Knobs {
    pub sim: f64,
    pub std: f64,
    pub cov: f64,
    pub gamma: f64,
    /// Added to the variance inside the square root.
    pub eps: f64,
    /// Invariance `F.mse_loss` (÷ B·d); `false`: the paper's ÷ B.
    pub inv_per_dim: bool,
    /// Weight of `v(Z) + v(Z')` relative to `std`: ½ in the official code, 1 in the paper and
    /// solo-learn.
    pub var_weight: f64,
    /// `1/(B−1)` (`torch.var`, the official covariance); `false`: `1/B`.
    pub unbiased: bool,
    /// Subtract the batch mean before variance and covariance.
    pub centred: bool,
    /// The covariance of the centred batch; `false`: `ZᵀZ/(B−1)` of the raw batch while the
    /// variance (`torch.var`) still centres (`x - x.mean(0)` forgotten).
    pub cov_centred: bool,
    /// `max(0, γ − s)²` instead of the official unsquared hinge.
    pub squared_hinge: bool,
    /// Overall sign (+1; −1 is the flipped-sign mistake).
    pub sign: f64,
}

impl Knobs {
    /// The official code's defaults.
    pub fn official() -> Self {
        Knobs {
            sim: 25.0,
            std: 25.0,
            cov: 1.0,
            gamma: 1.0,
            eps: 1e-4,
            inv_per_dim: true,
            var_weight: 0.5,
            unbiased: true,
            centred: true,
            cov_centred: true,
            squared_hinge: false,
            sign: 1.0,
        }
    }
}

/// VICReg of two views `B × d` (rows are samples) and its gradients. For `d > B` the covariance
/// term goes through the `B × B` Gram matrix `K = Z_c Z_cᵀ`: `‖C‖²_F = ‖K‖²_F/div²` and
/// `Z_c C = K Z_c/div`, so nothing of size `d × d` is formed (`O(B²d)` instead of `O(Bd²)`).
pub fn float<T: Real>(z1: &DMatrix<T>, z2: &DMatrix<T>, kn: &Knobs) -> Result<Out<T>, BatchError> {
    let (b, d) = crate::float::require_views_for(
        z1,
        z2,
        if kn.unbiased { 2 } else { 1 },
        "an unbiased (1/(B−1)) variance and covariance",
    )?;
    let inv_div: T = k(if kn.inv_per_dim { b * d } else { b } as f64);
    let diff = z1 - z2;
    let inv = diff.norm_squared() / inv_div;
    let div: T = k(if kn.unbiased { b - 1 } else { b } as f64);
    let (gamma, eps, dd): (T, T, T) = (k(kn.gamma), k(kn.eps), k(d as f64));
    let (sim, cov): (T, T) = (k(kn.sim), k(kn.cov));
    let var_scale: T = k(kn.std * kn.var_weight);
    let four: T = k(4.0);
    let cov_coef = cov * four / (dd * div);
    // One branch: v(Z), c(Z) and var_scale·∇v + cov·∇c, the gradient built in place.
    let branch = |z: &DMatrix<T>| {
        let zc = if kn.centred { centre(z) } else { z.clone() };
        // The covariance's batch: the variance's, or the raw batch (cov-uncentred).
        let zk = if kn.cov_centred {
            zc.clone()
        } else {
            z.clone()
        };
        let diag_c: Vec<T> = (0..d).map(|j| zc.column(j).norm_squared() / div).collect();
        let diag_k: Vec<T> = (0..d).map(|j| zk.column(j).norm_squared() / div).collect();
        let sum_diag_sq = diag_k.iter().fold(T::zero(), |s, &x| s + x * x);
        let (fro_sq, mut g) = if d > b {
            let kk = gram_nt(&zk);
            (kk.norm_squared() / (div * div), mul(&kk, &zk) / div)
        } else {
            let c = gram_tn(&zk) / div;
            (c.norm_squared(), mul(&zk, &c))
        };
        let cval = (fro_sq - sum_diag_sq) / dd;
        let mut v = T::zero();
        for (j, &cjj) in diag_c.iter().enumerate() {
            let s = (cjj + eps).sqrt();
            let h = gamma - s;
            // ∂s/∂z_ij = z_c,ij/(div·s) (the centring drops out: Σ_i z_c,ij = 0).
            let var_coef = if h > T::zero() {
                let dh = if kn.squared_hinge {
                    v += h * h;
                    -(h + h)
                } else {
                    v += h;
                    -T::one()
                };
                var_scale * dh / (dd * div * s)
            } else {
                T::zero()
            };
            // Z_c offdiag(C) = Z_c C − Z_c diag(C), then both terms' weights.
            let mut col = g.column_mut(j);
            let (zcol, kcol, ckk) = (zc.column(j), zk.column(j), diag_k[j]);
            for i in 0..b {
                col[i] = (col[i] - kcol[i] * ckk) * cov_coef + zcol[i] * var_coef;
            }
        }
        (v / dd, cval, g)
    };
    let (v1, c1, mut g1) = branch(z1);
    let (v2, c2, mut g2) = branch(z2);
    let value = sim * inv + var_scale * (v1 + v2) + cov * (c1 + c2);
    let two: T = k(2.0);
    let w = two * sim / inv_div;
    g1.zip_apply(&diff, |a, x| *a += w * x);
    g2.zip_apply(&diff, |a, x| *a -= w * x);
    Ok(Out {
        value,
        grads: vec![g1, g2],
    }
    .scaled(k(kn.sign)))
}

// ---------------------------------------------------------------------------------------------
// Variants, mistakes, rounding magnitudes
// ---------------------------------------------------------------------------------------------

const PARAMS: &[Param] = &[
    param("sim", 25.0, Range::Finite),
    param("std", 25.0, Range::Finite),
    param("cov", 1.0, Range::Finite),
    param("gamma", 1.0, Range::Finite),
    param("eps", 1e-4, Range::Positive),
];

static VARIANTS: &[Variant] = &[
    Variant {
        name: "official",
        source: "facebookresearch/vicreg main_vicreg.py (lightly's VICRegLoss is the same)",
        formula: "sim·mse(z1,z2) + std·[v(z1)+v(z2)]/2 + cov·[c(z1)+c(z2)]; v = mean relu(γ − √(Var_{n−1}+eps)), c = Σ_{i≠j}C_ij²/d, C = Z_cᵀZ_c/(n−1)",
        params: PARAMS,
    },
    Variant {
        name: "paper",
        source: "Bardes, Ponce, LeCun (ICLR 2022): invariance (1/n)Σ‖z−z'‖², variance summed over branches",
        formula: "sim·Σ‖z1−z2‖²/n + std·[v(z1)+v(z2)] + cov·[c(z1)+c(z2)]",
        params: PARAMS,
    },
    Variant {
        name: "solo-learn",
        source: "solo-learn solo/losses/vicreg.py: variance summed over branches (no /2)",
        formula: "sim·mse(z1,z2) + std·[v(z1)+v(z2)] + cov·[c(z1)+c(z2)]",
        params: PARAMS,
    },
];

static MISTAKES: &[Mistake] = &[
    Mistake {
        id: "biased-divisor",
        says: "variance and covariance divided by n instead of n−1 (torch.var(unbiased=False), or /batch_size)",
    },
    Mistake {
        id: "squared-hinge",
        says: "the variance hinge squared: relu(γ − std)² instead of relu(γ − std)",
    },
    Mistake {
        id: "uncentred",
        says: "the batch mean not subtracted before the covariance and the variance",
    },
    Mistake {
        id: "cov-uncentred",
        says: "the covariance of the raw batch (x - x.mean(0) forgotten) while the variance (torch.var) still centres",
    },
    Mistake {
        id: "missing-half",
        says: "the variance term not halved: [v(z1)+v(z2)] instead of [v(z1)+v(z2)]/2",
    },
    Mistake {
        id: "extra-half",
        says: "the variance term halved where the variant sums it",
    },
    Mistake {
        id: "sign",
        says: "the sign of the loss flipped",
    },
];

/// VICReg in the spec's convention, or with a mistake planted, in `T`.
fn evaluate<T: Real>(
    spec: &LossSpec,
    mistake: Option<&str>,
    inputs: &[DMatrix<T>],
) -> Result<Out<T>, BatchError> {
    let is = |id: &str| mistake == Some(id);
    let v = spec.variant.name;
    let mut kn = Knobs {
        sim: spec.p("sim"),
        std: spec.p("std"),
        cov: spec.p("cov"),
        gamma: spec.p("gamma"),
        eps: spec.p("eps"),
        inv_per_dim: v != "paper",
        var_weight: if v == "official" { 0.5 } else { 1.0 },
        unbiased: !is("biased-divisor"),
        centred: !is("uncentred"),
        cov_centred: !is("uncentred") && !is("cov-uncentred"),
        squared_hinge: is("squared-hinge"),
        sign: if is("sign") { -1.0 } else { 1.0 },
    };
    if is("missing-half") {
        kn.var_weight = 1.0;
    }
    if is("extra-half") {
        kn.var_weight *= 0.5;
    }
    float(&inputs[0], &inputs[1], &kn)
}

/// VICReg (the registry's entry).
pub struct Vicreg;

/// The registry's VICReg.
pub static VICREG: Vicreg = Vicreg;

impl Loss for Vicreg {
    /// Its matrix products (forward and gradient) go through the emulating kernels.
    fn emulates_reduced_products(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "vicreg"
    }

    fn variants(&self) -> &'static [Variant] {
        VARIANTS
    }

    fn mistakes(&self) -> &'static [Mistake] {
        MISTAKES
    }

    /// "missing-half" only where the variant halves the variance term (official), "extra-half"
    /// only where it does not.
    fn mistake_applies(&self, variant: &Variant, mistake: &Mistake) -> bool {
        match mistake.id {
            "missing-half" => variant.name == "official",
            "extra-half" => variant.name != "official",
            _ => true,
        }
    }

    float_evaluations!();

    fn evaluate_hp(
        &self,
        spec: &LossSpec,
        inputs: &[Mat],
        prec: u32,
    ) -> Option<Result<LossAndGrad, BatchError>> {
        let variant = match spec.variant.name {
            "paper" => Convention::Paper,
            "solo-learn" => Convention::SoloLearn,
            _ => Convention::Official,
        };
        let params = Params {
            sim: spec.p_hp("sim", prec),
            std: spec.p_hp("std", prec),
            cov: spec.p_hp("cov", prec),
            gamma: spec.p_hp("gamma", prec),
            eps: spec.p_hp("eps", prec),
        };
        Some(loss(&inputs[0], &inputs[1], variant, &params))
    }

    fn hp_work(&self, _spec: &LossSpec, b: usize, d: usize, _n: usize) -> f64 {
        let (b, d) = (b as f64, d as f64);
        2.0 * b * d * d + 4.0 * d * d
    }

    fn magnitudes(
        &self,
        spec: &LossSpec,
        inputs: &[DMatrix<f64>],
        out: &Out<f64>,
        mode: Mode,
    ) -> Magnitudes {
        let (b, d) = inputs[0].shape();
        let n = b.max(d);
        let abs_mode = mode == Mode::Abs;
        // The value rounds once more at the end (and once more in bfloat16 autocast).
        let top = out.value.abs();
        let mut hinge = Vec::new();
        let (value, grads, entries) = {
            let v = spec.variant.name;
            let (sim, std, cov, gamma, eps) = (
                spec.p("sim"),
                spec.p("std"),
                spec.p("cov"),
                spec.p("gamma"),
                spec.p("eps"),
            );
            let inv_div = if v == "paper" { b } else { b * d } as f64;
            let var_scale = std * if v == "official" { 0.5 } else { 1.0 };
            let div = (b - 1) as f64;
            let diff = &inputs[0] - &inputs[1];
            // Invariance and variance are elementwise and reductions outside the matrix
            // products: accumulation errors only.
            let mut value = top;
            if abs_mode {
                value += sim * diff.norm_squared() / inv_div;
            }
            // Entry by entry: fl(a − b) = (a − b)(1 + δ), so the invariance term's entry errs
            // relative to its own difference.
            let gi = if abs_mode {
                // plus one rounding of each input (inputs given in float64, computed lower).
                difference_magnitudes(&inputs[0], &inputs[1], n) * (2.0 * sim / inv_div)
            } else {
                DMatrix::zeros(b, d)
            };
            let mut grads = Vec::new();
            let mut entries = Vec::new();
            for (input, z) in inputs[..2].iter().enumerate() {
                let za = abs(z);
                let zcs = centre(z);
                let zc = abs(&zcs);
                let mut g_var = vec![0f64; d];
                if abs_mode {
                    // Var_j errs by u·Σ_i z_ij²/div (the centring cancels against |z|).
                    for j in 0..d {
                        let raw = za.column(j).norm_squared() / div;
                        let var = zc.column(j).norm_squared() / div;
                        let s = (var + eps).sqrt();
                        let ds = raw / (2.0 * s);
                        let margin = (s - gamma).abs() / ds;
                        if margin <= LAMBDA * Precision::F32.u_eff(n) {
                            let jump = var_scale * za.column(j).amax() / (d as f64 * div * s);
                            hinge.push(Hinge {
                                input,
                                col: j,
                                margin,
                                jump,
                            });
                        }
                        if s < gamma {
                            value += var_scale * ds / d as f64;
                            let zmax = za.column(j).amax();
                            g_var[j] = var_scale * zmax / (d as f64 * div * s) * (1.0 + ds / s);
                        }
                    }
                }
                // Covariance: C errs by u·T/div with T the twin of ZᵀZ; c by
                // (2/d)Σ|C_ij|T_ij/div; the gradient (4/(d·div))·Z_c offdiag(C) by
                // (4/(d·div))(twin(Z_c, C) + |Z_c|T/div).
                let (cval, gm) = if d <= b {
                    let c = zcs.transpose() * &zcs / div;
                    let t = if abs_mode {
                        za.transpose() * &za / div
                    } else {
                        twin(&zcs.transpose(), &zcs, mode) / div
                    };
                    // The entries of C are separate sums, each erring by at most its twin T_kl;
                    // the model takes the errors of different sums as independent and mean zero
                    // (Higham & Mary), so they reach c and Z_c·C as root-sum-squares (as for the
                    // coding rate since the second stop of 2026-12-02; before: Σ|C||T| and
                    // |Z_c|T, every sign pattern at once). The product Z_c·C's own accumulation
                    // keeps its absolute-value twin.
                    let cv = contract(&c, &t, Mode::Rss);
                    let g = twin(&zcs, &c, mode) + prop(&zc, &t, Mode::Rss);
                    (cv, g)
                } else if abs_mode {
                    // The same through B × B Gram matrices: T_kl ≤ ‖z_k‖‖z_l‖/div
                    // (Cauchy–Schwarz), so √Σ C²T² ≤ ‖(Z_cD)(Z_cD)ᵀ‖_F/div² with D = diag(‖z_k‖),
                    // and √(Σ_k z_c,ik² T_kj²) ≤ ‖z_j‖·√(Σ_k z_c,ik²‖z_k‖²)/div; the product
                    // Z_c·C errs by at most (|Z_c||C|)_ij ≤ ‖z_c,i‖·‖C_:j‖ (Cauchy–Schwarz; before
                    // |Z_c||Z_c|ᵀ|Z_c|/div, which replaced every |C_kl| by its largest possible).
                    let norms: Vec<f64> = (0..d).map(|k| z.column(k).norm()).collect();
                    let mut zd = zcs.clone();
                    for (k, nk) in norms.iter().enumerate() {
                        zd.column_mut(k).scale_mut(*nk);
                    }
                    let cv = (&zd * zd.transpose()).norm() / (div * div);
                    let zn: Vec<f64> = (0..b).map(|i| zcs.row(i).norm()).collect();
                    let cn = gram_col_norms(&zcs, div);
                    let g1 = DMatrix::from_fn(b, d, |i, j| zn[i] * cn[j]);
                    let rows: Vec<f64> = (0..b).map(|i| zd.row(i).norm()).collect();
                    let g2 = DMatrix::from_fn(b, d, |i, j| norms[j] * rows[i] / div);
                    (cv, g1 + g2)
                } else {
                    // T = √(2(Z∘Z)ᵀ(Z∘Z)) + |ZᵀZ| (centred Z), T_kl ≤ r_k r_l with
                    // r_k = 2^{1/4}‖z_:k‖₄ + ‖z_:k‖₂ (Cauchy–Schwarz), so
                    // √Σ C²T² ≤ ‖RCR‖_F = ‖(Z_cR)(Z_cR)ᵀ‖_F/div (a B × B Gram matrix).
                    let kc = &zcs * zcs.transpose();
                    let mut zr = zcs.clone();
                    for k in 0..d {
                        let col = zcs.column(k);
                        let q = col.iter().map(|x| x.powi(4)).sum::<f64>().powf(0.25);
                        zr.column_mut(k).scale_mut(2f64.powf(0.25) * q + col.norm());
                    }
                    let cv = (&zr * zr.transpose()).norm() / div / div;
                    // √(Σ_l z_lk² z_lj²) ≤ q_k q_j with q = column 4-norms, so
                    // prop(Z_c, T)_ij ≤ √2 q_j √(Σ_k z_c,ik² q_k²) + max_k|z_c,ik|·‖(Z_cᵀZ_c)_:j‖;
                    // twin(Z_c, C)_ij ≤ √2 max_k|z_c,ik|·‖C_:j‖ + |Z_c C|_ij, Z_c C = K Z_c/div.
                    let q: Vec<f64> = (0..d)
                        .map(|j| {
                            zcs.column(j)
                                .iter()
                                .map(|x| x.powi(4))
                                .sum::<f64>()
                                .powf(0.25)
                        })
                        .collect();
                    let cn = gram_col_norms(&zcs, div);
                    let zcc = &kc * &zcs / div;
                    let mut g = DMatrix::zeros(b, d);
                    for i in 0..b {
                        let zq = (0..d)
                            .map(|k| zcs[(i, k)].powi(2) * q[k] * q[k])
                            .sum::<f64>()
                            .sqrt();
                        let zmax = zc.row(i).amax();
                        for j in 0..d {
                            let g2 = 2f64.sqrt() * q[j] * zq / div + zmax * cn[j];
                            let g1 = 2f64.sqrt() * zmax * cn[j] + zcc[(i, j)].abs();
                            g[(i, j)] = g1 + g2;
                        }
                    }
                    (cv, g)
                };
                value += cov * 2.0 * cval / d as f64;
                // The gradient's entry (i, j): the invariance entry, the variance column j, the
                // covariance entry.
                let mut e = gm * (4.0 * cov / (d as f64 * div)) + &gi;
                for (j, gv) in g_var.iter().enumerate() {
                    e.column_mut(j).add_scalar_mut(*gv);
                }
                grads.push(e.amax());
                entries.push(Some(e));
            }
            (value, grads, entries)
        };
        Magnitudes {
            value,
            grads,
            entries,
            kappa: None,
            hinge,
        }
    }

    fn large_cases(&self) -> &'static [(&'static str, usize, usize)] {
        &[("b512-d2048", 512, 2048), ("b512-d8192", 512, 8192)]
    }
}
