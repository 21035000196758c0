//! `sslproof check` as a library: compare a user's loss value and gradients with the reference,
//! within the tolerance that [`crate::rounding`] derives for the user's precision; when they
//! disagree, name the first disagreeing component and try every other variant and every common
//! mistake of the loss to say which one the user's numbers match.

use std::fmt::Write as _;

use nalgebra::DMatrix;

use crate::estimate::{self, Source, TolMode};
use crate::float::Out;
use crate::registry::{LossSpec, SpecError};
use crate::rounding::{self, Precision, Scale, Tolerance};
use sslproof::hp::Mat;

/// What the user computed.
#[derive(Clone, Debug)]
pub struct UserNumbers {
    pub value: f64,
    /// One per input with a gradient, or none.
    pub grads: Option<Vec<DMatrix<f64>>>,
}

/// How to check.
#[derive(Clone, Debug)]
pub struct Options {
    pub precision: Precision,
    /// Bits of the MPFR reference.
    pub hp_bits: u32,
    /// Largest MPFR reference worth computing, in multiply-adds ([`LossSpec::hp_work`]); above
    /// it the reference is the f64 implementation, whose own error bound is added.
    pub hp_max_work: f64,
    /// Memory budget in bytes: a check whose working set ([`LossSpec::working_set`]) exceeds it is
    /// refused before anything is computed.
    pub max_memory: u128,
    /// The a-priori bound, or in float32 the bound scaled to the error measured at the input
    /// ([`crate::estimate`]).
    pub tolerance: TolMode,
    /// Told how far the estimate's runs are (the long part of a large check).
    pub progress: Progress,
}

/// A callback told `(runs done, runs in all)` as the estimate's float32 runs proceed (none by
/// default). The runs of the coding rate's official feature form cost d³: at 512 × 8192 a check
/// takes about a minute, most of it there.
#[derive(Clone, Default)]
pub struct Progress(pub Option<std::sync::Arc<dyn Fn(usize, usize) + Send + Sync>>);

impl Progress {
    /// Says that `done` of `total` runs are done.
    pub fn tell(&self, done: usize, total: usize) {
        if let Some(f) = &self.0 {
            f(done, total);
        }
    }
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Progress(callback)"
        } else {
            "Progress(none)"
        })
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            precision: Precision::F32,
            hp_bits: 256,
            hp_max_work: 2e7,
            max_memory: crate::npy::DEFAULT_BUDGET,
            tolerance: TolMode::Estimate,
            progress: Progress::default(),
        }
    }
}

/// Which implementation gave the reference.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub enum ReferenceKind {
    /// MPFR at this many bits (error far below any tolerance).
    Mpfr(u32),
    /// The f64 implementation, with its own rounding-error bound added to the tolerance.
    F64,
}

/// The reference value and gradients, and how far they may be from exact.
#[derive(Clone, Debug)]
pub struct Reference {
    pub kind: ReferenceKind,
    pub out: Out<f64>,
    /// The f64 loss (for the rounding model and the diagnosis).
    pub out64: Out<f64>,
    pub scale: Scale,
    /// Error bound of the reference itself (one f64 rounding for MPFR).
    pub error: Tolerance,
    /// The MPFR value with 30 significant digits.
    pub value_decimal: Option<String>,
}

/// The reference for `inputs`: MPFR where affordable, else f64.
pub fn reference(
    spec: &LossSpec,
    inputs: &[DMatrix<f64>],
    opts: &Options,
) -> Result<Reference, SpecError> {
    let out64 = spec.evaluate(None, inputs)?;
    let scale = rounding::scale(spec, inputs, &out64);
    let (b, d) = inputs[0].shape();
    let ng = spec.grad_count(inputs.len());
    let hp = if spec.hp_work(b, d, inputs.len()) <= opts.hp_max_work {
        let mats: Vec<Mat> = inputs
            .iter()
            .map(|m| {
                Mat::from_fn(m.nrows(), m.ncols(), opts.hp_bits, |i, j| {
                    rug::Float::with_val(opts.hp_bits, m[(i, j)])
                })
            })
            .collect();
        spec.evaluate_hp(&mats, opts.hp_bits)
    } else {
        None
    };
    match hp {
        Some(r) => {
            let lg = r?;
            let to64 = |m: &Mat| DMatrix::from_fn(m.rows(), m.cols(), |i, j| m.at(i, j).to_f64());
            let out = Out {
                value: lg.value.to_f64(),
                grads: lg.grads.iter().take(ng).map(to64).collect(),
            };
            let mut error = rounding::tolerance(&scale, &out64, Precision::F64);
            // MPFR at hp_bits: its own error is below 2^(20 − bits) relative, then one rounding
            // to f64 (half an ulp), which the comparison absorbs through its f64 floor.
            error.value = out.value.abs() * f64::EPSILON;
            error.grads = out.grads.iter().map(|g| g.amax() * f64::EPSILON).collect();
            error.untrustworthy = None;
            Ok(Reference {
                kind: ReferenceKind::Mpfr(opts.hp_bits),
                out,
                out64,
                scale,
                error,
                value_decimal: Some(lg.value.to_string_radix(10, Some(30))),
            })
        }
        None => {
            let error = rounding::tolerance(&scale, &out64, Precision::F64);
            let mut out = out64.clone();
            out.grads.truncate(ng);
            Ok(Reference {
                kind: ReferenceKind::F64,
                out,
                out64,
                scale,
                error,
                value_decimal: None,
            })
        }
    }
}

