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

use crate::float::Out;
use crate::registry::LossSpec;

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
    /// Per input, where the loss bounds its gradient entry by entry: the bound of each entry
    /// (`grads` is then their largest), accumulation (`_abs`) and operand rounding (`_in`).
    #[serde(skip)]
    pub entries: Vec<Option<DMatrix<f64>>>,
    #[serde(skip)]
    pub entries_in: Vec<Option<DMatrix<f64>>>,
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

/// A gradient column whose tolerance is widened (VICReg's hinge: the column's gradient may fall
/// on either side of the kink), and by how much.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Widened {
    pub input: usize,
    pub col: usize,
    pub extra: f64,
}

/// Tolerances for one precision.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Tolerance {
    pub precision: Precision,
    pub u_eff: f64,
    pub value: f64,
    /// Per input: the tolerance of every entry, before any widening (where `entries` has the
    /// input, the largest of its entries' tolerances).
    pub grads: Vec<f64>,
    /// Per input, where the loss bounds its gradient entry by entry: each entry's tolerance
    /// (before any widening). A large entry, or one near a cancelling sum, does not loosen the
    /// check of the others.
    #[serde(skip)]
    pub entries: Vec<Option<DMatrix<f64>>>,
    /// Columns whose entries get more (the hinge's jump), and only those: a kink in one column
    /// does not loosen the check of the others.
    pub widened: Vec<Widened>,
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
    let grads: Vec<f64> = scale
        .grads
        .iter()
        .zip(&scale.grads_in)
        .map(|(g, gi)| LAMBDA * (acc * g + u_in * gi))
        .collect();
    let entries: Vec<Option<DMatrix<f64>>> = (0..grads.len())
        .map(|t| {
            let ea = scale.entries.get(t).and_then(Option::as_ref);
            let ei = scale.entries_in.get(t).and_then(Option::as_ref);
            let shape = ea.or(ei)?.shape();
            let part = |e: Option<&DMatrix<f64>>, s: f64| match e {
                Some(m) => m.clone(),
                None => DMatrix::from_element(shape.0, shape.1, s),
            };
            let mut m = part(ea, scale.grads[t]) * (LAMBDA * acc);
            m += part(ei, scale.grads_in[t]) * (LAMBDA * u_in);
            Some(m)
        })
        .collect();
    // Where each entry has its own tolerance, the input's is the largest of them.
    let grads: Vec<f64> = grads
        .iter()
        .zip(&entries)
        .map(|(g, e)| e.as_ref().map_or(*g, |e| e.amax()))
        .collect();
    // The variance is a reduction outside the matrix products (accumulation unit only). The
    // jump belongs to the column on the hinge: only its entries are widened.
    let mut kinks = Vec::new();
    let mut widened: Vec<Widened> = Vec::new();
    for h in &scale.hinge {
        if h.margin <= LAMBDA * (acc + u_acc) {
            if !kinks.contains(&h.col) {
                kinks.push(h.col);
            }
            match widened
                .iter_mut()
                .find(|w| w.input == h.input && w.col == h.col)
            {
                Some(w) => w.extra = w.extra.max(h.jump),
                None => widened.push(Widened {
                    input: h.input,
                    col: h.col,
                    extra: h.jump,
                }),
            }
        }
    }
    let mut why = range_reasons(out, precision);
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
    why.extend(level_reasons(
        value,
        &grads,
        &entries,
        out,
        "rounding error bound",
        |_| "rounding error bound",
    ));
    Tolerance {
        precision,
        u_eff: u,
        value,
        grads,
        entries,
        widened,
        untrustworthy: if why.is_empty() {
            None
        } else {
            Some(why.join("; "))
        },
        hinge_columns: kinks,
    }
}

/// The largest finite float32 (bfloat16's range is float32's; TF32 keeps float32 storage).
pub const F32_MAX: f64 = f32::MAX as f64;

