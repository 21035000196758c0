//! # B2: the coding rate maximises variance and enforces isotropy
//!
//! ## Main statements
//! * `coding_rate_max_at_fixed_trace_is_isotropic`: `R_ε(Σ) = ½ log det(I+αΣ)` has no maximiser
//!   on its own (it grows without bound, along anisotropic directions too); at fixed trace `T`
//!   its unique maximiser is `(T/d)I`, with every eigenvalue `T/d > 0`; it is finite on collapsed
//!   `Σ` (no barrier at rank deficiency).
//!
//! ## Implementation notes
//! Every comparison is of `R_ε` itself (MPFR log-determinants by Cholesky), not of `det`: the
//! fixed-trace maximiser by random PSD matrices rescaled to the trace and by traceless
//! perturbations of the claimed maximiser.
//!
//! ## References
//! Yu et al. (2020), MCR²; Wu et al. (2025), SimDINO; claim B1 of this catalogue (AM–GM).
//!
//! ## Source
//! `../shared/notes.md`, *A unified framework*, item 4 (VICReg vs. coding rate).

use rug::Float;
use sslproof::prelude::*;

/// The claim.
pub const CLAIM: Claim = Claim {
    id: "coding_rate_max_at_fixed_trace_is_isotropic",
    label: "B2",
    family: "isotropy",
    title: "The coding rate maximises variance and enforces isotropy",
    quote: "Coding rate uses the exact log-det term $R_\\varepsilon(\\Sigma)=\\tfrac12\\log\\det(I+\\alpha\\Sigma)$, which simultaneously maximizes variance (all eigenvalues > 0) and enforces isotropy (decorrelation).",
    place: "A unified framework for covariance-regularized SSL, item 4",
    statement: r"\arg\max_\Sigma R_\varepsilon(\Sigma)\ \text{has all }\lambda_i>0\text{ and is isotropic}",
    nature: Nature::Mathematical,
    expected: Class::HoldsUnderConditions,
};

/// `R_ε(Σ) = ½ log det(I + αΣ)`.
fn rate(sigma: &Mat, alpha: &Float) -> Float {
    sigma
        .identity_plus(alpha)
        .and_then(|m| m.logdet_spd())
        .expect("I + αΣ is SPD for PSD Σ")
        / 2u32
}

/// Is there a maximiser without a constraint? `R_ε(tI)` and the anisotropic
/// `diag(t, 0.01, 0.01)` as `t` grows (α = 16, d = 3).
fn unconstrained(run: &mut Run) -> Result<String, String> {
    let prec = run.prec();
    let alpha = Float::with_val(prec, 16);
    let iso = |t: u32| rate(&Mat::scalar(3, &Float::with_val(prec, t)), &alpha);
    let aniso = |t: u32| {
        let mut m = Mat::scalar(3, &(Float::with_val(prec, 1) / 100u32));
        *m.at_mut(0, 0) = Float::with_val(prec, t);
        rate(&m, &alpha)
    };
    let (i1, i3, i6, a6) = (iso(1), iso(1000), iso(1_000_000), aniso(1_000_000));
    run.count(4);
    if i6 > i3 && a6 > i1 {
        Err(format!(
            "no: R_ε(tI) grows without bound (R_ε(10³I) = {i3:.4}, R_ε(10⁶I) = {i6:.4}; α = 16, d = 3), and the anisotropic diag(10⁶, 0.01, 0.01) gives {a6:.4} > R_ε(I) = {i1:.4}"
        ))
    } else {
        Ok("bounded".into())
    }
}

/// A claimed maximiser of `R_ε` at fixed trace `T`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Maximiser {
    /// `(T/d)I` (the theorem).
    Isotropic,
    /// `T·e₁e₁ᵀ`: all the variance in one direction.
    RankOne,
    /// `α⁻¹I`: the second-order form's minimiser (A4) taken for the rate's.
    InverseAlpha,
}

