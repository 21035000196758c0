//! The gradient tolerance *at the input at hand*: the a-priori bound of [`crate::rounding`]
//! scaled down to a calibrated multiple of the error that the user's arithmetic (float32; TF32
//! and bfloat16 autocast, emulated) actually makes at these inputs.
//!
//! The a-priori bound is a worst case over every summation order and every input of the same
//! magnitudes (a 6σ bound of independent roundings over sums whose terms may cancel); at a given
//! input, a correct float32 implementation errs 10–1000 times less (`docs/validation/power.md`).
//! A tolerance that far above the real error accepts gradients wrong by a few per mille. Here the
//! loss is evaluated in float32 by our own implementation [`runs`] times (4 to 16: more for small
//! inputs, whose few entries make one run's largest error vary more), under as many summation
//! orders — the samples and the features permuted, consistently in every input, by seeded
//! permutations (the identity first), and the result permuted back: every loss is equivariant
//! under both, so each run is a correct float32 evaluation whose sums run in another order. Where
//! the official codes compute the loss by another algorithm than ours
//! ([`crate::loss::Loss::official_algorithm`]: the coding rate's `d × d` feature form and
//! `torch.logdet`'s LU, CorInfoMax's LU), every other run is theirs, its gradient as
//! `torch.logdet`'s backward computes it (through the LU inverse symmetrised). For
//! each input with a gradient, `ρ` is the largest `|error| / bound` over its entries and the runs
//! (the error against the reference; the bound entry by entry, as [`crate::checker`] compares).
//! The tolerance is then the bound times
//!
//! ```text
//!     s = min(1, max(FACTOR·ρ, floor))
//! ```
//!
//! entry by entry, so the bound's shape (which entries may err more) is kept and only its level
//! is measured. [`FACTOR`] covers implementations that order or block their sums differently from
//! ours (torch and numpy on the CPU, the H200 records): it is calibrated against them in
//! `docs/losses.md` ("Estimated tolerances", "Why 8"; a loss may take more at some shapes:
//! [`crate::loss::Loss::estimate_factor`]). The floor, [`FLOOR`], keeps a lucky input, where our
//! runs happen to err very little, from shrinking the tolerance below what other correct
//! implementations need; where the bound exceeds the gradient's largest entry it is lowered to
//! 1/256 of that entry ([`floor`]).
//!
//! Where fewer than [`MIN_ERRED`] entries of an input erred at all in the runs (a gradient that
//! float32 computes exactly, as SimSiam's at d = 1), that input keeps the bound: our exact runs say
//! nothing of another library's error there.
//!
//! **TF32 and bfloat16.** The runs are float32 with every matrix product of the float form
//! emulated in the user's precision ([`crate::kernels::reduced`]): its operands rounded to TF32
//! (10 mantissa bits) or bfloat16 (7), and for bfloat16 autocast its output too; NT-Xent also
//! rounds the elementwise steps that torch's autocast leaves in bfloat16 (the logits after the
//! division by τ, the log-sum-exps, the backward softmax weights). Runs 0 and 1 of every four
//! round to nearest, runs 2 and 3 stochastically (Monte Carlo arithmetic in Parker's sense: where
//! another implementation rounds other intermediate values, its roundings land elsewhere). Only
//! the losses whose float forms route every product through those kernels are estimated there
//! ([`crate::loss::Loss::emulates_reduced_products`]); alignment, SimSiam and uniformity, which
//! have no matrix product, keep the bound.
//!
//! **Rows and columns** (TF32 and bfloat16). There each entry gets its own tolerance from what
//! our runs erred in the entry's row and column ([`line_tolerance`]): [`FACTOR`] times the
//! smaller of the largest absolute error in its row or column ([`line_errors`]) and the largest
//! error relative to the bound there times the entry's bound ([`line_levels`]), kept between
//! [`FLOOR`] times the entry's bound and the bound. Each is at least the factor times our runs'
//! own error at the entry. In those arithmetics the error is made mostly by rounding the
//! operands of the products, which every implementation that rounds to nearest does alike, so
//! where it falls (which samples, which features) is shared: an entry whose row and column erred
//! little in every run is not where another implementation errs much. Against torch's CPU TF32
//! and bfloat16 autocast at 368 seeded cases (`docs/losses.md`, "Rows and columns"), torch's
//! largest error stayed at 0.15 (TF32) and 0.36 (bfloat16) of the tolerance, against 0.12 and
//! 0.36 with one factor per input, and exit 3 in bfloat16 fell from 50 to 27 of those cases.
//! Not in float32: there the order of the sums makes the error, it differs between
//! implementations, and the same rule let torch's error reach 0.58 of the tolerance (one
//! factor: 0.40).
//!
//! **Trustworthiness** (exit 3) is judged on the tolerance used: where the estimate was made, the
//! value's (the bound's) and the gradients' (the estimate's) must stay below half the value and
//! half the gradient's largest entry. The bound's condition-number rule (κ·u_eff > ½: its
//! first-order model may fail) gives way to the runs, which evaluated the loss, factorisation
//! included, in every order and algorithm; where a run fails (a covariance the emulated
//! arithmetic cannot factor), no estimate is made and the bound's verdict stands. Where our own
//! runs err beyond the bound (`ρ > 1`), its model fails at this input and a tolerance held at
//! most at the bound would reject correct implementations: no conclusion either (the coding
//! rate's feature form with d ≫ B and a small ε: torch's float32 gradient erred 2–3.8× the bound
//! at 16 × 1024 to 16 × 3072, docs/losses.md, "Beyond the bound").
//!
//! Kept from the bound: the value's tolerance (one scalar per run is too few samples to estimate
//! its spread), VICReg's hinge widening, the reference's own error, float64, and every case the
//! report names (a loss not emulated in TF32/bfloat16, a run that fails, an official algorithm
//! not run).

