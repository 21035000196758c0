//! Every reference loss in ordinary floating point, generic over the float type, with its
//! analytic gradient.
//!
//! `f64` is the reference at realistic sizes (B = 512, d = 8192), where MPFR would take hours;
//! `f32` is what the rounding-error model of [`crate::rounding`] is validated against. Each loss
//! takes a *knobs* struct: the conventions in which implementations differ (a divisor, a centring,
//! a weight, ε against ε², …). A named variant ([`crate::registry`]) is one setting of the knobs;
//! a common mistake is another, which is how the checker recognises it. Every function here is
//! checked against the MPFR reference of the same loss in `tests/losses.rs` (and those against
//! 256-bit finite differences), so the two cannot drift apart silently.

use nalgebra::{DMatrix, RealField};

use crate::covariance::BatchError;
use crate::kernels::{gram_nt, gram_tn, mul_tn, spd_half_logdet_inverse};
use sslproof::hp::LinalgError;

/// The float types the losses run in (`f64`, `f32`).
pub trait Real: RealField + Copy {}
impl<T: RealField + Copy> Real for T {}

/// `x` in `T` (rounded once).
#[inline]
pub fn k<T: Real>(x: f64) -> T {
    nalgebra::convert(x)
}

/// A loss value and its gradient with respect to each input.
#[derive(Clone, Debug)]
pub struct Out<T> {
    pub value: T,
    pub grads: Vec<DMatrix<T>>,
}

impl<T: Real> Out<T> {
    fn scaled(self, s: T) -> Self {
        if s == T::one() {
            return self;
        }
        Out {
            value: self.value * s,
            grads: self.grads.into_iter().map(|g| g * s).collect(),
        }
    }
}