/// Where the reference value, or a reference gradient entry, lies beyond float32's range, why:
/// no float32, TF32 or bfloat16 implementation can represent it (it overflows to infinity), so
/// the precision cannot conclude (exit 3, not a disagreement). Nothing in float64.
pub fn range_reasons(out: &Out<f64>, precision: Precision) -> Vec<String> {
    let mut why = Vec::new();
    if precision == Precision::F64 {
        return why;
    }
    if out.value.abs() > F32_MAX {
        why.push(format!(
            "the reference value {:.3e} lies beyond float32's range (±{F32_MAX:.2e}): no {} implementation can represent it",
            out.value,
            precision.as_str()
        ));
    }
    for (i, g) in out.grads.iter().enumerate() {
        let gmax = g.amax();
        if gmax > F32_MAX {
            why.push(format!(
                "gradient {}: its largest reference entry {gmax:.3e} lies beyond float32's range (±{F32_MAX:.2e}): no {} implementation can represent it",
                i + 1,
                precision.as_str()
            ));
        }
    }
    why
}

/// The trustworthiness rules on the tolerance's level: a value tolerance that reaches half the
/// value, a gradient tolerance (at the gradient's largest entry, where each entry has its own)
/// that reaches half that entry (`value_what` and `grad_what(input)` name the tolerances in the
/// message). Below half, a value or gradient wrong by a factor 2 is still
/// caught.
pub fn level_reasons(
    value: f64,
    grads: &[f64],
    entries: &[Option<DMatrix<f64>>],
    out: &Out<f64>,
    value_what: &str,
    grad_what: impl Fn(usize) -> &'static str,
) -> Vec<String> {
    let mut why = Vec::new();
    if value >= 0.5 * out.value.abs().max(f64::MIN_POSITIVE) && out.value != 0.0 {
        why.push(format!(
            "the value's {value_what} {value:.2e} reaches half the value {:.3e}",
            out.value
        ));
    }
    for (i, (t, g)) in grads.iter().zip(&out.grads).enumerate() {
        let gmax = g.amax();
        // Where each entry has its own tolerance, the one that matters is the tolerance of the
        // largest entry: below half of it, a gradient wrong by a factor 2 is still caught there.
        let (t, at) = match entries.get(i).and_then(Option::as_ref) {
            Some(e) if gmax > 0.0 => {
                let k = g.iamax_full();
                (e[k], " at that entry")
            }
            _ => (*t, ""),
        };
        if gmax > 0.0 && t >= 0.5 * gmax {
            why.push(format!(
                "gradient {}: the {}{at} {t:.2e} reaches half the gradient's largest entry {gmax:.2e}",
                i + 1,
                grad_what(i)
            ));
        }
    }
    why
}

impl Tolerance {
    /// The tolerance of entry `(row, col)` of gradient `input`.
    pub fn grad_at(&self, input: usize, row: usize, col: usize) -> f64 {
        self.entries
            .get(input)
            .and_then(Option::as_ref)
            .map_or(self.grads[input], |e| e[(row, col)])
            + self
                .widened
                .iter()
                .filter(|w| w.input == input && w.col == col)
                .map(|w| w.extra)
                .fold(0.0, f64::max)
    }

    /// The largest tolerance of any entry of gradient `input` (a single `atol` for the input).
    pub fn grad_max(&self, input: usize) -> f64 {
        self.grads[input]
            + self
                .widened
                .iter()
                .filter(|w| w.input == input)
                .map(|w| w.extra)
                .fold(0.0, f64::max)
    }
}

pub(crate) fn abs(m: &DMatrix<f64>) -> DMatrix<f64> {
    m.abs()
}

