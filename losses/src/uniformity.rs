//! # Uniformity (Wang & Isola, ICML 2020)
//!
//! Official code (`SsnL/align_uniform`, `uniform_loss`): `log mean_{i<j} exp(−t‖x_i − x_j‖²)`
//! over the pairs `i < j` (`pdist`), `t = 2`; lightly's `HypersphereLoss` uses `t = 1`
//! (reference-implementations.md §3.1).
//!
//! This module holds the loss whole: the MPFR form with its gradients, the float form with its
//! convention knobs, the variants and common mistakes, and the rounding-model magnitudes.

use nalgebra::DMatrix;
use rug::Float;
use sslproof::hp::Mat;

use crate::batch::{BatchError, LossAndGrad, dot};
use crate::float::{Out, Real, k};
use crate::loss::{Loss, Mistake, Range, Variant, float_evaluations, param};
use crate::registry::LossSpec;
use crate::rounding::{Magnitudes, Mode};

// ---------------------------------------------------------------------------------------------
// MPFR
// ---------------------------------------------------------------------------------------------

/// Wang & Isola's uniformity `log mean_{i<j} exp(−t‖x_i − x_j‖²)` (official default `t = 2`;
/// `pdist` uses pairs `i < j` only), gradient for `x`.
pub fn loss(x: &Mat, t: &Float) -> Result<LossAndGrad, BatchError> {
    let (b, d, prec) = (x.rows(), x.cols(), x.prec());
    if b < 2 {
        return Err(BatchError::TooFewSamples {
            b,
            why: "uniformity (a mean over the pairs i < j)",
        });
    }
    x.require_finite()?;
    let mut weights = Vec::new();
    let mut total = Float::new(prec);
    for i in 0..b {
        for j in (i + 1)..b {
            let r: Vec<Float> = (0..d)
                .map(|c| Float::with_val(prec, x.at(i, c) - x.at(j, c)))
                .collect();
            let w = (-Float::with_val(prec, t * dot(&r, &r))).exp();
            total += &w;
            weights.push((i, j, w, r));
        }
    }
    let pairs = weights.len() as u64;
    let value = Float::with_val(prec, &total / pairs).ln();
    // ∂/∂x_i of log Σ w = Σ_pairs (w/Σw)(−2t)(x_i − x_j), opposite sign for x_j.
    let mut g = Mat::zeros(b, d, prec);
    for (i, j, w, r) in &weights {
        let coef = Float::with_val(prec, w / &total) * Float::with_val(prec, t * -2i32);
        for c in 0..d {
            let v = Float::with_val(prec, &coef * &r[c]);
            *g.at_mut(*i, c) += &v;
            *g.at_mut(*j, c) -= &v;
        }
    }
    Ok(LossAndGrad {
        value,
        grads: vec![g],
    })
}

// ---------------------------------------------------------------------------------------------
// Float
// ---------------------------------------------------------------------------------------------
/// Wang & Isola's uniformity (reference-implementations.md §3.1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Knobs {
    /// `t` (official 2, lightly 1).
    pub t: f64,
    /// Average over all `B²` ordered pairs, the `B` pairs `(i, i)` included (a mistake: `pdist`
    /// takes `i < j`).
    pub include_self: bool,
    /// `exp(−t‖·‖²)`; `false`: the distance unsquared.
    pub squared: bool,
}