/// One compared component.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Component {
    /// `value`, or `gradient of z1 at (i, j)`.
    pub what: String,
    pub user: f64,
    pub reference: f64,
    pub tolerance: f64,
}

impl Component {
    pub fn error(&self) -> f64 {
        (self.user - self.reference).abs()
    }
    pub fn ok(&self) -> bool {
        // NaN compares false: a NaN from the user never agrees.
        self.error() <= self.tolerance
    }
}

/// The tolerance of one gradient's entries: `base` everywhere, plus the entry's own tolerance
/// where the loss bounds its gradient entry by entry (`entries`), plus `extra` in the listed
/// columns.
#[derive(Clone, Debug, PartialEq)]
pub struct GradTol {
    pub base: f64,
    pub entries: Option<DMatrix<f64>>,
    pub cols: Vec<(usize, f64)>,
}

impl GradTol {
    pub fn at(&self, row: usize, col: usize) -> f64 {
        self.base + self.entries.as_ref().map_or(0.0, |e| e[(row, col)]) + self.col_extra(col)
    }
    fn col_extra(&self, col: usize) -> f64 {
        self.cols
            .iter()
            .filter(|(c, _)| *c == col)
            .map(|(_, e)| *e)
            .fold(0.0, f64::max)
    }
    /// The largest tolerance of an entry outside the widened columns.
    pub fn largest(&self) -> f64 {
        self.base + self.entries.as_ref().map_or(0.0, |e| e.amax())
    }
    /// The largest tolerance of an entry of column `col`.
    fn column_largest(&self, col: usize) -> f64 {
        self.base
            + self.entries.as_ref().map_or(0.0, |e| e.column(col).amax())
            + self.col_extra(col)
    }
    fn scaled(&self, k: f64) -> GradTol {
        GradTol {
            base: self.base * k,
            entries: self.entries.as_ref().map(|e| e * k),
            cols: self.cols.iter().map(|&(c, e)| (c, e * k)).collect(),
        }
    }
    fn is_valid(&self) -> bool {
        let ok = |t: f64| t.is_finite() && t >= 0.0;
        ok(self.base)
            && self.cols.iter().all(|(_, e)| ok(*e))
            && self
                .entries
                .as_ref()
                .is_none_or(|e| e.iter().all(|&t| ok(t)))
    }
}

/// Every gradient's tolerance for the comparison: the model's (entry by entry where the loss
/// bounds it so, with its widened columns), the reference's own error bound, and the last f64
/// rounding of the reference.
pub fn grad_tols(tol: &rounding::Tolerance, r: &Reference, ng: usize) -> Vec<GradTol> {
    (0..ng)
        .map(|t| {
            let entries = tol.entries.get(t).cloned().flatten();
            let model = if entries.is_some() { 0.0 } else { tol.grads[t] };
            GradTol {
                base: model + r.error.grads[t] + 2.0 * f64::EPSILON * r.out.grads[t].amax(),
                entries,
                cols: tol
                    .widened
                    .iter()
                    .filter(|w| w.input == t)
                    .map(|w| (w.col, w.extra))
                    .collect(),
            }
        })
        .collect()
}

/// The first component of `user` out of tolerance (the value, then the gradients in row-major
/// order), with the tolerances of `tol` and the reference's own error: the comparison of
/// [`check`] without the report (for [`crate::power`]).
pub fn first_disagreement(
    tol: &rounding::Tolerance,
    r: &Reference,
    names: &[String],
    user: &UserNumbers,
) -> Option<Component> {
    let ng = user.grads.as_ref().map_or(0, Vec::len);
    let tv = tol.value + r.error.value + 2.0 * f64::EPSILON * r.out.value.abs();
    let tg = grad_tols(tol, r, ng);
    compare(names, user.value, user.grads.as_deref(), &r.out, tv, &tg).2
}

