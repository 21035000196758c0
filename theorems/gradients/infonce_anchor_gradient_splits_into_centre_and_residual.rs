//! # D3: a unified perspective: how negative samples alleviate collapse
//!
//! ## Main statements
//! * `infonce_anchor_gradient_splits_into_centre_and_residual`: the InfoNCE gradient with respect
//!   to the anchor is `−(1/τ)(Z_b − Σ_i λ_i Z_i)` (softmax weights `λ`, positive included); it
//!   splits into a de-centering part `o` and a de-correlation part `Σ_{i≥1} λ̃_i r_i`
//!   (`λ̃_i = λ_i/(1−λ₀)`, `r_i = Z_i − o`); as `τ → ∞` the weights become uniform and the residual
//!   part vanishes like `1/τ` (pure de-centering); as `τ → 0` the hardest negative takes all the
//!   weight.
//!
//! ## Implementation notes
//! The seed paper's full text is not available (`reference-implementations.md` §2): only its
//! [derived] formulas are used, each checked here at the working precision (Richardson finite
//! differences, exact identities) before anything relies on it.
//!
//! ## References
//! Zhang et al. (2022), the notes' paper; van den Oord et al. (2018), CPC.
//!
//! ## Source
//! `../shared/notes.md`: the paper's abstract.

use rug::Float;
use sslproof::check::fd::{DEFAULT_STEP_LOG2, fd_tolerance, gradient};
use sslproof::hp::vec::{dot, norm};
use sslproof::prelude::*;

/// The claim.
pub const CLAIM: Claim = Claim {
    id: "infonce_anchor_gradient_splits_into_centre_and_residual",
    label: "D3",
    family: "gradients",
    title: "A unified perspective: how negative samples alleviate collapse",
    quote: "This yields a unified perspective on how negative samples and SimSiam alleviate collapse.",
    place: "Paper abstract (Zhang et al., 2022)",
    statement: r"\frac{\partial\mathcal L_{\rm NCE}}{\partial Z_a}=\frac{1-\lambda_0}{\tau}\Big(-Z_b+o+\sum_{i\ge1}\tilde\lambda_ir_i\Big)",
    nature: Nature::Interpretive,
    expected: Class::Interpretive,
};

/// An InfoNCE instance: anchor, positive, 6 negatives (unit vectors in R⁵) from the seed.
struct Nce {
    a: Vec<Float>,
    keys: Vec<Vec<Float>>, // keys[0] is the positive
}

fn nce_instance(run: &mut Run) -> Nce {
    let mut s = run.sampler();
    let d = 5;
    Nce {
        a: s.unit_vector(d),
        keys: (0..7).map(|_| s.unit_vector(d)).collect(),
    }
}

fn nce_loss(a: &[Float], keys: &[Vec<Float>], tau: &Float) -> Float {
    let prec = a[0].prec();
    let logits: Vec<Float> = keys.iter().map(|k| dot(a, k) / tau).collect();
    let m = logits
        .iter()
        .cloned()
        .fold(logits[0].clone(), |x, y| if y > x { y } else { x });
    let lse = logits
        .iter()
        .fold(Float::new(prec), |s, l| {
            s + Float::with_val(prec, l - &m).exp()
        })
        .ln()
        + &m;
    lse - &logits[0]
}

fn softmax_weights(a: &[Float], keys: &[Vec<Float>], tau: &Float) -> Vec<Float> {
    let prec = a[0].prec();
    let logits: Vec<Float> = keys.iter().map(|k| dot(a, k) / tau).collect();
    let m = logits
        .iter()
        .cloned()
        .fold(logits[0].clone(), |x, y| if y > x { y } else { x });
    let e: Vec<Float> = logits
        .iter()
        .map(|l| Float::with_val(prec, l - &m).exp())
        .collect();
    let z = e.iter().fold(Float::new(prec), |s, x| s + x);
    e.into_iter().map(|x| x / &z).collect()
}