/// Largest condition number of an SPD matrix, from its symmetric eigenvalues.
pub(crate) fn condition(a: &DMatrix<f64>) -> f64 {
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
pub enum Mode {
    Abs,
    Rss,
}

pub(crate) fn sq(m: &DMatrix<f64>) -> DMatrix<f64> {
    m.map(|x| x * x)
}

/// The twin of `XY`: `|X||Y|`, or `√2·√((X∘X)(Y∘Y)) + |XY|`.
pub(crate) fn twin(x: &DMatrix<f64>, y: &DMatrix<f64>, mode: Mode) -> DMatrix<f64> {
    match mode {
        Mode::Abs => abs(x) * abs(y),
        Mode::Rss => (sq(x) * sq(y)).map(|v| (2.0 * v).sqrt()) + abs(&(x * y)),
    }
}

/// The magnitudes of [`Scale`] for `spec` at `inputs` (`out` is the f64 loss there).
pub fn scale(spec: &LossSpec, inputs: &[DMatrix<f64>], out: &Out<f64>) -> Scale {
    let (b, d) = inputs[0].shape();
    let a = spec.loss.magnitudes(spec, inputs, out, Mode::Abs);
    let r = spec.loss.magnitudes(spec, inputs, out, Mode::Rss);
    Scale {
        n: b.max(d),
        value: a.value,
        grads: a.grads,
        value_in: r.value,
        grads_in: r.grads,
        entries: a.entries,
        entries_in: r.entries,
        kappa: a.kappa,
        hinge: a.hinge,
    }
}

/// What a loss's [`crate::loss::Loss::magnitudes`] returns for one [`Mode`]: the value's and each
/// gradient's magnitude per unit roundoff, the condition number of a log-determinant's matrix,
/// and (VICReg) the columns near the variance hinge.
#[derive(Clone, Debug, Default)]
pub struct Magnitudes {
    pub value: f64,
    pub grads: Vec<f64>,
    /// Per input (may be shorter than `grads`, or `None`): the magnitude of each entry, where
    /// the loss bounds its gradient entry by entry; `grads` must then be their largest.
    pub entries: Vec<Option<DMatrix<f64>>>,
    pub kappa: Option<f64>,
    pub hinge: Vec<Hinge>,
}

/// How an error reaches through a product: `|X||Y|` (deterministic, Abs) or `√((X∘X)(Y∘Y))`
/// (independent errors: the standard deviation, Rss).
pub(crate) fn prop(x: &DMatrix<f64>, y: &DMatrix<f64>, mode: Mode) -> DMatrix<f64> {
    match mode {
        Mode::Abs => abs(x) * abs(y),
        Mode::Rss => (sq(x) * sq(y)).map(f64::sqrt),
    }
}

/// `Σ|a_ij| t_ij` (Abs) or `√Σ a_ij² t_ij²` (Rss): a first-order error `Σ a_ij δ_ij`.
pub(crate) fn contract(a: &DMatrix<f64>, t: &DMatrix<f64>, mode: Mode) -> f64 {
    let it = a.iter().zip(t.iter());
    match mode {
        Mode::Abs => it.map(|(x, y)| x.abs() * y).sum(),
        Mode::Rss => it.map(|(x, y)| x * x * y * y).sum::<f64>().sqrt(),
    }
}

/// Euclidean norms of the rows.
pub(crate) fn row_norms(m: &DMatrix<f64>) -> Vec<f64> {
    (0..m.nrows()).map(|i| m.row(i).norm()).collect()
}

/// Euclidean norms of the columns of `XᵀX/div` through the `B × B` Gram matrix:
/// `‖XᵀX e_j‖² = (Xe_j)ᵀ(XXᵀ)(Xe_j)`.
pub(crate) fn gram_col_norms(x: &DMatrix<f64>, div: f64) -> Vec<f64> {
    let kx = (x * x.transpose()) * x;
    (0..x.ncols())
        .map(|j| x.column(j).dot(&kx.column(j)).max(0.0).sqrt() / div)
        .collect()
}

/// Entry by entry, the magnitude of an invariance term's difference `z1 − z2` (per `√n·u`, `n` the
/// longest reduction): its own size, since `fl(a − b) = (a − b)(1 + δ)`, plus one rounding of
/// each input, `(|z1_ij| + |z2_ij|)/√n`, for an implementation handed float64 inputs that rounds
/// them to its precision first (a difference near zero moves by that much).
pub(crate) fn difference_magnitudes(
    z1: &DMatrix<f64>,
    z2: &DMatrix<f64>,
    n: usize,
) -> DMatrix<f64> {
    let n_sqrt = (n as f64).sqrt();
    DMatrix::from_fn(z1.nrows(), z1.ncols(), |i, j| {
        let (a, b) = (z1[(i, j)], z2[(i, j)]);
        (a - b).abs() + (a.abs() + b.abs()) / n_sqrt
    })
}
