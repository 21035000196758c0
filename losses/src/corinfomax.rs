//! # CorInfoMax (Ozsoy et al., NeurIPS 2022)
//!
//! Official code (`serdarozsoy/corinfomax-ssl`, `cifars-tiny/loss.py`):
//! `L = α·mse(z₁, z₂) − (1/d)[log det(R̂₁ + εI) + log det(R̂₂ + εI)]`, with running (EMA)
//! estimates of each branch's mean and covariance; with no memory it is the one-batch form
//! (reference-implementations.md §1.10).
//!
//! This module holds the loss whole: the MPFR form with its gradients, the float form with its
//! convention knobs, the variants and common mistakes, and the rounding-model magnitudes.

use nalgebra::DMatrix;
use rug::Float;
use sslproof::hp::Mat;

use crate::batch::{BatchError, LossAndGrad, column_means, require_same_shape};
use crate::float::{Out, Real, centre, k, require_finite};
use crate::kernels::{InverseBy, gram_tn, half_logdet_and_inverse_by, mul};
use crate::loss::{Loss, Mistake, OfficialAlgorithm, Range, Variant, float_evaluations, param};
use crate::registry::LossSpec;
use crate::rounding::{
    Magnitudes, Mode, abs, condition, contract, difference_magnitudes, prop, twin,
};

