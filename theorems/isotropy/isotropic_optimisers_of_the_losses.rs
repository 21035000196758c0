//! # B7: keep the covariance full-rank and (ideally) isotropic
//!
//! ## Main statements
//! * `isotropic_optimisers_of_the_losses`: loss by loss, which covariances optimise the
//!   regularisers of the notes. The coding rate at fixed trace `T`: uniquely `(T/d)I`;
//!   unconstrained, no maximiser. CorInfoMax's `−(1/d) log det(R + εI)`: no minimiser without a
//!   scale, isotropic at fixed trace. VICReg's variance + covariance terms: zero on every diagonal
//!   covariance with variances `≥ 1 − 10⁻⁴`, isotropic or not — so the take-home's reading
//!   ("VICReg-style losses keep the covariance isotropic by their penalties") is contradicted for
//!   VICReg.
//!
//! ## Implementation notes
//! Every statement is checked on the loss it is about: VICReg's transcribed terms on batches with
//! an exact diagonal covariance; the coding rate and CorInfoMax's log-det on matrices at fixed
//! trace. VICReg's exact zero set (the "iff") is claim A4's.
//!
//! ## Source
//! `../shared/notes.md`, *Take-home*.

use rug::Float;
use sslproof::hp::batch_with_diagonal_covariance;
use sslproof::prelude::*;
use sslproof_losses::vicreg;

/// The claim.
pub const CLAIM: Claim = Claim {
    id: "isotropic_optimisers_of_the_losses",
    label: "B7",
    family: "isotropy",
    title: "Keep the covariance full-rank and (ideally) isotropic",
    quote: "all successful negative-free SSL methods boil down to \"align your positives\" and \"keep your covariance full-rank and (ideally) isotropic.\" VICReg-style losses do this by simple variance + covariance penalties; coding-rate methods do it by directly maximizing a log-det entropy objective.",
    place: "Take-home",
    statement: r"\text{the regularisers of the notes are optimised by } \Sigma = cI",
    nature: Nature::Interpretive,
    expected: Class::InterpretationContradicted,
};

/// VICReg's variance + covariance terms at a batch with covariance exactly `diag(vars)` (the
/// official `1/(B−1)` convention).
fn vicreg_at_diag(vars: &[Float]) -> Result<Float, String> {
    let prec = vars[0].prec();
    let z = batch_with_diagonal_covariance(vars, true);
    let one = Float::with_val(prec, 1);
    let v =
        vicreg::variance_term(&z, &one, &vicreg::default_eps(prec)).map_err(|e| e.to_string())?;
    Ok(v + vicreg::covariance_term(&z).map_err(|e| e.to_string())?)
}

/// The smallest variance `c` at which `cI` is claimed to minimise VICReg's terms (value 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Floor {
    /// `1 − 10⁻⁴` (the code's `ε` inside the root).
    OneMinusEps,
    /// `1` (the `ε` forgotten).
    One,
}

/// VICReg's terms are zero at `cI` for `c` at the claimed floor and above, and at random
/// anisotropic diagonal covariances above it; positive `2⁻³⁰` below the floor.
fn vicreg_minimisers(run: &mut Run, f: &Floor) -> Result<String, String> {
    let prec = run.prec();
    let eps = vicreg::default_eps(prec);
    let floor = match f {
        Floor::OneMinusEps => Float::with_val(prec, 1) - &eps,
        Floor::One => Float::with_val(prec, 1),
    };
    let zero = Float::with_val(prec, 1) >> Tol::scalar(prec).bits;
    let mut s = run.sampler();
    let cases = run.scaled(50);
    for c in [
        floor.clone(),
        Float::with_val(prec, 1),
        Float::with_val(prec, 4),
    ] {
        let v = vicreg_at_diag(&[c.clone(), c.clone(), c.clone()])?;
        run.count(1);
        if v > zero {
            return Err(format!("at C = ({c:.6})·I: v + c = {v:.3e} > 0"));
        }
    }
    for _ in 0..cases {
        let vars: Vec<Float> = (0..3)
            .map(|_| Float::with_val(prec, &floor + s.uniform() * 8u32))
            .collect();
        let v = vicreg_at_diag(&vars)?;
        run.count(1);
        if v > zero {
            return Err(format!(
                "at an anisotropic diagonal C above the floor: v + c = {v:.3e}"
            ));
        }
    }
    let below = Float::with_val(prec, &floor - (Float::with_val(prec, 1) >> 30u32));
    let v = vicreg_at_diag(&[below.clone(), below.clone(), below])?;
    run.count(1);
    if v <= zero {
        return Err(format!(
            "2⁻³⁰ below the claimed floor, v + c = {v:.3e}: still zero"
        ));
    }
    Ok(format!(
        "zero at cI for c = floor, 1, 4 and at {cases} random anisotropic diagonal C with variances in [floor, floor + 8); {v:.3e} at (floor − 2⁻³⁰)·I"
    ))
}