use nalgebra::DMatrix;

use crate::batch::BatchError;
use crate::checker::{GradTol, Progress, Reference, grad_tols};
use crate::float::Out;
use crate::kernels::{Products, Rounding, reduced};
use crate::loss::OfficialAlgorithm;
use crate::registry::{Evaluate, LossSpec, SpecError};
use crate::rounding::{Precision, Tolerance, level_reasons, range_reasons};

/// Float32 evaluations at least: the identity order and three permuted ones.
pub const RUNS: usize = 4;

/// Float32 evaluations at most: small inputs have few entries, so the largest error of a run
/// varies more from run to run; they get more runs, until the runs hold [`SAMPLES`] gradient
/// entries together.
pub const MAX_RUNS: usize = 16;

/// The gradient entries (over all runs and inputs) the estimate aims at.
pub const SAMPLES: usize = 1 << 16;

/// How many runs (float32, or float32 with emulated products) the estimate makes for `n` inputs
/// of `B × d`.
pub fn runs(n: usize, b: usize, d: usize) -> usize {
    SAMPLES
        .div_ceil(n.max(1).saturating_mul(b).saturating_mul(d).max(1))
        .clamp(RUNS, MAX_RUNS)
}

/// The tolerance is this multiple of the largest error relative to the bound seen in the runs
/// (a loss may take more at some shapes: [`crate::loss::Loss::estimate_factor`]).
pub const FACTOR: f64 = 8.0;

/// An input's gradient whose entries erred in our runs at fewer than this many places (or, for
/// an input of fewer than `2·MIN_ERRED` entries, at fewer than half of them) keeps the bound: so
/// few errors say nothing of the spread ([`too_few_erred`]).
pub const MIN_ERRED: usize = 32;

/// Whether `erred` of an input's `entries` gradient entries erring in our runs are too few to
/// estimate from (see [`MIN_ERRED`]). A tiny input (4 × 3) has only 12 entries; where all of
/// them erred, its 16 runs still give 192 errors.
pub fn too_few_erred(erred: usize, entries: usize) -> bool {
    erred < MIN_ERRED.min(entries.div_ceil(2)).max(1)
}

/// The tolerance is never below this fraction of the bound, nor below this fraction of the
/// gradient's largest entry where the bound exceeds that entry ([`floor`]).
pub const FLOOR: f64 = 1.0 / 256.0;

