//! A first-order rounding-error model of each loss: how far a correct implementation, run in the
//! user's precision, may land from the exact value and gradient. This is where the checker's and
//! the golden files' tolerances come from (never a fixed `atol`). The derivation is in
//! `docs/losses.md`; in short:
//!
//! - Every floating-point operation returns `x(1 + δ)`, `|δ| ≤ u`. A sum or dot product of length
//!   `n` then errs by at most `γ_n·Σ|terms|` (worst case, `γ_n ≈ n·u`) and, with rounding errors
//!   treated as independent and mean zero, by `λ√n·u·Σ|terms|` with probability at least
//!   `1 − 2exp(−λ²/2)` (Higham & Mary, SIAM J. Sci. Comput. 2019). We take `λ = 6`
//!   (failure probability below 3·10⁻⁸ per sum).
//! - Mixed precision splits `u` in two: operands of the matrix products are rounded to a short
//!   format (`u_in`: TF32 2⁻¹¹, bfloat16 2⁻⁸, each entry once, no growth with `n`) while the
//!   products accumulate in float32 (`u_acc = 2⁻²⁴`, growing like `√n`). In float64 and float32
//!   `u_in = u_acc = u`. The unit of the model is `u_eff = u_in + √n·u_acc` with `n` the longest
//!   reduction (`max(B, d)`).
//! - The error reaches the loss through the loss's own sensitivities, evaluated with absolute
//!   values ("abs twins"): a product `AB` errs by `u_eff·|A||B|`, a Cholesky solve with `A` by
//!   `u_eff·|A⁻¹||A||A⁻¹|` — so the condition of the covariance, the dimension and the batch all
//!   enter, and the model needs no fitted constant. [`Scale`] holds these magnitudes;
//!   [`tolerance`] multiplies them by `λ·u_eff`.
//!
//! The model is validated against real float32 computations (our own `f32` build of every loss
//! in `tests/rounding.rs`; numpy and PyTorch, CPU and GPU, in `examples/python/`).

use nalgebra::DMatrix;

use crate::losses::float::{Out, centre};
use crate::registry::{LossName, LossSpec};

/// The user's arithmetic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Precision {
    /// float64 throughout.
    F64,
    /// float32 throughout.
    F32,
    /// float32 with TF32 matrix products (operands rounded to 10 mantissa bits).
    Tf32,
    /// bfloat16 autocast: matrix-product operands and outputs in bfloat16, accumulation and the
    /// rest in float32.
    Bf16,
}

impl Precision {
    pub const ALL: [Precision; 4] = [
        Precision::F64,
        Precision::F32,
        Precision::Tf32,
        Precision::Bf16,
    ];

    /// `(u_in, u_acc)`: the unit roundoff of product operands and of accumulation.
    pub fn units(self) -> (f64, f64) {
        match self {
            Precision::F64 => (2f64.powi(-53), 2f64.powi(-53)),
            Precision::F32 => (2f64.powi(-24), 2f64.powi(-24)),
            Precision::Tf32 => (2f64.powi(-11), 2f64.powi(-24)),
            Precision::Bf16 => (2f64.powi(-8), 2f64.powi(-24)),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Precision::F64 => "f64",
            Precision::F32 => "f32",
            Precision::Tf32 => "tf32",
            Precision::Bf16 => "bf16",
        }
    }

    /// `u_in + √n·u_acc`.
    pub fn u_eff(self, n: usize) -> f64 {
        let (u_in, u_acc) = self.units();
        u_in + (n as f64).sqrt() * u_acc
    }
}

/// The probabilistic rounding bound's `λ` (see the module documentation).
pub const LAMBDA: f64 = 6.0;