/// `log mean_{i<j} exp(−t‖x_i − x_j‖²)`, gradient for `x`.
pub fn float<T: Real>(x: &DMatrix<T>, kn: &Knobs) -> Result<Out<T>, BatchError> {
    let (b, d) = crate::float::require_batch_for(x, 2, "uniformity (a mean over the pairs i < j)")?;
    let t: T = k(kn.t);
    // One (i, j, exponent, distance) per pair; the difference x_i − x_j is recomputed (the same
    // arithmetic) in the gradient loop rather than kept: B²/2 rows of length d would be a
    // working set far beyond what `Scratch` declares once d exceeds a hundred or so.
    let mut pairs = Vec::with_capacity(b * (b - 1) / 2);
    // The samples as contiguous columns (the same numbers, read without a stride).
    let xt = x.transpose();
    // log-mean-exp with the largest exponent taken out (the exponents are ≤ 0).
    let mut m = T::min_value().unwrap();
    for i in 0..b {
        for j in (i + 1)..b {
            let r = xt.column(i) - xt.column(j);
            // Summed in order, as the row's norm was (a column's is unrolled: other bits).
            let n = r.iter().fold(T::zero(), |s, &v| s + v * v).sqrt();
            let e = -t * if kn.squared { n * n } else { n };
            m = m.max(e);
            pairs.push((i, j, e, n));
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
    // Accumulated by columns (sample i in column i), transposed at the end.
    let mut gt = DMatrix::zeros(d, b);
    for &(i, j, e, n) in &pairs {
        let r = xt.column(i) - xt.column(j);
        let w = (e - m).exp() * mult / total;
        let coef = if kn.squared {
            -t * k::<T>(2.0)
        } else if n > T::zero() {
            -t / n
        } else {
            T::zero()
        };
        let v = r * (w * coef);
        let mut gi = gt.column_mut(i);
        gi += &v;
        let mut gj = gt.column_mut(j);
        gj -= &v;
    }
    Ok(Out {
        value,
        grads: vec![gt.transpose()],
    })
}

// ---------------------------------------------------------------------------------------------
// Variants, mistakes, rounding magnitudes
// ---------------------------------------------------------------------------------------------

static VARIANTS: &[Variant] = &[
    Variant {
        name: "official",
        source: "SsnL/align_uniform uniform_loss (pdist: pairs i < j)",
        formula: "log mean_{i<j} exp(−t‖x_i − x_j‖²)",
        params: &[param("t", 2.0, Range::Positive)],
    },
    Variant {
        name: "lightly",
        source: "lightly HypersphereLoss's uniformity term (per view)",
        formula: "as official with t = 1",
        params: &[param("t", 1.0, Range::Positive)],
    },
];

static MISTAKES: &[Mistake] = &[
    Mistake {
        id: "include-self",
        says: "the pairs (i, i) included: mean over all n² pairs instead of i < j",
    },
    Mistake {
        id: "unsquared",
        says: "exp(−t‖x_i − x_j‖) instead of exp(−t‖x_i − x_j‖²)",
    },
];

/// Uniformity in the spec's convention, or with a mistake planted, in `T`.
fn evaluate<T: Real>(
    spec: &LossSpec,
    mistake: Option<&str>,
    inputs: &[DMatrix<T>],
) -> Result<Out<T>, BatchError> {
    let is = |id: &str| mistake == Some(id);
    let kn = Knobs {
        t: spec.p("t"),
        include_self: is("include-self"),
        squared: !is("unsquared"),
    };
    float(&inputs[0], &kn)
}

/// Wang & Isola's uniformity (the registry's entry).
pub struct Uniformity;

/// The registry's uniformity.
pub static UNIFORMITY: Uniformity = Uniformity;

impl Loss for Uniformity {
    fn name(&self) -> &'static str {
        "uniformity"
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

    fn evaluate_hp(
        &self,
        spec: &LossSpec,
        inputs: &[Mat],
        prec: u32,
    ) -> Option<Result<LossAndGrad, BatchError>> {
        Some(loss(&inputs[0], &spec.p_hp("t", prec)))
    }

    fn scratch(&self) -> crate::loss::Scratch {
        crate::loss::Scratch {
            dd: 0,
            nn: 64,
            hp_min_side: false,
        }
    }

    fn hp_work(&self, _spec: &LossSpec, b: usize, d: usize, _n: usize) -> f64 {
        (b * b) as f64 * d as f64
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
                grads: vec![0.0; 1],
                ..Magnitudes::default()
            };
        }
        // First order, per unit roundoff, every pair (i, j) with weight p_ij = e^{−t s_ij}/S:
        // - s_ij = ‖x_i − x_j‖² errs by at most σ_ij = (‖x_i‖ + ‖x_j‖)² (a difference of
        //   squares through the Gram matrix, as `cdist` computes it for more than 25 rows,
        //   cancels; the direct difference errs by s_ij ≤ σ_ij);
        // - e^{−t s_ij} then errs relatively by t·σ_ij + 1, the normaliser S by t·σ̄ + 1
        //   (σ̄ = Σ p_ij σ_ij), so p_ij by t(σ_ij + σ̄) + 2;
        // - (x_i − x_j)_c errs by |x_ic| + |x_jc|, the product and the accumulation by one more
        //   unit each.
        // So |δ(∂L/∂x_ic)| ≤ Σ_j p_ij·2t·[|x_i − x_j|_c (t(σ_ij + σ̄) + 4) + |x_ic| + |x_jc|], and
        // |δL| ≤ t·σ̄ + 2 + |L| (the log's own rounding). The largest entry is the gradient's
        // magnitude. (The bound this replaces put all the softmax weight on the worst pair:
        // 10² to 10⁴ times looser, docs/validation/power.md.)
        let (b, d) = inputs[0].shape();
        let t = spec.p("t");
        let x = &inputs[0];
        let norms: Vec<f64> = (0..b).map(|i| x.row(i).norm()).collect();
        let mut w = DMatrix::zeros(b, b);
        let mut m = f64::NEG_INFINITY;
        for i in 0..b {
            for j in (i + 1)..b {
                let e = -t * (x.row(i) - x.row(j)).norm_squared();
                w[(i, j)] = e;
                m = m.max(e);
            }
        }
        let mut total = 0.0;
        for i in 0..b {
            for j in (i + 1)..b {
                let v = (w[(i, j)] - m).exp();
                w[(i, j)] = v;
                w[(j, i)] = v;
                total += v;
            }
        }
        let sigma = |i: usize, j: usize| (norms[i] + norms[j]).powi(2);
        let mut sigma_bar = 0.0;
        for i in 0..b {
            for j in (i + 1)..b {
                sigma_bar += w[(i, j)] / total * sigma(i, j);
            }
        }
        // Entry by entry: each is judged against its own bound.
        let mut e = DMatrix::zeros(b, d);
        for i in 0..b {
            let mut row = vec![0f64; d];
            for j in 0..b {
                if j == i {
                    continue;
                }
                let p = w[(i, j)] / total;
                let amp = t * (sigma(i, j) + sigma_bar) + 4.0;
                for (c, acc) in row.iter_mut().enumerate() {
                    let (a, bb) = (x[(i, c)], x[(j, c)]);
                    *acc += p * 2.0 * t * ((a - bb).abs() * amp + a.abs() + bb.abs());
                }
            }
            for (c, v) in row.into_iter().enumerate() {
                e[(i, c)] = v;
            }
        }
        let value = t * sigma_bar + 2.0 + out.value.abs();
        let grads = vec![e.amax()];
        Magnitudes {
            value,
            grads,
            entries: vec![Some(e)],
            ..Magnitudes::default()
        }
    }
}