/// Candidate anchor gradients.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NceGrad {
    /// `−(1/τ)(Z_b − Σ_i λ_i Z_i)`.
    Theorem,
    /// The `1/τ` dropped.
    NoTemperature,
    /// `+(1/τ)(Z_b − Σ λ_i Z_i)`.
    WrongSign,
}

fn nce_gradient(p: &Nce, tau: &Float, v: NceGrad) -> Vec<Float> {
    let prec = p.a[0].prec();
    let w = softmax_weights(&p.a, &p.keys, tau);
    (0..p.a.len())
        .map(|j| {
            let mix = p.keys.iter().zip(&w).fold(Float::new(prec), |s, (k, l)| {
                s + Float::with_val(prec, &k[j] * l)
            });
            let g = Float::with_val(prec, &mix - &p.keys[0][j]);
            match v {
                NceGrad::Theorem => g / tau,
                NceGrad::NoTemperature => g,
                NceGrad::WrongSign => -g / tau,
            }
        })
        .collect()
}

/// The candidate against Richardson finite differences at τ = 0.2, 1, 5.
fn gradient_check(run: &mut Run, v: &NceGrad) -> Result<String, String> {
    let prec = run.prec();
    let p = nce_instance(run);
    let tol = fd_tolerance(prec);
    let mut lines = Vec::new();
    for (num, den) in [(1u32, 5u32), (1, 1), (5, 1)] {
        let tau = Float::with_val(prec, num) / den;
        let fd = gradient(
            &|x: &[Float]| nce_loss(x, &p.keys, &tau),
            &p.a,
            DEFAULT_STEP_LOG2,
        );
        let an = nce_gradient(&p, &tau, *v);
        run.count(1);
        let (jmax, err) = fd
            .iter()
            .zip(&an)
            .enumerate()
            .map(|(j, (a, b))| (j, Float::with_val(prec, a - b).abs()))
            .fold((0, Float::new(prec)), |m, x| if x.1 > m.1 { x } else { m });
        if !tol.accepts(&err, &Float::with_val(prec, norm(&fd) + 1u32)) {
            return Err(format!(
                "τ = {num}/{den}: worst component {jmax}: finite difference {:.6e}, formula {:.6e}",
                fd[jmax], an[jmax]
            ));
        }
        lines.push(format!("τ = {num}/{den}"));
    }
    Ok(format!(
        "d = 5, 6 negatives, {}: agree within {}",
        lines.join(", "),
        tol.describe()
    ))
}

/// A claimed split with the renormalised weights `λ̃_i = λ_i/(1−λ₀)` (the theorem) or the raw `λ_i`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Split {
    pub renormalised: bool,
}

/// `−(1/τ)(Z_b − Σλ_iZ_i) = ((1−λ₀)/τ)(−Z_b + o + Σ_{i≥1} λ̃_i r_i)`, `o` the negatives' mean,
/// τ = 0.2.
fn split_check(run: &mut Run, f: &Split) -> Result<String, String> {
    let prec = run.prec();
    let p = nce_instance(run);
    let tau = Float::with_val(prec, 1) / 5u32;
    let d = p.a.len();
    let w = softmax_weights(&p.a, &p.keys, &tau);
    let negs = &p.keys[1..];
    let o: Vec<Float> = (0..d)
        .map(|j| negs.iter().fold(Float::new(prec), |s, k| s + &k[j]) / negs.len() as u64)
        .collect();
    let one_minus = Float::with_val(prec, 1 - &w[0]);
    let tilde: Vec<Float> = w[1..]
        .iter()
        .map(|l| {
            if f.renormalised {
                Float::with_val(prec, l / &one_minus)
            } else {
                l.clone()
            }
        })
        .collect();
    let grad = nce_gradient(&p, &tau, NceGrad::Theorem);
    let split: Vec<Float> = (0..d)
        .map(|j| {
            let res = negs.iter().zip(&tilde).fold(Float::new(prec), |s, (k, t)| {
                s + Float::with_val(prec, Float::with_val(prec, &k[j] - &o[j]) * t)
            });
            Float::with_val(prec, &one_minus / &tau)
                * (Float::with_val(prec, &o[j] - &p.keys[0][j]) + res)
        })
        .collect();
    run.count(1);
    let err = grad
        .iter()
        .zip(&split)
        .map(|(a, b)| Float::with_val(prec, a - b).abs())
        .fold(Float::new(prec), |m, x| if x > m { x } else { m });
    if Tol::scalar(prec).accepts(&err, &Float::with_val(prec, norm(&grad) + 1u32)) {
        Ok(format!(
            "τ = 0.2: the two forms agree within {}",
            Tol::scalar(prec).describe()
        ))
    } else {
        Err(format!("largest component difference {err:.3e}"))
    }
}