/// The magnitudes through which rounding errors reach a loss's value and gradients, for unit
/// `u_eff = 1`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Scale {
    /// Longest reduction (`max(B, d)`).
    pub n: usize,
    pub value: f64,
    /// One per input with a gradient: a bound on the rounding error of any entry.
    pub grads: Vec<f64>,
    /// Condition number of the matrix whose log-determinant is taken (coding rate, CorInfoMax).
    pub kappa: Option<f64>,
    /// Columns whose variance sits on VICReg's hinge (`√(Var + eps) = γ` within the rounding
    /// error): the gradient of those columns depends on which side a rounding falls.
    pub kinks: Vec<usize>,
}

/// Tolerances for one precision.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Tolerance {
    pub precision: Precision,
    pub u_eff: f64,
    pub value: f64,
    pub grads: Vec<f64>,
    /// Why the precision cannot give a trustworthy value or gradient, if it cannot.
    pub untrustworthy: Option<String>,
}

/// `λ·u_eff·scale`, and whether the precision can be trusted at all.
pub fn tolerance(scale: &Scale, out: &Out<f64>, precision: Precision) -> Tolerance {
    let u = precision.u_eff(scale.n);
    let value = LAMBDA * u * scale.value;
    let grads: Vec<f64> = scale.grads.iter().map(|g| LAMBDA * u * g).collect();
    let mut why = Vec::new();
    if let Some(kappa) = scale.kappa {
        // Cholesky in precision u is only backward stable for κ·u well below 1 (Higham, ASNA
        // Thm 10.7: it may break down for 20 n^{3/2} κ u ≥ 1); past κ·u_eff = 1/10 the computed
        // inverse, hence the gradient, has no correct digit.
        if kappa * u >= 0.1 {
            why.push(format!(
                "the log-determinant's matrix has condition number {kappa:.2e}; at {} (u_eff = {u:.1e}) κ·u_eff = {:.2} ≥ 0.1, so its inverse, and the gradient through it, has no reliable digit",
                precision.as_str(),
                kappa * u
            ));
        }
    }
    if value >= 0.5 * out.value.abs().max(f64::MIN_POSITIVE) && out.value != 0.0 {
        why.push(format!(
            "the value's rounding error bound {value:.2e} is as large as the value {:.3e}",
            out.value
        ));
    }
    for (i, (t, g)) in grads.iter().zip(&out.grads).enumerate() {
        let gmax = g.amax();
        if gmax > 0.0 && *t >= 0.5 * gmax {
            why.push(format!(
                "gradient {}: the rounding error bound {t:.2e} is as large as the gradient itself (largest entry {gmax:.2e})",
                i + 1
            ));
        }
    }
    if !scale.kinks.is_empty() && precision != Precision::F64 {
        why.push(format!(
            "columns {:?} sit on the variance hinge within rounding: their gradient depends on which side a rounding falls",
            &scale.kinks[..scale.kinks.len().min(8)]
        ));
    }
    Tolerance {
        precision,
        u_eff: u,
        value,
        grads,
        untrustworthy: if why.is_empty() {
            None
        } else {
            Some(why.join("; "))
        },
    }
}

fn abs(m: &DMatrix<f64>) -> DMatrix<f64> {
    m.abs()
}

/// Largest condition number of an SPD matrix, from its symmetric eigenvalues.
fn condition(a: &DMatrix<f64>) -> f64 {
    let ev = a.clone().symmetric_eigenvalues();
    let (lo, hi) = ev.iter().fold((f64::INFINITY, 0f64), |(l, h), &x| {
        (l.min(x), h.max(x.abs()))
    });
    if lo <= 0.0 { f64::INFINITY } else { hi / lo }
}

/// `|A⁻¹|·A_abs·|A⁻¹| + |A⁻¹|`: how an error `u·A_abs` in an SPD matrix and the rounding of the
/// solve reach `A⁻¹` (first order: `δ(A⁻¹) = −A⁻¹ δA A⁻¹`).
fn inverse_error(ainv: &DMatrix<f64>, a_abs: &DMatrix<f64>) -> DMatrix<f64> {
    let ia = abs(ainv);
    &ia * a_abs * &ia + &ia
}