/// The floor of an input's factor: [`FLOOR`], or less where the bound's largest entry `bound_max`
/// exceeds the gradient's largest entry `gmax` (an ill-conditioned covariance, where the
/// first-order bound is far above any error float32 makes): then `FLOOR · gmax / bound_max`, so
/// that the floor itself is 1/256 of the gradient's largest entry, not a fraction of a bound that
/// can be thousands of times the gradient (CorInfoMax with d > B: κ = 7.7·10⁶, bound 10³× the
/// largest entry, our runs' and torch's float32 errors 6–8·10⁻⁴ of it).
pub fn floor(gmax: f64, bound_max: f64) -> f64 {
    if bound_max > gmax && bound_max > 0.0 && gmax > 0.0 {
        FLOOR * gmax / bound_max
    } else {
        FLOOR
    }
}

/// Seed of the permutations (fixed: the same input gives the same tolerance on every machine).
pub const SEED: u64 = 0x0005_eed0_f0e5;

/// Which tolerance `check` uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TolMode {
    /// The a-priori bound alone.
    Bound,
    /// In float32, TF32 and bfloat16, the bound scaled to the error measured at the input
    /// ([`apply`]); the bound in float64, and where the measurement cannot be made.
    Estimate,
}

impl TolMode {
    pub fn as_str(self) -> &'static str {
        match self {
            TolMode::Bound => "bound",
            TolMode::Estimate => "estimate",
        }
    }
    pub fn parse(s: &str) -> Option<TolMode> {
        match s {
            "bound" => Some(TolMode::Bound),
            "estimate" => Some(TolMode::Estimate),
            _ => None,
        }
    }
}

/// What the estimate measured and applied.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Estimate {
    /// The arithmetic of the runs: float32, or float32 with TF32 or bfloat16 matrix products
    /// emulated ([`crate::kernels::reduced`]).
    pub precision: Precision,
    pub runs: usize,
    pub factor: f64,
    pub floor: f64,
    /// Where the official codes compute the loss by another algorithm than ours, that algorithm
    /// (every other run used it).
    pub official_algorithm: Option<String>,
    /// Per input with a gradient: the largest `|error| / bound` of our runs.
    pub ratios: Vec<f64>,
    /// Per input with a gradient: how many entries erred at all in our runs.
    pub erred: Vec<usize>,
    /// Per input with a gradient: how many entries it has.
    pub entries: Vec<usize>,
    /// Per input with a gradient: the floor of its factor ([`floor`]: [`FLOOR`], or less where
    /// the bound exceeds the gradient's largest entry).
    pub floors: Vec<f64>,
    /// Per input with a gradient: the factor applied to the bound, `min(1, max(FACTOR·ρ, floor))`,
    /// or 1 where too few entries erred ([`too_few_erred`]). Where each entry has its own factor
    /// (`line_scales`), the largest of them.
    pub scales: Vec<f64>,
    /// Per input with a gradient, in TF32 and bfloat16 where the estimate applies: the smallest
    /// and the largest factor by which its entries' bounds were scaled, each entry's tolerance
    /// being [`line_tolerance`]'s; `None` where one factor applies to every entry.
    pub line_scales: Vec<Option<(f64, f64)>>,
    /// Where the bound alone says the precision cannot conclude, why (the estimate decides
    /// instead: see [`apply`]).
    pub bound_untrustworthy: Option<String>,
}

/// How the tolerance of a check was obtained.
#[derive(Clone, Debug, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Source {
    /// The a-priori bound; `why` says why no estimate was made.
    Bound {
        why: String,
    },
    Estimate(Estimate),
}

