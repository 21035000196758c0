//! # NT-Xent / InfoNCE (SimCLR; lightly, solo-learn)
//!
//! SimCLR's normalised-temperature cross-entropy: every row's positive is its partner in the
//! other view(s), the negatives every other row; lightly's `NTXentLoss` and solo-learn's
//! multi-view `simclr_loss_func` (reference-implementations.md §1.6).
//!
//! This module holds the loss whole: the MPFR form with its gradients, the float form with its
//! convention knobs, the variants and common mistakes, and the rounding-model magnitudes.

use nalgebra::DMatrix;
use rug::Float;
use sslproof::hp::Mat;

use crate::batch::{BatchError, LossAndGrad, check_views, dot, row, through_normalisation};
use crate::float::{Out, Real, k, require_batch};
use crate::kernels::{ac, autocast_bf16, gram_nt, mul};
use crate::loss::{Loss, Mistake, Range, Variant, float_evaluations, param};
use crate::registry::LossSpec;
use crate::rounding::{Magnitudes, Mode, row_norms};

/// The logits `s = ÛÛᵀ/τ` of `rows` unit rows (`B` per view), each row's softmax `q` over
/// `j ≠ k`, and its softmax `w` over its positives (the rows with its index in the other views):
/// the weights of `∂L/∂s = (q − w)/N`, for the rounding magnitudes.
fn softmax_weights(
    u: &DMatrix<f64>,
    tau: f64,
    b: usize,
) -> (DMatrix<f64>, DMatrix<f64>, DMatrix<f64>) {
    let rows = u.nrows();
    let s = u * u.transpose() / tau;
    let mut q = DMatrix::zeros(rows, rows);
    let mut w = DMatrix::zeros(rows, rows);
    for k in 0..rows {
        let mx = (0..rows)
            .filter(|&j| j != k)
            .map(|j| s[(k, j)])
            .fold(f64::NEG_INFINITY, f64::max);
        let e: Vec<f64> = (0..rows)
            .map(|j| if j == k { 0.0 } else { (s[(k, j)] - mx).exp() })
            .collect();
        let zd: f64 = e.iter().sum();
        let zp: f64 = (0..rows)
            .filter(|&j| j != k && j % b == k % b)
            .map(|j| e[j])
            .sum();
        for j in (0..rows).filter(|&j| j != k) {
            q[(k, j)] = e[j] / zd;
            if j % b == k % b {
                w[(k, j)] = e[j] / zp;
            }
        }
    }
    (s, q, w)
}

// ---------------------------------------------------------------------------------------------
// MPFR
// ---------------------------------------------------------------------------------------------

/// NT-Xent as in lightly's `NTXentLoss` (no memory bank): both views L2-normalised, `2B` rows,
/// each row's positive is its partner in the other view, its negatives the other `2B − 2` rows
/// (self excluded), mean cross-entropy over the `2B` rows. Default `τ = 0.5`.
pub fn loss(z1: &Mat, z2: &Mat, tau: &Float) -> Result<LossAndGrad, BatchError> {
    loss_views(&[z1, z2], tau)
}

