//! The losses that `sslproof check` and `sslproof golden` know ([`LOSSES`], one line per loss;
//! each loss is one module implementing [`Loss`]), and a loss in one variant with its parameters
//! ([`LossSpec`]). See `../shared/reference-implementations.md` for the sources, and
//! `docs/losses.md` for the conventions table.

use std::collections::BTreeMap;
use std::fmt;

use nalgebra::DMatrix;
use rug::Float;
use sslproof::hp::Mat;

use crate::batch::{BatchError, LossAndGrad};
use crate::float::{Out, Real};
use crate::loss::{Loss, Mistake, Variant};
use crate::{align, barlow_twins, coding_rate, corinfomax, nt_xent, simsiam, uniformity, vicreg};

/// Every loss, in the order of the reports.
pub static LOSSES: &[&dyn Loss] = &[
    &vicreg::VICREG,
    &barlow_twins::BARLOW_TWINS,
    &coding_rate::CODING_RATE,
    &corinfomax::CORINFOMAX,
    &nt_xent::NT_XENT,
    &simsiam::SIMSIAM,
    &align::ALIGN,
    &uniformity::UNIFORMITY,
];

/// The loss named `name`.
pub fn find(name: &str) -> Option<&'static dyn Loss> {
    LOSSES.iter().copied().find(|l| l.name() == name)
}

/// The names of every loss.
pub fn names() -> Vec<&'static str> {
    LOSSES.iter().map(|l| l.name()).collect()
}

impl fmt::Debug for dyn Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for dyn Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl PartialEq for dyn Loss {
    fn eq(&self, other: &Self) -> bool {
        self.name() == other.name()
    }
}

/// Why a loss configuration or its inputs were refused.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("unknown loss {found:?}; known: {known}")]
    Loss { found: String, known: String },
    #[error("unknown variant {found:?} of {loss}; known: {known}")]
    Variant {
        loss: &'static str,
        found: String,
        known: String,
    },
    #[error("{loss} ({variant}) has no parameter {found:?}; its parameters: {known}")]
    Param {
        loss: &'static str,
        variant: &'static str,
        found: String,
        known: String,
    },
    #[error("parameter {name} = {value} is out of range: {why}")]
    ParamRange {
        name: String,
        value: f64,
        why: &'static str,
    },
    #[error("unknown mistake {0:?}")]
    Mistake(String),
    #[error("{loss} ({variant}) takes {expected} ({names}), got {found}")]
    InputCount {
        loss: &'static str,
        variant: &'static str,
        expected: String,
        names: String,
        found: usize,
    },
    #[error("input {name}: shape {found:?}, expected {expected}")]
    InputShape {
        name: String,
        found: (usize, usize),
        expected: String,
    },
    #[error(transparent)]
    Batch(#[from] BatchError),
    /// A covariance input (a running state) that is not symmetric positive semi-definite.
    #[error("input {name} must be a symmetric positive semi-definite covariance: {why}")]
    Covariance { name: String, why: String },
    /// The job would need more memory than the budget allows; decided before allocating.
    #[error(
        "{what} needs about {needed} of memory; the budget is {budget} (raise it with --max-memory)"
    )]
    TooLarge {
        what: String,
        needed: crate::npy::Bytes,
        budget: crate::npy::Bytes,
    },
    /// Finite inputs whose reference or tolerance is not finite: outside the range in which the
    /// reference can say anything about the user's numbers.
    #[error(
        "{what} is not finite ({value}): the inputs are outside the range the reference covers ({why})"
    )]
    OutOfRange {
        what: String,
        value: f64,
        why: &'static str,
    },
}

/// A loss in one variant with its parameters.
#[derive(Clone, Debug)]
pub struct LossSpec {
    pub loss: &'static dyn Loss,
    pub variant: &'static Variant,
    /// Every parameter of the variant, defaults overridden by the user's.
    pub params: BTreeMap<&'static str, f64>,
    /// The parameters the user set (the others are the variant's defaults).
    pub overridden: std::collections::BTreeSet<&'static str>,
}

