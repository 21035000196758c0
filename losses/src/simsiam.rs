//! # SimSiam (Chen & He, CVPR 2021)
//!
//! Official code (`facebookresearch/simsiam`, `main_simsiam.py`): the negative cosine between each
//! branch's predictor output and the other branch's detached projection, symmetrised
//! (reference-implementations.md §1.5).
//!
//! This module holds the loss whole: the MPFR form with its gradients, the float form with its
//! convention knobs, the variants and common mistakes, and the rounding-model magnitudes.

use nalgebra::DMatrix;
use rug::Float;
use sslproof::hp::Mat;

use crate::batch::{BatchError, LossAndGrad, check_views, dot, row, through_normalisation};
use crate::float::{Out, Real, k, require_views};
use crate::loss::{Loss, Mistake, Variant, float_evaluations};
use crate::registry::LossSpec;
use crate::rounding::{Magnitudes, Mode, row_norms};

// ---------------------------------------------------------------------------------------------
// MPFR
// ---------------------------------------------------------------------------------------------

/// SimSiam (official): `L = −½[mean cos(p₁, sg(z₂)) + mean cos(p₂, sg(z₁))]`. Gradients are
/// returned for `(p₁, p₂, z₁, z₂)` as autograd computes them: zero for `z₁, z₂` (stop-gradient).
pub fn loss(p1: &Mat, p2: &Mat, z1: &Mat, z2: &Mat) -> Result<LossAndGrad, BatchError> {
    check_views(p1, z2)?;
    check_views(p2, z1)?;
    let (b, d, prec) = (p1.rows(), p1.cols(), p1.prec());
    let half_mean_cos_grad = |p: &Mat, z: &Mat| -> (Float, Mat) {
        let mut total = Float::new(prec);
        let mut rows = Vec::with_capacity(b);
        for i in 0..b {
            let (pi, zi) = (row(p, i), row(z, i));
            let zn = dot(&zi, &zi).sqrt();
            let zhat: Vec<Float> = zi.iter().map(|x| Float::with_val(prec, x / &zn)).collect();
            let pn = dot(&pi, &pi).sqrt();
            total += dot(&pi, &zhat) / &pn;
            // ∂cos/∂p = (I − p̂p̂ᵀ) ẑ / ‖p‖, scaled by −½/B.
            let g = through_normalisation(&pi, &zhat);
            rows.push(
                g.into_iter()
                    .map(|x| -x / (2 * b) as u64)
                    .collect::<Vec<_>>(),
            );
        }
        (
            -(total / (2 * b) as u64),
            Mat::from_fn(b, d, prec, |i, j| rows[i][j].clone()),
        )
    };
    let (l1, g1) = half_mean_cos_grad(p1, z2);
    let (l2, g2) = half_mean_cos_grad(p2, z1);
    Ok(LossAndGrad {
        value: l1 + l2,
        grads: vec![g1, g2, Mat::zeros(b, d, prec), Mat::zeros(b, d, prec)],
    })
}

// ---------------------------------------------------------------------------------------------
// Float
// ---------------------------------------------------------------------------------------------

/// SimSiam's conventions (reference-implementations.md §1.5).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Knobs {
    /// `z.detach()`: no gradient reaches `z₁, z₂`.
    pub stop_gradient: bool,
    /// `−½[…]`; `false` is the missing-½ mistake.
    pub halved: bool,
    pub sign: f64,
}

/// `Σ_i cos(a_i, b_i)` with the gradients with respect to `a` and `b`.
fn cos_rows<T: Real>(
    a: &DMatrix<T>,
    b: &DMatrix<T>,
    names: (&str, &str),
) -> Result<(T, DMatrix<T>, DMatrix<T>), BatchError> {
    let mut total = T::zero();
    let mut ga = DMatrix::zeros(a.nrows(), a.ncols());
    let mut gb = DMatrix::zeros(a.nrows(), a.ncols());
    for i in 0..a.nrows() {
        let (na, nb) = (a.row(i).norm(), b.row(i).norm());
        if na == T::zero() || nb == T::zero() {
            let input = if na == T::zero() { names.0 } else { names.1 };
            return Err(BatchError::ZeroNorm {
                input: input.to_string(),
                row: i,
            });
        }
        let (ua, ub) = (a.row(i) / na, b.row(i) / nb);
        let c = ua.dot(&ub);
        total += c;
        ga.row_mut(i).copy_from(&((&ub - &ua * c) / na));
        gb.row_mut(i).copy_from(&((&ua - &ub * c) / nb));
    }
    Ok((total, ga, gb))
}

/// SimSiam: `L = −w[mean cos(p₁, z₂) + mean cos(p₂, z₁)]`, `w = ½`. Inputs and gradients in the
/// order `(p₁, p₂, z₁, z₂)`; with the stop-gradient the last two are zero.
pub fn float<T: Real>(
    p1: &DMatrix<T>,
    p2: &DMatrix<T>,
    z1: &DMatrix<T>,
    z2: &DMatrix<T>,
    kn: &Knobs,
) -> Result<Out<T>, BatchError> {
    let (b, d) = require_views(p1, z2, 1)?;
    require_views(p2, z1, 1)?;
    require_views(p1, p2, 1)?;
    let (c1, gp1, gz2) = cos_rows(p1, z2, ("p1", "z2"))?;
    let (c2, gp2, gz1) = cos_rows(p2, z1, ("p2", "z1"))?;
    let w: T = k(if kn.halved { 0.5 } else { 1.0 });
    let scale = -w / k::<T>(b as f64);
    let zeros = || DMatrix::zeros(b, d);
    let (gz1, gz2) = if kn.stop_gradient {
        (zeros(), zeros())
    } else {
        (gz1 * scale, gz2 * scale)
    };
    Ok(Out {
        value: (c1 + c2) * scale,
        grads: vec![gp1 * scale, gp2 * scale, gz1, gz2],
    }
    .scaled(k(kn.sign)))
}