/// NT-Xent over `V ≥ 2` views (solo-learn's `simclr_loss_func`): the positives of a row are the
/// rows with the same index in the other views, **summed inside the log**:
/// `L = mean_k [log Σ_{j≠k} e^{s_kj} − log Σ_{p∈P(k)} e^{s_kp}]`, `s = cos/τ`. For two views this
/// is [`loss`]. Gradients for every view.
pub fn loss_views(views: &[&Mat], tau: &Float) -> Result<LossAndGrad, BatchError> {
    if views.len() < 2 {
        return Err(BatchError::Empty { b: 0, d: 0 });
    }
    for v in &views[1..] {
        check_views(views[0], v)?;
    }
    check_views(views[0], views[0])?;
    let (b, d, prec) = (views[0].rows(), views[0].cols(), views[0].prec());
    if b < 2 && views.len() == 2 {
        return Err(BatchError::TooFewSamples {
            b,
            why: "NT-Xent with two views (each anchor needs a negative)",
        });
    }
    let raw: Vec<Vec<Float>> = views
        .iter()
        .flat_map(|v| (0..b).map(move |i| row(v, i)))
        .collect();
    let u: Vec<Vec<Float>> = raw
        .iter()
        .map(|z| {
            let n = dot(z, z).sqrt();
            z.iter().map(|x| Float::with_val(prec, x / &n)).collect()
        })
        .collect();
    let n = raw.len();
    let is_pos = |k: usize, j: usize| j != k && j % b == k % b;
    // ∂L/∂s_kj = (q_kj − w_kj)/N: q the softmax over j ≠ k, w the softmax over the positives.
    let mut g = vec![vec![Float::new(prec); n]; n];
    let mut value = Float::new(prec);
    for k in 0..n {
        let logits: Vec<Float> = (0..n).map(|j| dot(&u[k], &u[j]) / tau).collect();
        let m = (0..n).filter(|&j| j != k).map(|j| logits[j].clone()).fold(
            Float::with_val(prec, f64::NEG_INFINITY),
            |a, x| {
                if x > a { x } else { a }
            },
        );
        let e: Vec<Float> = (0..n)
            .map(|j| Float::with_val(prec, &logits[j] - &m).exp())
            .collect();
        let zd = (0..n)
            .filter(|&j| j != k)
            .fold(Float::new(prec), |s, j| s + &e[j]);
        let zp = (0..n)
            .filter(|&j| is_pos(k, j))
            .fold(Float::new(prec), |s, j| s + &e[j]);
        value += Float::with_val(prec, zd.ln_ref()) - Float::with_val(prec, zp.ln_ref());
        for j in (0..n).filter(|&j| j != k) {
            let q = Float::with_val(prec, &e[j] / &zd);
            let w = if is_pos(k, j) {
                Float::with_val(prec, &e[j] / &zp)
            } else {
                Float::new(prec)
            };
            g[k][j] = (q - w) / n as u64;
        }
    }
    value /= n as u64;
    // s = UUᵀ/τ ⇒ ∂L/∂u_k = (1/τ) Σ_j (G_kj + G_jk) u_j.
    let grads_u: Vec<Vec<Float>> = (0..n)
        .map(|k| {
            (0..d)
                .map(|c| {
                    let mut s = Float::new(prec);
                    for j in (0..n).filter(|&j| j != k) {
                        let w = Float::with_val(prec, &g[k][j] + &g[j][k]);
                        s += Float::with_val(prec, &w * &u[j][c]);
                    }
                    s / tau
                })
                .collect()
        })
        .collect();
    let gz: Vec<Vec<Float>> = (0..n)
        .map(|k| through_normalisation(&raw[k], &grads_u[k]))
        .collect();
    Ok(LossAndGrad {
        value,
        grads: (0..views.len())
            .map(|v| Mat::from_fn(b, d, prec, |i, j| gz[v * b + i][j].clone()))
            .collect(),
    })
}

// ---------------------------------------------------------------------------------------------
// Float
// ---------------------------------------------------------------------------------------------

/// NT-Xent's conventions (reference-implementations.md §1.6).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Knobs {
    pub tau: f64,
    /// L2-normalise the rows first.
    pub normalise: bool,
    /// Keep `exp(s_kk/τ)` in the denominator (a mistake: every implementation masks it).
    pub self_in_denominator: bool,
    /// Keep the positives in the denominator (every implementation does; `false` is the
    /// decoupled form).
    pub positive_in_denominator: bool,
    pub sign: f64,
}