impl Source {
    /// One line for the report.
    pub fn describe(&self) -> String {
        match self {
            Source::Bound { why } => format!("gradient tolerance: the a-priori bound ({why})"),
            Source::Estimate(e) => {
                let each: Vec<String> = e
                    .ratios
                    .iter()
                    .zip(&e.scales)
                    .zip(e.erred.iter().zip(&e.entries))
                    .enumerate()
                    .map(|(t, ((q, s), (&n, &all)))| {
                        // A floor lowered below FLOOR (the bound above the gradient's largest
                        // entry) is said.
                        let f = e.floors.get(t).copied().unwrap_or(e.floor);
                        let lowered = if f < e.floor {
                            format!(
                                " (floor {f:.2e}: the bound exceeds the gradient's largest entry, so the floor is 1/{} of that entry)",
                                (1.0 / e.floor).round()
                            )
                        } else {
                            String::new()
                        };
                        if too_few_erred(n, all) {
                            format!("{n} of {all} entries erred: the bound")
                        } else if let Some(Some((lo, hi))) = e.line_scales.get(t) {
                            format!(
                                "{q:.2e} → each entry {}× the largest error of our runs in its row or column (absolute, or relative to the bound times its bound: the smaller), within [floor, 1]× its bound: factors {lo:.2e} to {hi:.2e}{lowered}",
                                e.factor,
                            )
                        } else {
                            format!("{q:.2e} → {s:.2e}{lowered}")
                        }
                    })
                    .collect();
                let arithmetic = match e.precision {
                    Precision::Tf32 => {
                        "emulated TF32 gradient (float32, every matrix product's operands rounded to TF32; in half the runs stochastically)"
                    }
                    Precision::Bf16 => {
                        "emulated bfloat16-autocast gradient (float32, every matrix product's operands and output rounded to bfloat16; in half the runs stochastically)"
                    }
                    _ => "float32 gradient",
                };
                let overruled = e
                    .bound_untrustworthy
                    .as_ref()
                    .map(|w| format!("; the a-priori bound alone would not conclude here ({w}), but every run evaluated the loss and the estimate decides"))
                    .unwrap_or_default();
                // The formula said is the one applied: per entry where any input has its own
                // (TF32/bfloat16), and with "floor" where an input's floor was lowered.
                let rule = if e.line_scales.iter().any(Option::is_some) {
                    "the a-priori bound scaled entry by entry to our runs' errors in the entry's row and column (per input below)".to_string()
                } else if e.floors.iter().any(|&f| f < e.floor) {
                    format!(
                        "the a-priori bound × min(1, max({}·ρ, floor)) (the floor per input below)",
                        e.factor
                    )
                } else {
                    format!(
                        "the a-priori bound × min(1, max({}·ρ, 1/{}))",
                        e.factor,
                        (1.0 / e.floor).round()
                    )
                };
                format!(
                    "gradient tolerance: estimated at these inputs: {rule}, ρ = the largest error / bound of our {arithmetic} under {} summation orders{} (per input ρ → factor: {}){overruled}",
                    e.runs,
                    e.official_algorithm
                        .as_ref()
                        .map(|a| format!(
                            ", every other one in the official codes' algorithm ({a})"
                        ))
                        .unwrap_or_default(),
                    each.join(", ")
                )
            }
        }
    }
}

/// Each entry's measured error: the largest `|error|` of our runs in its row or its column (the
/// larger of the two), from the runs' largest error at each entry.
pub fn line_errors(max_error: &DMatrix<f64>) -> DMatrix<f64> {
    let (n, m) = max_error.shape();
    let rows: Vec<f64> = (0..n).map(|i| max_error.row(i).max()).collect();
    let cols: Vec<f64> = (0..m).map(|j| max_error.column(j).max()).collect();
    DMatrix::from_fn(n, m, |i, j| rows[i].max(cols[j]))
}

/// Each entry's level: the largest `|error| / bound` of our runs in its row or its column (the
/// larger of the two), the bound as the checker compares (`tol`).
pub fn line_levels(max_error: &DMatrix<f64>, tol: &GradTol) -> DMatrix<f64> {
    let q = DMatrix::from_fn(max_error.nrows(), max_error.ncols(), |i, j| {
        let e = max_error[(i, j)];
        if e == 0.0 { 0.0 } else { e / tol.at(i, j) }
    });
    line_errors(&q)
}