/// The reading for VICReg: its penalties are minimised only by isotropic covariances.
fn vicreg_isotropic_only(run: &mut Run) -> Result<String, String> {
    let prec = run.prec();
    let v = |xs: &[u32]| {
        xs.iter()
            .map(|&x| Float::with_val(prec, x))
            .collect::<Vec<_>>()
    };
    let aniso = vicreg_at_diag(&v(&[1, 4, 9]))?;
    let iso = vicreg_at_diag(&v(&[1, 1, 1]))?;
    run.count(2);
    if aniso.is_zero() && iso.is_zero() {
        Err("the anisotropic C = diag(1, 4, 9) gives v + c = 0, as C = I does: VICReg's penalties do not single out isotropic covariances".into())
    } else {
        Ok(format!("C = I: {iso:.3e}; diag(1, 4, 9): {aniso:.3e}"))
    }
}

/// `R_ε(Σ) = ½ log det(I + αΣ)`.
fn rate(sigma: &Mat, alpha: &Float) -> Float {
    sigma
        .identity_plus(alpha)
        .and_then(|m| m.logdet_spd())
        .expect("I + αΣ is SPD for PSD Σ")
        / 2u32
}

/// A claimed maximiser of the coding rate at fixed trace `T`: `(T/d)I`, or (a plausible
/// misreading of "whitening") `I`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateOptimum {
    ScaledIdentity,
    Identity,
}

/// At fixed trace 1 (unit-norm features, uncentred), random PSD `Σ` rescaled to the trace never
/// beat the claimed maximiser, which meets the constraint (α = 16).
fn rate_at_fixed_trace(run: &mut Run, m: &RateOptimum) -> Result<String, String> {
    let prec = run.prec();
    let alpha = Float::with_val(prec, 16);
    let cases = run.scaled(250);
    let property = run.for_all::<Recipe, _>(8, cases, |r| {
        let (sigma, _) = r.realize(prec);
        let t = sigma.trace().map_err(|e| e.to_string())?;
        if t.is_zero() {
            return Ok(());
        }
        let sigma = sigma.scale(&(Float::with_val(prec, 1) / &t));
        let best = match m {
            RateOptimum::ScaledIdentity => {
                Mat::scalar(r.d, &(Float::with_val(prec, 1) / r.d as u64))
            }
            RateOptimum::Identity => Mat::identity(r.d, prec),
        };
        let bt = best.trace().map_err(|e| e.to_string())?;
        let one = Float::with_val(prec, 1);
        if !Tol::scalar(prec).accepts(&Float::with_val(prec, &bt - &one), &one) {
            return Err(format!(
                "the claimed maximiser has trace {bt}, not the fixed trace 1 (d = {})",
                r.d
            ));
        }
        let (rs, rb) = (rate(&sigma, &alpha), rate(&best, &alpha));
        let slack =
            Float::with_val(prec, rb.clone().abs() + 1u32) >> Tol::linalg(prec, r.d, 10).bits;
        if Float::with_val(prec, &rs - &slack) <= rb {
            Ok(())
        } else {
            Err(format!("R_ε = {rs:.6} > {rb:.6} at the claimed maximiser"))
        }
    });
    property.result(|| {
        format!(
            "{} random PSD Σ rescaled to tr Σ = 1, d ≤ 8, α = 16",
            property.cases
        )
    })
}

/// CorInfoMax's `−(1/d) log det(R + εI)` along `R = tI` (d = 3, ε = 2⁻²⁰) against a claimed
/// minimiser `R = I`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CorInfoMaxOptimum {
    /// No minimiser without a scale constraint.
    NoneWithoutScale,
    /// Minimised at `R = I`.
    AtIdentity,
}

fn corinfomax_scale(run: &mut Run, o: &CorInfoMaxOptimum) -> Result<String, String> {
    let prec = run.prec();
    let eps = Float::with_val(prec, 1) >> 20u32;
    let cim = |t: u32| {
        let m = Mat::scalar(3, &Float::with_val(prec, t));
        -m.add(&Mat::scalar(3, &eps))
            .and_then(|x| x.logdet_spd())
            .expect("SPD")
            / 3u32
    };
    let (c1, c2, c4) = (cim(1), cim(100), cim(10_000));
    run.count(3);
    let decreasing = c1 > c2 && c2 > c4;
    let detail = format!("R = tI, t = 1, 10², 10⁴: {c1:.4}, {c2:.4}, {c4:.4}");
    match (o, decreasing) {
        (CorInfoMaxOptimum::NoneWithoutScale, true) => Ok(detail),
        (CorInfoMaxOptimum::NoneWithoutScale, false) => Err(format!("{detail}: not decreasing")),
        (CorInfoMaxOptimum::AtIdentity, true) => Err(format!(
            "{detail}: R = 100I already beats the claimed minimiser I"
        )),
        (CorInfoMaxOptimum::AtIdentity, false) => Ok(detail),
    }
}

