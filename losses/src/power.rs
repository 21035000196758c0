//! The checker's power: the smallest error in a user's numbers that `check` rejects, for a loss
//! at given inputs and precision (`docs/validation/power.md` records the table; a test holds it).
//!
//! The user's numbers start from a *correct* implementation in the user's arithmetic (the f64
//! loss for `f64`, the same algorithms evaluated in `f32` for `f32`); one error is planted, of
//! size `δ`, and the smallest `δ` that the comparison rejects is found by bisection on `log δ`
//! (the reference and tolerance are computed once; only the comparison is repeated). The
//! unperturbed numbers must be accepted: a false rejection is reported as such.

use nalgebra::DMatrix;

use crate::checker::{self, Options, Reference, UserNumbers};
use crate::estimate::{self, Source, TolMode};
use crate::registry::{LossSpec, SpecError};
use crate::rounding::{self, Precision, Tolerance};

/// The planted error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// The first input's whole gradient scaled by `1 + δ`.
    GradScale,
    /// The largest-magnitude entry of the first input's gradient scaled by `1 + δ`.
    LargestEntry,
    /// The median-magnitude entry of the first input's gradient scaled by `1 + δ`.
    MedianEntry,
    /// The value scaled by `1 + δ`.
    Value,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 4] = [
        ErrorKind::GradScale,
        ErrorKind::LargestEntry,
        ErrorKind::MedianEntry,
        ErrorKind::Value,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::GradScale => "gradient × (1+δ)",
            ErrorKind::LargestEntry => "largest entry × (1+δ)",
            ErrorKind::MedianEntry => "median entry × (1+δ)",
            ErrorKind::Value => "value × (1+δ)",
        }
    }
}

/// What the measurement found for one kind of error.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Power {
    pub kind: ErrorKind,
    /// The smallest rejected `δ` (within a factor 2^(1/8)), or `None` if even `δ = 10` passes.
    pub smallest_rejected: Option<f64>,
}

/// The measurement at one input and precision.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PowerReport {
    pub precision: Precision,
    /// The correct implementation's own numbers were accepted.
    pub correct_accepted: bool,
    /// The comparison concludes nothing at this precision (exit 3): no power to measure.
    pub untrustworthy: bool,
    /// The correct implementation's largest gradient error relative to its tolerance, and the
    /// same for the value: how far the tolerance is from the real error (1 = tight).
    pub grad_error_over_tolerance: f64,
    pub value_error_over_tolerance: f64,
    pub powers: Vec<Power>,
    /// Where our float32 implementation fails at these inputs (a covariance it cannot factor),
    /// why: the correct numbers are then the float64 implementation's (a correct implementation
    /// more precise than the user's), and the error ratios are of those.
    pub f32_failed: Option<String>,
    /// The tolerance compared against: the bound, or the estimate at these inputs.
    pub source: Source,
}

/// The correct implementation's numbers in `precision` (f64 or f32 arithmetic; TF32 and bf16 are
/// not emulated here).
fn correct(
    spec: &LossSpec,
    inputs: &[DMatrix<f64>],
    precision: Precision,
) -> Result<UserNumbers, SpecError> {
    let ng = spec.grad_count(inputs.len());
    let (value, grads) = match precision {
        Precision::F64 => {
            let o = spec.evaluate(None, inputs)?;
            (o.value, o.grads)
        }
        _ => {
            let xs: Vec<DMatrix<f32>> = inputs.iter().map(|m| m.map(|x| x as f32)).collect();
            // TF32 and bfloat16: our float form with its matrix products emulated (rounding to
            // nearest), where the loss has them; float32 otherwise (a more accurate correct
            // implementation).
            let products = match precision {
                Precision::Tf32 => Some(crate::kernels::Products::Tf32),
                Precision::Bf16 => Some(crate::kernels::Products::Bf16),
                _ => None,
            }
            .filter(|_| spec.loss.emulates_reduced_products());
            let o = match products {
                Some(p) => crate::kernels::reduced(p, crate::kernels::Rounding::Nearest, || {
                    spec.evaluate(None, &xs)
                })?,
                None => spec.evaluate(None, &xs)?,
            };
            (
                o.value as f64,
                o.grads.into_iter().map(|g| g.map(|x| x as f64)).collect(),
            )
        }
    };
    Ok(UserNumbers {
        value,
        grads: Some(grads.into_iter().take(ng).collect()),
    })
}

