//! # Alignment (Wang & Isola, ICML 2020)
//!
//! Official code (`SsnL/align_uniform`, `align_loss`): `mean_i ‖x_i − y_i‖^α`, `α = 2`
//! (reference-implementations.md §3.1).
//!
//! This module holds the loss whole: the MPFR form with its gradients, the float form with its
//! convention knobs, the variants and common mistakes, and the rounding-model magnitudes.

use nalgebra::DMatrix;
use rug::Float;
use sslproof::hp::Mat;

use crate::batch::{BatchError, LossAndGrad, check_views, dot, row};
use crate::float::{Out, Real, k, require_views};
use crate::loss::{Loss, Mistake, Range, Variant, float_evaluations, param};
use crate::registry::LossSpec;
use crate::rounding::{Magnitudes, Mode};

// ---------------------------------------------------------------------------------------------
// MPFR
// ---------------------------------------------------------------------------------------------

/// Wang & Isola's alignment `mean_i ‖x_i − y_i‖^α` (official default `α = 2`), gradients for
/// `(x, y)`.
pub fn loss(x: &Mat, y: &Mat, alpha: u32) -> Result<LossAndGrad, BatchError> {
    check_views(x, y)?;
    let (b, d, prec) = (x.rows(), x.cols(), x.prec());
    let diff = x.sub(y)?;
    let mut value = Float::new(prec);
    let mut g = Mat::zeros(b, d, prec);
    for i in 0..b {
        let r = row(&diff, i);
        let n2 = dot(&r, &r);
        let n = Float::with_val(prec, n2.sqrt_ref());
        value += Float::with_val(prec, rug::ops::Pow::pow(n.clone(), alpha));
        // ∂‖r‖^α/∂r = α ‖r‖^(α−2) r.
        let coef = if alpha == 2 {
            Float::with_val(prec, 2)
        } else {
            Float::with_val(prec, rug::ops::Pow::pow(n, alpha as i32 - 2)) * alpha
        };
        for j in 0..d {
            *g.at_mut(i, j) = Float::with_val(prec, &coef * &r[j]) / b as u64;
        }
    }
    let gy = g.scale(&Float::with_val(prec, -1));
    Ok(LossAndGrad {
        value: value / b as u64,
        grads: vec![g, gy],
    })
}

// ---------------------------------------------------------------------------------------------
// Float
// ---------------------------------------------------------------------------------------------
/// Wang & Isola's alignment (reference-implementations.md §3.1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Knobs {
    /// The exponent `α` (official 2).
    pub alpha: f64,
    /// Mean over the batch; `false`: a sum.
    pub mean: bool,
}