/// Parameter spellings of the official code and of popular libraries, accepted for ours:
/// Barlow Twins' `--lambd`, CorInfoMax's `--la_R`/`--la_mu`/`--R_eps_weight`/`--sim_loss_weight`,
/// VICReg's `--sim-coeff`/`--std-coeff`/`--cov-coeff` (and their argparse names), lightly's
/// `temperature`.
pub const PARAM_ALIASES: &[(&str, &str)] = &[
    ("lambd", "lambda"),
    ("la_R", "la_r"),
    ("R_eps_weight", "eps"),
    ("sim_loss_weight", "alpha"),
    ("sim_coeff", "sim"),
    ("std_coeff", "std"),
    ("cov_coeff", "cov"),
    ("sim-coeff", "sim"),
    ("std-coeff", "std"),
    ("cov-coeff", "cov"),
    ("temperature", "tau"),
];

impl LossSpec {
    /// `variant = None` takes the default (the official code's convention).
    pub fn new(
        loss: &'static dyn Loss,
        variant: Option<&str>,
        overrides: &[(String, f64)],
    ) -> Result<Self, SpecError> {
        let vs = loss.variants();
        let v = match variant {
            None => &vs[0],
            Some(name) => vs
                .iter()
                .find(|v| v.name == name)
                .ok_or_else(|| SpecError::Variant {
                    loss: loss.name(),
                    found: name.to_string(),
                    known: vs.iter().map(|v| v.name).collect::<Vec<_>>().join(", "),
                })?,
        };
        let mut params: BTreeMap<&'static str, f64> =
            v.params.iter().map(|p| (p.name, p.default)).collect();
        let mut overridden = std::collections::BTreeSet::new();
        for (name, value) in overrides {
            let canonical = PARAM_ALIASES
                .iter()
                .find(|(alias, _)| alias == name)
                .map_or(name.as_str(), |(_, to)| to);
            let p = v
                .params
                .iter()
                .find(|p| p.name == canonical)
                .ok_or_else(|| SpecError::Param {
                    loss: loss.name(),
                    variant: v.name,
                    found: name.clone(),
                    known: if v.params.is_empty() {
                        "none".into()
                    } else {
                        v.params
                            .iter()
                            .map(|p| p.name)
                            .collect::<Vec<_>>()
                            .join(", ")
                    },
                })?;
            if let Some(why) = p.range.refuses(*value) {
                return Err(SpecError::ParamRange {
                    name: name.clone(),
                    value: *value,
                    why,
                });
            }
            params.insert(p.name, *value);
            overridden.insert(p.name);
        }
        Ok(LossSpec {
            loss,
            variant: v,
            params,
            overridden,
        })
    }

    /// The loss named `loss` (see [`LOSSES`]). Parameters may be given under the official code's
    /// spellings too ([`PARAM_ALIASES`]).
    pub fn named(
        loss: &str,
        variant: Option<&str>,
        overrides: &[(String, f64)],
    ) -> Result<Self, SpecError> {
        let l = find(loss).ok_or_else(|| SpecError::Loss {
            found: loss.to_string(),
            known: names().join(", "),
        })?;
        LossSpec::new(l, variant, overrides)
    }

    pub fn p(&self, name: &str) -> f64 {
        self.params[name]
    }