impl Maximiser {
    fn matrix(self, d: usize, trace: &Float, alpha: &Float) -> Mat {
        let prec = trace.prec();
        match self {
            Maximiser::Isotropic => Mat::scalar(d, &Float::with_val(prec, trace / d as u64)),
            Maximiser::RankOne => {
                let mut m = Mat::zeros(d, d, prec);
                *m.at_mut(0, 0) = trace.clone();
                m
            }
            Maximiser::InverseAlpha => Mat::scalar(d, &(Float::with_val(prec, 1) / alpha)),
        }
    }
}

/// At fixed trace (unit-norm features: `T = 1`), random PSD `Σ` rescaled to the trace never
/// exceed the claimed maximiser's `R_ε`, which satisfies the constraint (α = 16).
fn beats_random(run: &mut Run, m: &Maximiser) -> Result<String, String> {
    let prec = run.prec();
    let alpha = Float::with_val(prec, 16);
    let one = Float::with_val(prec, 1);
    let cases = run.scaled(500);
    let property = run.for_all::<Recipe, _>(8, cases, |r| {
        let (sigma, _) = r.realize(prec);
        let t = sigma.trace().map_err(|e| e.to_string())?;
        if t.is_zero() {
            return Ok(());
        }
        let sigma = sigma.scale(&(Float::with_val(prec, 1) / &t));
        let best = m.matrix(r.d, &one, &alpha);
        let bt = best.trace().map_err(|e| e.to_string())?;
        if !Tol::scalar(prec).accepts(&Float::with_val(prec, &bt - 1u32), &one) {
            return Err(format!(
                "the claimed maximiser has trace {bt:.6}, not the fixed trace 1 (d = {})",
                r.d
            ));
        }
        let (rs, rb) = (rate(&sigma, &alpha), rate(&best, &alpha));
        let slack =
            Float::with_val(prec, rb.clone().abs() + 1u32) >> Tol::linalg(prec, r.d, 10).bits;
        if Float::with_val(prec, &rs - &slack) <= rb {
            Ok(())
        } else {
            Err(format!(
                "a random Σ with tr Σ = 1 has R_ε = {rs:.6} > {rb:.6} at the claimed maximiser"
            ))
        }
    });
    property.result(|| {
        format!(
            "{} random PSD Σ rescaled to tr Σ = 1, d ≤ 8, α = 16",
            property.cases
        )
    })
}

/// Traceless perturbations `±2⁻¹²H` of the claimed maximiser lower `R_ε` (d = 2…6, 20 each).
fn perturbations(run: &mut Run, m: &Maximiser) -> Result<String, String> {
    let prec = run.prec();
    let alpha = Float::with_val(prec, 16);
    let one = Float::with_val(prec, 1);
    let mut s = run.sampler();
    let per_d = run.scaled(20);
    for d in 2..=6 {
        let centre = m.matrix(d, &one, &alpha);
        let r0 = rate(&centre, &alpha);
        for _ in 0..per_d {
            let h = s
                .traceless_symmetric(d)
                .scale(&(Float::with_val(prec, 1) >> 12u32));
            for sign in [1i32, -1] {
                let moved = centre
                    .add(&h.scale(&Float::with_val(prec, sign)))
                    .expect("square");
                // A move that leaves the PSD cone is not a competitor.
                if moved.sym_eigen().map(|e| e.values[0] < 0).unwrap_or(true) {
                    continue;
                }
                run.count(1);
                if rate(&moved, &alpha) >= r0 {
                    return Err(format!(
                        "d = {d}: a traceless perturbation of the claimed maximiser raises R_ε above {r0:.6}"
                    ));
                }
            }
        }
    }
    Ok(format!(
        "{per_d} traceless directions ±2⁻¹²H per d = 2…6 (tr Σ = 1, α = 16): every one lowers R_ε"
    ))
}

/// A claimed value of `R_ε` at a collapsed `Σ = T e₁e₁ᵀ`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AtCollapse {
    /// `½ log(1 + αT)` (the theorem).
    HalfLog,
    /// `−∞`: a barrier at rank deficiency, as `log det Σ` has.
    Barrier,
}