/// `mean_i ‖x_i − y_i‖^α`, gradients for `(x, y)`.
pub fn float<T: Real>(x: &DMatrix<T>, y: &DMatrix<T>, kn: &Knobs) -> Result<Out<T>, BatchError> {
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

// ---------------------------------------------------------------------------------------------
// Variants, mistakes, rounding magnitudes
// ---------------------------------------------------------------------------------------------

static VARIANTS: &[Variant] = &[Variant {
    name: "official",
    source: "SsnL/align_uniform align_loss",
    formula: "mean_i ‖x_i − y_i‖^α",
    params: &[param("alpha", 2.0, Range::Positive)],
}];

static MISTAKES: &[Mistake] = &[
    Mistake {
        id: "unsquared",
        says: "‖x − y‖ instead of ‖x − y‖² (α = 1)",
    },
    Mistake {
        id: "sum",
        says: "summed over the batch instead of averaged",
    },
];

/// Alignment in the spec's convention, or with a mistake planted, in `T`.
fn evaluate<T: Real>(
    spec: &LossSpec,
    mistake: Option<&str>,
    inputs: &[DMatrix<T>],
) -> Result<Out<T>, BatchError> {
    let is = |id: &str| mistake == Some(id);
    let kn = Knobs {
        alpha: if is("unsquared") {
            1.0
        } else {
            spec.p("alpha")
        },
        mean: !is("sum"),
    };
    float(&inputs[0], &inputs[1], &kn)
}

/// Wang & Isola's alignment (the registry's entry).
pub struct Align;

/// The registry's alignment.
pub static ALIGN: Align = Align;

impl Loss for Align {
    fn name(&self) -> &'static str {
        "align"
    }

    fn variants(&self) -> &'static [Variant] {
        VARIANTS
    }

    fn mistakes(&self) -> &'static [Mistake] {
        MISTAKES
    }

    fn input_names(&self, _variant: &Variant, _n: usize) -> Vec<String> {
        vec!["x".into(), "y".into()]
    }

    float_evaluations!();

    /// The MPFR form takes an integer exponent `α ∈ [1, 16]`; other `α` have no MPFR reference.
    fn evaluate_hp(
        &self,
        spec: &LossSpec,
        inputs: &[Mat],
        _prec: u32,
    ) -> Option<Result<LossAndGrad, BatchError>> {
        let a = spec.p("alpha");
        if a.fract() != 0.0 || !(1.0..=16.0).contains(&a) {
            return None;
        }
        Some(loss(&inputs[0], &inputs[1], a as u32))
    }

    fn scratch(&self) -> crate::loss::Scratch {
        crate::loss::Scratch {
            dd: 0,
            nn: 0,
            hp_min_side: false,
        }
    }

    fn hp_work(&self, _spec: &LossSpec, b: usize, d: usize, _n: usize) -> f64 {
        4.0 * b as f64 * d as f64
    }

    fn unit_rows(&self) -> bool {
        true
    }

    /// Cosine similarities, norms, `pdist`: no matrix product (float32 under autocast), so no
    /// operand-rounding part.
    fn magnitudes(
        &self,
        spec: &LossSpec,
        inputs: &[DMatrix<f64>],
        out: &Out<f64>,
        mode: Mode,
    ) -> Magnitudes {
        if mode == Mode::Rss {
            return Magnitudes {
                grads: vec![0.0; 2],
                ..Magnitudes::default()
            };
        }
        let (b, d) = inputs[0].shape();
        let alpha = spec.p("alpha");
        let diff = &inputs[0] - &inputs[1];
        let value = (alpha + 1.0) * out.value.abs();
        // Row i's gradient is ±α‖δ_i‖^{α−2}δ_i/B (δ = z1 − z2, each entry a correctly rounded
        // difference): ‖δ_i‖ errs by ½ relative per √n·u, its power α − 1 or α − 2 by |α − 1|
        // or |α − 2| times that (autograd through `norm(dim=1).pow(α)` divides by ‖δ_i‖ once
        // more), and a few elementwise roundings add 4/√n. (α + 1)·|g_ij| covers these for
        // every α ≥ 0, entry by entry (before: α(α + 1)·max_i‖δ_i‖^{α−1}/B for every entry).
        // One rounding of each input entry, (|z1_ij| + |z2_ij|)/√n per √n·u, is allowed on top:
        // an implementation that rounds its inputs to its precision first (inputs given in
        // float64, computed in float32) moves a difference near zero by that much.
        let n_sqrt = (b.max(d) as f64).sqrt();
        let mut e = DMatrix::zeros(b, d);
        for i in 0..b {
            let r = diff.row(i).norm();
            if r > 0.0 {
                let k = alpha * r.powf(alpha - 2.0) / b as f64;
                for j in 0..d {
                    let input = (inputs[0][(i, j)].abs() + inputs[1][(i, j)].abs()) / n_sqrt;
                    e[(i, j)] = k
                        * (diff[(i, j)].abs() * (alpha + 1.0 + 4.0 / n_sqrt)
                            + (alpha + 1.0) * input);
                }
            }
        }
        let grads = vec![e.amax(); 2];
        Magnitudes {
            value,
            grads,
            entries: vec![Some(e.clone()), Some(e)],
            ..Magnitudes::default()
        }
    }
}