    /// The parameter `name` if the variant has it.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.params.get(name).copied()
    }

    /// The same loss in another variant: the parameters the user set carry over, the others take
    /// that variant's defaults.
    pub fn as_variant(&self, v: &'static Variant) -> LossSpec {
        // The user's settings carry over; a parameter the user left alone takes the other
        // variant's own default (variants that differ only in a default, lightly's Barlow Twins
        // λ = 0.005 or its uniformity t = 1, are then told apart).
        let params = v
            .params
            .iter()
            .map(|p| {
                let mine = self.params.get(p.name).copied();
                let keep = self.overridden.contains(p.name);
                (
                    p.name,
                    if keep {
                        mine.unwrap_or(p.default)
                    } else {
                        p.default
                    },
                )
            })
            .collect();
        LossSpec {
            loss: self.loss,
            variant: v,
            params,
            overridden: self.overridden.clone(),
        }
    }

    /// The names of the inputs, for `n` inputs given.
    pub fn input_names(&self, n: usize) -> Vec<String> {
        self.loss.input_names(self.variant, n)
    }

    /// How many of the inputs have a gradient (the leading ones).
    pub fn grad_count(&self, n_inputs: usize) -> usize {
        self.loss.grad_count(self.variant, n_inputs)
    }

    /// The common mistakes that change this variant's loss.
    pub fn mistakes(&self) -> Vec<&'static Mistake> {
        self.loss
            .mistakes()
            .iter()
            .filter(|m| self.loss.mistake_applies(self.variant, m))
            .collect()
    }

    /// Checks the number and shapes of the inputs; every error names the input.
    pub fn validate_inputs<T: Real>(&self, inputs: &[DMatrix<T>]) -> Result<(), SpecError> {
        let names = self.input_names(inputs.len());
        let variable = self.loss.variable_views(self.variant);
        if (variable && inputs.len() < 2) || (!variable && inputs.len() != names.len()) {
            return Err(SpecError::InputCount {
                loss: self.loss.name(),
                variant: self.variant.name,
                expected: if variable {
                    "2 or more inputs".into()
                } else {
                    format!("{} inputs", names.len())
                },
                names: names.join(" "),
                found: inputs.len(),
            });
        }
        let (b, d) = inputs[0].shape();
        for (name, z) in names.iter().zip(inputs) {
            let expected = self.loss.input_shape(name, b, d);
            if z.shape() != expected {
                return Err(SpecError::InputShape {
                    name: name.clone(),
                    found: z.shape(),
                    expected: format!("{} × {} (like {})", expected.0, expected.1, names[0]),
                });
            }
        }
        if b == 0 || d == 0 {
            return Err(BatchError::Empty { b, d }.into());
        }
        for (name, z) in names.iter().zip(inputs) {
            if self.loss.covariance_inputs().contains(&name.as_str()) {
                check_covariance(name, z)?;
            }
        }
        Ok(())
    }

    /// The loss and its gradients in `T` (`f64` or `f32`), in this convention or with one of the
    /// loss's mistakes planted.
    pub fn evaluate<T: Evaluate>(
        &self,
        mistake: Option<&str>,
        inputs: &[DMatrix<T>],
    ) -> Result<Out<T>, SpecError> {
        self.validate_inputs(inputs)?;
        if let Some(m) = mistake
            && !self.loss.mistakes().iter().any(|x| x.id == m)
        {
            return Err(SpecError::Mistake(m.to_string()));
        }
        Ok(T::evaluate(self, mistake, inputs)?)
    }

    /// The loss at `prec` bits (MPFR), where the high-precision form has this convention.
    pub fn evaluate_hp(&self, inputs: &[Mat], prec: u32) -> Option<Result<LossAndGrad, SpecError>> {
        self.loss
            .evaluate_hp(self, inputs, prec)
            .map(|r| r.map_err(SpecError::from))
    }

    /// Bytes the check of a `B × d` batch with `n_inputs` inputs holds at once, an upper estimate:
    /// eight `B × d` matrices per input (inputs, the user's and the reference's gradients, the
    /// diagnosis's one variant at a time, magnitudes) plus the loss's scratch matrices
    /// ([`Loss::scratch`]), 8 bytes an element in f64, and as much again at `32 + 8⌈prec/64⌉`
    /// bytes an element when the reference is MPFR at `hp_prec` bits (an MPFR number is a
    /// 32-byte header and its limbs; the scratch at `min(N, d)` squared only where the loss's
    /// reference works on the smaller side, [`crate::loss::Scratch::hp_min_side`]); plus four f64 `B × d` matrices per input for the per-entry
    /// tolerances. Calibrated against the peak resident memory of `check` at
    /// one large size per loss (docs/losses.md, "Memory"). Checked arithmetic: `None` past
    /// `u128`.
    pub fn working_set(
        &self,
        b: usize,
        d: usize,
        n_inputs: usize,
        hp_prec: Option<u32>,
    ) -> Option<u128> {
        let s = self.loss.scratch();
        let (b, d, n) = (b as u128, d as u128, n_inputs as u128);
        let rows = n.checked_mul(b)?;
        let inputs = rows.checked_mul(d)?.checked_mul(8)?;
        let dd = d.checked_mul(d)?.checked_mul(u128::from(s.dd))?;
        let nn = rows.checked_mul(rows)?.checked_mul(u128::from(s.nn))?;
        let elements = inputs.checked_add(dd)?.checked_add(nn)?;
        // The MPFR reference's elements: the same, or its scratch at the smaller side only.
        let hp_elements = if s.hp_min_side {
            let side = rows.min(d);
            let square = side.checked_mul(side)?;
            square
                .checked_mul(u128::from(s.dd + s.nn))?
                .checked_add(inputs)?
        } else {
            elements
        };
        let hp_bytes = hp_prec.map_or(0, |p| 32 + 8 * u128::from(p.div_ceil(64)));
        // The per-entry tolerances, in f64 whatever the reference: the accumulation and operand
        // magnitudes, the tolerance and the comparison's copy, one `B × d` matrix each per input.
        let per_entry = rows.checked_mul(d)?.checked_mul(4 * 8)?;
        elements
            .checked_mul(8)?
            .checked_add(hp_elements.checked_mul(hp_bytes)?)?
            .checked_add(per_entry)
    }

    /// Work of the MPFR reference in multiply-adds.
    pub fn hp_work(&self, b: usize, d: usize, n_inputs: usize) -> f64 {
        self.loss.hp_work(self, b, d, n_inputs)
    }

    /// The parameter `name` as an exact decimal at `prec` bits.
    pub fn p_hp(&self, name: &str, prec: u32) -> Float {
        param_hp(self.p(name), prec)
    }
}