/// The largest `|error| / tolerance` of `user`'s value and of its gradient entries: how far the
/// tolerance is from the error the numbers actually carry (1 = the tolerance is tight).
pub fn error_over_tolerance(
    tol: &rounding::Tolerance,
    r: &Reference,
    user: &UserNumbers,
) -> (f64, f64) {
    let tv = tol.value + r.error.value + 2.0 * f64::EPSILON * r.out.value.abs();
    let value = (user.value - r.out.value).abs() / tv;
    let mut grad = 0f64;
    if let Some(gs) = &user.grads {
        let tg = grad_tols(tol, r, gs.len());
        for (t, (g, rg)) in gs.iter().zip(&r.out.grads).enumerate() {
            for j in 0..g.ncols() {
                for i in 0..g.nrows() {
                    grad = grad.max((g[(i, j)] - rg[(i, j)]).abs() / tg[t].at(i, j));
                }
            }
        }
    }
    (value, grad)
}

/// A gradient's comparison, summarised.
#[derive(Clone, Debug, serde::Serialize)]
pub struct GradSummary {
    pub input: String,
    pub max_error: f64,
    /// The tolerance of its entries (of those outside `widened`); where `per_entry`, the largest
    /// of their tolerances.
    pub tolerance: f64,
    /// Whether each entry has a tolerance of its own (the loss bounds its gradient entry by
    /// entry) rather than one for all.
    pub per_entry: bool,
    /// Columns whose entries have a wider tolerance (VICReg's hinge), with that tolerance (the
    /// largest in the column).
    pub widened: Vec<(usize, f64)>,
    /// The entry of the largest error, and its tolerance.
    pub worst: (usize, usize),
    pub worst_tolerance: f64,
    /// The largest `|error| / tolerance` over the entries (≤ 1 when every entry agrees).
    pub max_ratio: f64,
    pub disagreeing: usize,
}

/// A variant or mistake that the user's numbers match.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Diagnosis {
    /// `variant` or `mistake`.
    pub kind: &'static str,
    pub id: String,
    pub says: String,
    pub value_matches: bool,
    /// `None` where the user gave no gradient.
    pub grads_match: Option<bool>,
}

/// The checker's conclusion.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Conclusion {
    Agrees,
    Disagrees,
    /// The user's precision cannot give a trustworthy answer here; the comparison is shown but
    /// concludes nothing.
    Untrustworthy,
}

/// Everything `sslproof check` prints.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CheckReport {
    pub loss: String,
    pub variant: String,
    pub params: Vec<(String, f64)>,
    pub shape: (usize, usize),
    pub precision: Precision,
    pub reference: ReferenceKind,
    pub kappa: Option<f64>,
    pub value: Component,
    pub grads: Vec<GradSummary>,
    pub first_disagreement: Option<Component>,
    pub untrustworthy: Option<String>,
    /// VICReg columns within rounding of the variance hinge.
    pub hinge_columns: Vec<usize>,
    pub diagnosis: Vec<Diagnosis>,
    /// A likely cause outside the diagnosis (a precision mismatch), if any.
    pub hint: Option<String>,
    /// How the gradients' tolerance was obtained: the a-priori bound, or (float32) the bound
    /// scaled to the error measured at these inputs.
    pub tolerance_source: Source,
    pub outcome: Conclusion,
}

