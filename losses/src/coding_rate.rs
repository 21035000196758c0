//! # The coding rate (MCR², SimDINO, EMP-SSL)
//!
//! All implementations use the **uncentred** second moment of the batch `Z ∈ R^{m×d}` (rows are
//! samples) and pass `eps = ε²`: `R = ½ log det(I_d + (d/(m·eps)) ZᵀZ)`, computed here in the
//! feature or the batch dimension, whichever is smaller (Sylvester, proved in C4). They differ in
//! the weight on `R` (reference-implementations.md §1.7–1.9, §4.1 items 5–9).
//!
//! This module holds the loss whole: the MPFR form with its gradient, the float form with its
//! convention knobs, the variants and common mistakes, and the rounding-model magnitudes
//! (including the feature-form bound for what the official codes compute when `d > m`).

use nalgebra::DMatrix;
use rug::Float;
use sslproof::hp::Mat;

use crate::batch::{BatchError, LossAndGrad};
use crate::float::{Out, Real, centre, k, require_batch};
use crate::kernels::{InverseBy, gram_nt, gram_tn, half_logdet_and_inverse_by, mul};
use crate::loss::{Loss, Mistake, OfficialAlgorithm, Range, Variant, float_evaluations, param};
use crate::registry::LossSpec;
use crate::rounding::{Magnitudes, Mode, Precision, condition, contract, prop, twin};

// ---------------------------------------------------------------------------------------------
// MPFR
// ---------------------------------------------------------------------------------------------

/// Which implementation's loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Convention {
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
pub fn loss(z: &Mat, eps: &Float, convention: Convention) -> Result<LossAndGrad, BatchError> {
    let (r, g) = rate_and_grad(z, eps)?;
    let prec = z.prec();
    let (m, d) = (z.rows() as u64, z.cols() as u64);
    let factor = match convention {
        Convention::Mcr2Rate => Float::with_val(prec, 1),
        Convention::SimDinoExpansion => {
            -(Float::with_val(prec, d + m) / Float::with_val(prec, d * m))
        }
        Convention::EmpSsl => Float::with_val(prec, -1),
    };
    Ok(LossAndGrad {
        value: Float::with_val(prec, &r * &factor),
        grads: vec![g.scale(&factor)],
    })
}

// ---------------------------------------------------------------------------------------------
// Float
// ---------------------------------------------------------------------------------------------

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
pub struct Knobs {
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
    /// Always the `d × d` feature form `I + cZᵀZ`, as the official codes compute it, even when
    /// `d > m` (by default the smaller of the two forms, which errs less): what the float32
    /// estimate runs ([`crate::estimate`]).
    pub feature_form: bool,
    /// How the log-determinant and the inverse are computed: by default Cholesky; the official
    /// runs as torch's autograd does (`torch.logdet`'s LU for MCR², EMP-SSL and lightly,
    /// `cholesky_ex`'s backward for SimDINO).
    pub inverse_by: InverseBy,
}