/// The float types a loss evaluates in, dispatched to the loss's `f64` or `f32` method.
pub trait Evaluate: Real {
    fn evaluate(
        spec: &LossSpec,
        mistake: Option<&str>,
        inputs: &[DMatrix<Self>],
    ) -> Result<Out<Self>, BatchError>;
}

impl Evaluate for f64 {
    fn evaluate(
        spec: &LossSpec,
        mistake: Option<&str>,
        inputs: &[DMatrix<f64>],
    ) -> Result<Out<f64>, BatchError> {
        spec.loss.evaluate_f64(spec, mistake, inputs)
    }
}

impl Evaluate for f32 {
    fn evaluate(
        spec: &LossSpec,
        mistake: Option<&str>,
        inputs: &[DMatrix<f32>],
    ) -> Result<Out<f32>, BatchError> {
        spec.loss.evaluate_f32(spec, mistake, inputs)
    }
}

/// A parameter as an exact decimal at `prec` bits (`1e-4` is 1/10000, not the nearest double).
pub fn param_hp(x: f64, prec: u32) -> Float {
    let s = format!("{x:e}");
    Float::with_val(
        prec,
        Float::parse(&s).expect("a finite f64 prints as a decimal"),
    )
}

/// Symmetric and positive semi-definite, to the rounding of a float32 computation: asymmetry up to
/// 2⁻¹⁶ of the largest entry (float32 products are symmetric to about 2⁻²³ of it; a factor 128 of
/// room), eigenvalues down to −2⁻¹⁶ of the largest (the same room for a rank-deficient estimate).
fn check_covariance<T: Real>(name: &str, m: &DMatrix<T>) -> Result<(), SpecError> {
    let f = m.map(|x| nalgebra::try_convert::<T, f64>(x).unwrap_or(f64::NAN));
    let scale = f.amax();
    let slack = scale * 2f64.powi(-16);
    let err = |why: String| SpecError::Covariance {
        name: name.to_string(),
        why,
    };
    for i in 0..f.nrows() {
        for j in 0..i {
            let gap = (f[(i, j)] - f[(j, i)]).abs();
            if gap.is_nan() || gap > slack {
                return Err(err(format!(
                    "entries ({i}, {j}) = {:e} and ({j}, {i}) = {:e} differ",
                    f[(i, j)],
                    f[(j, i)]
                )));
            }
        }
    }
    let sym = (&f + f.transpose()) * 0.5;
    let lmin = sym.symmetric_eigenvalues().min();
    if lmin.is_nan() || lmin < -slack {
        return Err(err(format!(
            "its smallest eigenvalue is {lmin:e} (the largest entry is {scale:e}): it is indefinite"
        )));
    }
    Ok(())
}
