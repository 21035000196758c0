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

use crate::float::{Out, centre};
use crate::registry::{LossName, LossSpec};

/// The user's arithmetic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
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

    /// The precision named `s` (`f64`, `f32`, `tf32`, `bf16`).
    pub fn parse(s: &str) -> Option<Precision> {
        Precision::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// `u_in + √n·u_acc`: the unit of the hinge test and of the log-det condition test.
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
    /// Accumulation errors (per `√n·u_acc`): absolute-value twins.
    pub value: f64,
    /// One per input with a gradient: a bound on the rounding error of any entry.
    pub grads: Vec<f64>,
    /// Operand-rounding errors (per `u_in`): root-sum-square twins of the matrix products, whose
    /// operands are rounded once each, independently.
    pub value_in: f64,
    pub grads_in: Vec<f64>,
    /// Condition number of the matrix whose log-determinant is taken (coding rate, CorInfoMax).
    pub kappa: Option<f64>,
    /// VICReg columns near the variance hinge `√(Var + eps) = γ`, where the gradient jumps.
    pub hinge: Vec<Hinge>,
}

/// A column near VICReg's hinge: within `margin` units of `u_eff` of the kink (relative to the
/// rounding error of its standard deviation), the gradient of that column may fall on either side,
/// so the tolerance of that input grows by the jump.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Hinge {
    pub input: usize,
    pub col: usize,
    pub margin: f64,
    pub jump: f64,
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
    /// VICReg columns within rounding of the variance hinge (their jump is in `grads`).
    pub hinge_columns: Vec<usize>,
}