/// `true` when the comparison rejects `user` (disagrees; an untrustworthy comparison rejects
/// nothing).
fn rejects(tol: &Tolerance, r: &Reference, names: &[String], user: &UserNumbers) -> bool {
    tol.untrustworthy.is_none() && checker::first_disagreement(tol, r, names, user).is_some()
}

fn plant(user: &UserNumbers, kind: ErrorKind, delta: f64) -> UserNumbers {
    let mut u = user.clone();
    let g = &mut u.grads.as_mut().expect("gradients")[0];
    match kind {
        ErrorKind::Value => u.value *= 1.0 + delta,
        ErrorKind::GradScale => *g *= 1.0 + delta,
        ErrorKind::LargestEntry | ErrorKind::MedianEntry => {
            let mut idx: Vec<usize> = (0..g.len()).collect();
            idx.sort_by(|&a, &b| g[a].abs().total_cmp(&g[b].abs()));
            let at = if kind == ErrorKind::LargestEntry {
                idx[idx.len() - 1]
            } else {
                idx[idx.len() / 2]
            };
            g[at] *= 1.0 + delta;
        }
    }
    u
}

/// The power of `check` at `inputs` in `precision` for every [`ErrorKind`], with the tolerance
/// of `mode`.
pub fn measure(
    spec: &LossSpec,
    inputs: &[DMatrix<f64>],
    precision: Precision,
    mode: TolMode,
) -> Result<PowerReport, SpecError> {
    let opts = Options {
        precision,
        tolerance: mode,
        ..Options::default()
    };
    let r = checker::reference(spec, inputs, &opts)?;
    let bound = rounding::tolerance(&r.scale, &r.out64, precision);
    let (tol, source) = estimate::apply(spec, inputs, &r, bound, mode, &opts.progress);
    let names = spec.input_names(inputs.len());
    let (user, f32_failed) = match correct(spec, inputs, precision) {
        Ok(u) => (u, None),
        Err(e) if precision != Precision::F64 => {
            (correct(spec, inputs, Precision::F64)?, Some(e.to_string()))
        }
        Err(e) => return Err(e),
    };
    let untrustworthy = tol.untrustworthy.is_some();
    let correct_accepted = checker::first_disagreement(&tol, &r, &names, &user).is_none();
    let (value_ratio, grad_ratio) = checker::error_over_tolerance(&tol, &r, &user);
    let mut powers = Vec::new();
    for kind in ErrorKind::ALL {
        let rej = |d: f64| rejects(&tol, &r, &names, &plant(&user, kind, d));
        // log2 δ from −60 (≈ 10⁻¹⁸) to log2 10; bisection to 1/8 of a binary order.
        let (mut lo, mut hi) = (-60.0f64, 10f64.log2());
        let smallest = if untrustworthy || !rej(hi.exp2()) {
            None
        } else if rej(lo.exp2()) {
            Some(lo.exp2())
        } else {
            while hi - lo > 0.125 {
                let mid = 0.5 * (lo + hi);
                if rej(mid.exp2()) {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            Some(hi.exp2())
        };
        powers.push(Power {
            kind,
            smallest_rejected: smallest,
        });
    }
    Ok(PowerReport {
        precision,
        correct_accepted,
        untrustworthy,
        grad_error_over_tolerance: grad_ratio,
        value_error_over_tolerance: value_ratio,
        powers,
        f32_failed,
        source,
    })
}