/// NT-Xent over `V ≥ 2` views `B × d` (solo-learn's multi-positive form: the positives of a row
/// are the rows with the same index in the other views, summed inside the log; for `V = 2` this is
/// lightly's `NTXentLoss`): `L = mean_k [−log Σ_{p∈P(k)} e^{s_kp} + log Σ_{j∈D(k)} e^{s_kj}]`,
/// `s = UUᵀ/τ`, `D(k)` every row but `k`.
pub fn float<T: Real>(views: &[DMatrix<T>], kn: &Knobs) -> Result<Out<T>, BatchError> {
    let nv = views.len();
    if nv < 2 {
        return Err(BatchError::Empty { b: 0, d: 0 });
    }
    let (b, d) = require_batch(&views[0], 1)?;
    for v in views.iter().skip(1) {
        if v.shape() != (b, d) {
            return Err(BatchError::ViewShapes {
                a: (b, d),
                b: v.shape(),
            });
        }
        require_batch(v, 1)?;
    }
    if nv == 2 && b < 2 && !kn.self_in_denominator {
        // One pair: the denominator would hold the positive alone.
        return Err(BatchError::TooFewSamples {
            b,
            why: "NT-Xent with two views (each anchor needs a negative)",
        });
    }
    let n = nv * b;
    let mut raw = DMatrix::zeros(n, d);
    for (v, z) in views.iter().enumerate() {
        raw.rows_mut(v * b, b).copy_from(z);
    }
    let norms: Vec<T> = (0..n).map(|i| raw.row(i).norm()).collect();
    if kn.normalise
        && let Some(i) = norms.iter().position(|x| *x == T::zero())
    {
        return Err(BatchError::ZeroNorm {
            input: format!("view {} (z{})", i / b + 1, i / b + 1),
            row: i % b,
        });
    }
    let u = if kn.normalise {
        let mut u = raw.clone();
        for (i, ni) in norms.iter().enumerate() {
            u.row_mut(i).scale_mut(T::one() / *ni);
        }
        u
    } else {
        raw.clone()
    };
    let tau: T = k(kn.tau);
    // Emulating bfloat16 autocast (the tolerance estimate, `crate::kernels::reduced`): the
    // elementwise steps that autocast keeps in bfloat16 are rounded too, as torch's CPU autocast
    // runs the official codes: the logits after the division by τ, each row's log-sum-exps (or
    // solo-learn's exp, sums and log), the backward weights exp(s − lse) and the mean's 1/n.
    let bf = autocast_bf16::<T>();
    let s = if bf {
        (gram_nt(&u) / tau).map(ac)
    } else {
        gram_nt(&u) / tau
    };
    let nn: T = k(n as f64);
    let mut value = T::zero();
    let mut gs = DMatrix::zeros(n, n);
    for kk in 0..n {
        let pos = |j: usize| j != kk && j % b == kk % b;
        let den = |j: usize| {
            (j != kk || kn.self_in_denominator) && (kn.positive_in_denominator || !pos(j))
        };
        let m = (0..n)
            .filter(|&j| den(j) || pos(j))
            .fold(T::min_value().unwrap(), |a, j| a.max(s[(kk, j)]));
        let (mut zp, mut zd) = (T::zero(), T::zero());
        for j in 0..n {
            let e = (s[(kk, j)] - m).exp();
            if pos(j) {
                zp += e;
            }
            if den(j) {
                zd += e;
            }
        }
        if bf {
            let (ld, lp) = (ac(m + zd.ln()), ac(m + zp.ln()));
            value += ac(ld - lp);
            let g = ac(T::one() / nn);
            let weight = |lse: T, j: usize| ac(ac(ac(s[(kk, j)] - lse).exp()) * g);
            for j in 0..n {
                let q = if den(j) { weight(ld, j) } else { T::zero() };
                let w = if pos(j) { weight(lp, j) } else { T::zero() };
                gs[(kk, j)] = ac(q - w);
            }
            continue;
        }
        value += zd.ln() - zp.ln();
        for j in 0..n {
            let e = (s[(kk, j)] - m).exp();
            let q = if den(j) { e / zd } else { T::zero() };
            let w = if pos(j) { e / zp } else { T::zero() };
            gs[(kk, j)] = (q - w) / nn;
        }
    }
    // s = UUᵀ/τ ⇒ ∂L/∂U = (G + Gᵀ)U/τ.
    let gu = if bf {
        let gt = gs.map(|x| ac(x / tau));
        mul(&(&gt + gt.transpose()), &u)
    } else {
        mul(&(&gs + gs.transpose()), &u) / tau
    };
    let gz = if kn.normalise {
        // (I − u uᵀ) g/‖z‖ per row (D1).
        let mut gz = gu.clone();
        for i in 0..n {
            let ug = u.row(i).dot(&gu.row(i));
            let r = (gu.row(i) - u.row(i) * ug) / norms[i];
            gz.row_mut(i).copy_from(&r);
        }
        gz
    } else {
        gu
    };
    Ok(Out {
        value: value / nn,
        grads: (0..nv).map(|v| gz.rows(v * b, b).into_owned()).collect(),
    }
    .scaled(k(kn.sign)))
}