/// `λ·u_eff·scale`, and whether the precision can be trusted at all.
pub fn tolerance(scale: &Scale, out: &Out<f64>, precision: Precision) -> Tolerance {
    let u = precision.u_eff(scale.n);
    let (u_in, u_acc) = precision.units();
    let acc = (scale.n as f64).sqrt() * u_acc;
    let value = LAMBDA * (acc * scale.value + u_in * scale.value_in);
    let mut grads: Vec<f64> = scale
        .grads
        .iter()
        .zip(&scale.grads_in)
        .map(|(g, gi)| LAMBDA * (acc * g + u_in * gi))
        .collect();
    // The variance is a reduction outside the matrix products (accumulation unit only). An
    // entry belongs to one column, so an input's tolerance grows by its largest jump.
    let mut kinks = Vec::new();
    let mut jumps = vec![0f64; grads.len()];
    for h in &scale.hinge {
        if h.margin <= LAMBDA * (acc + u_acc) {
            kinks.push(h.col);
            jumps[h.input] = jumps[h.input].max(h.jump);
        }
    }
    for (g, j) in grads.iter_mut().zip(&jumps) {
        *g += j;
    }
    let mut why = Vec::new();
    if let Some(kappa) = scale.kappa {
        // With ‖δA‖ ≤ u_eff‖A‖, ‖A⁻¹δA‖ ≤ κ·u_eff, and ‖(A+δA)⁻¹ − A⁻¹‖ ≤
        // ‖A⁻¹‖²‖δA‖/(1 − ‖A⁻¹δA‖): the first-order model holds within a factor 2 only while
        // κ·u_eff ≤ ½; beyond, A + δA may even be singular or indefinite (Cholesky fails).
        if kappa * u > 0.5 {
            why.push(format!(
                "the log-determinant's matrix has condition number {kappa:.2e}; at {} (u_eff = {u:.1e}) κ·u_eff = {:.2} > 0.5, so the rounding may move it to singular: its inverse, and the gradient through it, cannot be trusted",
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
        hinge_columns: kinks,
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

/// Which twin of a product: the absolute-value one (accumulation errors, which add up to at most
/// `Σ|terms|`) or the root-sum-square one (independent operand roundings, standard deviation
/// `∝ √Σ terms²`), plus the rounding of the product's own output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Abs,
    Rss,
}

fn sq(m: &DMatrix<f64>) -> DMatrix<f64> {
    m.map(|x| x * x)
}

/// The twin of `XY`: `|X||Y|`, or `√2·√((X∘X)(Y∘Y)) + |XY|`.
fn twin(x: &DMatrix<f64>, y: &DMatrix<f64>, mode: Mode) -> DMatrix<f64> {
    match mode {
        Mode::Abs => abs(x) * abs(y),
        Mode::Rss => (sq(x) * sq(y)).map(|v| (2.0 * v).sqrt()) + abs(&(x * y)),
    }
}

/// The magnitudes of [`Scale`] for `spec` at `inputs` (`out` is the f64 loss there).
pub fn scale(spec: &LossSpec, inputs: &[DMatrix<f64>], out: &Out<f64>) -> Scale {
    let (b, d) = inputs[0].shape();
    let a = magnitudes(spec, inputs, out, Mode::Abs);
    let r = magnitudes(spec, inputs, out, Mode::Rss);
    Scale {
        n: b.max(d),
        value: a.0,
        grads: a.1,
        value_in: r.0,
        grads_in: r.1,
        kappa: a.2,
        hinge: a.3,
    }
}

type Magnitudes = (f64, Vec<f64>, Option<f64>, Vec<Hinge>);

/// How an error reaches through a product: `|X||Y|` (deterministic, Abs) or `√((X∘X)(Y∘Y))`
/// (independent errors: the standard deviation, Rss).
fn prop(x: &DMatrix<f64>, y: &DMatrix<f64>, mode: Mode) -> DMatrix<f64> {
    match mode {
        Mode::Abs => abs(x) * abs(y),
        Mode::Rss => (sq(x) * sq(y)).map(f64::sqrt),
    }
}

/// `Σ|a_ij| t_ij` (Abs) or `√Σ a_ij² t_ij²` (Rss): a first-order error `Σ a_ij δ_ij`.
fn contract(a: &DMatrix<f64>, t: &DMatrix<f64>, mode: Mode) -> f64 {
    let it = a.iter().zip(t.iter());
    match mode {
        Mode::Abs => it.map(|(x, y)| x.abs() * y).sum(),
        Mode::Rss => it.map(|(x, y)| x * x * y * y).sum::<f64>().sqrt(),
    }
}

/// Operand-rounding magnitudes (Rss) of the coding rate computed in the **feature** form
/// `A_f = I_d + cZᵀZ` when `d > m`, through the `m × m` batch form `A_b = I_m + cZZᵀ`
/// (Woodbury: `A_f⁻¹ = I − cZᵀA_b⁻¹Z`, `Z A_f⁻¹ = A_b⁻¹Z`), without forming anything `d × d`.
///
/// `A_f` is perturbed by `cE` with `E` symmetric, independent entries of size
/// `T_kl = √(2Σ_i z_ik² z_il²) + |ZᵀZ|_kl ≤ r_k r_l`, `r_k = 2^{1/4}‖z_:k‖₄ + ‖z_:k‖₂`
/// (Cauchy–Schwarz twice). Then `δ(½ log det) = ½c·tr(A_f⁻¹E)` has standard deviation at most
/// `½c‖R A_f⁻¹ R‖_F` and the gradient `c·Z A_f⁻¹` moves by `c²·W E A_f⁻¹` (`W = A_b⁻¹Z`), at most
/// `c²‖W_i R‖·‖R A_f⁻¹ e_j‖` in entry `(i, j)`, with `R = diag(r)`.
fn feature_form_rss(z: &DMatrix<f64>, ab_inv: &DMatrix<f64>, c: f64) -> (f64, f64) {
    let (_, d) = z.shape();
    let r: Vec<f64> = (0..d)
        .map(|k| {
            let q = z
                .column(k)
                .iter()
                .map(|x| x.powi(4))
                .sum::<f64>()
                .powf(0.25);
            2f64.powf(0.25) * q + z.column(k).norm()
        })
        .collect();
    let mut y = z.clone(); // Y = Z R
    for (k, rk) in r.iter().enumerate() {
        y.column_mut(k).scale_mut(*rk);
    }
    let ay = ab_inv * &y; // A_b⁻¹ Y (m × d)
    // ‖R A_f⁻¹ R‖²_F = ‖R²‖² − 2c Σ_k r_k² (YᵀA_b⁻¹Y)_kk + c²‖YᵀA_b⁻¹Y‖²_F.
    let r4: f64 = r.iter().map(|x| x.powi(4)).sum();
    let diag: f64 = (0..d)
        .map(|k| r[k] * r[k] * y.column(k).dot(&ay.column(k)))
        .sum();
    let g = &y * y.transpose(); // m × m
    let ag = ab_inv * &g;
    let fro2 = (&ag * &ag).trace(); // ‖YᵀA_b⁻¹Y‖²_F = tr((A_b⁻¹YYᵀ)²)
    let value = 0.5 * c * (r4 - 2.0 * c * diag + c * c * fro2).max(0.0).sqrt();
    // ‖R A_f⁻¹ e_j‖² = r_j² − 2c r_j²(ZᵀA_b⁻¹Z)_jj + c² v_jᵀ(Z R² Zᵀ)v_j, v_j = A_b⁻¹Z e_j.
    let w = ab_inv * z; // W = A_b⁻¹ Z, also V's columns
    let m = &y * y.transpose(); // Z R² Zᵀ
    let mw = &m * &w;
    let col = (0..d)
        .map(|j| {
            let zaz = z.column(j).dot(&w.column(j));
            (r[j] * r[j] - 2.0 * c * r[j] * r[j] * zaz + c * c * w.column(j).dot(&mw.column(j)))
                .max(0.0)
                .sqrt()
        })
        .fold(0f64, f64::max);
    let mut wr = w.clone();
    for (k, rk) in r.iter().enumerate() {
        wr.column_mut(k).scale_mut(*rk);
    }
    let row = (0..wr.nrows())
        .map(|i| wr.row(i).norm())
        .fold(0f64, f64::max);
    // Plus the rounding of the final product Z·A_f⁻¹ itself: |Z A_f⁻¹| = |W| and
    // √2·max_k|z_ik|·‖A_f⁻¹e_j‖ ≤ √2·max|z|·(‖R A_f⁻¹ e_j‖/min r).
    let rmin = r
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min)
        .max(f64::MIN_POSITIVE);
    let grad = c * c * row * col + c * (w.amax() + 2f64.sqrt() * z.amax() * col / rmin);
    (value, grad)
}

/// Euclidean norms of the rows.
fn row_norms(m: &DMatrix<f64>) -> Vec<f64> {
    (0..m.nrows()).map(|i| m.row(i).norm()).collect()
}

/// Euclidean norms of the columns of `XᵀX/div` through the `B × B` Gram matrix:
/// `‖XᵀX e_j‖² = (Xe_j)ᵀ(XXᵀ)(Xe_j)`.
fn gram_col_norms(x: &DMatrix<f64>, div: f64) -> Vec<f64> {
    let kx = (x * x.transpose()) * x;
    (0..x.ncols())
        .map(|j| x.column(j).dot(&kx.column(j)).max(0.0).sqrt() / div)
        .collect()
}

fn maxf(v: impl IntoIterator<Item = f64>) -> f64 {
    v.into_iter().fold(0f64, f64::max)
}

fn magnitudes(spec: &LossSpec, inputs: &[DMatrix<f64>], out: &Out<f64>, mode: Mode) -> Magnitudes {
    let (b, d) = inputs[0].shape();
    let n = b.max(d);
    let abs_mode = mode == Mode::Abs;
    let mut kappa = None;
    let mut hinge = Vec::new();
    // The value rounds once more at the end, and in bfloat16 autocast a reduction of a product's
    // (bfloat16) output returns bfloat16: one relative rounding of the value in both parts.
    let top = out.value.abs();
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
            // Invariance and variance are elementwise and reductions outside the matrix
            // products: accumulation errors only.
            let mut value = top;
            if abs_mode {
                value += sim * diff.norm_squared() / inv_div;
            }
            let gi = if abs_mode {
                2.0 * sim * diff.amax() / inv_div
            } else {
                0.0
            };
            let mut grads = Vec::new();
            for (input, z) in inputs[..2].iter().enumerate() {
                let za = abs(z);
                let zcs = centre(z);
                let zc = abs(&zcs);
                let mut g_var = 0f64;
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
                            g_var =
                                g_var.max(var_scale * zmax / (d as f64 * div * s) * (1.0 + ds / s));
                        }
                    }
                }
                // Covariance: C errs by u·T/div with T the twin of ZᵀZ; c by
                // (2/d)Σ|C_ij|T_ij/div; the gradient (4/(d·div))·Z_c offdiag(C) by
                // (4/(d·div))(twin(Z_c, C) + |Z_c|T/div).
                let (cval, gmax) = if d <= b {
                    let c = zcs.transpose() * &zcs / div;
                    let t = if abs_mode {
                        za.transpose() * &za / div
                    } else {
                        twin(&zcs.transpose(), &zcs, mode) / div
                    };
                    let cv = contract(&c, &t, mode);
                    let g = twin(&zcs, &c, mode) + prop(&zc, &t, mode);
                    (cv, g.amax())
                } else if abs_mode {
                    // ‖C‖_F‖|Z|ᵀ|Z|‖_F (Cauchy–Schwarz), both through B × B Gram matrices;
                    // |C| ≤ |Z_c|ᵀ|Z_c|/div entrywise.
                    let kc = &zcs * zcs.transpose();
                    let ka = &za * za.transpose();
                    let cv = kc.norm() * ka.norm() / (div * div);
                    let g1 = (&zc * zc.transpose()) * &zc / div;
                    let g2 = (&zc * za.transpose()) * &za / div;
                    (cv, (g1 + g2).amax())
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
                    let mut g = 0f64;
                    for i in 0..b {
                        let zq = (0..d)
                            .map(|k| zcs[(i, k)].powi(2) * q[k] * q[k])
                            .sum::<f64>()
                            .sqrt();
                        let zmax = zc.row(i).amax();
                        for j in 0..d {
                            let g2 = 2f64.sqrt() * q[j] * zq / div + zmax * cn[j];
                            let g1 = 2f64.sqrt() * zmax * cn[j] + zcc[(i, j)].abs();
                            g = g.max(g1 + g2);
                        }
                    }
                    (cv, g)
                };
                value += cov * 2.0 * cval / d as f64;
                let g_cov = 4.0 * cov / (d as f64 * div) * gmax;
                grads.push(gi + g_var + g_cov);
            }
            (value, grads)
        }
        LossName::CodingRate => {
            let z = &inputs[0];
            let eps = spec.p("eps");
            let c = d as f64 / (b as f64 * eps);
            let factor = match spec.variant.name {
                "simdino" => ((d + b) as f64) / ((d * b) as f64),
                _ => 1.0,
            };
            let (a, zz) = if d <= b {
                (DMatrix::identity(d, d) + z.transpose() * z * c, z.clone())
            } else {
                (
                    DMatrix::identity(b, b) + z * z.transpose() * c,
                    z.transpose(),
                )
            };
            // In the smaller dimension A = I + c·ZZᵀ with Z = zz (m × ·).
            let a_t = if abs_mode {
                DMatrix::identity(a.nrows(), a.nrows()) + twin(&zz.transpose(), &zz, mode) * c
            } else {
                twin(&zz.transpose(), &zz, mode) * c
            };
            kappa = Some(condition(&a));
            let ainv = a
                .clone()
                .cholesky()
                .map(|ch| ch.inverse())
                .unwrap_or_else(|| DMatrix::from_element(a.nrows(), a.nrows(), f64::INFINITY));
            let mut value = 0.5 * contract(&ainv, &a_t, mode);
            // δ(A⁻¹) = −A⁻¹ δA A⁻¹.
            let e = prop(&prop(&ainv, &a_t, mode), &ainv, mode);
            let mut g = ((prop(&zz, &e, mode) + twin(&zz, &ainv, mode)) * c).amax();
            if d > b && !abs_mode {
                // The official codes use the d × d feature form: bound it too.
                let (fv, fg) = feature_form_rss(z, &ainv, c);
                value = value.max(fv);
                g = g.max(fg);
            }
            (factor * value + top, vec![factor * g])
        }
        LossName::Corinfomax => {
            let (alpha, eps) = (spec.p("alpha"), spec.p("eps"));
            let running = spec.variant.name == "running";
            let la_r = if running { spec.p("la_r") } else { 0.0 };
            let div = b as f64;
            let diff = &inputs[0] - &inputs[1];
            let mut value = top;
            let mut gi = 0.0;
            if abs_mode {
                value += alpha * diff.norm_squared() / (b * d) as f64;
                gi = 2.0 * alpha * diff.amax() / (b * d) as f64;
            }
            let mut grads = Vec::new();
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
                value += contract(&ainv, &r_t, mode) / d as f64;
                let e = prop(&prop(&ainv, &r_t, mode), &ainv, mode);
                let g = (prop(&zc, &e, mode) + twin(&zc, &ainv, mode))
                    * (2.0 * (1.0 - la_r) / (div * d as f64));
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
            value += scale * contract(&gmat, &dcm, mode);
            let smin = |s: &[f64]| s.iter().copied().fold(f64::INFINITY, f64::min);
            // Through BatchNorm's backward pass, (g − ḡ − x̃·mean(g x̃))/s: at most 3|g|/s, and
            // x̃ itself carries the centring's relative error ρ.
            let g1 = ((prop(&x2, &gc.transpose(), mode) + twin(&x2, &gmat.transpose(), mode)) / bb)
                .amax()
                * 3.0
                * (1.0 + maxf(r1.iter().copied()))
                / smin(&s1);
            let g2 = ((prop(&x1, &gc, mode) + twin(&x1, &gmat, mode)) / bb).amax()
                * 3.0
                * (1.0 + maxf(r2.iter().copied()))
                / smin(&s2);
            (value, vec![scale * g1, scale * g2])
        }
        // The contrastive and predictor losses are dominated by elementwise work and by the
        // rounding of their (bounded) outputs: one model for both parts.
        LossName::NtXent => {
            let tau = spec.p("tau");
            let nv = inputs.len();
            let rows = nv * b;
            let mut u = DMatrix::zeros(rows, d);
            for (v, z) in inputs.iter().enumerate() {
                u.rows_mut(v * b, b).copy_from(z);
            }
            let norms = row_norms(&u);
            for (i, ni) in norms.iter().enumerate() {
                if *ni > 0.0 {
                    u.row_mut(i).scale_mut(1.0 / ni);
                }
            }
            // Logits |s| ≤ 1/τ; each errs by u/τ; Σ_kj |∂L/∂s_kj| ≤ 2; the softmax weights err
            // relatively by the logit error, so the gradient by (1 + 2/τ) of its abs twin;
            // (|G| + |G|ᵀ)|U| ≤ (4/N)·max|u| entrywise (each row of |G| sums to at most 2/N).
            let value = 2.0 / tau + out.value.abs() + 1.0 / tau;
            let g_abs = u.amax() * 4.0 / (rows as f64 * tau);
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
        // Cosine similarities, norms, pdist: no matrix product, float32 under autocast.
        LossName::Simsiam | LossName::Align | LossName::Uniformity if !abs_mode => {
            (0.0, vec![0.0; spec.grad_count(inputs.len())])
        }
        LossName::Simsiam => {
            let row_min = |z: &DMatrix<f64>| row_norms(z).into_iter().fold(f64::INFINITY, f64::min);
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
    (value, grads, kappa, hinge)
}