/// Compares `(value, grads)` with `(ref_value, ref_grads)`: the value, then each gradient entry
/// in row-major order; returns the value component, the gradient summaries and the first
/// component out of tolerance.
fn compare(
    names: &[String],
    value: f64,
    grads: Option<&[DMatrix<f64>]>,
    r: &Out<f64>,
    tol_value: f64,
    tol_grads: &[GradTol],
) -> (Component, Vec<GradSummary>, Option<Component>) {
    let vc = Component {
        what: "value".into(),
        user: value,
        reference: r.value,
        tolerance: tol_value,
    };
    let mut first = if vc.ok() { None } else { Some(vc.clone()) };
    let mut sums = Vec::new();
    if let Some(gs) = grads {
        for (t, ((g, rg), name)) in gs.iter().zip(&r.grads).zip(names).enumerate() {
            let tol = &tol_grads[t];
            let mut s = GradSummary {
                input: name.clone(),
                max_error: 0.0,
                tolerance: tol.largest(),
                per_entry: tol.entries.is_some(),
                widened: tol
                    .cols
                    .iter()
                    .map(|&(c, _)| (c, tol.column_largest(c)))
                    .collect(),
                worst: (0, 0),
                worst_tolerance: tol.at(0, 0),
                max_ratio: 0.0,
                disagreeing: 0,
            };
            for i in 0..g.nrows() {
                for j in 0..g.ncols() {
                    let c = Component {
                        what: format!("gradient of {name} at ({i}, {j})"),
                        user: g[(i, j)],
                        reference: rg[(i, j)],
                        tolerance: tol.at(i, j),
                    };
                    let e = c.error();
                    // A NaN error (a NaN entry) becomes the worst, and stays so: the first NaN
                    // is kept, not overwritten by the next finite entry.
                    let worse = |x: f64, max: f64| !max.is_nan() && (x.is_nan() || x > max);
                    if worse(e, s.max_error) {
                        s.max_error = e;
                        s.worst = (i, j);
                        s.worst_tolerance = c.tolerance;
                    }
                    let ratio = if e == 0.0 { 0.0 } else { e / c.tolerance };
                    if worse(ratio, s.max_ratio) {
                        s.max_ratio = ratio;
                    }
                    if !c.ok() {
                        s.disagreeing += 1;
                        if first.is_none() {
                            first = Some(c);
                        }
                    }
                }
            }
            sums.push(s);
        }
    }
    (vc, sums, first)
}

/// A reference or a tolerance that is not a finite number (an overflow in the reference, a NaN
/// tolerance) supports no conclusion about the user's numbers: an error (exit 2), never a
/// disagreement.
fn finite_reference(
    r: &Out<f64>,
    tv: f64,
    tg: &[GradTol],
    names: &[String],
) -> Result<(), SpecError> {
    let bad = |what: String, value: f64, why| Err(SpecError::OutOfRange { what, value, why });
    if !r.value.is_finite() {
        return bad(
            "the reference value".into(),
            r.value,
            "it overflows or is undefined",
        );
    }
    for (g, name) in r.grads.iter().zip(names) {
        if let Some(x) = g.iter().find(|x| !x.is_finite()) {
            return bad(
                format!("the reference gradient of {name}"),
                *x,
                "it overflows or is undefined",
            );
        }
    }
    if !(tv.is_finite() && tv >= 0.0) {
        return bad(
            "the tolerance of the value".into(),
            tv,
            "the rounding model overflows here",
        );
    }
    for (t, name) in tg.iter().zip(names) {
        if !t.is_valid() {
            let worst = std::iter::once(t.base)
                .chain(t.cols.iter().map(|(_, e)| *e))
                .find(|x| !(x.is_finite() && *x >= 0.0))
                .unwrap_or(t.base);
            return bad(
                format!("the tolerance of the gradient of {name}"),
                worst,
                "the rounding model overflows here",
            );
        }
    }
    Ok(())
}

/// Refuses, before anything is allocated, a check of `inputs` whose working set
/// ([`LossSpec::working_set`], with the MPFR reference where [`Options::hp_max_work`] affords it)
/// exceeds [`Options::max_memory`].
pub fn fits(spec: &LossSpec, inputs: &[DMatrix<f64>], opts: &Options) -> Result<(), SpecError> {
    let (b, d) = inputs.first().map_or((0, 0), |m| m.shape());
    fits_shape(spec, b, d, inputs.len(), opts)
}

/// [`fits`] from the shape alone (`n_inputs` inputs, the first `B × d`): callers that must copy
/// the inputs first (the Python extension) refuse a job before the copy.
pub fn fits_shape(
    spec: &LossSpec,
    b: usize,
    d: usize,
    n_inputs: usize,
    opts: &Options,
) -> Result<(), SpecError> {
    let need = working_set(spec, b, d, n_inputs, opts);
    if need.is_none_or(|n| n > opts.max_memory) {
        return Err(SpecError::TooLarge {
            what: format!(
                "checking {} ({}) at B = {b}, d = {d} with {} inputs",
                spec.loss.name(),
                spec.variant.name,
                n_inputs
            ),
            needed: crate::npy::Bytes(need.unwrap_or(u128::MAX)),
            budget: crate::npy::Bytes(opts.max_memory),
        });
    }
    Ok(())
}