/// Claimed temperature limits: the order in `1/τ` at which the residual part vanishes as τ → ∞,
/// and which negative takes the weight as τ → 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub high_order: u32,
    /// The hardest negative (largest similarity to the anchor) takes the weight; else the easiest.
    pub low_hardest: bool,
}

/// High temperature: `‖Σλ̃_i r_i‖` at τ = 10 … 10⁴ and its observed order in `1/τ`; low
/// temperature: `1 − λ̃` of the claimed negative at τ = 1 … 10⁻⁴.
fn temperature_limits(run: &mut Run, l: &Limits) -> Result<String, String> {
    let prec = run.prec();
    let p = nce_instance(run);
    let d = p.a.len();
    let negs = &p.keys[1..];
    let o: Vec<Float> = (0..d)
        .map(|j| negs.iter().fold(Float::new(prec), |s, k| s + &k[j]) / negs.len() as u64)
        .collect();
    // λ̃ = λ_i/(1−λ₀) is the softmax over the negatives alone; computing it that way avoids the
    // cancellation in 1 − λ₀ when the positive takes almost all the weight (small τ).
    let tilde = |tau: &Float| softmax_weights(&p.a, negs, tau);
    let residual_part = |tau: &Float| {
        let t = tilde(tau);
        let v: Vec<Float> = (0..d)
            .map(|j| {
                negs.iter().zip(&t).fold(Float::new(prec), |s, (k, w)| {
                    s + Float::with_val(prec, Float::with_val(prec, &k[j] - &o[j]) * w)
                })
            })
            .collect();
        norm(&v)
    };
    let highs: Vec<Float> = [10u32, 100, 1000, 10_000]
        .iter()
        .map(|&t| residual_part(&Float::with_val(prec, t)))
        .collect();
    let high_order = *observed_orders(&highs).last().expect("orders") / 10f64.log2();
    // The claimed negative: the one most (or least) similar to the anchor.
    let sims: Vec<Float> = negs.iter().map(|k| dot(&p.a, k)).collect();
    let pick = (0..sims.len())
        .max_by(|&i, &j| {
            let o = sims[i].partial_cmp(&sims[j]).expect("finite");
            if l.low_hardest { o } else { o.reverse() }
        })
        .expect("negatives");
    let lows: Vec<Float> = [1u32, 10, 100, 1000, 10_000]
        .iter()
        .map(|&dd| {
            let t = tilde(&(Float::with_val(prec, 1) / dd));
            Float::with_val(prec, 1 - &t[pick])
        })
        .collect();
    run.count(highs.len() + lows.len());
    let detail = format!(
        "‖Σλ̃ᵢrᵢ‖ at τ = 10, 10², 10³, 10⁴: {} (order {high_order:.3} in 1/τ); 1 − λ̃ of the {} negative at τ = 1, 10⁻¹, 10⁻², 10⁻³, 10⁻⁴: {}",
        highs
            .iter()
            .map(|x| format!("{x:.3e}"))
            .collect::<Vec<_>>()
            .join(", "),
        if l.low_hardest { "hardest" } else { "easiest" },
        lows.iter()
            .map(|x| format!("{x:.3e}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    // 1 − λ̃ of the hardest negative decays like exp(−Δ/τ), Δ the gap to the runner-up (down to
    // an exact 0 once exp(−Δ/τ) is below the working precision).
    let low_ok =
        lows.windows(2).all(|w| w[1] <= w[0]) && lows[4] < Float::with_val(prec, 1) >> 20u32;
    if (high_order - f64::from(l.high_order)).abs() <= 0.01 && low_ok {
        Ok(detail)
    } else {
        Err(detail)
    }
}

pub fn run(c: &mut ClaimRun) {
    let prec = c.prec();
    c.prop(
        Role::Precise,
        "the InfoNCE gradient with respect to the anchor is −(1/τ)(Z_b − Σ_i λ_i Z_i), λ the softmax weights (positive included)",
        r"\frac{\partial\mathcal L}{\partial Z_a}=-\frac1\tau\Big(Z_b-\sum_{i=0}^N\lambda_iZ_i\Big),\quad \lambda_i=\frac{e^{Z_a\cdot Z_i/\tau}}{\sum_je^{Z_a\cdot Z_j/\tau}}",
        NceGrad::Theorem,
    )
    .check("anchor gradient against Richardson finite differences", gradient_check)
    .mutant("no_temperature", "the gradient without the factor 1/τ", NceGrad::NoTemperature)
    .mutant("wrong_sign", "+(1/τ)(Z_b − Σλ_iZ_i)", NceGrad::WrongSign);

    c.prop(
        Role::Precise,
        "it splits into a de-centering part o and a de-correlation part Σ λ̃_i r_i (λ̃_i = λ_i/(1−λ₀), r_i = Z_i − o)",
        r"=\frac{1-\lambda_0}{\tau}\Big(-Z_b+\underbrace{o}_{\text{de-centering}}+\underbrace{\textstyle\sum_{i\ge1}\tilde\lambda_ir_i}_{\text{de-correlation}}\Big)",
        Split { renormalised: true },
    )
    .check("split into centre and residual parts", split_check)
    .mutant(
        "weights_not_renormalised",
        "the split with λ_i in place of λ̃_i",
        Split {
            renormalised: false,
        },
    );

    c.prop(
        Role::Precise,
        "as τ → ∞ the weights become uniform and the residual part vanishes like 1/τ (pure de-centering); as τ → 0 the weight concentrates on the hardest negative",
        r"\tau\to\infty:\ \tilde\lambda_i\to\tfrac1N,\ \textstyle\big\lVert\sum\tilde\lambda_ir_i\big\rVert=O(1/\tau);\qquad \tau\to0:\ \tilde\lambda\to e_{\arg\max_iZ_a\cdot Z_i}",
        Limits {
            high_order: 1,
            low_hardest: true,
        },
    )
    .check("temperature limits", temperature_limits)
    .mutant(
        "residual_vanishes_like_tau_squared",
        "at high temperature the residual part vanishes like 1/τ²",
        Limits {
            high_order: 2,
            low_hardest: true,
        },
    )
    .mutant(
        "low_temperature_easiest",
        "at low temperature the weight concentrates on the easiest negative",
        Limits {
            high_order: 1,
            low_hardest: false,
        },
    );

    c.step("\"A unified perspective\" is the paper's reading; the precise statements are the gradient, its split and its limits, all [derived] in `reference-implementations.md` §2.2 and checked here before use.", None);
    c.step(format!("With logits $Z_a\\cdot Z_i/\\tau$, the softmax cross-entropy gives the gradient (Richardson finite differences at {prec} bits agree at $\\tau=0.2, 1, 5$); since $\\sum_{{i\\ge1}}\\tilde\\lambda_i=1$, any centre $o$ splits $\\sum_{{i\\ge1}}\\tilde\\lambda_iZ_i=o+\\sum_{{i\\ge1}}\\tilde\\lambda_ir_i$."), None);
    c.step("Descent moves $Z_a$ along $-o$ (away from the shared centre: de-centering) and away from the residuals of the negatives that resemble it most (de-correlation). At high temperature the weights are uniform to first order in $1/\\tau$, so the residual part is the mean residual ($0$ when $o$ is the negatives' mean) plus $O(1/\\tau)$: pure de-centering in the limit; at low temperature the hardest negative takes all the weight.", None);
}