impl Knobs {
    pub fn new(eps: f64, weight: RateWeight) -> Self {
        Knobs {
            eps,
            eps_power: 1.0,
            centred: false,
            half: true,
            weight,
            sign: 1.0,
            feature_form: false,
            inverse_by: InverseBy::Cholesky,
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

/// `I + c·ZᵀZ` or `I + c·ZZᵀ`, whichever is smaller (`I + c·ZᵀZ` whatever the shape with
/// `feature`).
pub fn rate_matrix<T: Real>(z: &DMatrix<T>, c: T, feature: bool) -> DMatrix<T> {
    let (m, d) = z.shape();
    let mut a = if d <= m || feature {
        gram_tn(z)
    } else {
        gram_nt(z)
    } * c;
    for i in 0..a.nrows() {
        a[(i, i)] += T::one();
    }
    a
}

/// The coding-rate loss of one batch `m × d` and its gradient, in the smaller dimension:
/// `R = ½ log det(I + cZᵀZ) = ½ log det(I + cZZᵀ)`, `∇R = cZ(I + cZᵀZ)⁻¹ = c(I + cZZᵀ)⁻¹Z`
/// (Sylvester; proved in C4), by Cholesky.
pub fn float<T: Real>(z: &DMatrix<T>, kn: &Knobs) -> Result<Out<T>, BatchError> {
    let (m, d) = require_batch(z, 1)?;
    let zz = if kn.centred { centre(z) } else { z.clone() };
    let c: T = k(kn.c(m, d));
    let factor: T = k(kn.factor(m, d));
    let feature = kn.feature_form || d <= m;
    let a = rate_matrix(&zz, c, kn.feature_form);
    const MATRIX: &str = "the coding-rate matrix I + αZᵀZ";
    const HINT: &str = "it is positive definite for every finite Z when α = d/(Bε²) > 0; check ε and the scale of the features";
    let (r, ainv) = half_logdet_and_inverse_by(kn.inverse_by, a, MATRIX, HINT)?;
    // The scalars go on the small matrix: one pass over the m × d gradient.
    let ainv = ainv * (c * factor);
    let g = if feature {
        mul(&zz, &ainv)
    } else {
        mul(&ainv, &zz)
    };
    // Centring is a projection of the rows; the gradient is projected the same way.
    let g = if kn.centred { centre(&g) } else { g };
    Ok(Out {
        value: r * factor,
        grads: vec![g],
    })
}

// ---------------------------------------------------------------------------------------------
// Variants, mistakes, rounding magnitudes
// ---------------------------------------------------------------------------------------------

static VARIANTS: &[Variant] = &[
    Variant {
        name: "mcr2",
        source: "Ma-Lab-Berkeley/MCR2 compute_discrimn_loss_empirical (the rate R; the loss uses −gam2·R)",
        formula: "R = ½ log det(I + d/(m·eps)·ZᵀZ), uncentred, eps = ε²",
        params: &[param("eps", 0.5, Range::Positive)],
    },
    Variant {
        name: "simdino",
        source: "RobinWu218/SimDINO MCRLoss.calc_expansion (one GPU, one view; Cholesky half-log-det)",
        formula: "−γ_h·R with γ_h = (d + m)/(d·m), eps = ε² (README and v2 configs: 0.05)",
        params: &[param("eps", 0.05, Range::Positive)],
    },
    Variant {
        name: "emp-ssl",
        source: "tsb0601/EMP-SSL TotalCodingRate (lightly's EMPSSLLoss has the opposite sign)",
        formula: "−R, eps = ε²",
        params: &[param("eps", 0.2, Range::Positive)],
    },
    Variant {
        name: "lightly",
        source: "lightly EMPSSLLoss's coding-rate term (tcr_loss, one view): +R, the opposite sign of official EMP-SSL (probable bug, reference-implementations.md §1.9)",
        formula: "+R, eps = ε² (not squared again)",
        params: &[param("eps", 0.2, Range::Positive)],
    },
];

static MISTAKES: &[Mistake] = &[
    Mistake {
        id: "eps-squared",
        says: "ε against ε²: the code's eps (= ε²) squared again, d/(m·eps²)",
    },
    Mistake {
        id: "eps-sqrt",
        says: "ε against ε²: the square root of the code's eps, d/(m·√eps)",
    },
    Mistake {
        id: "centred",
        says: "the batch mean subtracted (every implementation uses the uncentred second moment)",
    },
    Mistake {
        id: "missing-half",
        says: "log det instead of ½ log det",
    },
    Mistake {
        id: "sign",
        says: "the sign of the loss flipped",
    },
];

/// The largest `d` at which the float32 estimate runs the `d × d` feature form: its LU and
/// inverse by the blocked factorisations of [`crate::dense`] take 24 s at d = 8192 on 2 cores
/// (the estimate runs it twice: a check at 512 × 8192 takes about a minute), and d³ grows 8× for
/// each doubling. (2048 until the sixth stop of 2026-12-03, with nalgebra's unblocked LU: 3.4 s
/// at 2048, 49 s at 4096.)
pub const FEATURE_FORM_MAX_D: usize = 8192;

/// The coding rate in the spec's convention, or with a mistake planted, in `T`.
fn evaluate<T: Real>(
    spec: &LossSpec,
    mistake: Option<&str>,
    inputs: &[DMatrix<T>],
) -> Result<Out<T>, BatchError> {
    evaluate_in_form(spec, mistake, inputs, false)
}

/// [`evaluate`], in the `d × d` feature form whatever the shape with `feature_form`.
fn evaluate_in_form<T: Real>(
    spec: &LossSpec,
    mistake: Option<&str>,
    inputs: &[DMatrix<T>],
    feature_form: bool,
) -> Result<Out<T>, BatchError> {
    let is = |id: &str| mistake == Some(id);
    let weight = match spec.variant.name {
        "mcr2" | "lightly" => RateWeight::Mcr2,
        "simdino" => RateWeight::SimDino,
        _ => RateWeight::EmpSsl,
    };
    let mut kn = Knobs::new(spec.p("eps"), weight);
    kn.eps_power = if is("eps-squared") {
        2.0
    } else if is("eps-sqrt") {
        0.5
    } else {
        1.0
    };
    kn.centred = is("centred");
    kn.half = !is("missing-half");
    kn.sign = if is("sign") { -1.0 } else { 1.0 };
    kn.feature_form = feature_form;
    // The official codes' algorithm: torch.logdet (LU) everywhere but SimDINO (cholesky_ex),
    // differentiated as torch's autograd does.
    kn.inverse_by = match (feature_form, spec.variant.name) {
        (false, _) => InverseBy::Cholesky,
        (true, "simdino") => InverseBy::CholeskyBackward,
        (true, _) => InverseBy::Lu,
    };
    float(&inputs[0], &kn)
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
fn feature_form_rss(
    z: &DMatrix<f64>,
    ab_inv: &DMatrix<f64>,
    w: &DMatrix<f64>,
    c: f64,
) -> (f64, DMatrix<f64>) {
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
    feature_form(z, &r, ab_inv, w, c, Mode::Rss)
}

/// Accumulation magnitudes (Abs twins, per `√n·u`) of the feature form, propagated as
/// root-sum-squares: the entries of `ZᵀZ` are separate sums whose rounding errors the model takes
/// as independent, each bounded by its absolute-value twin `(|Z|ᵀ|Z|)_kl ≤ ‖z_:k‖‖z_:l‖`
/// (Cauchy–Schwarz), so `feature_form` applies with `r_k = ‖z_:k‖₂`; the final product
/// `Z·A_f⁻¹` errs by at most `‖z_i:‖·‖A_f⁻¹e_j‖ ≤ ‖z_i:‖` per entry (`‖A_f⁻¹‖ ≤ 1`).
fn feature_form_abs(
    z: &DMatrix<f64>,
    ab_inv: &DMatrix<f64>,
    w: &DMatrix<f64>,
    c: f64,
) -> (f64, DMatrix<f64>) {
    let r: Vec<f64> = (0..z.ncols()).map(|k| z.column(k).norm()).collect();
    feature_form(z, &r, ab_inv, w, c, Mode::Abs)
}

/// The feature-form magnitudes for a perturbation of `A_f` bounded by `r_k r_l` in entry
/// `(k, l)` (see [`feature_form_rss`]); `final_product` says how the rounding of `Z·A_f⁻¹`
/// itself is bounded (its RSS twin, or its absolute-value twin).
fn feature_form(
    z: &DMatrix<f64>,
    r: &[f64],
    ab_inv: &DMatrix<f64>,
    w: &DMatrix<f64>,
    c: f64,
    final_product: Mode,
) -> (f64, DMatrix<f64>) {
    let d = z.ncols();
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
    let r2: Vec<f64> = r.iter().map(|x| x * x).collect();
    let col = weighted_inverse_columns(z, w, c, &r2);
    let mut wr = w.clone();
    for (k, rk) in r.iter().enumerate() {
        wr.column_mut(k).scale_mut(*rk);
    }
    let row: Vec<f64> = (0..wr.nrows()).map(|i| wr.row(i).norm()).collect();
    let last = match final_product {
        // The rounding of the final product Z·A_f⁻¹ itself: |Z A_f⁻¹| = |W| and
        // √2·max_k|z_ik|·‖A_f⁻¹e_j‖ ≤ √2·max|z|·(‖R A_f⁻¹ e_j‖/min r).
        Mode::Rss => {
            let rmin = r
                .iter()
                .copied()
                .fold(f64::INFINITY, f64::min)
                .max(f64::MIN_POSITIVE);
            let zmax = z.amax();
            DMatrix::from_fn(z.nrows(), d, |i, j| {
                w[(i, j)].abs() + 2f64.sqrt() * zmax * col[j] / rmin
            })
        }
        // Its accumulation: (|Z||A_f⁻¹|)_ij ≤ |z_ij||(A_f⁻¹)_jj| + ‖z_i:‖·√(‖A_f⁻¹e_j‖² − (A_f⁻¹)_jj²)
        // (the diagonal term apart, Cauchy–Schwarz on the rest), with (A_f⁻¹)_jj = 1 − c·z_jᵀw_j
        // and ‖A_f⁻¹e_j‖² = 1 − 2c·z_jᵀw_j + c²·w_jᵀ(ZZᵀ)w_j (z_j, w_j the columns of Z and
        // W = A_b⁻¹Z). Before: ‖z_i:‖ for every entry (‖A_f⁻¹e_j‖ ≤ 1), about twice as much at
        // 512 × 2048, and the largest term of the coding rate's float32 bound there.
        Mode::Abs => {
            let zn: Vec<f64> = (0..z.nrows()).map(|i| z.row(i).norm()).collect();
            let gw = (z * z.transpose()) * w;
            let split: Vec<(f64, f64)> = (0..d)
                .map(|j| {
                    let zaz = z.column(j).dot(&w.column(j));
                    let diag = 1.0 - c * zaz;
                    let n2 = 1.0 - 2.0 * c * zaz + c * c * w.column(j).dot(&gw.column(j));
                    (diag.abs(), (n2 - diag * diag).max(0.0).sqrt())
                })
                .collect();
            DMatrix::from_fn(z.nrows(), d, |i, j| {
                let (diag, rest) = split[j];
                (z[(i, j)].abs() * diag + zn[i] * rest).min(zn[i])
            })
        }
    };
    // Entry (i, j): row i's and column j's factors (before, the largest of each for every entry).
    let grad = DMatrix::from_fn(z.nrows(), d, |i, j| {
        c * c * row[i] * col[j] + c * last[(i, j)]
    });
    (value, grad)
}

/// `‖S^{1/2} A_f⁻¹ e_j‖` for every column `j`, `S = diag(s)`, through the batch form:
/// `A_f⁻¹ = I − cZᵀW` with `W = A_b⁻¹Z` (`w`), so
/// `‖S^{1/2} A_f⁻¹ e_j‖² = s_j − 2c s_j z_jᵀw_j + c² w_jᵀ(Z S Zᵀ)w_j` (`z_j`, `w_j` the columns):
/// `O(m²d)`, nothing `d × d`.
fn weighted_inverse_columns(z: &DMatrix<f64>, w: &DMatrix<f64>, c: f64, s: &[f64]) -> Vec<f64> {
    let mut zs = z.clone();
    for (k, sk) in s.iter().enumerate() {
        zs.column_mut(k).scale_mut(*sk);
    }
    let sw = (&zs * z.transpose()) * w; // Z S Zᵀ W
    (0..z.ncols())
        .map(|j| {
            let zaz = z.column(j).dot(&w.column(j));
            (s[j] - 2.0 * c * s[j] * zaz + c * c * w.column(j).dot(&sw.column(j)))
                .max(0.0)
                .sqrt()
        })
        .collect()
}

/// The accumulation magnitudes (per `√d·u`, like [`feature_form_abs`]) of the error that the
/// official codes' LU leaves on **one side** of the feature form's inverse, which the
/// symmetrised gradient `(c/2)·Z(X̂ + X̂ᵀ)` of `torch.logdet` carries (`kernels`,
/// `half_logdet_and_inverse_by`), and which a perturbation of `A_f`'s entries does not model.
///
/// `X̂` solves `AᵀX = I` column by column with the LU factors; each column `x̂_k` is exact for
/// `Aᵀ + ΔA_k`, `|ΔA_k| ≤ γ·|L||U|` (Higham, *Accuracy and Stability*, Thm 9.4), with `ΔA_k`
/// different for each column (the triangular solves'; the factorisation's own error is common to
/// all columns and, as `A⁻¹ΔA A⁻¹`, is small on both sides of `Z`). So
/// `X̂ − A⁻¹ = −A⁻¹M`, `M = [ΔA_k x̂_k]_k`: `Z·(X̂ − A⁻¹)` keeps `ZA⁻¹` (small: `A⁻¹` nearly
/// annihilates Z's row space) but its transpose `−ZMᵀA⁻¹` does not (`A⁻¹` is the identity on
/// the null space of Z, which has dimension `d − m`). With the entries of the `ΔA_k` independent
/// (root-sum-squares, as elsewhere), `|L||U|_lm ≤ √(a_ll a_mm)` (Cauchy–Schwarz on the Cholesky
/// factor: exact for LU without pivoting) and `q_k = ‖D_a^{1/2}A⁻¹e_k‖²`, the entry `(i, j)` of
/// `(c/2)·ZMᵀA⁻¹` has standard deviation at most `(c/2)·√(Σ_k z_ik² q_k)·√q_j` per unit.
///
/// Measured against torch's float32 (`examples/python/lu_one_sided.py`; `docs/losses.md`,
/// "Beyond the bound"): torch's error reached at most 0.88 of this magnitude (EMP-SSL's ε at
/// 4 × 1024), 0.34–0.88 where LAPACK interchanged rows and at most 0.04 where it did not (there
/// the magnitude is ~25× pessimistic: `√(a_ll a_mm)` stands for entries about `1/√B` of it).
/// Partial pivoting breaks the Cauchy–Schwarz step entry by entry (`|L||U|` up to 38×
/// `√(a_ll a_mm)` at 16 × 2048), but in the sums that matter the exact `|L||U|` gave a model at
/// most 2.9× this one (six shapes up to 16 × 1024), which `λ = 6` absorbs.
fn lu_one_sided(z: &DMatrix<f64>, w: &DMatrix<f64>, c: f64) -> DMatrix<f64> {
    let d = z.ncols();
    let a: Vec<f64> = (0..d)
        .map(|k| 1.0 + c * z.column(k).norm_squared())
        .collect();
    let q = weighted_inverse_columns(z, w, c, &a); // √q_k
    let h: Vec<f64> = (0..z.nrows())
        .map(|i| {
            (0..d)
                .map(|k| (z[(i, k)] * q[k]).powi(2))
                .sum::<f64>()
                .sqrt()
        })
        .collect();
    DMatrix::from_fn(z.nrows(), d, |i, j| 0.5 * c * h[i] * q[j])
}

/// The coding rate (the registry's entry).
pub struct CodingRate;

/// The registry's coding rate.
pub static CODING_RATE: CodingRate = CodingRate;

impl Loss for CodingRate {
    /// Its matrix products (forward and gradient) go through the emulating kernels.
    fn emulates_reduced_products(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "coding-rate"
    }

    fn variants(&self) -> &'static [Variant] {
        VARIANTS
    }

    fn mistakes(&self) -> &'static [Mistake] {
        MISTAKES
    }

    fn input_names(&self, _variant: &Variant, _n: usize) -> Vec<String> {
        vec!["z".into()]
    }

    float_evaluations!();

    /// Every official code (MCR², SimDINO, EMP-SSL, lightly) forms the `d × d` matrix
    /// `I + cZᵀZ` whatever the shape, and all but SimDINO (`cholesky_ex`) take its log-determinant
    /// by `torch.logdet`, i.e. LU (reference-implementations.md §1.7–1.9); ours takes the `B × B`
    /// batch form when `d > B`, which errs less, and Cholesky.
    fn official_algorithm(
        &self,
        spec: &LossSpec,
        b: usize,
        d: usize,
        _precision: Precision,
    ) -> OfficialAlgorithm {
        let lu = spec.variant.name != "simdino";
        if d > b && d > FEATURE_FORM_MAX_D {
            OfficialAlgorithm::NotRun(format!(
                "the official codes' d × d feature form at d = {d} (> {FEATURE_FORM_MAX_D}) is too costly to run in float32 here, and our B × B form errs less than it"
            ))
        } else if d > b {
            OfficialAlgorithm::Other(if lu {
                "the d × d feature form I + cZᵀZ, log det and inverse by LU as torch.logdet"
            } else {
                "the d × d feature form I + cZᵀZ, by Cholesky, differentiated as cholesky_ex's backward"
            })
        } else if lu {
            OfficialAlgorithm::Other("log det and inverse by LU as torch.logdet")
        } else {
            OfficialAlgorithm::Same
        }
    }

    // The estimate's factor is the default (`Loss::estimate_factor`) for every variant and shape
    // since the fifth stop of 2026-12-03. With d > B in float32 it was twice that (torch's error
    // relative to the bound up to 6.4× our runs', EMP-SSL at 4 × 16) while our official runs took
    // `cZA⁻¹`, and 8× for SimDINO (torch up to 21× ours at 16 × 1024 and 16 × 2048) while they
    // took our Cholesky inverse. Since they differentiate as torch's autograd does
    // (`kernels::InverseBy`), torch relative to ours was at most 3.05 over 80 seeded cases
    // (EMP-SSL 8 × 24) and 1.22 at d/B = 64 and 128 (SimDINO 16 × 1024;
    // `calibrate_estimate.py [--wide]`, docs/validation/cpu.txt), which the default covers with the
    // margin it has elsewhere (docs/losses.md, "Why 8").

    fn evaluate_f32_official(
        &self,
        spec: &LossSpec,
        inputs: &[DMatrix<f32>],
    ) -> Result<Out<f32>, BatchError> {
        evaluate_in_form(spec, None, inputs, true)
    }

    fn evaluate_hp(
        &self,
        spec: &LossSpec,
        inputs: &[Mat],
        prec: u32,
    ) -> Option<Result<LossAndGrad, BatchError>> {
        let convention = match spec.variant.name {
            "mcr2" | "lightly" => Convention::Mcr2Rate,
            "simdino" => Convention::SimDinoExpansion,
            _ => Convention::EmpSsl,
        };
        Some(loss(&inputs[0], &spec.p_hp("eps", prec), convention))
    }

    fn scratch(&self) -> crate::loss::Scratch {
        crate::loss::Scratch {
            dd: 8,
            nn: 8,
            hp_min_side: true,
        }
    }

    fn hp_work(&self, _spec: &LossSpec, b: usize, d: usize, _n: usize) -> f64 {
        let (b, d) = (b as f64, d as f64);
        let n = b.min(d);
        b * d * n + 2.0 * n * n * n
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
        let (value, entries) = {
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
            let (mut value, mut g) = if abs_mode {
                // Accumulation: entry (k, l) of A is its own sum, erring by at most its
                // absolute-value twin (per √n·u), and the model takes the rounding errors of
                // different sums as independent and mean zero (Higham & Mary): they reach
                // δ(½ log det) = ½ Σ (A⁻¹)_kl δA_kl and δ(cZA⁻¹) = −c Σ (ZA⁻¹)_ik δA_kl (A⁻¹)_lj as
                // root-sum-squares. (Summed as absolute values they gave a worst case 10⁴–10⁵×
                // the real float32 error at 512 × 2048: docs/validation/power.md.)
                let w = &zz * &ainv;
                let v = 0.5 * contract(&ainv, &a_t, Mode::Rss);
                let e = prop(&prop(&w, &a_t, Mode::Rss), &ainv, Mode::Rss);
                (v, (e + twin(&zz, &ainv, Mode::Abs)) * c)
            } else {
                // δ(A⁻¹) = −A⁻¹ δA A⁻¹.
                let e = prop(&prop(&ainv, &a_t, mode), &ainv, mode);
                (
                    0.5 * contract(&ainv, &a_t, mode),
                    (prop(&zz, &e, mode) + twin(&zz, &ainv, mode)) * c,
                )
            };
            if d > b {
                // The official codes use the d × d feature form: bound it too.
                let w_b = &ainv * z; // W = A_b⁻¹Z (m × d), shared by the feature-form terms
                let (fv, mut fg) = if abs_mode {
                    feature_form_abs(z, &ainv, &w_b, c)
                } else {
                    feature_form_rss(z, &ainv, &w_b, c)
                };
                // The official LU's one-sided error (every official code but SimDINO's):
                // an accumulation error, so in the accumulation magnitudes only.
                if abs_mode && spec.variant.name != "simdino" {
                    fg += lu_one_sided(z, &w_b, c);
                }
                value = value.max(fv);
                // Entry by entry, the larger of the two forms' bounds (the batch form's is
                // d × B here).
                g = g.transpose().zip_map(&fg, f64::max);
            }
            (factor * value + top, g * factor)
        };
        let grads = vec![entries.amax()];
        Magnitudes {
            value,
            grads,
            entries: vec![Some(entries)],
            kappa,
            hinge: Vec::new(),
        }
    }

    fn unit_rows(&self) -> bool {
        true
    }

    fn large_cases(&self) -> &'static [(&'static str, usize, usize)] {
        &[("b512-d2048", 512, 2048), ("b512-d8192", 512, 8192)]
    }
}