/// The model's tolerance of every entry in TF32 and bfloat16 (see the module documentation,
/// "Rows and columns"): `factor` times what our runs erred in the entry's row and column, taken
/// two ways — the largest absolute error ([`line_errors`]) and the largest error relative to
/// the bound times the entry's bound ([`line_levels`]) — the smaller of the two, kept within
/// `[floor, 1]` times the entry's bound `bound` (the model's part; `floor` from [`floor`]). Either way it is at least
/// `factor` times our runs' own error at the entry, where the bound allows it.
pub fn line_tolerance(
    max_error: &DMatrix<f64>,
    tol: &GradTol,
    bound: &DMatrix<f64>,
    factor: f64,
    floor: f64,
) -> DMatrix<f64> {
    let abs = line_errors(max_error);
    let rel = line_levels(max_error, tol);
    DMatrix::from_fn(bound.nrows(), bound.ncols(), |i, j| {
        let b = bound[(i, j)];
        // max/min, not clamp: a bound entry that is not finite must not panic here (the
        // checker refuses it afterwards, naming the entry).
        (factor * abs[(i, j)])
            .min(factor * rel[(i, j)] * b)
            .max(floor * b)
            .min(b)
    })
}

/// A seeded permutation of `0..n` (Fisher–Yates).
fn permutation(n: usize, rng: &mut sslproof::hp::sample::Sampler) -> Vec<usize> {
    let mut p: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        // Modulo bias below 2⁻⁴⁰ for any n a batch can have.
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        p.swap(i, j);
    }
    p
}

/// How input `name`'s rows and columns follow the batch: rows are samples (`B`), features (`d`,
/// a covariance) or one (a mean); columns are features.
#[derive(Clone, Copy, PartialEq)]
enum Rows {
    Samples,
    Features,
    Fixed,
}

fn row_kind(spec: &LossSpec, name: &str) -> Rows {
    // Two sizes no input has, to tell which one the rows follow.
    const B: usize = 1_000_003;
    const D: usize = 1_000_033;
    match spec.loss.input_shape(name, B, D).0 {
        B => Rows::Samples,
        D => Rows::Features,
        _ => Rows::Fixed,
    }
}

/// What the runs measured, per input with a gradient.
#[derive(Clone, Debug)]
pub struct Runs {
    /// Run by run (the identity order first): the largest `|error| / bound` over the entries.
    pub per_run: Vec<Vec<f64>>,
    /// How many entries erred at all (a non-zero error in at least one run).
    pub erred: Vec<usize>,
    /// How many entries each gradient has.
    pub entries: Vec<usize>,
    /// Entry by entry: the largest `|error|` over the runs (against the reference).
    pub max_error: Vec<DMatrix<f64>>,
}

impl Runs {
    /// The largest `|error| / bound` over the entries and the runs.
    pub fn ratios(&self) -> Vec<f64> {
        (0..self.erred.len())
            .map(|t| self.per_run.iter().map(|q| q[t]).fold(0.0, f64::max))
            .collect()
    }
}