/// The bytes a check of `n_inputs` inputs (the first `B × d`) holds at once with `opts`: the
/// loss's working set ([`LossSpec::working_set`], with the MPFR reference where
/// [`Options::hp_max_work`] affords it) and, for the estimated tolerance, one float32 run beside
/// it. `None` when it overflows.
pub fn working_set(
    spec: &LossSpec,
    b: usize,
    d: usize,
    n_inputs: usize,
    opts: &Options,
) -> Option<u128> {
    let hp = (spec.hp_work(b, d, n_inputs) <= opts.hp_max_work).then_some(opts.hp_bits);
    let need = spec.working_set(b, d, n_inputs, hp);
    // The estimate's float32 runs, one at a time beside everything the check keeps: the loss's
    // inputs and scratch in float32 (half their f64 size), its gradients, and their f64 copies.
    match opts.tolerance {
        TolMode::Bound => need,
        TolMode::Estimate => need.and_then(|n| {
            let f32_run = spec.working_set(b, d, n_inputs, None)? / 2;
            let grads = (n_inputs as u128)
                .checked_mul(b as u128)?
                .checked_mul(d as u128)?;
            n.checked_add(f32_run)?.checked_add(grads.checked_mul(12)?)
        }),
    }
}

/// Checks the user's numbers. Errors only for bad input (count, shape, NaN in the inputs, an
/// unusable batch); a NaN in the user's *results* is a disagreement, not an error.
pub fn check(
    spec: &LossSpec,
    inputs: &[DMatrix<f64>],
    user: &UserNumbers,
    opts: &Options,
) -> Result<CheckReport, SpecError> {
    spec.validate_inputs(inputs)?;
    let names = spec.input_names(inputs.len());
    let ng = spec.grad_count(inputs.len());
    if let Some(gs) = &user.grads {
        if gs.len() != ng {
            return Err(SpecError::InputCount {
                loss: spec.loss.name(),
                variant: spec.variant.name,
                expected: format!("{ng} gradients"),
                names: names[..ng].join(" "),
                found: gs.len(),
            });
        }
        for (g, (z, name)) in gs.iter().zip(inputs.iter().zip(&names)) {
            if g.shape() != z.shape() {
                return Err(SpecError::InputShape {
                    name: format!("gradient of {name}"),
                    found: g.shape(),
                    expected: format!("{} × {} (the shape of {name})", z.nrows(), z.ncols()),
                });
            }
        }
    }
    fits(spec, inputs, opts)?;
    let r = reference(spec, inputs, opts)?;
    let bound = rounding::tolerance(&r.scale, &r.out64, opts.precision);
    let mode = if user.grads.is_some() {
        opts.tolerance
    } else {
        TolMode::Bound
    };
    let (tol, mut tolerance_source) =
        estimate::apply(spec, inputs, &r, bound, mode, &opts.progress);
    if user.grads.is_none() && opts.tolerance == TolMode::Estimate {
        tolerance_source = Source::Bound {
            why: "no gradient given (the value's tolerance is always the bound)".into(),
        };
    }
    // The comparison allows the user's error, the reference's, and the last f64 rounding.
    let tv = tol.value + r.error.value + 2.0 * f64::EPSILON * r.out.value.abs();
    let tg = grad_tols(&tol, &r, ng);
    finite_reference(&r.out, tv, &tg, &names)?;
    let (value, grads, first) = compare(&names, user.value, user.grads.as_deref(), &r.out, tv, &tg);
    let outcome = if tol.untrustworthy.is_some() {
        Conclusion::Untrustworthy
    } else if first.is_some() {
        Conclusion::Disagrees
    } else {
        Conclusion::Agrees
    };
    // A diagnosis is a claim about the user's numbers: only where the comparison concludes
    // (an untrustworthy comparison printed "matches (value does not)" lines that meant nothing).
    let diagnosis = if outcome == Conclusion::Disagrees {
        diagnose(spec, inputs, user, &r, &names, tv, &tg)
    } else {
        Vec::new()
    };
    // Numbers computed in float32 and saved as float64 are checked as float64 by default (the
    // files say f64): if they disagree at f64 but agree within the float32 model, say so.
    // The same for a coarser arithmetic than the one declared: float32 numbers whose matrix
    // products ran in TF32 (JAX's default on GPUs, torch's allow_tf32) or under bfloat16 autocast
    // look like float32 numbers; each candidate is compared with its a-priori bound.
    let coarser: &[(Precision, &str)] = match opts.precision {
        Precision::F64 => &[(
            Precision::F32,
            "your numbers agree within float32 rounding: if they were computed in float32 and saved as float64, pass --precision f32",
        )],
        Precision::F32 => &[
            (
                Precision::Tf32,
                "your numbers agree within TF32 rounding: if your matrix products ran in TF32 (torch.backends.cuda.matmul.allow_tf32, or JAX's default float32 matmul precision on GPUs), pass --precision tf32",
            ),
            (
                Precision::Bf16,
                "your numbers agree within bfloat16 autocast rounding: if they were computed under torch.autocast(dtype=torch.bfloat16), pass --precision bf16",
            ),
        ],
        Precision::Tf32 => &[(
            Precision::Bf16,
            "your numbers agree within bfloat16 autocast rounding: if they were computed under torch.autocast(dtype=torch.bfloat16), pass --precision bf16",
        )],
        Precision::Bf16 => &[],
    };
    let hint = (outcome == Conclusion::Disagrees)
        .then(|| {
            coarser.iter().find_map(|&(p, says)| {
                let t = rounding::tolerance(&r.scale, &r.out64, p);
                if t.untrustworthy.is_some() {
                    return None;
                }
                let tv = t.value + r.error.value + 2.0 * f64::EPSILON * r.out.value.abs();
                let tg = grad_tols(&t, &r, ng);
                let (_, _, first) =
                    compare(&names, user.value, user.grads.as_deref(), &r.out, tv, &tg);
                first.is_none().then(|| says.to_string())
            })
        })
        .flatten();
    Ok(CheckReport {
        loss: spec.loss.name().to_string(),
        variant: spec.variant.name.to_string(),
        params: spec
            .params
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect(),
        shape: inputs[0].shape(),
        precision: opts.precision,
        reference: r.kind.clone(),
        kappa: r.scale.kappa,
        value,
        grads,
        first_disagreement: first,
        untrustworthy: tol.untrustworthy,
        hinge_columns: tol.hinge_columns,
        diagnosis,
        hint,
        tolerance_source,
        outcome,
    })
}