// ---------------------------------------------------------------------------------------------
// Variants, mistakes, rounding magnitudes
// ---------------------------------------------------------------------------------------------

static VARIANTS: &[Variant] = &[
    Variant {
        name: "lightly",
        source: "lightly NTXentLoss (no memory bank): SimCLR, 2B rows, positive in the denominator, self masked",
        formula: "mean_k −log[e^{s_k,pos} / Σ_{j≠k} e^{s_kj}], s = cos/τ",
        params: &[param("tau", 0.5, Range::Positive)],
    },
    Variant {
        name: "solo-learn",
        source: "solo-learn simclr_loss_func: any number of views, all positives summed inside the log",
        formula: "mean_k −log[Σ_pos e^{s} / Σ_{j≠k} e^{s_kj}]; identical to lightly for two views",
        params: &[param("tau", 0.1, Range::Positive)],
    },
];

static MISTAKES: &[Mistake] = &[
    Mistake {
        id: "self-in-denominator",
        says: "self-similarity e^{s_kk} left in the denominator (not masked)",
    },
    Mistake {
        id: "positive-not-in-denominator",
        says: "the positive left out of the denominator (decoupled contrastive loss)",
    },
    Mistake {
        id: "unnormalised",
        says: "the features not L2-normalised before the dot products",
    },
    Mistake {
        id: "sign",
        says: "the sign of the loss flipped",
    },
];

/// NT-Xent in the spec's convention, or with a mistake planted, in `T`.
fn evaluate<T: Real>(
    spec: &LossSpec,
    mistake: Option<&str>,
    inputs: &[DMatrix<T>],
) -> Result<Out<T>, BatchError> {
    let is = |id: &str| mistake == Some(id);
    let kn = Knobs {
        tau: spec.p("tau"),
        normalise: !is("unnormalised"),
        self_in_denominator: is("self-in-denominator"),
        positive_in_denominator: !is("positive-not-in-denominator"),
        sign: if is("sign") { -1.0 } else { 1.0 },
    };
    float(inputs, &kn)
}

/// NT-Xent (the registry's entry).
pub struct NtXent;

/// The registry's NT-Xent.
pub static NT_XENT: NtXent = NtXent;

impl Loss for NtXent {
    /// Its matrix products (forward and gradient) go through the emulating kernels.
    fn emulates_reduced_products(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "nt-xent"
    }