/// Our evaluation at `inputs` in `tol.precision`'s arithmetic (float32; TF32 and bfloat16 with
/// emulated products, half the runs rounding stochastically) under [`runs`] summation orders, and
/// the error of each gradient relative to `tol`'s entries (with the reference's error, as the
/// checker compares). `Err` says why no estimate could be made.
pub fn measure(
    spec: &LossSpec,
    inputs: &[DMatrix<f64>],
    r: &Reference,
    tol: &Tolerance,
    progress: &Progress,
) -> Result<Runs, String> {
    let ng = r.out.grads.len();
    let names = spec.input_names(inputs.len());
    let (b, d) = inputs[0].shape();
    let tg = grad_tols(tol, r, ng);
    let products = match tol.precision {
        Precision::F32 => None,
        Precision::Tf32 => Some(Products::Tf32),
        Precision::Bf16 => Some(Products::Bf16),
        Precision::F64 => return Err("no estimate in f64".to_string()),
    };
    let arithmetic = arithmetic(tol.precision);
    let other = match spec.loss.official_algorithm(spec, b, d, tol.precision) {
        OfficialAlgorithm::Same => false,
        OfficialAlgorithm::Other(_) => true,
        OfficialAlgorithm::NotRun(why) => return Err(why),
    };
    let n_runs = runs(inputs.len(), b, d);
    let mut per_run = Vec::with_capacity(n_runs);
    let mut erred: Vec<DMatrix<bool>> = r
        .out
        .grads
        .iter()
        .map(|g| DMatrix::from_element(g.nrows(), g.ncols(), false))
        .collect();
    let mut max_error: Vec<DMatrix<f64>> = r
        .out
        .grads
        .iter()
        .map(|g| DMatrix::zeros(g.nrows(), g.ncols()))
        .collect();
    let mut rng = sslproof::hp::sample::Sampler::new(SEED, 53);
    progress.tell(0, n_runs);
    for run in 0..n_runs {
        let order = if run == 0 {
            Order::identity(b, d)
        } else {
            Order {
                samples: permutation(b, &mut rng),
                features: permutation(d, &mut rng),
            }
        };
        // Where the official codes take another algorithm, every other run is theirs.
        let official = other && run % 2 == 1;
        let eval = || {
            evaluate_in_order::<f32>(spec, inputs, &order, |xs| {
                if official {
                    Ok(spec.loss.evaluate_f32_official(spec, xs)?)
                } else {
                    spec.evaluate(None, xs)
                }
            })
        };
        // Emulated reduced precision: runs 0, 1 of every four round to nearest, runs 2, 3
        // stochastically (each from its own seed), so ours and the official algorithm are run
        // both ways.
        let out = match products {
            None => eval(),
            Some(p) => {
                let rounding = if run % 4 < 2 {
                    Rounding::Nearest
                } else {
                    Rounding::Random(SEED ^ (run as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15))
                };
                reduced(p, rounding, eval)
            }
        }
        .map_err(|e| match e {
            // The reference factored this matrix: it is positive definite, and only the reduced
            // arithmetic fails (the hint on the inputs that the error carries would mislead).
            SpecError::Batch(BatchError::NotPositiveDefinite { matrix, n, .. }) => format!(
                "our {arithmetic} evaluation fails here: the Cholesky factorisation of {matrix} \
                 ({n}×{n}), positive definite in the reference's arithmetic, fails in {arithmetic}"
            ),
            e => format!("our {arithmetic} evaluation fails here ({e})"),
        })?;
        let mut rho = vec![0f64; ng];
        for (t, g) in out.grads.iter().take(ng).enumerate() {
            let rg = &r.out.grads[t];
            for j in 0..g.ncols() {
                for i in 0..g.nrows() {
                    let e = (g[(i, j)] - rg[(i, j)]).abs();
                    // A NaN or an overflow in float32 gives no estimate.
                    if !e.is_finite() {
                        return Err(format!(
                            "our {arithmetic} gradient of {} is not finite at ({i}, {j})",
                            names[t]
                        ));
                    }
                    let q = if e == 0.0 { 0.0 } else { e / tg[t].at(i, j) };
                    if !q.is_finite() {
                        return Err(format!(
                            "our {arithmetic} gradient of {} errs by {e:.2e} at ({i}, {j}), where the bound allows no error",
                            names[t]
                        ));
                    }
                    rho[t] = rho[t].max(q);
                    max_error[t][(i, j)] = max_error[t][(i, j)].max(e);
                    erred[t][(i, j)] |= g[(i, j)] != rg[(i, j)];
                }
            }
        }
        per_run.push(rho);
        progress.tell(run + 1, n_runs);
    }
    Ok(Runs {
        per_run,
        max_error,
        entries: erred.iter().map(|m| m.len()).collect(),
        erred: erred
            .iter()
            .map(|m| m.iter().filter(|&&e| e).count())
            .collect(),
    })
}

/// The arithmetic of the estimate's runs at `precision`, as the reports name it: float32, or
/// float32 with the products emulated in TF32 or bfloat16.
fn arithmetic(precision: Precision) -> String {
    match precision {
        Precision::F32 | Precision::F64 => "float32".to_string(),
        p => format!("emulated {}", p.as_str()),
    }
}

/// A summation order: the samples and the features permuted (entry `i` of the permuted batch is
/// entry `samples[i]` of the original).
#[derive(Clone, Debug)]
pub struct Order {
    pub samples: Vec<usize>,
    pub features: Vec<usize>,
}

impl Order {
    pub fn identity(b: usize, d: usize) -> Order {
        Order {
            samples: (0..b).collect(),
            features: (0..d).collect(),
        }
    }

    /// A seeded random order.
    pub fn random(b: usize, d: usize, seed: u64) -> Order {
        let mut rng = sslproof::hp::sample::Sampler::new(seed, 53);
        Order {
            samples: permutation(b, &mut rng),
            features: permutation(d, &mut rng),
        }
    }