/// Every other variant and every mistake whose numbers the user's match (and that differ from
/// the reference at these inputs).
fn diagnose(
    spec: &LossSpec,
    inputs: &[DMatrix<f64>],
    user: &UserNumbers,
    r: &Reference,
    names: &[String],
    tv: f64,
    tg: &[GradTol],
) -> Vec<Diagnosis> {
    let mut candidates: Vec<(&'static str, String, String, LossSpec, Option<&'static str>)> =
        Vec::new();
    for v in spec.loss.variants() {
        if v.name != spec.variant.name {
            let other = spec.as_variant(v);
            let same_inputs = other.input_names(inputs.len()) == names;
            if same_inputs {
                candidates.push((
                    "variant",
                    v.name.to_string(),
                    format!("{} ({})", v.formula, v.source),
                    other,
                    None,
                ));
            }
        }
    }
    for m in spec.mistakes() {
        candidates.push((
            "mistake",
            m.id.to_string(),
            m.says.to_string(),
            spec.clone(),
            Some(m.id),
        ));
    }
    let ng = tg.len();
    let mut found = Vec::new();
    for (kind, id, says, cspec, mistake) in candidates {
        let Ok(mut out) = cspec.evaluate(mistake, inputs) else {
            continue;
        };
        out.grads.truncate(ng);
        // The candidate's own rounding error scales with its magnitude (a sum instead of a mean
        // is B times the mean, and so is its error): its tolerances are the reference's, scaled
        // up by the ratio of magnitudes where the candidate is larger.
        let ratio = |c: f64, r: f64| if r > 0.0 && c > r { c / r } else { 1.0 };
        let tv_c = tv * ratio(out.value.abs(), r.out.value.abs());
        let tg_c: Vec<GradTol> = tg
            .iter()
            .zip(out.grads.iter().zip(&r.out.grads))
            .map(|(t, (gc, gr))| t.scaled(ratio(gc.amax(), gr.amax())))
            .collect();
        // Indistinguishable from the reference at these inputs: says nothing.
        let (_, _, differs) = compare(names, out.value, Some(&out.grads), &r.out, tv_c, &tg_c);
        if differs.is_none() {
            continue;
        }
        let (vc, sums, _) = compare(names, user.value, user.grads.as_deref(), &out, tv_c, &tg_c);
        let value_matches = vc.ok();
        let grads_match = user
            .grads
            .as_ref()
            .map(|_| sums.iter().all(|s| s.disagreeing == 0));
        if value_matches || grads_match == Some(true) {
            found.push(Diagnosis {
                kind,
                id,
                says,
                value_matches,
                grads_match,
            });
        }
    }
    full_matches_first(&mut found);
    found
}

/// Full matches (the value matches, and the gradients match or were not given) first, in their
/// order; then the partial ones.
fn full_matches_first(found: &mut [Diagnosis]) {
    found.sort_by_key(|d| !(d.value_matches && d.grads_match != Some(false)));
}

impl CheckReport {
    pub fn exit_code(&self) -> u8 {
        match self.outcome {
            Conclusion::Agrees => 0,
            Conclusion::Disagrees => 1,
            Conclusion::Untrustworthy => 3,
        }
    }