/// `R_ε` at the rank-one `Σ = e₁e₁ᵀ` (T = 1, α = 16, d = 3) against the claim.
fn collapse_value(run: &mut Run, v: &AtCollapse) -> Result<String, String> {
    let prec = run.prec();
    let alpha = Float::with_val(prec, 16);
    let mut r1 = Mat::zeros(3, 3, prec);
    *r1.at_mut(0, 0) = Float::with_val(prec, 1);
    let collapsed = rate(&r1, &alpha);
    run.count(1);
    match v {
        AtCollapse::HalfLog => {
            let expected = Float::with_val(prec, &alpha + 1u32).ln() / 2u32;
            if Tol::scalar(prec).accepts(&Float::with_val(prec, &collapsed - &expected), &expected)
            {
                Ok(format!("R_ε = {collapsed:.6} = ½ log 17"))
            } else {
                Err(format!(
                    "R_ε = {collapsed:.6}, not ½ log 17 = {expected:.6}"
                ))
            }
        }
        AtCollapse::Barrier => {
            if collapsed.is_finite() {
                Err(format!("R_ε = {collapsed:.6} is finite at the rank-one Σ"))
            } else {
                Ok("−∞".into())
            }
        }
    }
}

pub fn run(c: &mut ClaimRun) {
    c.prop(
        Role::AsWritten,
        "maximising R_ε alone makes Σ isotropic with all eigenvalues positive",
        r"\sup_\Sigma R_\varepsilon(\Sigma)\ \text{is attained at an isotropic }\Sigma",
        (),
    )
    .check(
        "does R_ε have an (isotropic) maximiser without a constraint?",
        |run, _| unconstrained(run),
    );

    c.prop(
        Role::UnderConditions,
        "at fixed trace T (unit-norm features: tr Σ = 1) the unique maximiser is (T/d)I, all eigenvalues T/d > 0",
        r"\mathrm{tr}\,\Sigma = T:\ \arg\max R_\varepsilon = \tfrac Td I",
        Maximiser::Isotropic,
    )
    .check("random PSD Σ at the fixed trace against the maximiser", beats_random)
    .check("traceless perturbations of the maximiser", perturbations)
    .mutant(
        "rank_one_maximiser",
        "at fixed trace the coding rate is maximised by a rank-one Σ (all the variance in one direction)",
        Maximiser::RankOne,
    )
    .mutant(
        "inverse_alpha_maximiser",
        "the maximiser is α⁻¹I, the second-order form's minimiser (A4)",
        Maximiser::InverseAlpha,
    );

    c.prop(
        Role::Precise,
        "R_ε is finite at a collapsed Σ: ½ log(1 + αT) for rank one (no barrier, unlike log det Σ = −∞)",
        r"R_\varepsilon(T\,e_1e_1^\top)=\tfrac12\log(1+\alpha T)",
        AtCollapse::HalfLog,
    )
    .check("rank-one Σ, T = 1, α = 16", collapse_value)
    .mutant(
        "barrier_at_collapse",
        "R_ε → −∞ at a rank-deficient Σ, a barrier like log det Σ",
        AtCollapse::Barrier,
    );

    c.step("$R_\\varepsilon=\\tfrac12\\sum_i\\log(1+\\alpha\\lambda_i)$ is strictly increasing in every eigenvalue, so on its own it has no maximiser: it grows without bound along $tI$, and equally along anisotropic directions. \"Maximises variance\" is right as a direction of push; \"enforces isotropy\" needs a scale constraint.", None);
    c.step("With a trace constraint (L2-normalised features give $\\mathrm{tr}\\,\\Sigma=1$ for the uncentred second moment used by MCR², SimDINO and EMP-SSL), B1's argument with the strictly concave $\\log(1+\\alpha x)$ makes $\\tfrac Td I$ the unique maximiser, with all eigenvalues positive: random PSD matrices at the same trace never beat it, every traceless perturbation lowers $R_\\varepsilon$, and the rank-one matrix (or $\\alpha^{-1}I$, which does not even meet the constraint) is not it.", None);
    c.step("$R_\\varepsilon$ is finite on rank-deficient matrices ($\\tfrac12\\log(1+\\alpha T)$ at rank one), so it rewards spreading but does not forbid zero eigenvalues the way $\\log\\det\\Sigma=-\\infty$ would.", None);
}