    fn rows(&self, k: Rows) -> Option<&[usize]> {
        match k {
            Rows::Samples => Some(&self.samples),
            Rows::Features => Some(&self.features),
            Rows::Fixed => None,
        }
    }
}

/// The loss evaluated in `T` on the inputs permuted by `order` (samples consistently in every
/// view, features in every input, a covariance input on both sides), its gradients permuted
/// back: the same loss at the same inputs, its sums run in another order. `eval` evaluates the
/// loss on the permuted inputs (`spec.evaluate(None, xs)`, or another algorithm).
pub fn evaluate_in_order<T: Evaluate>(
    spec: &LossSpec,
    inputs: &[DMatrix<f64>],
    order: &Order,
    eval: impl FnOnce(&[DMatrix<T>]) -> Result<Out<T>, SpecError>,
) -> Result<Out<f64>, SpecError> {
    let names = spec.input_names(inputs.len());
    let kinds: Vec<Rows> = names.iter().map(|n| row_kind(spec, n)).collect();
    let xs: Vec<DMatrix<T>> = inputs
        .iter()
        .zip(&kinds)
        .map(|(m, &k)| {
            let rows = order.rows(k);
            DMatrix::from_fn(m.nrows(), m.ncols(), |i, j| {
                k_of::<T>(m[(rows.map_or(i, |r| r[i]), order.features[j])])
            })
        })
        .collect();
    let out = eval(&xs)?;
    drop(xs);
    let grads = out
        .grads
        .iter()
        .zip(&kinds)
        .map(|(g, &k)| {
            let rows = order.rows(k);
            let mut back = DMatrix::zeros(g.nrows(), g.ncols());
            for j in 0..g.ncols() {
                for i in 0..g.nrows() {
                    back[(rows.map_or(i, |r| r[i]), order.features[j])] = to_f64(g[(i, j)]);
                }
            }
            back
        })
        .collect();
    Ok(Out {
        value: to_f64(out.value),
        grads,
    })
}

fn k_of<T: Evaluate>(x: f64) -> T {
    nalgebra::convert(x)
}

fn to_f64<T: Evaluate>(x: T) -> f64 {
    nalgebra::try_convert(x).unwrap_or(f64::NAN)
}