    /// The human-readable report.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let params: Vec<String> = self
            .params
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let _ = writeln!(
            s,
            "{} ({}{}{}), B = {}, d = {}, checked as {}",
            self.loss,
            self.variant,
            if params.is_empty() { "" } else { "; " },
            params.join(", "),
            self.shape.0,
            self.shape.1,
            self.precision.as_str()
        );
        let _ = writeln!(
            s,
            "reference: {}{}",
            match self.reference {
                ReferenceKind::Mpfr(b) => format!("MPFR at {b} bits"),
                ReferenceKind::F64 => "f64 (its own error bound added to the tolerance)".into(),
            },
            self.kappa
                .map(|k| format!("; condition number of the log-det matrix {k:.3e}"))
                .unwrap_or_default()
        );
        // Where the comparison concludes nothing (exit 3), a number outside its tolerance is
        // not a disagreement: the tolerance itself cannot be trusted there.
        let inconclusive = self.outcome == Conclusion::Untrustworthy;
        let v = &self.value;
        let _ = writeln!(
            s,
            "value     yours {:+.17e}  reference {:+.17e}  |diff| {:.2e}  tolerance {:.2e}  {}",
            v.user,
            v.reference,
            v.error(),
            v.tolerance,
            match (v.ok(), inconclusive) {
                (true, _) => "ok",
                (false, false) => "DISAGREES",
                (false, true) => "outside (inconclusive)",
            }
        );
        for g in &self.grads {
            let verdict = match (g.disagreeing, inconclusive) {
                (0, _) => "ok".to_string(),
                (n, false) => format!("{n} entries DISAGREE"),
                (n, true) => format!("{n} entries outside (inconclusive)"),
            };
            if g.per_entry {
                let _ = writeln!(
                    s,
                    "grad {:<4} max |diff| {:.2e} at {:?}  tolerance there {:.2e} (each entry its own, largest {:.2e})  {}",
                    g.input, g.max_error, g.worst, g.worst_tolerance, g.tolerance, verdict
                );
            } else {
                let _ = writeln!(
                    s,
                    "grad {:<4} max |diff| {:.2e} at {:?}  tolerance {:.2e}  {}",
                    g.input, g.max_error, g.worst, g.tolerance, verdict
                );
            }
            for (col, t) in g.widened.iter().take(8) {
                let _ = writeln!(
                    s,
                    "          column {col}: tolerance widened to {t:.2e} (on the variance hinge)"
                );
            }
        }
        if !self.grads.is_empty() {
            let _ = writeln!(s, "{}", self.tolerance_source.describe());
        }
        if self.grads.is_empty() {
            let _ = writeln!(
                s,
                "gradients: not checked (none given; pass --grad or grad_<input> entries)"
            );
        }
        if let Some(c) = &self.first_disagreement {
            let _ = writeln!(
                s,
                "{}: {}: yours {:+.17e}, reference {:+.17e}",
                if inconclusive {
                    "first outside its tolerance (inconclusive at this precision)"
                } else {
                    "first disagreement"
                },
                c.what,
                c.user,
                c.reference
            );
        }
        if !self.hinge_columns.is_empty() {
            let _ = writeln!(
                s,
                "note: columns {:?} sit on the variance hinge within rounding; their gradient may take either side, so the tolerance of those columns (and only those) includes the jump",
                &self.hinge_columns[..self.hinge_columns.len().min(8)]
            );
        }
        if let Some(w) = &self.untrustworthy {
            let _ = writeln!(s, "cannot be trusted at {}: {w}", self.precision.as_str());
        }
        if let Some(h) = &self.hint {
            let _ = writeln!(s, "hint: {h}");
        }
        if self.outcome == Conclusion::Untrustworthy {
            let _ = writeln!(
                s,
                "diagnosis: not attempted (at this precision the comparison concludes nothing)"
            );
        }
        if self.outcome == Conclusion::Disagrees {
            if self.diagnosis.is_empty() {
                let _ = writeln!(s, "diagnosis: matches no known variant or common mistake");
            }
            for d in &self.diagnosis {
                let what = match (d.value_matches, d.grads_match) {
                    (true, Some(true)) | (true, None) => "matches",
                    (true, Some(false)) => "value matches (gradient does not)",
                    (false, _) => "gradient matches (value does not)",
                };
                let _ = writeln!(s, "diagnosis: {what} {} {:?}: {}", d.kind, d.id, d.says);
            }
        }
        let _ = writeln!(
            s,
            "verdict: {}",
            match self.outcome {
                Conclusion::Agrees if self.grads.is_empty() => {
                    "AGREES with the reference (the value only: no gradient was checked)"
                }
                Conclusion::Agrees => "AGREES with the reference",
                Conclusion::Disagrees => "DISAGREES with the reference",
                Conclusion::Untrustworthy => "NOT TRUSTWORTHY at this precision (no conclusion)",
            }
        );
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every way a reference or a tolerance can fail to be a finite non-negative number is an
    /// error naming the quantity, and finite ones pass.
    #[test]
    fn finite_reference_refuses_each_non_finite_quantity() {
        let names = vec!["z1".to_string(), "z2".to_string()];
        let t = |x: f64| GradTol {
            base: x,
            entries: None,
            cols: Vec::new(),
        };
        let ok = Out {
            value: 1.0,
            grads: vec![
                DMatrix::from_element(2, 2, 0.5),
                DMatrix::from_element(2, 2, -0.5),
            ],
        };
        assert!(finite_reference(&ok, 1e-9, &[t(1e-9), t(1e-9)], &names).is_ok());
        let what = |r: Result<(), SpecError>| match r {
            Err(SpecError::OutOfRange { what, .. }) => what,
            other => panic!("expected OutOfRange, got {other:?}"),
        };
        let mut v = ok.clone();
        v.value = f64::INFINITY;
        assert_eq!(
            what(finite_reference(&v, 1e-9, &[t(1e-9), t(1e-9)], &names)),
            "the reference value"
        );
        let mut g = ok.clone();
        g.grads[1][(1, 0)] = f64::NAN;
        assert_eq!(
            what(finite_reference(&g, 1e-9, &[t(1e-9), t(1e-9)], &names)),
            "the reference gradient of z2"
        );
        for bad in [f64::INFINITY, f64::NAN, -1.0, f64::NEG_INFINITY] {
            let widened = GradTol {
                base: 1e-9,
                entries: None,
                cols: vec![(1, bad)],
            };
            assert_eq!(
                what(finite_reference(&ok, 1e-9, &[t(1e-9), widened], &names)),
                "the tolerance of the gradient of z2",
                "{bad}"
            );
            let mut e = DMatrix::from_element(2, 2, 1e-9);
            e[(0, 1)] = bad;
            let per_entry = GradTol {
                base: 1e-9,
                entries: Some(e),
                cols: Vec::new(),
            };
            assert_eq!(
                what(finite_reference(&ok, 1e-9, &[t(1e-9), per_entry], &names)),
                "the tolerance of the gradient of z2",
                "{bad}"
            );
            assert_eq!(
                what(finite_reference(&ok, bad, &[t(1e-9), t(1e-9)], &names)),
                "the tolerance of the value",
                "{bad}"
            );
            assert_eq!(
                what(finite_reference(&ok, 1e-9, &[t(1e-9), t(bad)], &names)),
                "the tolerance of the gradient of z2",
                "{bad}"
            );
        }
    }