    fn variants(&self) -> &'static [Variant] {
        VARIANTS
    }

    fn mistakes(&self) -> &'static [Mistake] {
        MISTAKES
    }

    /// solo-learn's variant takes one input per view, two or more.
    fn input_names(&self, variant: &Variant, n: usize) -> Vec<String> {
        if self.variable_views(variant) {
            (1..=n.max(2)).map(|i| format!("z{i}")).collect()
        } else {
            vec!["z1".into(), "z2".into()]
        }
    }

    fn variable_views(&self, variant: &Variant) -> bool {
        variant.name == "solo-learn"
    }

    fn golden_views(&self, variant: &Variant) -> usize {
        if self.variable_views(variant) { 3 } else { 2 }
    }

    float_evaluations!();

    fn evaluate_hp(
        &self,
        spec: &LossSpec,
        inputs: &[Mat],
        prec: u32,
    ) -> Option<Result<LossAndGrad, BatchError>> {
        let views: Vec<&Mat> = inputs.iter().collect();
        Some(loss_views(&views, &spec.p_hp("tau", prec)))
    }

    fn scratch(&self) -> crate::loss::Scratch {
        // Ten N × N matrices: the rounding magnitudes hold at most about six at once (the logits
        // and both softmaxes, σ², and two in the weights' terms); measured peak 694 MiB at
        // 2 × 2048 × 64 against 1296 MiB estimated (docs/losses.md, "Memory").
        crate::loss::Scratch {
            dd: 0,
            nn: 10,
            hp_min_side: false,
        }
    }

    fn hp_work(&self, _spec: &LossSpec, b: usize, d: usize, n: usize) -> f64 {
        3.0 * (n as f64 * b as f64).powi(2) * d as f64
    }

    fn magnitudes(
        &self,
        spec: &LossSpec,
        inputs: &[DMatrix<f64>],
        out: &Out<f64>,
        mode: Mode,
    ) -> Magnitudes {
        let (b, d) = inputs[0].shape();
        let (value, grads) = {
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
            let mut value = 2.0 / tau + out.value.abs() + 1.0 / tau;
            let grads = if mode == Mode::Abs {
                // Entry by entry (row k of Û, column l). With q the softmax over j ≠ k and w the
                // softmax over k's positives, |∂L/∂s_kj| ≤ (q_kj + w_kj)/N, and the product
                // ∇Û = (G + Gᵀ)Û/τ errs by its abs twin A = (|G| + |G|ᵀ)|Û|/τ. A logit errs by
                // at most 2/τ (its dot product 1/τ, the two rows' normalisation ½/τ each), so a
                // softmax weight relatively by 4/τ, and ∇Û by D = (1 + 4/τ)·A. Through the
                // normalisation's backward pass (∇û_k − û_k(û_k·∇û_k))/‖z_k‖: D_kl, plus
                // |û_kl|·(Σ_l'|û_kl'|D_kl' + 2Σ_l'|û_kl'∇û_kl'|) (the dot product's error and
                // its own accumulation, û's rounding), over ‖z_k‖, plus |∇z_kl|(½ + 3/√n)
                // (‖z_k‖'s relative error, a few elementwise roundings). Before, every entry
                // got 8(1 + 2/τ)·max|û|/(Nτ·min‖z‖): the worst row's bound.
                let n = rows as f64;
                // Few N × N matrices at once (the memory estimate counts eight): the logits are
                // dropped with the softmax, Gᵀ is never formed (`tr_mul`).
                let (_, q, w) = softmax_weights(&u, tau, b);
                let ga = (&q + &w) / n;
                let mut gs = q;
                gs -= &w;
                gs /= n;
                drop(w);
                let ua = u.abs();
                let a = (&ga * &ua + ga.tr_mul(&ua)) * (1.0 + 4.0 / tau) / tau;
                drop(ga);
                let gu = (&gs * &u + gs.tr_mul(&u)) / tau;
                drop(gs);
                let n_sqrt = (b.max(d) as f64).sqrt();
                let mut es: Vec<DMatrix<f64>> = Vec::new();
                for (v, gz) in out.grads.iter().enumerate().take(nv) {
                    let mut e = DMatrix::zeros(b, d);
                    for i in 0..b {
                        let k = v * b + i;
                        let proj: f64 = (0..d)
                            .map(|l| ua[(k, l)] * (a[(k, l)] + 2.0 * gu[(k, l)].abs()))
                            .sum();
                        let nz = norms[k];
                        for l in 0..d {
                            e[(i, l)] = (a[(k, l)] + ua[(k, l)] * proj) / nz
                                + gz[(i, l)].abs() * (0.5 + 3.0 / n_sqrt);
                        }
                    }
                    es.push(e);
                }
                es
            } else {
                // Operand rounding (TF32, bfloat16: each entry of Û rounded once, and each
                // product's output once), as root-sum-squares of independent roundings, entry by
                // entry (per u_in):
                // - the logit s_kj = û_k·û_j/τ, rounded as an output and again by the division by
                //   τ: σ_kj² = 2Σ_l û_kl²û_jl²/τ² + (2s_kj)²;
                // - the softmax weights of row k move by δq_kj = q_kj(δs_kj − Σ_i q_ki δs_ki), and
                //   reach Σ_j δq_kj û_jl/(Nτ) with standard deviation
                //   √(Σ_j σ_kj² q_kj² (û_jl − ū_kl)²)/(Nτ), ū_k = Σ_i q_ki û_i (three N × N × d
                //   products); through Gᵀ, √(Σ_j σ_jk² q_jk² û_jl²) + √(Σ_j q_jk² û_jl² c_j²),
                //   c_j² = Σ_i σ_ji² q_ji² (the centring of row j), added as absolute values (s is
                //   symmetric: δs_jk and δs_kj are not independent). The same for the softmax w
                //   over the positives where a row has more than one (solo-learn, V > 2);
                // - the backward products GÛ/τ and GᵀÛ/τ: their operands G, Gᵀ (rounded, and
                //   again divided by τ) and Û, √(Σ_j (2G_kj² + 2G_jk² + (G_kj + G_jk)²) û_jl²)/τ,
                //   and their outputs, rounded apart and once more when summed:
                //   |GÛ|_kl/τ + |GᵀÛ|_kl/τ + |∇û_kl|;
                // - the normalisation's backward pass (I − û_kû_kᵀ)/‖z_k‖ (float32): D_kl plus
                //   |û_kl|·√(Σ_l' û_kl'² D_kl'²), over ‖z_k‖.
                // Before (2026-12-02, third stop) every entry got the bound of the largest |û| and
                // the most concentrated row: √2·max|û| per logit, √(Σ_j p_kj²) for every row.
                let n = rows as f64;
                // Few N × N matrices at once (the memory estimate counts eight): the logits are
                // dropped once σ² is formed, transposes are never formed (`tr_mul`).
                let (s, q, w) = softmax_weights(&u, tau, b);
                let u2 = u.map(|x| x * x);
                let mut sig2 = &u2 * u2.transpose();
                sig2.zip_apply(&s, |x, sv| *x = *x * (2.0 / (tau * tau)) + 4.0 * sv * sv);
                drop(s);
                let weights = |p: &DMatrix<f64>| {
                    let p2 = p.map(|x| x * x);
                    let a = sig2.component_mul(&p2);
                    let ubar = p * &u;
                    let (t_uu, t_u) = (&a * &u2, &a * &u);
                    let rs: Vec<f64> = (0..rows).map(|k| a.row(k).sum()).collect();
                    let own = DMatrix::from_fn(rows, d, |k, l| {
                        let ub = ubar[(k, l)];
                        (t_uu[(k, l)] - 2.0 * ub * t_u[(k, l)] + ub * ub * rs[k])
                            .max(0.0)
                            .sqrt()
                    });
                    let mut u2c = u2.clone();
                    for (j, c2) in rs.iter().enumerate() {
                        u2c.row_mut(j).scale_mut(*c2);
                    }
                    let other = a.tr_mul(&u2).map(f64::sqrt) + p2.tr_mul(&u2c).map(f64::sqrt);
                    (own + other) / (n * tau)
                };
                let mut dmat = weights(&q);
                if nv > 2 {
                    dmat += weights(&w);
                }
                let mut g = q;
                g -= &w;
                g /= n;
                drop(w);
                // The value, δL = Σ_kj G_kj δs_kj, as root-sum-squares, plus its own rounding
                // (before: 3/τ + |L|, every logit's worst error at once).
                value = g
                    .iter()
                    .zip(sig2.iter())
                    .map(|(x, s2)| x * x * s2)
                    .sum::<f64>()
                    .sqrt()
                    + out.value.abs();
                drop(sig2);
                let (gu, gtu) = (&g * &u / tau, g.tr_mul(&u) / tau);
                // G and Gᵀ are separate operands (each rounded, and again when divided by τ),
                // and the two products' outputs are rounded apart and once more when summed.
                let ops = DMatrix::from_fn(rows, rows, |k, j| {
                    let (x, y) = (g[(k, j)], g[(j, k)]);
                    (x * x + y * y) * 2.0 + (x + y) * (x + y)
                });
                drop(g);
                dmat += (ops * &u2).map(f64::sqrt) / tau + gu.abs() + gtu.abs() + (gu + gtu).abs();
                (0..nv)
                    .map(|v| {
                        let mut e = DMatrix::zeros(b, d);
                        for i in 0..b {
                            let k = v * b + i;
                            let proj = (0..d)
                                .map(|l| u2[(k, l)] * dmat[(k, l)] * dmat[(k, l)])
                                .sum::<f64>()
                                .sqrt();
                            for l in 0..d {
                                e[(i, l)] = (dmat[(k, l)] + u[(k, l)].abs() * proj) / norms[k];
                            }
                        }
                        e
                    })
                    .collect()
            };
            (value, grads)
        };
        let grads: Vec<DMatrix<f64>> = grads;
        Magnitudes {
            value,
            grads: grads.iter().map(|e| e.amax()).collect(),
            entries: grads.into_iter().map(Some).collect(),
            ..Magnitudes::default()
        }
    }
}