/// `Σ_ij |A⁻¹|_ij (A_abs)_ij`: the first-order error of `log det A` under `δA = u·A_abs`.
fn logdet_error(ainv: &DMatrix<f64>, a_abs: &DMatrix<f64>) -> f64 {
    ainv.iter()
        .zip(a_abs.iter())
        .map(|(x, y)| x.abs() * y)
        .sum()
}

/// The magnitudes of [`Scale`] for `spec` at `inputs` (`out` is the f64 loss there).
pub fn scale(spec: &LossSpec, inputs: &[DMatrix<f64>], out: &Out<f64>) -> Scale {
    let (b, d) = inputs[0].shape();
    let n = b.max(d);
    let mut kappa = None;
    let mut kinks = Vec::new();
    let (value, grads) = match spec.loss {
        LossName::Vicreg => {
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
            let mut value = sim * diff.norm_squared() / inv_div + out.value.abs();
            let gi = 2.0 * sim * diff.amax() / inv_div;
            let mut grads = Vec::new();
            for z in &inputs[..2] {
                let za = abs(z);
                let zc = abs(&centre(z));
                // Variance: Var_j errs by u·Σ_i z_ij²/div (the centring cancels against |z|).
                let mut g_var = 0f64;
                for j in 0..d {
                    let raw = za.column(j).norm_squared() / div;
                    let var = zc.column(j).norm_squared() / div;
                    let s = (var + eps).sqrt();
                    let ds = raw / (2.0 * s);
                    if (s - gamma).abs() <= LAMBDA * Precision::F32.u_eff(n) * ds {
                        kinks.push(j);
                    }
                    if s < gamma {
                        value += var_scale * ds / d as f64;
                        let zmax = za.column(j).amax();
                        g_var = g_var.max(var_scale * zmax / (d as f64 * div * s) * (1.0 + ds / s));
                    }
                }
                // Covariance: C errs by u·|Z|ᵀ|Z|/div; c by (2/d)Σ|C_ij|(|Z|ᵀ|Z|)_ij/div; the
                // gradient (4/(d·div))·Z_c offdiag(C) by (4/(d·div))(|Z_c||C| + |Z_c||Z|ᵀ|Z|/div).
                let zz = &zc * za.transpose(); // |Z_c||Z|ᵀ, B × B
                let g2 = &zz * &za / div; // |Z_c|(|Z|ᵀ|Z|)/div
                let (cval, g1) = if d <= b {
                    let c = centre(z).transpose() * centre(z) / div;
                    let aa = za.transpose() * &za / div;
                    let cv: f64 = c.iter().zip(aa.iter()).map(|(x, y)| x.abs() * y).sum();
                    (cv, &zc * abs(&c))
                } else {
                    // ‖C‖_F‖|Z|ᵀ|Z|‖_F (Cauchy–Schwarz), both through B × B Gram matrices;
                    // |C| ≤ |Z_c|ᵀ|Z_c|/div entrywise.
                    let kc = centre(z) * centre(z).transpose();
                    let ka = &za * za.transpose();
                    let cv = kc.norm() * ka.norm() / (div * div);
                    (cv, (&zc * zc.transpose()) * &zc / div)
                };
                value += cov * 2.0 * cval / d as f64;
                let g_cov = 4.0 * cov / (d as f64 * div) * (g1 + g2).amax();
                grads.push(gi + g_var + g_cov);
            }
            (value, grads)
        }
        LossName::CodingRate => {
            let z = &inputs[0];
            let eps = spec.p("eps");
            let c = d as f64 / (b as f64 * eps);
            let factor = match spec.variant.name {
                "mcr2" => 1.0,
                "simdino" => ((d + b) as f64) / ((d * b) as f64),
                _ => 1.0,
            };
            let za = abs(z);
            let (a, a_abs) = if d <= b {
                (
                    DMatrix::identity(d, d) + z.transpose() * z * c,
                    DMatrix::identity(d, d) + za.transpose() * &za * c,
                )
            } else {
                (
                    DMatrix::identity(b, b) + z * z.transpose() * c,
                    DMatrix::identity(b, b) + &za * za.transpose() * c,
                )
            };
            kappa = Some(condition(&a));
            let ainv = a
                .clone()
                .cholesky()
                .map(|ch| ch.inverse())
                .unwrap_or_else(|| DMatrix::from_element(a.nrows(), a.nrows(), f64::INFINITY));
            let value = factor * 0.5 * logdet_error(&ainv, &a_abs) + out.value.abs();
            let e = inverse_error(&ainv, &a_abs);
            let g = if d <= b { &za * e * c } else { e * &za * c };
            (value, vec![factor * g.amax()])
        }
        LossName::Corinfomax => {
            let (alpha, eps) = (spec.p("alpha"), spec.p("eps"));
            let running = spec.variant.name == "running";
            let la_r = if running { spec.p("la_r") } else { 0.0 };
            let div = b as f64;
            let diff = &inputs[0] - &inputs[1];
            let mut value = alpha * diff.norm_squared() / (b * d) as f64 + out.value.abs();
            let gi = 2.0 * alpha * diff.amax() / (b * d) as f64;
            let mut grads = Vec::new();
            let mut kmax = 1f64;
            for (i, z) in inputs[..2].iter().enumerate() {
                let za = abs(z);
                let zc = centre(z);
                let mut r = zc.transpose() * &zc / div * (1.0 - la_r);
                let mut r_abs = za.transpose() * &za / div * (1.0 - la_r);
                if running {
                    let prev = &inputs[3 + 2 * i];
                    r += prev * la_r;
                    r_abs += abs(prev) * la_r;
                }
                for j in 0..d {
                    r[(j, j)] += eps;
                    r_abs[(j, j)] += eps;
                }
                kmax = kmax.max(condition(&r));
                let ainv = r
                    .clone()
                    .cholesky()
                    .map(|ch| ch.inverse())
                    .unwrap_or_else(|| DMatrix::from_element(d, d, f64::INFINITY));
                value += logdet_error(&ainv, &r_abs) / d as f64;
                let e = inverse_error(&ainv, &r_abs);
                let g = abs(&zc) * e * (2.0 * (1.0 - la_r) / (div * d as f64));
                grads.push(gi + g.amax());
            }
            kappa = Some(kmax);
            (value, grads)
        }
        LossName::BarlowTwins => {
            let (lambda, bn_eps) = (spec.p("lambda"), spec.p("bn_eps"));
            let scale = spec.params.get("scale").copied().unwrap_or(1.0);
            let bb = b as f64;
            let bn = |z: &DMatrix<f64>| {
                let zc = centre(z);
                let s: Vec<f64> = (0..d)
                    .map(|j| (zc.column(j).norm_squared() / bb + bn_eps).sqrt())
                    .collect();
                // How much the centring cancels: |mean| over the standard deviation.
                let m = z.row_mean();
                let rho: Vec<f64> = (0..d).map(|j| m[j].abs() / s[j]).collect();
                let mut x = zc;
                for j in 0..d {
                    x.column_mut(j).scale_mut(1.0 / s[j]);
                }
                (x, s, rho)
            };
            let (x1, s1, r1) = bn(&inputs[0]);
            let (x2, s2, r2) = bn(&inputs[1]);
            let c = x1.transpose() * &x2 / bb;
            let (a1, a2) = (abs(&x1), abs(&x2));
            let cabs = a1.transpose() * &a2 / bb;
            let mut gc = DMatrix::zeros(d, d);
            let mut value = out.value.abs();
            for j in 0..d {
                for i in 0..d {
                    let g = if i == j {
                        2.0 * (c[(i, i)] - 1.0).abs()
                    } else {
                        2.0 * lambda * c[(i, j)].abs()
                    };
                    // C_ij errs by u·(1 + ρ1_i + ρ2_j)·(|x̃1|ᵀ|x̃2|)_ij/B.
                    let dc = (1.0 + r1[i] + r2[j]) * cabs[(i, j)];
                    value += scale * g * dc;
                    let w = if i == j { 2.0 } else { 2.0 * lambda };
                    gc[(i, j)] = g + w * dc;
                }
            }
            let smin = |s: &[f64]| s.iter().copied().fold(f64::INFINITY, f64::min);
            let rmax = |r: &[f64]| r.iter().copied().fold(0f64, f64::max);
            // Through BatchNorm's backward pass, (g − ḡ − x̃·mean(g x̃))/s: at most 3|g|/s, and
            // x̃ itself carries the centring's relative error ρ.
            let g1 = (&a2 * gc.transpose() / bb).amax() * 3.0 * (1.0 + rmax(&r1)) / smin(&s1);
            let g2 = (&a1 * &gc / bb).amax() * 3.0 * (1.0 + rmax(&r2)) / smin(&s2);
            (value, vec![scale * g1, scale * g2])
        }
        LossName::NtXent => {
            let tau = spec.p("tau");
            let nv = inputs.len();
            let rows = nv * b;
            let mut u = DMatrix::zeros(rows, d);
            for (v, z) in inputs.iter().enumerate() {
                u.rows_mut(v * b, b).copy_from(z);
            }
            let norms: Vec<f64> = (0..rows).map(|i| u.row(i).norm()).collect();
            for (i, ni) in norms.iter().enumerate() {
                if *ni > 0.0 {
                    u.row_mut(i).scale_mut(1.0 / ni);
                }
            }
            // Logits |s| ≤ 1/τ; each errs by u/τ; Σ_kj |∂L/∂s_kj| ≤ 2; the softmax weights err
            // relatively by the logit error, so the gradient by (1 + 2/τ) of its abs twin.
            let value = 2.0 / tau + out.value.abs() + 1.0 / tau;
            let ua = abs(&u);
            // (|G| + |G|ᵀ)|U| ≤ (4/N)·max|u| entrywise (each row of |G| sums to at most 2/N).
            let g_abs = ua.amax() * 4.0 / (rows as f64 * tau);
            let grads = (0..nv)
                .map(|v| {
                    let nmin = norms[v * b..(v + 1) * b]
                        .iter()
                        .copied()
                        .fold(f64::INFINITY, f64::min);
                    g_abs * (1.0 + 2.0 / tau) * 2.0 / nmin
                })
                .collect();
            (value, grads)
        }
        LossName::Simsiam => {
            let row_min = |z: &DMatrix<f64>| {
                (0..b)
                    .map(|i| z.row(i).norm())
                    .fold(f64::INFINITY, f64::min)
            };
            let value = 2.0 + out.value.abs();
            let grads = inputs
                .iter()
                .map(|z| 4.0 / (b as f64 * row_min(z)))
                .collect();
            (value, grads)
        }
        LossName::Align => {
            let alpha = spec.p("alpha");
            let diff = &inputs[0] - &inputs[1];
            let value = (alpha + 1.0) * out.value.abs();
            let mut g: f64 = 0.0;
            for i in 0..b {
                let r = diff.row(i).norm();
                if r > 0.0 {
                    g = g.max(alpha * (alpha + 1.0) * r.powf(alpha - 1.0));
                }
            }
            (value, vec![g / b as f64; 2])
        }
        LossName::Uniformity => {
            let t = spec.p("t");
            let x = &inputs[0];
            let mut dmax = 0f64;
            let mut rmax = 0f64;
            for i in 0..b {
                for j in (i + 1)..b {
                    let r = x.row(i) - x.row(j);
                    dmax = dmax.max(r.norm_squared());
                    rmax = rmax.max(r.amax());
                }
            }
            let value = t * dmax + out.value.abs();
            let g = 2.0 * t * rmax * (1.0 + t * dmax) * 2.0;
            (value, vec![g])
        }
    };
    Scale {
        n,
        value,
        grads,
        kappa,
        kinks,
    }
}