/// At fixed trace the determinant (hence CorInfoMax's log-det) is largest at `cI` (AM–GM, B1), on
/// random PSD `Σ`.
fn det_at_fixed_trace(run: &mut Run) -> Result<String, String> {
    let prec = run.prec();
    let cases = run.scaled(250);
    let property = run.for_all::<Recipe, _>(8, cases, |r| {
        let (sigma, _) = r.realize(prec);
        let d = r.d;
        let mean = Float::with_val(prec, sigma.trace().map_err(|e| e.to_string())? / d as u64);
        let bound = Float::with_val(prec, rug::ops::Pow::pow(&mean, d as u32));
        let det = sigma.det().map_err(|e| e.to_string())?;
        let slack = Float::with_val(prec, bound.clone().abs() + det.clone().abs() + 1u32)
            >> Tol::linalg(prec, d, 20).bits;
        if Float::with_val(prec, &det - &slack) <= bound {
            Ok(())
        } else {
            Err(format!("det Σ = {det:.6e} > (tr Σ/d)^d = {bound:.6e}"))
        }
    });
    property.result(|| format!("{} random PSD Σ, d ≤ 8", property.cases))
}

pub fn run(c: &mut ClaimRun) {
    c.prop(
        Role::Precise,
        "VICReg (variance + covariance): minimised (value 0) by cI for every c ≥ 1 − 10⁻⁴ and by anisotropic diagonal covariances above that floor alike",
        r"v+c=0\ \text{at } C=cI\ (c\ge1-10^{-4})\ \text{and at } C=\mathrm{diag}(c_j),\ c_j\ge1-10^{-4}",
        Floor::OneMinusEps,
    )
    .check("batches with C = cI and random anisotropic diagonal C", vicreg_minimisers)
    .mutant(
        "vicreg_floor_at_one",
        "VICReg's terms vanish at cI only for c ≥ 1 (the ε inside the root forgotten)",
        Floor::One,
    );

    c.prop(
        Role::Precise,
        "coding rate R_ε at fixed trace T: unique maximiser (T/d)I (unconstrained: no maximiser, B2)",
        r"\arg\max_{\mathrm{tr}\Sigma=T}R_\varepsilon=\tfrac TdI",
        RateOptimum::ScaledIdentity,
    )
    .check("random PSD Σ at fixed trace against the maximiser", rate_at_fixed_trace)
    .mutant(
        "rate_maximiser_identity",
        "at fixed trace the coding rate is maximised by the whitened I",
        RateOptimum::Identity,
    );

    c.prop(
        Role::Precise,
        "CorInfoMax's −(1/d) log det(R + εI): no minimiser without a scale constraint (it decreases along tI); at fixed trace its minimiser is isotropic (AM–GM, B1)",
        r"-\tfrac1d\log\det(tI+\varepsilon I)\downarrow-\infty;\qquad \det R\le(\mathrm{tr}\,R/d)^d",
        CorInfoMaxOptimum::NoneWithoutScale,
    )
    .check("R = tI, t = 1, 10², 10⁴", corinfomax_scale)
    .check("det at fixed trace on random PSD Σ", |run, _| det_at_fixed_trace(run))
    .independent()
    .mutant(
        "corinfomax_minimised_at_identity",
        "CorInfoMax's log-det term is minimised at R = I without a scale constraint",
        CorInfoMaxOptimum::AtIdentity,
    );

    c.prop(
        Role::Reading,
        "read for the losses it names: VICReg-style penalties, like the coding rate, keep the covariance isotropic",
        r"v+c=0 \Rightarrow C = cI",
        (),
    )
    .check("VICReg at C = I and at the anisotropic C = diag(1, 4, 9)", |run, _| {
        vicreg_isotropic_only(run)
    });

    c.step(
        "The take-home is a summary, not a statement with a truth value. Behind it, loss by loss:",
        None,
    );
    c.step("**Coding rate** (MCR², SimDINO, EMP-SSL): with unit-norm features the uncentred second moment has $\\mathrm{tr}\\,\\Sigma=1$, and the unique maximiser is $I/d$ (B1, B2): isotropic, at scale $1/d$ (not the whitened $I$). **CorInfoMax**: the same once the scale is fixed (its `--normalize_on` option); without it the log-det term has no optimum.", None);
    c.step("**VICReg**: its variance and covariance terms vanish on a whole set, every diagonal covariance with variances $\\ge1-10^{-4}$ (A4 checks the exact zero set): decorrelated and full rank, but not necessarily isotropic. Read as a statement about VICReg's penalties, \"keep the covariance isotropic\" is contradicted; its second-order surrogate (A4) is the one with a unique isotropic optimum, $I/\\alpha$.", None);
    c.step("**SimSiam** and **InfoNCE** have no covariance term; InfoNCE's uniformity optimum on the sphere (the uniform distribution) has covariance $I/d$, a statement about the population, outside what this claim's checks cover.", None);
}
