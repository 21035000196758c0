//! # Barlow Twins (Zbontar et al., ICML 2021)
//!
//! Official code (`facebookresearch/barlowtwins`, `main.py`, one GPU): both views through
//! BatchNorm without affine parameters (biased variance, `eps = 1e-5`), `C = BN(z₁)ᵀBN(z₂)/B`,
//! `L = Σ_i (1 − C_ii)² + λ Σ_{i≠j} C_ij²`, `λ = 0.0051` (reference-implementations.md §1.4).
//!
//! This module holds the loss whole: the MPFR form with its gradients, the float form with its
//! convention knobs, the variants and common mistakes, and the rounding-model magnitudes.

use nalgebra::DMatrix;
use rug::Float;
use sslproof::hp::Mat;

use crate::batch::{BatchError, LossAndGrad, column_means, require_same_shape};
use crate::float::{Out, Real, centre, k};
use crate::kernels::{mul, mul_tn};
use crate::loss::{Loss, Mistake, Range, Variant, float_evaluations, param};
use crate::registry::LossSpec;
use crate::rounding::{Magnitudes, Mode, contract, prop, twin};

// ---------------------------------------------------------------------------------------------
// MPFR
// ---------------------------------------------------------------------------------------------

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
pub fn loss(z1: &Mat, z2: &Mat, lambda: &Float, bn_eps: &Float) -> Result<LossAndGrad, BatchError> {
    require_same_shape(z1, z2)?;
    let (b, d, prec) = (z1.rows(), z1.cols(), z1.prec());
    if b < 2 {
        return Err(BatchError::TooFewSamples {
            b,
            why: "a batch normalisation (1/B variance per feature)",
        });
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

// ---------------------------------------------------------------------------------------------
// Float
// ---------------------------------------------------------------------------------------------

/// Barlow Twins' conventions (reference-implementations.md §1.4).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Knobs {
    pub lambda: f64,
    pub bn_eps: f64,
    /// An overall factor (solo-learn's `scale_loss`; 1 in the official code).
    pub scale: f64,
    /// BatchNorm with the unbiased variance (a mistake: training-mode BN is biased).
    pub bn_unbiased: bool,
    pub sign: f64,
}

/// Per-column BatchNorm (training mode, no affine): `(x̃, s)` with `s = √(Var + eps)`.
fn batch_norm_float<T: Real>(z: &DMatrix<T>, eps: T, div: T) -> (DMatrix<T>, Vec<T>) {
    let zc = centre(z);
    let s: Vec<T> = (0..z.ncols())
        .map(|j| (zc.column(j).norm_squared() / div + eps).sqrt())
        .collect();
    let mut x = zc;
    for (j, sj) in s.iter().enumerate() {
        x.column_mut(j).scale_mut(T::one() / *sj);
    }
    (x, s)
}

/// The gradient through [`batch_norm_float`]: `(1/s)(g − ḡ − x̃ · Σ_i(g ∘ x̃)/div)` per column.
fn batch_norm_backward_float<T: Real>(
    xt: &DMatrix<T>,
    s: &[T],
    g: &DMatrix<T>,
    div: T,
) -> DMatrix<T> {
    let b: T = k(xt.nrows() as f64);
    let mut out = g.clone();
    for j in 0..xt.ncols() {
        let gm = g.column(j).sum() / b;
        let gx = g.column(j).dot(&xt.column(j)) / div;
        for i in 0..xt.nrows() {
            out[(i, j)] = (g[(i, j)] - gm - xt[(i, j)] * gx) / s[j];
        }
    }
    out
}

/// Barlow Twins: `C = BN(Z₁)ᵀBN(Z₂)/B`, `L = scale·[Σ(1 − C_ii)² + λΣ_{i≠j}C_ij²]`.
pub fn float<T: Real>(z1: &DMatrix<T>, z2: &DMatrix<T>, kn: &Knobs) -> Result<Out<T>, BatchError> {
    let (b, d) = crate::float::require_views_for(
        z1,
        z2,
        2,
        "a batch normalisation (1/B variance per feature)",
    )?;
    let bb: T = k(b as f64);
    let div: T = k(if kn.bn_unbiased { b - 1 } else { b } as f64);
    let eps: T = k(kn.bn_eps);
    let (x1, s1) = batch_norm_float(z1, eps, div);
    let (x2, s2) = batch_norm_float(z2, eps, div);
    let c = mul_tn(&x1, &x2) / bb;
    let (lambda, two): (T, T) = (k(kn.lambda), k(2.0));
    // As the official code: the on-diagonal and off-diagonal sums apart, each reduced as torch
    // reduces (pairwise), then `on + λ·off`. (One sequential loop over the d² terms swamps the
    // small off-diagonal terms in float32 at d = 2048: 2 % of the value lost.)
    let mut on = Vec::with_capacity(d);
    let mut off = Vec::with_capacity(d * d.saturating_sub(1));
    let mut g = DMatrix::zeros(d, d);
    for j in 0..d {
        for i in 0..d {
            let cij = c[(i, j)];
            if i == j {
                on.push((T::one() - cij) * (T::one() - cij));
                g[(i, j)] = (cij - T::one()) * two;
            } else {
                off.push(cij * cij);
                g[(i, j)] = lambda * cij * two;
            }
        }
    }
    let value = crate::float::pairwise_sum(&on) + lambda * crate::float::pairwise_sum(&off);
    let gx1 = mul(&x2, &g.transpose()) / bb;
    let gx2 = mul(&x1, &g) / bb;
    Ok(Out {
        value,
        grads: vec![
            batch_norm_backward_float(&x1, &s1, &gx1, div),
            batch_norm_backward_float(&x2, &s2, &gx2, div),
        ],
    }
    .scaled(k(kn.scale * kn.sign)))
}

// ---------------------------------------------------------------------------------------------
// Variants, mistakes, rounding magnitudes
// ---------------------------------------------------------------------------------------------

static VARIANTS: &[Variant] = &[
    Variant {
        name: "official",
        source: "facebookresearch/barlowtwins main.py (one GPU)",
        formula: "C = BN(z1)ᵀBN(z2)/n (BN: biased variance, eps 1e-5); Σ(1−C_ii)² + λΣ_{i≠j}C_ij²",
        params: &[
            param("lambda", 0.0051, Range::Finite),
            param("bn_eps", 1e-5, Range::Positive),
        ],
    },
    Variant {
        name: "lightly",
        source: "lightly BarlowTwinsLoss",
        formula: "as official with λ = 5e-3",
        params: &[
            param("lambda", 0.005, Range::Finite),
            param("bn_eps", 1e-5, Range::Positive),
        ],
    },
    Variant {
        name: "solo-learn",
        source: "solo-learn barlow_loss_func with the method defaults",
        formula: "scale_loss·[Σ(1−C_ii)² + λΣ_{i≠j}C_ij²]",
        params: &[
            param("lambda", 0.0051, Range::Finite),
            param("bn_eps", 1e-5, Range::Positive),
            param("scale", 0.024, Range::Positive),
        ],
    },
];

static MISTAKES: &[Mistake] = &[
    Mistake {
        id: "unbiased-bn",
        says: "standardised with the unbiased variance (n−1) instead of BatchNorm's biased one",
    },
    Mistake {
        id: "sign",
        says: "the sign of the loss flipped",
    },
];

/// Barlow Twins in the spec's convention, or with a mistake planted, in `T`.
fn evaluate<T: Real>(
    spec: &LossSpec,
    mistake: Option<&str>,
    inputs: &[DMatrix<T>],
) -> Result<Out<T>, BatchError> {
    let is = |id: &str| mistake == Some(id);
    let kn = Knobs {
        lambda: spec.p("lambda"),
        bn_eps: spec.p("bn_eps"),
        scale: spec.get("scale").unwrap_or(1.0),
        bn_unbiased: is("unbiased-bn"),
        sign: if is("sign") { -1.0 } else { 1.0 },
    };
    float(&inputs[0], &inputs[1], &kn)
}

/// Barlow Twins (the registry's entry).
pub struct BarlowTwins;

/// The registry's Barlow Twins.
pub static BARLOW_TWINS: BarlowTwins = BarlowTwins;

impl Loss for BarlowTwins {
    /// Its matrix products (forward and gradient) go through the emulating kernels.
    fn emulates_reduced_products(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "barlow-twins"
    }

    fn variants(&self) -> &'static [Variant] {
        VARIANTS
    }

    fn mistakes(&self) -> &'static [Mistake] {
        MISTAKES
    }

    float_evaluations!();

    fn evaluate_hp(
        &self,
        spec: &LossSpec,
        inputs: &[Mat],
        prec: u32,
    ) -> Option<Result<LossAndGrad, BatchError>> {
        let lg = loss(
            &inputs[0],
            &inputs[1],
            &spec.p_hp("lambda", prec),
            &spec.p_hp("bn_eps", prec),
        );
        Some(lg.map(|lg| match spec.get("scale") {
            Some(_) => {
                let s = spec.p_hp("scale", prec);
                LossAndGrad {
                    value: Float::with_val(prec, &lg.value * &s),
                    grads: lg.grads.iter().map(|g| g.scale(&s)).collect(),
                }
            }
            None => lg,
        }))
    }

    fn scratch(&self) -> crate::loss::Scratch {
        crate::loss::Scratch {
            dd: 16,
            nn: 0,
            hp_min_side: false,
        }
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
        let abs_mode = mode == Mode::Abs;
        // The value rounds once more at the end (and once more in bfloat16 autocast).
        let top = out.value.abs();
        let (value, grads, entries) = {
            let (lambda, bn_eps) = (spec.p("lambda"), spec.p("bn_eps"));
            let scale = spec.get("scale").unwrap_or(1.0);
            let bb = b as f64;
            let bn = |z: &DMatrix<f64>| {
                let zc = centre(z);
                let s: Vec<f64> = (0..d)
                    .map(|j| (zc.column(j).norm_squared() / bb + bn_eps).sqrt())
                    .collect();
                // How much the centring cancels: |mean| over the standard deviation
                // (accumulation part only: the centring is not a matrix product).
                let m = z.row_mean();
                let rho: Vec<f64> = (0..d)
                    .map(|j| if abs_mode { m[j].abs() / s[j] } else { 0.0 })
                    .collect();
                let mut x = zc;
                for j in 0..d {
                    x.column_mut(j).scale_mut(1.0 / s[j]);
                }
                (x, s, rho)
            };
            let (x1, s1, r1) = bn(&inputs[0]);
            let (x2, s2, r2) = bn(&inputs[1]);
            let c = x1.transpose() * &x2 / bb;
            let ct = twin(&x1.transpose(), &x2, mode) / bb;
            let mut gmat = DMatrix::zeros(d, d);
            let mut gc = DMatrix::zeros(d, d);
            let mut dcm = DMatrix::zeros(d, d);
            let mut value = top;
            for j in 0..d {
                for i in 0..d {
                    let (g, w) = if i == j {
                        (2.0 * (c[(i, i)] - 1.0), 2.0)
                    } else {
                        (2.0 * lambda * c[(i, j)], 2.0 * lambda)
                    };
                    // C_ij errs by u·(1 + ρ1_i + ρ2_j)·T_ij.
                    let dc = (1.0 + r1[i] + r2[j]) * ct[(i, j)];
                    gmat[(i, j)] = g;
                    gc[(i, j)] = w * dc;
                    dcm[(i, j)] = dc;
                }
            }
            // The entries of C are separate sums, each erring by at most dc_ij; the model takes
            // the errors of different sums as independent and mean zero, so they reach the value
            // and X·G as root-sum-squares (as for the coding rate; before: absolute values, every
            // sign pattern at once). The products' own accumulation keeps its absolute twin.
            value += scale * contract(&gmat, &dcm, Mode::Rss);
            // Through BatchNorm's backward pass, entry (i, j) of the gradient is
            // (g_ij − ḡ_j − x̃_ij·mean_k(g_kj x̃_kj))/s_j with g = X_other·Gᵀ/B. Entry by entry
            // (column j's own s_j and ρ_j, the entry's own error M_ij of g):
            //   M_ij + mean_k M_kj + |x̃_ij|·mean_k(M_kj|x̃_kj|)      the error of g carried through,
            //   mean_k|g_kj| + |x̃_ij|·mean_k|g_kj x̃_kj|              the two length-B means,
            //   (|g_ij| + |ḡ_j| + |x̃_ij||mean(g x̃)_j|)(½ + 3/√n)     s_j's relative error (½ per
            //                                                       √n·u) and a few elementwise
            //                                                       roundings,
            // all times (1 + ρ_j)/s_j (x̃ carries the centring's relative error). Before, one
            // bound 3·max M·(1 + max ρ)/min s charged every entry with the worst column's.
            let n_sqrt = (b.max(d) as f64).sqrt();
            let bn_back =
                |m: &DMatrix<f64>, g: &DMatrix<f64>, x: &DMatrix<f64>, s: &[f64], rho: &[f64]| {
                    let mut e = DMatrix::zeros(b, d);
                    for j in 0..d {
                        let (mc, gc_, xc) = (m.column(j), g.column(j), x.column(j));
                        let m_mean = mc.sum() / bb;
                        let mx = mc
                            .iter()
                            .zip(xc.iter())
                            .map(|(a, x)| a * x.abs())
                            .sum::<f64>()
                            / bb;
                        let (ga, gxa, gm, gxm) = if abs_mode {
                            let gx = gc_.component_mul(&xc);
                            (
                                gc_.abs().sum() / bb,
                                gx.abs().sum() / bb,
                                (gc_.sum() / bb).abs(),
                                (gx.sum() / bb).abs(),
                            )
                        } else {
                            (0.0, 0.0, 0.0, 0.0)
                        };
                        let k = (1.0 + rho[j]) / s[j];
                        for i in 0..b {
                            let xi = x[(i, j)].abs();
                            let mut v = m[(i, j)] + m_mean + xi * mx;
                            if abs_mode {
                                v += ga
                                    + xi * gxa
                                    + (g[(i, j)].abs() + gm + xi * gxm) * (0.5 + 3.0 / n_sqrt);
                            }
                            e[(i, j)] = v * k * scale;
                        }
                    }
                    e
                };
            let m1 =
                (prop(&x2, &gc.transpose(), Mode::Rss) + twin(&x2, &gmat.transpose(), mode)) / bb;
            let m2 = (prop(&x1, &gc, Mode::Rss) + twin(&x1, &gmat, mode)) / bb;
            let e1 = bn_back(&m1, &(&x2 * gmat.transpose() / bb), &x1, &s1, &r1);
            let e2 = bn_back(&m2, &(&x1 * &gmat / bb), &x2, &s2, &r2);
            (value, vec![e1.amax(), e2.amax()], vec![Some(e1), Some(e2)])
        };
        Magnitudes {
            value,
            grads,
            entries,
            ..Magnitudes::default()
        }
    }
}