// ---------------------------------------------------------------------------------------------
// Variants, mistakes, rounding magnitudes
// ---------------------------------------------------------------------------------------------

static VARIANTS: &[Variant] = &[Variant {
    name: "official",
    source: "facebookresearch/simsiam main_simsiam.py (inputs p1 p2 z1 z2; z detached)",
    formula: "−½[mean cos(p1, sg(z2)) + mean cos(p2, sg(z1))]",
    params: &[],
}];

static MISTAKES: &[Mistake] = &[
    Mistake {
        id: "no-stop-gradient",
        says: "no stop-gradient: z1, z2 not detached, so they receive gradients",
    },
    Mistake {
        id: "missing-half",
        says: "the two terms summed instead of averaged (−[…] instead of −½[…])",
    },
    Mistake {
        id: "sign",
        says: "the sign flipped: +cos instead of −cos",
    },
];

/// SimSiam in the spec's convention, or with a mistake planted, in `T`.
fn evaluate<T: Real>(
    _spec: &LossSpec,
    mistake: Option<&str>,
    inputs: &[DMatrix<T>],
) -> Result<Out<T>, BatchError> {
    let is = |id: &str| mistake == Some(id);
    let kn = Knobs {
        stop_gradient: !is("no-stop-gradient"),
        halved: !is("missing-half"),
        sign: if is("sign") { -1.0 } else { 1.0 },
    };
    float(&inputs[0], &inputs[1], &inputs[2], &inputs[3], &kn)
}

/// SimSiam (the registry's entry).
pub struct SimSiam;

/// The registry's SimSiam.
pub static SIMSIAM: SimSiam = SimSiam;

impl Loss for SimSiam {
    fn name(&self) -> &'static str {
        "simsiam"
    }

    fn variants(&self) -> &'static [Variant] {
        VARIANTS
    }

    fn mistakes(&self) -> &'static [Mistake] {
        MISTAKES
    }

    fn input_names(&self, _variant: &Variant, _n: usize) -> Vec<String> {
        ["p1", "p2", "z1", "z2"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    float_evaluations!();

    fn evaluate_hp(
        &self,
        _spec: &LossSpec,
        inputs: &[Mat],
        _prec: u32,
    ) -> Option<Result<LossAndGrad, BatchError>> {
        Some(loss(&inputs[0], &inputs[1], &inputs[2], &inputs[3]))
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
                grads: vec![0.0; spec.grad_count(inputs.len())],
                ..Magnitudes::default()
            };
        }
        let (b, d) = inputs[0].shape();
        let (value, grads, entries) = {
            let row_min = |z: &DMatrix<f64>| row_norms(z).into_iter().fold(f64::INFINITY, f64::min);
            let value = 2.0 + out.value.abs();
            // The gradient of −cos(p, z)/(2B) in p is −(ẑ − c·p̂)/(2B‖p‖), entry by entry. Its
            // sums are the norms and p·z (length d): c errs by at most 2√d·u (Cauchy–Schwarz:
            // Σ|p_k z_k| ≤ ‖p‖‖z‖, and each norm by √d·u/2 relative), the norms by √d·u/2
            // relative; the rest is a few elementwise roundings (3u ≤ 3/√n per √n·u). So entry
            // (i, j) errs by at most (2|ẑ_ij| + 4|p̂_ij| + 3/√n)/(2B‖p_i‖) per √n·u — against
            // 8/(2B·min‖p‖) before, which charged every entry with the largest possible one
            // (≈ 700× the real float32 error at 512×2048: docs/validation/power.md).
            // Each entry is judged against its own bound (a median entry is not charged with the
            // largest one's).
            let sharp = |p: &DMatrix<f64>, z: &DMatrix<f64>| {
                let n = (b.max(d) as f64).sqrt();
                let mut e = DMatrix::zeros(b, d);
                for i in 0..b {
                    let (np, nz) = (p.row(i).norm(), z.row(i).norm());
                    for j in 0..d {
                        let (pj, zj) = (p[(i, j)].abs() / np, z[(i, j)].abs() / nz);
                        e[(i, j)] = (2.0 * zj + 4.0 * pj + 3.0 / n) / (np * 2.0 * b as f64);
                    }
                }
                e
            };
            // p1 meets z2, p2 meets z1; z1 and z2 have no gradient (stop-gradient): their
            // tolerance stays the coarse one, which a missing stop-gradient far exceeds.
            let entries = [sharp(&inputs[0], &inputs[3]), sharp(&inputs[1], &inputs[2])];
            let grads = inputs
                .iter()
                .enumerate()
                .map(|(k, z)| match k {
                    0 | 1 => entries[k].amax(),
                    _ => 4.0 / (b as f64 * row_min(z)),
                })
                .collect();
            (value, grads, entries)
        };
        let [e1, e2] = entries;
        Magnitudes {
            value,
            grads,
            entries: vec![Some(e1), Some(e2)],
            ..Magnitudes::default()
        }
    }
}