    /// A NaN gradient entry is the worst and stays so (the next finite entry used to overwrite
    /// it: "max |diff| 0.00e0" with one entry disagreeing).
    #[test]
    fn a_nan_entry_stays_the_worst() {
        let names = vec!["z".to_string()];
        let r = Out {
            value: 1.0,
            grads: vec![DMatrix::from_element(3, 2, 0.5)],
        };
        let mut g = r.grads[0].clone();
        g[(1, 0)] = f64::NAN;
        let tol = GradTol {
            base: 1e-9,
            entries: None,
            cols: Vec::new(),
        };
        let (_, sums, first) = compare(&names, 1.0, Some(&[g]), &r, 1e-9, &[tol]);
        let s = &sums[0];
        assert!(s.max_error.is_nan() && s.max_ratio.is_nan(), "{s:?}");
        assert_eq!((s.worst, s.disagreeing), ((1, 0), 1));
        assert!(first.is_some_and(|c| c.what == "gradient of z at (1, 0)"));
    }

    /// Full matches are ranked before partial ones; a value-only match (no gradients given)
    /// counts as full, a value match with disagreeing gradients does not.
    #[test]
    fn full_matches_are_ranked_first() {
        let d = |id: &str, value_matches, grads_match| Diagnosis {
            kind: "mistake",
            id: id.into(),
            says: String::new(),
            value_matches,
            grads_match,
        };
        let mut found = vec![
            d("grads-only", false, Some(true)),
            d("value-not-grads", true, Some(false)),
            d("full", true, Some(true)),
            d("value-only", true, None),
        ];
        full_matches_first(&mut found);
        let ids: Vec<&str> = found.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["full", "value-only", "grads-only", "value-not-grads"]);
    }
}