/// Every entry finite, else a named error (first offending entry, row-major order).
pub fn require_finite<T: Real>(z: &DMatrix<T>) -> Result<(), BatchError> {
    for i in 0..z.nrows() {
        for j in 0..z.ncols() {
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

/// A batch `B × d` with `B ≥ min_b`, `d ≥ 1`, all finite.
pub fn require_batch<T: Real>(z: &DMatrix<T>, min_b: usize) -> Result<(usize, usize), BatchError> {
    let (b, d) = z.shape();
    if b == 0 || d == 0 {
        return Err(BatchError::Empty { b, d });
    }
    if b < min_b {
        return Err(BatchError::TooFewSamples { b });
    }
    require_finite(z)?;
    Ok((b, d))
}

/// Two views of the same shape, each a valid batch.
pub fn require_views<T: Real>(
    a: &DMatrix<T>,
    b: &DMatrix<T>,
    min_b: usize,
) -> Result<(usize, usize), BatchError> {
    if a.shape() != b.shape() {
        return Err(BatchError::ViewShapes {
            a: a.shape(),
            b: b.shape(),
        });
    }
    require_batch(a, min_b)?;
    require_batch(b, min_b)
}

/// `Z − 1 z̄ᵀ` (column means subtracted; by columns, the storage order).
pub fn centre<T: Real>(z: &DMatrix<T>) -> DMatrix<T> {
    let b: T = k(z.nrows() as f64);
    let mut c = z.clone();
    for mut col in c.column_iter_mut() {
        let m = col.sum() / b;
        col.add_scalar_mut(-m);
    }
    c
}

fn not_pd(n: usize) -> BatchError {
    BatchError::Linalg(LinalgError::NotPositiveDefinite {
        pivot: n,
        value: f64::NAN,
    })
}

/// `(½ log det A, A⁻¹)` of a symmetric positive definite `A`, by Cholesky.
pub fn half_logdet_and_inverse<T: Real>(a: DMatrix<T>) -> Result<(T, DMatrix<T>), BatchError> {
    let n = a.nrows();
    spd_half_logdet_inverse(a).ok_or_else(|| not_pd(n))
}

// ---------------------------------------------------------------------------------------------
// VICReg

/// VICReg's conventions (reference-implementations.md §1.1–1.3).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Vicreg {
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
    /// `max(0, γ − s)²` instead of the official unsquared hinge.
    pub squared_hinge: bool,
    /// Overall sign (+1; −1 is the flipped-sign mistake).
    pub sign: f64,
}

impl Vicreg {
    /// The official code's defaults.
    pub fn official() -> Self {
        Vicreg {
            sim: 25.0,
            std: 25.0,
            cov: 1.0,
            gamma: 1.0,
            eps: 1e-4,
            inv_per_dim: true,
            var_weight: 0.5,
            unbiased: true,
            centred: true,
            squared_hinge: false,
            sign: 1.0,
        }
    }
}

/// VICReg of two views `B × d` (rows are samples) and its gradients. For `d > B` the covariance
/// term goes through the `B × B` Gram matrix `K = Z_c Z_cᵀ`: `‖C‖²_F = ‖K‖²_F/div²` and
/// `Z_c C = K Z_c/div`, so nothing of size `d × d` is formed (`O(B²d)` instead of `O(Bd²)`).
pub fn vicreg<T: Real>(
    z1: &DMatrix<T>,
    z2: &DMatrix<T>,
    kn: &Vicreg,
) -> Result<Out<T>, BatchError> {
    let (b, d) = require_views(z1, z2, if kn.unbiased { 2 } else { 1 })?;
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
        let diag_c: Vec<T> = (0..d).map(|j| zc.column(j).norm_squared() / div).collect();
        let sum_diag_sq = diag_c.iter().fold(T::zero(), |s, &x| s + x * x);
        let (fro_sq, mut g) = if d > b {
            let kk = gram_nt(&zc);
            (kk.norm_squared() / (div * div), &kk * &zc / div)
        } else {
            let c = gram_tn(&zc) / div;
            (c.norm_squared(), &zc * &c)
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
            let zcol = zc.column(j);
            for i in 0..b {
                col[i] = (col[i] - zcol[i] * cjj) * cov_coef + zcol[i] * var_coef;
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
// The coding rate

/// Which implementation's weight multiplies the rate `R`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateWeight {
    /// MCR²'s `compute_discrimn_loss_empirical`: `R` itself.
    Mcr2,
    /// SimDINO's expansion term: `−γ_h R`, `γ_h = (d + m)/(d·m)`.
    SimDino,
    /// EMP-SSL: `−R`.
    EmpSsl,
}

/// The coding rate's conventions (reference-implementations.md §1.7–1.9, §4.1 items 5–9).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CodingRate {
    /// The code's `eps` (which is ε²).
    pub eps: f64,
    /// `c = d/(m·eps^eps_power)`: 1 is every implementation; 2 squares the code's eps again
    /// (ε against ε²); ½ takes its square root.
    pub eps_power: f64,
    /// Subtract the batch mean (every implementation uses the uncentred second moment).
    pub centred: bool,
    /// `½ log det`; `false` is the missing-½ mistake.
    pub half: bool,
    pub weight: RateWeight,
    pub sign: f64,
}

impl CodingRate {
    pub fn new(eps: f64, weight: RateWeight) -> Self {
        CodingRate {
            eps,
            eps_power: 1.0,
            centred: false,
            half: true,
            weight,
            sign: 1.0,
        }
    }
    /// The scalar `c` in `I + c·ZᵀZ`.
    pub fn c(&self, m: usize, d: usize) -> f64 {
        d as f64 / (m as f64 * self.eps.powf(self.eps_power))
    }
    /// The weight on `R`.
    pub fn factor(&self, m: usize, d: usize) -> f64 {
        let w = match self.weight {
            RateWeight::Mcr2 => 1.0,
            RateWeight::SimDino => -((d + m) as f64) / ((d * m) as f64),
            RateWeight::EmpSsl => -1.0,
        };
        w * self.sign * if self.half { 1.0 } else { 2.0 }
    }
}

/// `I + c·ZᵀZ` or `I + c·ZZᵀ`, whichever is smaller.
pub fn rate_matrix<T: Real>(z: &DMatrix<T>, c: T) -> DMatrix<T> {
    let (m, d) = z.shape();
    let mut a = if d <= m { gram_tn(z) } else { gram_nt(z) } * c;
    for i in 0..a.nrows() {
        a[(i, i)] += T::one();
    }
    a
}

/// The coding-rate loss of one batch `m × d` and its gradient, in the smaller dimension:
/// `R = ½ log det(I + cZᵀZ) = ½ log det(I + cZZᵀ)`, `∇R = cZ(I + cZᵀZ)⁻¹ = c(I + cZZᵀ)⁻¹Z`
/// (Sylvester; proved in C4), by Cholesky.
pub fn coding_rate<T: Real>(z: &DMatrix<T>, kn: &CodingRate) -> Result<Out<T>, BatchError> {
    let (m, d) = require_batch(z, 1)?;
    let zz = if kn.centred { centre(z) } else { z.clone() };
    let c: T = k(kn.c(m, d));
    let factor: T = k(kn.factor(m, d));
    let (r, ainv) = half_logdet_and_inverse(rate_matrix(&zz, c))?;
    // The scalars go on the small matrix: one pass over the m × d gradient.
    let ainv = ainv * (c * factor);
    let g = if d <= m { &zz * ainv } else { ainv * &zz };
    // Centring is a projection of the rows; the gradient is projected the same way.
    let g = if kn.centred { centre(&g) } else { g };
    Ok(Out {
        value: r * factor,
        grads: vec![g],
    })
}

// ---------------------------------------------------------------------------------------------
// Barlow Twins

/// Barlow Twins' conventions (reference-implementations.md §1.4).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Barlow {
    pub lambda: f64,
    pub bn_eps: f64,
    /// An overall factor (solo-learn's `scale_loss`; 1 in the official code).
    pub scale: f64,
    /// BatchNorm with the unbiased variance (a mistake: training-mode BN is biased).
    pub bn_unbiased: bool,
    pub sign: f64,
}

/// Per-column BatchNorm (training mode, no affine): `(x̃, s)` with `s = √(Var + eps)`.
fn batch_norm<T: Real>(z: &DMatrix<T>, eps: T, div: T) -> (DMatrix<T>, Vec<T>) {
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

/// The gradient through [`batch_norm`]: `(1/s)(g − ḡ − x̃ · Σ_i(g ∘ x̃)/div)` per column.
fn batch_norm_backward<T: Real>(xt: &DMatrix<T>, s: &[T], g: &DMatrix<T>, div: T) -> DMatrix<T> {
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
pub fn barlow_twins<T: Real>(
    z1: &DMatrix<T>,
    z2: &DMatrix<T>,
    kn: &Barlow,
) -> Result<Out<T>, BatchError> {
    let (b, d) = require_views(z1, z2, 2)?;
    let bb: T = k(b as f64);
    let div: T = k(if kn.bn_unbiased { b - 1 } else { b } as f64);
    let eps: T = k(kn.bn_eps);
    let (x1, s1) = batch_norm(z1, eps, div);
    let (x2, s2) = batch_norm(z2, eps, div);
    let c = mul_tn(&x1, &x2) / bb;
    let (lambda, two): (T, T) = (k(kn.lambda), k(2.0));
    let mut value = T::zero();
    let mut g = DMatrix::zeros(d, d);
    for j in 0..d {
        for i in 0..d {
            let cij = c[(i, j)];
            if i == j {
                value += (T::one() - cij) * (T::one() - cij);
                g[(i, j)] = (cij - T::one()) * two;
            } else {
                value += lambda * cij * cij;
                g[(i, j)] = lambda * cij * two;
            }
        }
    }
    let gx1 = &x2 * g.transpose() / bb;
    let gx2 = &x1 * &g / bb;
    Ok(Out {
        value,
        grads: vec![
            batch_norm_backward(&x1, &s1, &gx1, div),
            batch_norm_backward(&x2, &s2, &gx2, div),
        ],
    }
    .scaled(k(kn.scale * kn.sign)))
}

// ---------------------------------------------------------------------------------------------
// CorInfoMax

/// CorInfoMax's conventions (reference-implementations.md §1.10).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CorInfoMax {
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
pub fn corinfomax<T: Real>(
    z1: &DMatrix<T>,
    z2: &DMatrix<T>,
    kn: &CorInfoMax,
    state: Option<(&State<T>, &State<T>)>,
) -> Result<Out<T>, BatchError> {
    let (b, d) = require_views(z1, z2, 2)?;
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
        let (half, ainv) = half_logdet_and_inverse(r)?;
        let ginv = ainv * (-(T::one() - la_r) / d_fac);
        let g_zh = &zh * ginv * (two / div);
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
// InfoNCE / NT-Xent

/// NT-Xent's conventions (reference-implementations.md §1.6).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NtXent {
    pub tau: f64,
    /// L2-normalise the rows first.
    pub normalise: bool,
    /// Keep `exp(s_kk/τ)` in the denominator (a mistake: every implementation masks it).
    pub self_in_denominator: bool,
    /// Keep the positives in the denominator (every implementation does; `false` is the
    /// decoupled form).
    pub positive_in_denominator: bool,
    pub sign: f64,
}

/// NT-Xent over `V ≥ 2` views `B × d` (solo-learn's multi-positive form: the positives of a row
/// are the rows with the same index in the other views, summed inside the log; for `V = 2` this is
/// lightly's `NTXentLoss`): `L = mean_k [−log Σ_{p∈P(k)} e^{s_kp} + log Σ_{j∈D(k)} e^{s_kj}]`,
/// `s = UUᵀ/τ`, `D(k)` every row but `k`.
pub fn nt_xent<T: Real>(views: &[DMatrix<T>], kn: &NtXent) -> Result<Out<T>, BatchError> {
    let nv = views.len();
    if nv < 2 {
        return Err(BatchError::Empty { b: 0, d: 0 });
    }
    let (b, d) = require_batch(&views[0], 1)?;
    for v in views.iter().skip(1) {
        if v.shape() != (b, d) {
            return Err(BatchError::ViewShapes {
                a: (b, d),
                b: v.shape(),
            });
        }
        require_batch(v, 1)?;
    }
    if nv == 2 && b < 2 && !kn.self_in_denominator {
        // One pair: the denominator would hold the positive alone.
        return Err(BatchError::TooFewSamples { b });
    }
    let n = nv * b;
    let mut raw = DMatrix::zeros(n, d);
    for (v, z) in views.iter().enumerate() {
        raw.rows_mut(v * b, b).copy_from(z);
    }
    let norms: Vec<T> = (0..n).map(|i| raw.row(i).norm()).collect();
    if kn.normalise {
        if let Some(i) = norms.iter().position(|x| *x == T::zero()) {
            return Err(BatchError::Linalg(LinalgError::Singular { col: i }));
        }
    }
    let u = if kn.normalise {
        let mut u = raw.clone();
        for (i, ni) in norms.iter().enumerate() {
            u.row_mut(i).scale_mut(T::one() / *ni);
        }
        u
    } else {
        raw.clone()
    };
    let tau: T = k(kn.tau);
    let s = gram_nt(&u) / tau;
    let nn: T = k(n as f64);
    let mut value = T::zero();
    let mut gs = DMatrix::zeros(n, n);
    for kk in 0..n {
        let pos = |j: usize| j != kk && j % b == kk % b;
        let den = |j: usize| {
            (j != kk || kn.self_in_denominator) && (kn.positive_in_denominator || !pos(j))
        };
        let m = (0..n)
            .filter(|&j| den(j) || pos(j))
            .fold(T::min_value().unwrap(), |a, j| a.max(s[(kk, j)]));
        let (mut zp, mut zd) = (T::zero(), T::zero());
        for j in 0..n {
            let e = (s[(kk, j)] - m).exp();
            if pos(j) {
                zp += e;
            }
            if den(j) {
                zd += e;
            }
        }
        value += zd.ln() - zp.ln();
        for j in 0..n {
            let e = (s[(kk, j)] - m).exp();
            let q = if den(j) { e / zd } else { T::zero() };
            let w = if pos(j) { e / zp } else { T::zero() };
            gs[(kk, j)] = (q - w) / nn;
        }
    }
    // s = UUᵀ/τ ⇒ ∂L/∂U = (G + Gᵀ)U/τ.
    let gu = (&gs + gs.transpose()) * &u / tau;
    let gz = if kn.normalise {
        // (I − u uᵀ) g/‖z‖ per row (D1).
        let mut gz = gu.clone();
        for i in 0..n {
            let ug = u.row(i).dot(&gu.row(i));
            let r = (gu.row(i) - u.row(i) * ug) / norms[i];
            gz.row_mut(i).copy_from(&r);
        }
        gz
    } else {
        gu
    };
    Ok(Out {
        value: value / nn,
        grads: (0..nv).map(|v| gz.rows(v * b, b).into_owned()).collect(),
    }
    .scaled(k(kn.sign)))
}

// ---------------------------------------------------------------------------------------------
// SimSiam, alignment, uniformity

/// SimSiam's conventions (reference-implementations.md §1.5).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SimSiam {
    /// `z.detach()`: no gradient reaches `z₁, z₂`.
    pub stop_gradient: bool,
    /// `−½[…]`; `false` is the missing-½ mistake.
    pub halved: bool,
    pub sign: f64,
}

/// `Σ_i cos(a_i, b_i)` with the gradients with respect to `a` and `b`.
fn cos_rows<T: Real>(
    a: &DMatrix<T>,
    b: &DMatrix<T>,
) -> Result<(T, DMatrix<T>, DMatrix<T>), BatchError> {
    let mut total = T::zero();
    let mut ga = DMatrix::zeros(a.nrows(), a.ncols());
    let mut gb = DMatrix::zeros(a.nrows(), a.ncols());
    for i in 0..a.nrows() {
        let (na, nb) = (a.row(i).norm(), b.row(i).norm());
        if na == T::zero() || nb == T::zero() {
            return Err(BatchError::Linalg(LinalgError::Singular { col: i }));
        }
        let (ua, ub) = (a.row(i) / na, b.row(i) / nb);
        let c = ua.dot(&ub);
        total += c;
        ga.row_mut(i).copy_from(&((&ub - &ua * c) / na));
        gb.row_mut(i).copy_from(&((&ua - &ub * c) / nb));
    }
    Ok((total, ga, gb))
}

/// SimSiam: `L = −w[mean cos(p₁, z₂) + mean cos(p₂, z₁)]`, `w = ½`. Inputs and gradients in the
/// order `(p₁, p₂, z₁, z₂)`; with the stop-gradient the last two are zero.
pub fn simsiam<T: Real>(
    p1: &DMatrix<T>,
    p2: &DMatrix<T>,
    z1: &DMatrix<T>,
    z2: &DMatrix<T>,
    kn: &SimSiam,
) -> Result<Out<T>, BatchError> {
    let (b, d) = require_views(p1, z2, 1)?;
    require_views(p2, z1, 1)?;
    require_views(p1, p2, 1)?;
    let (c1, gp1, gz2) = cos_rows(p1, z2)?;
    let (c2, gp2, gz1) = cos_rows(p2, z1)?;
    let w: T = k(if kn.halved { 0.5 } else { 1.0 });
    let scale = -w / k::<T>(b as f64);
    let zeros = || DMatrix::zeros(b, d);
    let (gz1, gz2) = if kn.stop_gradient {
        (zeros(), zeros())
    } else {
        (gz1 * scale, gz2 * scale)
    };
    Ok(Out {
        value: (c1 + c2) * scale,
        grads: vec![gp1 * scale, gp2 * scale, gz1, gz2],
    }
    .scaled(k(kn.sign)))
}

/// Wang & Isola's alignment (reference-implementations.md §3.1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Align {
    /// The exponent `α` (official 2).
    pub alpha: f64,
    /// Mean over the batch; `false`: a sum.
    pub mean: bool,
}

/// `mean_i ‖x_i − y_i‖^α`, gradients for `(x, y)`.
pub fn align<T: Real>(x: &DMatrix<T>, y: &DMatrix<T>, kn: &Align) -> Result<Out<T>, BatchError> {
    let (b, d) = require_views(x, y, 1)?;
    let diff = x - y;
    let alpha: T = k(kn.alpha);
    let mut value = T::zero();
    let mut g = DMatrix::zeros(b, d);
    for i in 0..b {
        let n = diff.row(i).norm();
        value += n.powf(alpha);
        if n > T::zero() {
            // ∂‖r‖^α/∂r = α‖r‖^(α−2) r.
            let coef = alpha * n.powf(alpha - k(2.0));
            g.row_mut(i).copy_from(&(diff.row(i) * coef));
        }
    }
    let div: T = k(if kn.mean { b as f64 } else { 1.0 });
    let g = g / div;
    Ok(Out {
        value: value / div,
        grads: vec![g.clone(), -g],
    })
}

/// Wang & Isola's uniformity (reference-implementations.md §3.1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Uniformity {
    /// `t` (official 2, lightly 1).
    pub t: f64,
    /// Average over all `B²` ordered pairs, the `B` pairs `(i, i)` included (a mistake: `pdist`
    /// takes `i < j`).
    pub include_self: bool,
    /// `exp(−t‖·‖²)`; `false`: the distance unsquared.
    pub squared: bool,
}

/// `log mean_{i<j} exp(−t‖x_i − x_j‖²)`, gradient for `x`.
pub fn uniformity<T: Real>(x: &DMatrix<T>, kn: &Uniformity) -> Result<Out<T>, BatchError> {
    let (b, d) = require_batch(x, 2)?;
    let t: T = k(kn.t);
    let mut pairs = Vec::with_capacity(b * (b - 1) / 2);
    // log-mean-exp with the largest exponent taken out (the exponents are ≤ 0).
    let mut m = T::min_value().unwrap();
    for i in 0..b {
        for j in (i + 1)..b {
            let r = x.row(i) - x.row(j);
            let n = r.norm();
            let e = -t * if kn.squared { n * n } else { n };
            m = m.max(e);
            pairs.push((i, j, e, n, r));
        }
    }
    if kn.include_self {
        m = m.max(T::zero());
    }
    let mult: T = k(if kn.include_self { 2.0 } else { 1.0 });
    let mut total = pairs.iter().fold(T::zero(), |s, p| s + (p.2 - m).exp()) * mult;
    if kn.include_self {
        total += (-m).exp() * k::<T>(b as f64);
    }
    let count: T = k(if kn.include_self {
        (b * b) as f64
    } else {
        (b * (b - 1) / 2) as f64
    });
    let value = (total / count).ln() + m;
    let mut g = DMatrix::zeros(b, d);
    for (i, j, e, n, r) in &pairs {
        let w = (*e - m).exp() * mult / total;
        let coef = if kn.squared {
            -t * k::<T>(2.0)
        } else if *n > T::zero() {
            -t / *n
        } else {
            T::zero()
        };
        let v = r * (w * coef);
        let gi = g.row(*i) + &v;
        g.row_mut(*i).copy_from(&gi);
        let gj = g.row(*j) - &v;
        g.row_mut(*j).copy_from(&gj);
    }
    Ok(Out {
        value,
        grads: vec![g],
    })
}