// ---------------------------------------------------------------------------------------------
// MPFR
// ---------------------------------------------------------------------------------------------

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
pub fn loss(
    z1: &Mat,
    z2: &Mat,
    alpha: &Float,
    eps: &Float,
    state: Option<(&RunningState, &RunningState)>,
) -> Result<LossAndGrad, BatchError> {
    require_same_shape(z1, z2)?;
    let (b, d, prec) = (z1.rows(), z1.cols(), z1.prec());
    if b < 2 {
        return Err(BatchError::TooFewSamples {
            b,
            why: "a 1/(B−1) covariance",
        });
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

// ---------------------------------------------------------------------------------------------
// Float
// ---------------------------------------------------------------------------------------------

/// CorInfoMax's conventions (reference-implementations.md §1.10).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Knobs {
    pub alpha: f64,
    pub eps: f64,
    /// `1/(B−1)` for the batch covariance (a mistake: the code divides by `N`).
    pub unbiased: bool,
    pub centred: bool,
    /// The `1/d` on the log-determinants.
    pub per_dim: bool,
    pub sign: f64,
    /// Weights of the **old** mean and covariance (`--la_mu`, `--la_R`); 0 for one batch.
    pub la_mu: f64,
    pub la_r: f64,
    /// How the log-determinants and inverses are computed: by default Cholesky; the official
    /// code's `torch.logdet` (LU with partial pivoting, differentiated as torch does) in the
    /// official runs.
    pub inverse_by: InverseBy,
}

/// One branch's running state: the previous mean (`1 × d`) and covariance (`d × d`).
#[derive(Clone, Debug)]
pub struct State<T: Real> {
    pub mean: DMatrix<T>,
    pub cov: DMatrix<T>,
}

/// CorInfoMax: `L = α·mse(z₁, z₂) − (1/d)[log det(R̂₁ + εI) + log det(R̂₂ + εI)]`, `R̂ =
/// la_R·R_prev + (1 − la_R)·ẑᵀẑ/N`, `ẑ = z − (la_mu·μ_prev + (1 − la_mu)·z̄)`; without a state,
/// `R_prev = 0` and `μ_prev = 0` enter with weight 0. Gradients for `(z₁, z₂)` only (the state is
/// detached).
pub fn float<T: Real>(
    z1: &DMatrix<T>,
    z2: &DMatrix<T>,
    kn: &Knobs,
    state: Option<(&State<T>, &State<T>)>,
) -> Result<Out<T>, BatchError> {
    let (b, d) = crate::float::require_views_for(z1, z2, 2, "a 1/(B−1) covariance")?;
    let bd: T = k((b * d) as f64);
    let diff = z1 - z2;
    let alpha: T = k(kn.alpha);
    let mse = diff.norm_squared() / bd;
    let two: T = k(2.0);
    let mse_grad = &diff * (alpha * two / bd);
    let div: T = k(if kn.unbiased { b - 1 } else { b } as f64);
    let d_fac: T = k(if kn.per_dim { d as f64 } else { 1.0 });
    let (la_mu, la_r): (T, T) = if state.is_some() {
        (k(kn.la_mu), k(kn.la_r))
    } else {
        (T::zero(), T::zero())
    };
    let branch = |z: &DMatrix<T>, st: Option<&State<T>>| -> Result<(T, DMatrix<T>), BatchError> {
        if let Some(s) = st {
            if s.mean.shape() != (1, d) || s.cov.shape() != (d, d) {
                return Err(BatchError::ViewShapes {
                    a: s.cov.shape(),
                    b: (d, d),
                });
            }
            require_finite(&s.mean)?;
            require_finite(&s.cov)?;
        }
        let zh = if kn.centred {
            let mut mu = z.row_mean() * (T::one() - la_mu);
            if let Some(s) = st {
                mu += &s.mean * la_mu;
            }
            let mut zh = z.clone();
            for mut row in zh.row_iter_mut() {
                row -= &mu;
            }
            zh
        } else {
            z.clone()
        };
        let upd = gram_tn(&zh) / div;
        let mut r = upd * (T::one() - la_r);
        if let Some(s) = st {
            r += &s.cov * la_r;
        }
        for i in 0..d {
            r[(i, i)] += k::<T>(kn.eps);
        }
        const MATRIX: &str = "CorInfoMax's covariance (1 − λ_R)ẐᵀẐ/B + λ_R·R_running + εI";
        const HINT: &str = "it is positive definite when ε > 0, 0 ≤ λ_R ≤ 1 and the running covariance is positive semi-definite; check eps, la_r and r1/r2";
        let (half, ainv) = half_logdet_and_inverse_by(kn.inverse_by, r, MATRIX, HINT)?;
        let ginv = ainv * (-(T::one() - la_r) / d_fac);
        let g_zh = mul(&zh, &ginv) * (two / div);
        let g = if kn.centred {
            let gm = g_zh.row_mean() * (T::one() - la_mu);
            let mut g = g_zh;
            for mut row in g.row_iter_mut() {
                row -= &gm;
            }
            g
        } else {
            g_zh
        };
        Ok((half * two, g))
    };
    let (l1, g1) = branch(z1, state.map(|s| s.0))?;
    let (l2, g2) = branch(z2, state.map(|s| s.1))?;
    Ok(Out {
        value: alpha * mse - (l1 + l2) / d_fac,
        grads: vec![&mse_grad + g1, -&mse_grad + g2],
    }
    .scaled(k(kn.sign)))
}

// ---------------------------------------------------------------------------------------------
// Variants, mistakes, rounding magnitudes
// ---------------------------------------------------------------------------------------------

static VARIANTS: &[Variant] = &[
    Variant {
        name: "one-batch",
        source: "serdarozsoy/corinfomax-ssl cifars-tiny/loss.py with no memory (la_R = la_mu = 0)",
        formula: "α·mse(z1,z2) − (1/d)[log det(R1+εI) + log det(R2+εI)], R = ẑᵀẑ/N, ẑ = z − z̄",
        params: &[
            param("alpha", 500.0, Range::Positive),
            param("eps", 1e-6, Range::Positive),
        ],
    },
    Variant {
        name: "running",
        source: "serdarozsoy/corinfomax-ssl with the running estimates (inputs z1 z2 mu1 r1 mu2 r2)",
        formula: "R̂ = la_R·R_prev + (1−la_R)·ẑᵀẑ/N, ẑ = z − (la_mu·μ_prev + (1−la_mu)·z̄); state detached",
        params: &[
            param("alpha", 500.0, Range::Positive),
            param("eps", 1e-6, Range::Positive),
            param("la_mu", 0.01, Range::UnitInterval),
            param("la_r", 0.01, Range::UnitInterval),
        ],
    },
];

static MISTAKES: &[Mistake] = &[
    Mistake {
        id: "unbiased-divisor",
        says: "the batch covariance divided by n−1 instead of N",
    },
    Mistake {
        id: "uncentred",
        says: "the mean not subtracted",
    },
    Mistake {
        id: "missing-per-dim",
        says: "the log-determinants not divided by d",
    },
    Mistake {
        id: "sign",
        says: "the sign of the loss flipped",
    },
];

/// CorInfoMax in the spec's convention, or with a mistake planted, in `T`.
fn evaluate<T: Real>(
    spec: &LossSpec,
    mistake: Option<&str>,
    inputs: &[DMatrix<T>],
) -> Result<Out<T>, BatchError> {
    evaluate_by(spec, mistake, inputs, InverseBy::Cholesky)
}

/// [`evaluate`], the log-determinants and inverses as `inverse_by` computes them
/// ([`InverseBy::Lu`]: the official code's `torch.logdet`).
fn evaluate_by<T: Real>(
    spec: &LossSpec,
    mistake: Option<&str>,
    inputs: &[DMatrix<T>],
    inverse_by: InverseBy,
) -> Result<Out<T>, BatchError> {
    let is = |id: &str| mistake == Some(id);
    let running = spec.variant.name == "running";
    let kn = Knobs {
        alpha: spec.p("alpha"),
        eps: spec.p("eps"),
        unbiased: is("unbiased-divisor"),
        centred: !is("uncentred"),
        per_dim: !is("missing-per-dim"),
        sign: if is("sign") { -1.0 } else { 1.0 },
        la_mu: if running { spec.p("la_mu") } else { 0.0 },
        la_r: if running { spec.p("la_r") } else { 0.0 },
        inverse_by,
    };
    if running {
        let s1 = State {
            mean: inputs[2].clone(),
            cov: inputs[3].clone(),
        };
        let s2 = State {
            mean: inputs[4].clone(),
            cov: inputs[5].clone(),
        };
        float(&inputs[0], &inputs[1], &kn, Some((&s1, &s2)))
    } else {
        float(&inputs[0], &inputs[1], &kn, None)
    }
}

/// CorInfoMax (the registry's entry).
pub struct CorInfoMax;

/// The registry's CorInfoMax.
pub static CORINFOMAX: CorInfoMax = CorInfoMax;

impl Loss for CorInfoMax {
    /// Its matrix products (forward and gradient) go through the emulating kernels.
    fn emulates_reduced_products(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "corinfomax"
    }

    fn variants(&self) -> &'static [Variant] {
        VARIANTS
    }

    fn mistakes(&self) -> &'static [Mistake] {
        MISTAKES
    }

    fn input_names(&self, variant: &Variant, _n: usize) -> Vec<String> {
        let names: &[&str] = if variant.name == "running" {
            &["z1", "z2", "mu1", "r1", "mu2", "r2"]
        } else {
            &["z1", "z2"]
        };
        names.iter().map(|s| s.to_string()).collect()
    }

    /// The running state is detached: gradients for `z1, z2` only.
    fn grad_count(&self, _variant: &Variant, _n_inputs: usize) -> usize {
        2
    }

    fn covariance_inputs(&self) -> &'static [&'static str] {
        &["r1", "r2"]
    }

    fn input_shape(&self, name: &str, b: usize, d: usize) -> (usize, usize) {
        match name {
            "mu1" | "mu2" => (1, d),
            "r1" | "r2" => (d, d),
            _ => (b, d),
        }
    }

    float_evaluations!();

    /// The official code takes its log-determinants by `torch.logdet` (LU); ours by Cholesky.
    /// With d > B (the batch covariance rank-deficient, the running one and ε filling its null
    /// space) torch's float32 gradient erred up to 22× our runs' relative to the bound (median
    /// 4.5×, 56 seeded cases; `docs/losses.md`, "Estimated tolerances"): the estimate is not run.
    fn official_algorithm(
        &self,
        _spec: &LossSpec,
        _b: usize,
        _d: usize,
        _precision: crate::rounding::Precision,
    ) -> OfficialAlgorithm {
        OfficialAlgorithm::Other("log det and inverse by LU as torch.logdet")
    }

    /// With d > B in float32, twice [`crate::estimate::FACTOR`]: the batch covariance is
    /// rank-deficient there, the running covariance and ε fill its null space, and the
    /// ill-conditioned inverse amplifies how an implementation orders its sums. Until the
    /// official runs took the gradient as torch.logdet's backward does (the LU inverse
    /// symmetrised), torch's float32 error reached 22–34× our runs' relative to the bound and
    /// the factor was 16·FACTOR; since, at most 3.9× (61 seeded cases with d > B or d = B − 1,
    /// median 1.0; `docs/losses.md`, "Why 8").
    fn estimate_factor(
        &self,
        _spec: &LossSpec,
        b: usize,
        d: usize,
        precision: crate::rounding::Precision,
    ) -> f64 {
        if d > b && precision == crate::rounding::Precision::F32 {
            2.0 * crate::estimate::FACTOR
        } else {
            crate::estimate::FACTOR
        }
    }

    fn evaluate_f32_official(
        &self,
        spec: &LossSpec,
        inputs: &[DMatrix<f32>],
    ) -> Result<Out<f32>, BatchError> {
        evaluate_by(spec, None, inputs, InverseBy::Lu)
    }

    fn evaluate_hp(
        &self,
        spec: &LossSpec,
        inputs: &[Mat],
        prec: u32,
    ) -> Option<Result<LossAndGrad, BatchError>> {
        let (alpha, eps) = (spec.p_hp("alpha", prec), spec.p_hp("eps", prec));
        Some(if spec.variant.name == "running" {
            let state = |mean: &Mat, cov: &Mat| RunningState {
                mean: (0..mean.cols()).map(|j| mean.at(0, j).clone()).collect(),
                cov: cov.clone(),
                la_mu: spec.p_hp("la_mu", prec),
                la_r: spec.p_hp("la_r", prec),
            };
            let (s1, s2) = (state(&inputs[2], &inputs[3]), state(&inputs[4], &inputs[5]));
            loss(&inputs[0], &inputs[1], &alpha, &eps, Some((&s1, &s2)))
        } else {
            loss(&inputs[0], &inputs[1], &alpha, &eps, None)
        })
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
        2.0 * (b * d * d + 2.0 * d * d * d)
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
        let kappa;
        let (value, grads, entries) = {
            let (alpha, eps) = (spec.p("alpha"), spec.p("eps"));
            let running = spec.variant.name == "running";
            let la_r = if running { spec.p("la_r") } else { 0.0 };
            let div = b as f64;
            let diff = &inputs[0] - &inputs[1];
            let mut value = top;
            // Entry by entry: fl(a − b) = (a − b)(1 + δ).
            let mut gi = DMatrix::zeros(b, d);
            if abs_mode {
                value += alpha * diff.norm_squared() / (b * d) as f64;
                // plus one rounding of each input (inputs given in float64, computed lower).
                gi = difference_magnitudes(&inputs[0], &inputs[1], b.max(d))
                    * (2.0 * alpha / (b * d) as f64);
            }
            let mut grads = Vec::new();
            let mut entries = Vec::new();
            let mut kmax = 1f64;
            for (i, z) in inputs[..2].iter().enumerate() {
                let za = abs(z);
                let zc = centre(z);
                let mut r = zc.transpose() * &zc / div * (1.0 - la_r);
                let mut r_t = if abs_mode {
                    za.transpose() * &za / div * (1.0 - la_r)
                } else {
                    twin(&zc.transpose(), &zc, mode) / div * (1.0 - la_r)
                };
                if running {
                    let prev = &inputs[3 + 2 * i];
                    r += prev * la_r;
                    if abs_mode {
                        r_t += abs(prev) * la_r;
                    }
                }
                for j in 0..d {
                    r[(j, j)] += eps;
                    if abs_mode {
                        r_t[(j, j)] += eps;
                    }
                }
                kmax = kmax.max(condition(&r));
                let ainv = r
                    .clone()
                    .cholesky()
                    .map(|ch| ch.inverse())
                    .unwrap_or_else(|| DMatrix::from_element(d, d, f64::INFINITY));
                let g = if abs_mode {
                    // Accumulation: every entry of R is its own sum, erring by at most its
                    // absolute-value twin; the model takes the errors of different sums as
                    // independent and mean zero (as for the coding rate), so they reach
                    // δ(log det R)/d = Σ(R⁻¹)_kl δR_kl/d and δ(Z_cR⁻¹) = −(Z_cR⁻¹)δR R⁻¹ as
                    // root-sum-squares (before: |Z_c||R⁻¹||δR||R⁻¹|, every sign pattern at once).
                    value += contract(&ainv, &r_t, Mode::Rss) / d as f64;
                    let w = &zc * &ainv;
                    prop(&prop(&w, &r_t, Mode::Rss), &ainv, Mode::Rss) + twin(&zc, &ainv, Mode::Abs)
                } else {
                    value += contract(&ainv, &r_t, mode) / d as f64;
                    let e = prop(&prop(&ainv, &r_t, mode), &ainv, mode);
                    prop(&zc, &e, mode) + twin(&zc, &ainv, mode)
                };
                let e = g * (2.0 * (1.0 - la_r) / (div * d as f64)) + &gi;
                grads.push(e.amax());
                entries.push(Some(e));
            }
            kappa = Some(kmax);
            (value, grads, entries)
        };
        Magnitudes {
            value,
            grads,
            entries,
            kappa,
            hinge: Vec::new(),
        }
    }

    fn golden_state(
        &self,
        variant: &Variant,
        d: usize,
        gauss: &mut dyn FnMut(usize, usize) -> DMatrix<f64>,
    ) -> Vec<DMatrix<f64>> {
        let mut out = Vec::new();
        if variant.name != "running" {
            return out;
        }
        let f32_round = |x: f64| x as f32 as f64;
        for _ in 0..2 {
            let mu = (gauss(1, d) * 0.1).map(f32_round);
            let g = gauss(d + 2, d);
            let r = (g.transpose() * &g / (d + 2) as f64).map(f32_round);
            // Symmetric after rounding (the product is symmetric up to rounding).
            let r = DMatrix::from_fn(d, d, |i, j| if i <= j { r[(i, j)] } else { r[(j, i)] });
            out.push(mu);
            out.push(r);
        }
        out
    }
}