/// The tolerance `check` uses in `mode`: `bound` itself, or in float32 the bound scaled to the
/// error measured at `inputs` (see the module documentation).
pub fn apply(
    spec: &LossSpec,
    inputs: &[DMatrix<f64>],
    r: &Reference,
    bound: Tolerance,
    mode: TolMode,
    progress: &Progress,
) -> (Tolerance, Source) {
    let why = if mode == TolMode::Bound {
        Some("the bound was asked for (--tolerance bound)".to_string())
    } else if bound.precision == Precision::F64 {
        Some("no estimate in f64: the bound is used there".to_string())
    } else if bound.precision != Precision::F32 && !spec.loss.emulates_reduced_products() {
        Some(format!(
            "no estimate in {}: this loss's {} steps are not emulated here (only TF32 and bfloat16 matrix products are, and its float form has none)",
            bound.precision.as_str(),
            bound.precision.as_str()
        ))
    } else if r.out.grads.is_empty() {
        Some("the loss has no gradient to check".to_string())
    } else {
        None
    };
    if let Some(why) = why {
        return (bound, Source::Bound { why });
    }
    let runs_ = match measure(spec, inputs, r, &bound, progress) {
        Ok(m) => m,
        Err(why) => return (bound, Source::Bound { why }),
    };
    let rho = runs_.ratios();
    // Where our runs hardly err (a gradient that float32 computes exactly, as SimSiam's at
    // d = 1), they say nothing of another order's or another library's error: the bound.
    let factor =
        spec.loss
            .estimate_factor(spec, inputs[0].nrows(), inputs[0].ncols(), bound.precision);
    let floors: Vec<f64> = (0..rho.len())
        .map(|t| floor(r.out.grads[t].amax(), bound.grads[t]))
        .collect();
    let mut scales: Vec<f64> = rho
        .iter()
        .zip(runs_.erred.iter().zip(&runs_.entries))
        .zip(&floors)
        .map(|((&q, (&n, &all)), &f)| {
            if too_few_erred(n, all) {
                1.0
            } else {
                (factor * q).clamp(f, 1.0)
            }
        })
        .collect();
    // In TF32 and bfloat16, each entry's tolerance follows the errors of its row and its column
    // (see the module documentation, "Rows and columns"); in float32 one factor per input.
    let lines = matches!(bound.precision, Precision::Tf32 | Precision::Bf16);
    let tg = grad_tols(&bound, r, rho.len());
    let mut line_scales: Vec<Option<(f64, f64)>> = vec![None; rho.len()];
    let bound_untrustworthy = bound.untrustworthy.clone();
    let mut tol = bound;
    for (t, s) in scales.iter_mut().enumerate() {
        if lines && !too_few_erred(runs_.erred[t], runs_.entries[t]) {
            let e = &runs_.max_error[t];
            let b = match tol.entries.get(t).and_then(Option::as_ref) {
                Some(m) => m.clone(),
                None => DMatrix::from_element(e.nrows(), e.ncols(), tol.grads[t]),
            };
            let model = line_tolerance(e, &tg[t], &b, factor, floors[t]);
            // The factor each entry's bound was scaled by (1 where the bound is 0: nothing to
            // scale).
            let f = model.zip_map(&b, |m, b| if b > 0.0 { m / b } else { 1.0 });
            let (lo, hi) = (f.min(), f.max());
            line_scales[t] = Some((lo, hi));
            *s = hi;
            tol.grads[t] = model.max();
            if tol.entries.len() <= t {
                tol.entries.resize(t + 1, None);
            }
            tol.entries[t] = Some(model);
            continue;
        }
        tol.grads[t] *= *s;
        if let Some(Some(e)) = tol.entries.get_mut(t) {
            *e *= *s;
        }
    }
    // Trustworthiness is judged on the tolerance used: the value's (the bound's) and the
    // gradients' (the estimate's). The bound's condition-number rule (κ·u_eff > ½: its
    // first-order model may fail) gives way to the runs, which evaluated the loss, the
    // factorisation included, in every order and (where the official codes differ) algorithm.
    let mut why = range_reasons(&r.out, tol.precision);
    // Where our own correct runs err beyond the bound, its model fails at this input, and the
    // tolerance, held at most at the bound, would reject correct implementations: no
    // conclusion (the coding rate's feature form with d ≫ B and a small ε: docs/losses.md,
    // "Beyond the bound").
    let names = spec.input_names(inputs.len());
    for (t, &q) in rho.iter().enumerate() {
        if q > 1.0 && !too_few_erred(runs_.erred[t], runs_.entries[t]) {
            why.push(format!(
                "our own {} evaluations of gradient {} (of {}) err up to {q:.2} times the a-priori rounding error bound at these inputs: its model fails here, and a tolerance that a correct implementation exceeds cannot conclude",
                arithmetic(tol.precision),
                t + 1,
                names.get(t).map(String::as_str).unwrap_or("?"),
            ));
        }
    }
    why.extend(level_reasons(
        tol.value,
        &tol.grads,
        &tol.entries,
        &r.out,
        "rounding error bound",
        |t| {
            if scales.get(t).is_some_and(|&s| s < 1.0)
                || line_scales.get(t).is_some_and(Option::is_some)
            {
                "estimated tolerance"
            } else {
                "rounding error bound"
            }
        },
    ));
    tol.untrustworthy = (!why.is_empty()).then(|| why.join("; "));
    let precision = tol.precision;
    (
        tol,
        Source::Estimate(Estimate {
            precision,
            bound_untrustworthy,
            runs: runs(inputs.len(), inputs[0].nrows(), inputs[0].ncols()),
            official_algorithm: match spec.loss.official_algorithm(
                spec,
                inputs[0].nrows(),
                inputs[0].ncols(),
                precision,
            ) {
                OfficialAlgorithm::Other(a) => Some(a.to_string()),
                _ => None,
            },
            factor,
            floor: FLOOR,
            floors,
            line_scales,
            ratios: rho,
            erred: runs_.erred,
            entries: runs_.entries,
            scales,
        }),
    )
}
